// The shell: login, the left navigation, the header with tenant, role
// and time range, and a small router over the History API.
import { call, handleUnauthenticated, setToken, token, type Whoami } from './api';
import { disposeAll } from './charts';
import { clear, errorBox, h } from './dom';
import * as range from './range';

export interface Ctx {
  who: Whoami;
  /** the page's URL parameters (the range's among them) */
  params: URLSearchParams;
  /** the page's content element */
  main: HTMLElement;
  /** aborted when the page changes */
  signal: AbortSignal;
  /** canTriage: the role may acknowledge, give verdicts and run what-ifs */
  canTriage: boolean;
}

type Page = (ctx: Ctx, ...args: string[]) => void | Promise<void>;

interface Route {
  re: RegExp;
  nav: string;
  title: string;
  page: () => Promise<Page>;
}

const routes: Route[] = [
  { re: /^\/$/, nav: '/', title: 'Overview', page: () => import('./pages/overview').then((m) => m.default) },
  { re: /^\/findings$/, nav: '/findings', title: 'Findings', page: () => import('./pages/findings').then((m) => m.default) },
  { re: /^\/devices$/, nav: '/devices', title: 'Devices', page: () => import('./pages/devices').then((m) => m.default) },
  { re: /^\/devices\/(.+)$/, nav: '/devices', title: 'Device', page: () => import('./pages/device').then((m) => m.default) },
  { re: /^\/sessions$/, nav: '/sessions', title: 'Sessions', page: () => import('./pages/sessions').then((m) => m.default) },
  { re: /^\/segmentation$/, nav: '/segmentation', title: 'Segmentation', page: () => import('./pages/segmentation').then((m) => m.default) },
  { re: /^\/policies$/, nav: '/policies', title: 'Policies', page: () => import('./pages/policies').then((m) => m.default) },
  { re: /^\/sources$/, nav: '/sources', title: 'Sources & health', page: () => import('./pages/sources').then((m) => m.default) },
];

const nav: [string, string, string][] = [
  ['/', 'Overview', '◔'],
  ['/findings', 'Findings', '⚑'],
  ['/devices', 'Devices', '▣'],
  ['/sessions', 'Sessions', '⇄'],
  ['/segmentation', 'Segmentation', '▦'],
  ['/policies', 'Policies', '§'],
  ['/sources', 'Sources & health', '◉'],
];

let who: Whoami | null = null;
let controller: AbortController | null = null;
const root = document.getElementById('app')!;

/** href builds an in-app link: the path, its parameters and the current range. */
export function href(path: string, q: Record<string, string | undefined> = {}, keepRange = true): string {
  const p = new URLSearchParams(keepRange ? range.search(range.current()) : {});
  for (const [k, v] of Object.entries(q)) {
    if (v !== undefined && v !== '') p.set(k, v);
    else p.delete(k);
  }
  const s = p.toString();
  return path + (s ? '?' + s : '');
}

export function link(path: string, text: string | Node, q: Record<string, string | undefined> = {}, keepRange = true): HTMLAnchorElement {
  return h('a', { href: href(path, q, keepRange) }, text);
}

export function navigate(url: string, replace = false): void {
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  void render();
}

/** setParams changes the current page's URL parameters and draws it again. */
export function setParams(q: Record<string, string | undefined>, replace = false): void {
  const p = new URLSearchParams(location.search);
  for (const [k, v] of Object.entries(q)) {
    if (v !== undefined && v !== '') p.set(k, v);
    else p.delete(k);
  }
  const s = p.toString();
  navigate(location.pathname + (s ? '?' + s : ''), replace);
}

function login(message?: string): void {
  disposeAll();
  document.title = 'Osprey — sign in';
  const input = h('textarea#token', {
    rows: 2,
    placeholder: 'osp_…',
    autocomplete: 'off',
    spellcheck: false,
    'aria-label': 'API token',
  });
  const err = h('div');
  const submit = async (ev: Event) => {
    ev.preventDefault();
    const t = input.value.trim();
    if (!t) return;
    setToken(t);
    try {
      who = await call<Whoami>('/whoami', { own401: true });
    } catch (e) {
      setToken(null);
      clear(err, errorBox(e));
      return;
    }
    const back = new URLSearchParams(location.search).get('next');
    navigate(back && back.startsWith('/') && !back.startsWith('//') ? back : '/', true);
  };
  clear(
    root,
    h(
      'div.login',
      h(
        'form.login-card',
        { onsubmit: submit },
        h('div.brand.big', h('span.logo', '◆'), 'Osprey'),
        h('p.muted', 'Network detection and response. Sign in with an API token: ', h('code', 'osprey token create --tenant T --role analyst --name you'), '.'),
        message ? h('div.notice', message) : null,
        h('label', { for: 'token' }, 'API token'),
        input,
        err,
        h('button.primary', { type: 'submit' }, 'Sign in'),
        h('p.muted.small', 'The token stays in this tab (session storage) and is sent as a bearer token on every call.'),
      ),
    ),
  );
  input.focus();
}

export function logout(message?: string): void {
  setToken(null);
  who = null;
  controller?.abort();
  const next = location.pathname === '/login' ? null : location.pathname + location.search;
  history.replaceState(null, '', '/login' + (next && next !== '/' ? '?next=' + encodeURIComponent(next) : ''));
  login(message);
}

function rangePicker(): HTMLElement {
  const r = range.current();
  const since = h('input', { type: 'datetime-local', step: 60, value: local(r.since), 'aria-label': 'since' });
  const until = h('input', { type: 'datetime-local', step: 60, value: local(r.until), 'aria-label': 'until' });
  const custom = h(
    'form.custom',
    {
      hidden: r.preset !== 'custom',
      onsubmit: (ev: Event) => {
        ev.preventDefault();
        setParams({ range: undefined, since: iso(since.value), until: iso(until.value), cursor: undefined });
      },
    },
    since,
    h('span', '→'),
    until,
    h('button', { type: 'submit' }, 'Apply'),
  );
  const buttons = [...range.presets, 'custom'].map((p) =>
    h(
      'button',
      {
        class: p === r.preset ? 'on' : undefined,
        'data-range': p,
        onclick: () => {
          if (p === 'custom') {
            custom.hidden = false;
            buttons.forEach((b) => b.classList.toggle('on', b.dataset.range === 'custom'));
            if (!since.value) since.value = local(new Date(Date.now() - 86400e3).toISOString());
            return;
          }
          setParams({ range: p === '24h' ? undefined : p, since: undefined, until: undefined, cursor: undefined });
        },
      },
      p === 'custom' ? 'Custom' : p,
    ),
  );
  return h('div.range', { 'data-testid': 'range' }, h('div.seg', buttons), custom);
}

// datetime-local works in the browser's zone; the API takes RFC 3339.
function local(s?: string): string {
  if (!s) return '';
  const d = new Date(s);
  if (isNaN(d.getTime())) return '';
  const off = d.getTimezoneOffset() * 60e3;
  return new Date(d.getTime() - off).toISOString().slice(0, 16);
}

function iso(v: string): string | undefined {
  if (!v) return undefined;
  const d = new Date(v);
  return isNaN(d.getTime()) ? undefined : d.toISOString().replace(/\.000Z$/, 'Z');
}

async function render(): Promise<void> {
  if (!token()) return logout();
  if (!who) {
    try {
      who = await call<Whoami>('/whoami');
    } catch (e) {
      if (!token()) return; // 401: logout already ran
      clear(root, h('div.login', h('div.login-card', errorBox(e), h('button', { onclick: () => render() }, 'Retry'))));
      return;
    }
  }
  if (location.pathname === '/login') {
    history.replaceState(null, '', '/');
  }
  controller?.abort();
  controller = new AbortController();
  disposeAll();
  const path = location.pathname.replace(/\/+$/, '') || '/';
  const route = routes.find((r) => r.re.test(path));
  const main = h('main.content');
  clear(
    root,
    h(
      'div.shell',
      h(
        'nav.side',
        h('div.brand', h('span.logo', '◆'), 'Osprey'),
        h(
          'ul',
          nav.map(([p, label, icon]) =>
            h('li', h('a', { href: href(p), class: route?.nav === p ? 'active' : undefined }, h('span.icon', icon), label)),
          ),
        ),
        h('div.side-foot', h('a', { href: '/api/v1/openapi.json', target: '_blank', rel: 'noopener' }, 'API (OpenAPI)')),
      ),
      h(
        'div.main',
        h(
          'header.top',
          h('h1', route?.title ?? 'Not found'),
          rangePicker(),
          h(
            'div.who',
            { 'data-testid': 'who' },
            h('span.tenant', { title: 'tenant' }, who!.tenant),
            h('span.role', { class: 'r-' + who!.role, title: 'role' }, who!.role),
            h('span.muted', { title: who!.id }, who!.name),
            h('button.link', { onclick: () => logout('Signed out.'), 'data-testid': 'logout' }, 'Sign out'),
          ),
        ),
        main,
      ),
    ),
  );
  document.title = 'Osprey — ' + (route?.title ?? 'not found');
  if (!route) {
    main.append(h('div.empty', 'No page here. ', link('/', 'Overview')));
    return;
  }
  const args = path.match(route.re)!.slice(1).map(decodeURIComponent);
  const ctx: Ctx = {
    who: who!,
    params: new URLSearchParams(location.search),
    main,
    signal: controller.signal,
    canTriage: who!.role === 'analyst' || who!.role === 'admin',
  };
  try {
    const page = await route.page();
    await page(ctx, ...args);
  } catch (e) {
    if ((e as Error).name === 'AbortError' || ctx.signal.aborted) return;
    main.append(errorBox(e));
  }
}

export function start(): void {
  handleUnauthenticated((msg) => logout('Signed out: ' + msg));
  window.addEventListener('popstate', () => void render());
  document.addEventListener('click', (ev) => {
    const a = (ev.target as HTMLElement).closest('a');
    if (!a || a.target || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin || url.pathname.startsWith('/api/')) return;
    ev.preventDefault();
    navigate(url.pathname + url.search);
  });
  void render();
}
