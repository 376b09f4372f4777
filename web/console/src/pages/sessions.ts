import { ApiError, call, type Page, type Session, type TopRow } from '../api';
import { setParams, type Ctx } from '../app';
import { bytes, card, clear, errorBox, h, loading, num, time } from '../dom';
import * as range from '../range';
import { Cursors, table } from '../table';
import { bar } from './overview';

const dimensions = ['dst.port', 'src.ip', 'dst.ip', 'app', 'device', 'server_name', 'src.segment', 'dst.segment', 'conn_state', 'dst.country', 'proto'];
const examples = ['dst.port in (22, 23) and bytes > 10k', 'app = "tls" and dst.segment = "internet"', 'src.tag = "iot" and not (app in ("mqtt", "dns"))', 'conn_state = "S0"'];

export default async function sessions(ctx: Ctx): Promise<void> {
  const p = ctx.params;
  const filter = p.get('filter') ?? '';
  const dim = p.get('dim') ?? 'dst.port';
  const by = p.get('by') ?? 'bytes';
  const mark = new Set((p.get('mark') ?? '').split(',').filter(Boolean));
  const input = h('input.filter-input', {
    value: filter,
    placeholder: 'filter: src.tag = "iot" and dst.port in (22, 23) and bytes > 1MB',
    spellcheck: false,
    autocomplete: 'off',
    'aria-label': 'filter',
    'data-testid': 'filter-input',
  });
  const problem = h('div.filter-problem', { 'data-testid': 'filter-error' });
  const form = h(
    'form.filter-bar',
    { onsubmit: (ev: Event) => { ev.preventDefault(); setParams({ filter: input.value.trim(), mark: undefined }); } },
    input,
    h('button.primary', { type: 'submit', 'data-testid': 'filter-run' }, 'Search'),
  );
  const hints = h('div.hints', h('span.muted.small', 'e.g. '), examples.map((e) => h('button.link.small', { type: 'button', onclick: () => { input.value = e; input.focus(); } }, e)),
    h('a.small', { href: 'https://github.com/osprey-ndr/osprey/blob/main/docs/filter.md', target: '_blank', rel: 'noopener noreferrer' }, 'filter language'));
  const results = h('div', loading());
  const side = h('div', loading());
  const dimSel = h('select', { 'data-testid': 'top-dimension', onchange: () => setParams({ dim: dimSel.value }, true) },
    dimensions.map((d) => h('option', { value: d, selected: d === dim }, d)));
  const bySel = h('select', { onchange: () => setParams({ by: bySel.value }, true) },
    ['bytes', 'packets', 'sessions'].map((d) => h('option', { value: d, selected: d === by }, 'by ' + d)));
  ctx.main.append(
    h('div.card.filter-card', form, problem, hints),
    h('div.grid-3-1', card('Sessions', results), card(h('span', 'Top ', dimSel, ' ', bySel), side)),
  );
  const showError = (e: unknown) => {
    if (e instanceof ApiError && e.param === 'filter') {
      const col = e.column ?? 0;
      input.classList.add('invalid');
      clear(problem,
        col > 0 ? h('pre.caret', { 'aria-hidden': 'true' }, filter + '\n' + ' '.repeat(col - 1) + '^') : null,
        h('div.error', { role: 'alert' }, h('strong', 'filter'), col > 0 ? ` column ${col}` : '', ': ', e.message));
      return true;
    }
    return false;
  };
  const cursors = new Cursors();
  const load = async () => {
    clear(results, loading());
    try {
      const page = await call<Page<Session>>('/sessions', { query: { ...range.params(), filter, limit: 50, cursor: cursors.cursor }, signal: ctx.signal });
      cursors.next = page.next;
      clear(results,
        table(
          [
            { label: 'Start', value: (r) => r.start, render: (r) => h('span', { title: r.uid }, time(r.start)), width: '11rem' },
            { label: 'Source', value: (r) => r.orig.ip, render: (r) => end(r.orig) },
            { label: 'Destination', value: (r) => r.resp.ip, render: (r) => end(r.resp) },
            { label: 'Proto', value: (r) => r.transport },
            { label: 'App', value: (r) => r.app ?? '', render: (r) => r.app || h('span.muted', '–') },
            { label: 'State', value: (r) => r.conn_state ?? '', render: (r) => h('span.mono', r.conn_state ?? '') },
            { label: 'Bytes', value: (r) => r.orig_bytes + r.resp_bytes, num: true, render: (r) => bytes(r.orig_bytes + r.resp_bytes) },
            { label: 'Packets', value: (r) => r.orig_pkts + r.resp_pkts, num: true, render: (r) => num(r.orig_pkts + r.resp_pkts) },
            { label: 'Duration', value: (r) => Date.parse(r.end) - Date.parse(r.start), num: true, render: (r) => dur(Date.parse(r.end) - Date.parse(r.start)) },
          ],
          page.items,
          { testid: 'sessions-table', rowClass: (r) => (mark.has(r.uid) ? 'marked' : undefined), emptyText: 'No sessions match in this range.' },
        ),
        cursors.bar(page.items.length, load),
      );
    } catch (e) {
      if (ctx.signal.aborted) return;
      clear(results, showError(e) ? h('div.empty', 'Fix the filter to search.') : errorBox(e));
    }
  };
  const loadTop = async () => {
    try {
      const top = await call<{ items: TopRow[] }>('/sessions/top', { query: { ...range.params(), filter, dimension: dim, by, limit: 15 }, signal: ctx.signal });
      const max = Math.max(1, ...top.items.map((r) => r[by as 'bytes']));
      clear(side, table(
        [
          { label: dim, value: (r) => r.key, render: (r) => h('button.link', { title: 'add to the filter', onclick: () => refine(dim, r.key) }, r.key === '' ? '(none)' : r.key) },
          { label: by, value: (r) => r[by as 'bytes'], num: true, render: (r) => bar(r[by as 'bytes'], max, by === 'bytes' ? bytes(r.bytes) : num(r[by as 'bytes'])) },
        ],
        top.items,
        { testid: 'top-table' },
      ));
    } catch (e) {
      if (!ctx.signal.aborted) clear(side, e instanceof ApiError && e.param === 'filter' ? h('div.empty', '–') : errorBox(e));
    }
  };
  const refine = (field: string, value: string) => {
    if (field === 'device') return;
    const v = /^[\w.:/-]+$/.test(value) && !/^(and|or|not|in)$/i.test(value) ? value : JSON.stringify(value);
    setParams({ filter: (filter ? `(${filter}) and ` : '') + `${field} = ${v}`, mark: undefined });
  };
  await Promise.all([load(), loadTop()]);
}

function end(e: Session['orig']): HTMLElement {
  return h('span.end', h('span.mono', (e.ip.includes(':') ? `[${e.ip}]` : e.ip) + ':' + e.port),
    e.asset_name || e.asset ? h('span.muted.small', ' ' + (e.asset_name || e.asset)) : null,
    e.segment ? h('span.seg', e.segment) : null);
}

function dur(ms: number): string {
  if (ms < 1000) return ms.toFixed(0) + ' ms';
  if (ms < 120e3) return (ms / 1000).toFixed(1) + ' s';
  if (ms < 7200e3) return (ms / 60e3).toFixed(1) + ' min';
  return (ms / 3600e3).toFixed(1) + ' h';
}
