// Tables: sortable columns (within the rows shown) and cursor paging
// with the API's `next` cursors.
import { h, empty } from './dom';

type Child = Parameters<typeof h>[2];

export interface Col<T> {
  label: string;
  /** value sorts the column (and shows it when there is no render). */
  value?: (r: T) => string | number;
  render?: (r: T) => Child;
  num?: boolean;
  width?: string;
}

export interface TableOpts<T> {
  onRow?: (r: T) => void;
  rowClass?: (r: T) => string | undefined;
  rowId?: (r: T) => string;
  testid?: string;
  emptyText?: string;
}

export function table<T>(cols: Col<T>[], rows: T[], o: TableOpts<T> = {}): HTMLElement {
  if (!rows.length) return empty(o.emptyText ?? 'Nothing in this range.');
  let sortBy = -1;
  let desc = false;
  const tbody = h('tbody');
  const draw = () => {
    let rs = rows;
    if (sortBy >= 0) {
      const v = cols[sortBy].value!;
      rs = [...rows].sort((a, b) => {
        const x = v(a);
        const y = v(b);
        const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
        return desc ? -c : c;
      });
    }
    tbody.replaceChildren(
      ...rs.map((r) =>
        h(
          'tr',
          {
            class: [o.onRow ? 'clickable' : '', o.rowClass?.(r) ?? ''].join(' ').trim() || undefined,
            'data-id': o.rowId?.(r),
            onclick: o.onRow ? (ev: Event) => {
              if ((ev.target as HTMLElement).closest('a,button,input,select')) return;
              o.onRow!(r);
            } : undefined,
          },
          cols.map((c) => h('td', { class: c.num ? 'num' : undefined }, c.render ? c.render(r) : c.value ? String(c.value(r)) : '')),
        ),
      ),
    );
  };
  const ths = cols.map((c, i) =>
    h(
      'th',
      {
        class: [c.num ? 'num' : '', c.value ? 'sortable' : ''].join(' ').trim() || undefined,
        style: c.width ? { width: c.width } : undefined,
        title: c.value ? 'sort by ' + c.label : undefined,
        onclick: c.value
          ? () => {
              desc = sortBy === i ? !desc : !!c.num;
              sortBy = i;
              ths.forEach((t, j) => t.setAttribute('aria-sort', j === i ? (desc ? 'descending' : 'ascending') : 'none'));
              draw();
            }
          : undefined,
      },
      c.label,
    ),
  );
  draw();
  return h('div.table-wrap', h('table', { 'data-testid': o.testid }, h('thead', h('tr', ths)), tbody));
}

/** Cursors pages through a list with the API's keyset cursors: it keeps
 * the cursors of the pages before, for Previous. */
export class Cursors {
  private stack: (string | undefined)[] = [];
  cursor: string | undefined;
  next: string | undefined;

  get page(): number {
    return this.stack.length + 1;
  }

  forward(): void {
    this.stack.push(this.cursor);
    this.cursor = this.next;
  }

  back(): void {
    this.cursor = this.stack.pop();
  }

  reset(): void {
    this.stack = [];
    this.cursor = undefined;
  }

  bar(shown: number, reload: () => void): HTMLElement {
    return h(
      'div.pager',
      h('button', { disabled: this.page === 1, onclick: () => { this.back(); reload(); } }, '‹ Previous'),
      h('span', `page ${this.page} · ${shown} shown`),
      h('button', { disabled: !this.next, 'data-testid': 'next-page', onclick: () => { this.forward(); reload(); } }, 'Next ›'),
    );
  }
}
