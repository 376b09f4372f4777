// A small DOM builder: h('div.card', {onclick}, child, …). Text children
// are text nodes, never HTML, so nothing from the API is parsed as markup.

type Child = Node | string | number | null | undefined | false | Child[];
type Attrs = Record<string, unknown>;

export function h<K extends keyof HTMLElementTagNameMap>(
  spec: K | `${K}.${string}` | `${K}#${string}`,
  attrs?: Attrs | Child,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const [tagAndId, ...classes] = spec.split('.');
  const [tag, id] = tagAndId.split('#');
  const el = document.createElement(tag as K);
  if (id) el.id = id;
  if (classes.length) el.className = classes.join(' ');
  if (attrs !== undefined && (attrs === null || typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs as Child);
  } else if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') {
        el.addEventListener(k.slice(2), v as EventListener);
      } else if (k === 'class') {
        el.className = [el.className, String(v)].filter(Boolean).join(' ');
      } else if (k === 'style' && typeof v === 'object') {
        Object.assign(el.style, v);
      } else if (k === 'value' || (k in el && typeof v !== 'string')) {
        (el as unknown as Record<string, unknown>)[k] = v;
      } else {
        el.setAttribute(k, v === true ? '' : String(v));
      }
    }
  }
  append(el, children);
  return el;
}

export function append(el: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el: Node, ...children: Child[]): void {
  while (el.firstChild) el.removeChild(el.firstChild);
  append(el, children);
}

// Formatting.

const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
export function bytes(n: number): string {
  if (!isFinite(n)) return '–';
  let i = 0;
  while (Math.abs(n) >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return (i === 0 ? n.toFixed(0) : n.toFixed(n < 10 ? 2 : n < 100 ? 1 : 0)) + ' ' + units[i];
}

const rates = ['bit/s', 'kbit/s', 'Mbit/s', 'Gbit/s', 'Tbit/s'];
export function bps(n: number): string {
  if (!isFinite(n)) return '–';
  let i = 0;
  while (Math.abs(n) >= 1000 && i < rates.length - 1) {
    n /= 1000;
    i++;
  }
  return n.toFixed(i === 0 ? 0 : n < 10 ? 2 : 1) + ' ' + rates[i];
}

export function num(n: number): string {
  if (!isFinite(n)) return '–';
  if (Math.abs(n) >= 1e6) return (n / 1e6).toFixed(n >= 1e7 ? 0 : 1) + 'M';
  if (Math.abs(n) >= 1e4) return (n / 1e3).toFixed(n >= 1e5 ? 0 : 1) + 'k';
  return Math.round(n).toLocaleString('en-US');
}

export function time(s: string | undefined): string {
  if (!s) return '–';
  const d = new Date(s);
  if (isNaN(d.getTime())) return s;
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function ago(s: string | undefined): string {
  if (!s) return '–';
  const sec = (Date.now() - new Date(s).getTime()) / 1000;
  if (sec < 0) return time(s);
  if (sec < 90) return Math.round(sec) + ' s ago';
  if (sec < 5400) return Math.round(sec / 60) + ' min ago';
  if (sec < 129600) return Math.round(sec / 3600) + ' h ago';
  return Math.round(sec / 86400) + ' d ago';
}

export const severities = ['critical', 'high', 'medium', 'low', 'info'];

export function badge(kind: string, text?: string): HTMLElement {
  return h('span.badge', { class: 'b-' + kind.replace(/[^a-z0-9_-]/gi, '') }, text ?? kind);
}

/** errorBox shows an API error with its code and the parameter at fault. */
export function errorBox(e: unknown): HTMLElement {
  const err = e as { message?: string; code?: string; param?: string; status?: number };
  return h(
    'div.error',
    { role: 'alert' },
    h('strong', err.code ? err.code.replace(/_/g, ' ') : 'error'),
    err.param ? h('span.param', ' (', h('code', err.param), ')') : null,
    ': ',
    err.message ?? String(e),
  );
}

export function empty(text: string): HTMLElement {
  return h('div.empty', text);
}

export function card(title: string | Node, ...body: Child[]): HTMLElement {
  return h('section.card', h('header', h('h2', title)), h('div.body', ...body));
}

export function loading(): HTMLElement {
  return h('div.loading', 'Loading…');
}
