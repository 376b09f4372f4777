import { call, type Finding, type Page } from '../api';
import { link, setParams, type Ctx } from '../app';
import { badge, card, clear, errorBox, h, loading, num, severities, time } from '../dom';
import * as range from '../range';
import { Cursors, table } from '../table';

const states = ['active', 'acknowledged', 'cleared', 'false_positive', 'benign_positive'];
const verdicts: [string, string][] = [
  ['true_positive', 'True positive'],
  ['false_positive', 'False positive (suppress)'],
  ['benign_positive', 'Benign positive (suppress)'],
];

export function findingSummary(f: Finding): string {
  return f.evidence?.summary || `${f.detector}: ${(f.entities ?? []).join(', ')}`;
}

export default async function findings(ctx: Ctx): Promise<void> {
  const p = ctx.params;
  const filters = {
    detector: p.get('detector') ?? '',
    severity: p.get('severity') ?? '',
    state: p.get('state') ?? '',
    entity: p.get('entity') ?? '',
    rule: p.get('rule') ?? '',
  };
  const detector = h('input', { name: 'detector', value: filters.detector, placeholder: 'any', list: 'detectors' });
  const severity = h('select', { name: 'severity' }, h('option', { value: '' }, 'any'),
    severities.map((s) => h('option', { value: s, selected: s === filters.severity }, s + ' or worse')));
  const state = h('select', { name: 'state' }, h('option', { value: '' }, 'any'),
    states.map((s) => h('option', { value: s, selected: s === filters.state }, s.replace('_', ' '))));
  const entity = h('input', { name: 'entity', value: filters.entity, placeholder: 'ip:10.0.0.5, port:22, asset:i-0abc' });
  const form = h(
    'form.filters',
    {
      'data-testid': 'finding-filters',
      onsubmit: (ev: Event) => {
        ev.preventDefault();
        setParams({ detector: detector.value.trim(), severity: severity.value, state: state.value, entity: entity.value.trim(), rule: undefined, finding: undefined });
      },
    },
    field('Detector', detector),
    field('Severity', severity),
    field('State', state),
    field('Entity', entity),
    filters.rule ? h('span.chip', { title: 'rule' }, 'rule ' + filters.rule) : null,
    h('button.primary', { type: 'submit' }, 'Apply'),
    h('datalist#detectors', ['policy', 'threat-intel', 'brute-force', 'vertical-scan', 'horizontal-scan', 'beaconing', 'exfiltration', 'dns-tunnel', 'profile', 'audit']
      .map((d) => h('option', { value: d }))),
  );
  const list = h('div', loading());
  const drawer = h('aside.drawer', { hidden: true, 'data-testid': 'finding-drawer' });
  ctx.main.append(form, h('div.with-drawer', card('Findings', list), drawer));
  const cursors = new Cursors();
  const load = async () => {
    clear(list, loading());
    try {
      const page = await call<Page<Finding>>('/findings', {
        query: { ...range.params(), ...filters, limit: 50, cursor: cursors.cursor },
        signal: ctx.signal,
      });
      cursors.next = page.next;
      clear(
        list,
        table(
          [
            { label: 'First seen', value: (r) => r.evidence?.first_seen ?? r.time, render: (r) => time(r.evidence?.first_seen ?? r.time), width: '11rem' },
            { label: 'Severity', value: (r) => -severities.indexOf(r.severity), render: (r) => badge(r.severity) },
            { label: 'Detector / rule', value: (r) => r.detector + r.rule, render: (r) => h('span', r.detector, r.rule !== r.detector ? h('span.muted', ' / ' + r.rule) : null) },
            { label: 'Summary', value: (r) => findingSummary(r), render: (r) => h('span.summary', findingSummary(r)) },
            { label: 'Count', value: (r) => r.evidence?.count ?? 1, num: true, render: (r) => num(r.evidence?.count ?? 1) },
            { label: 'State', value: (r) => r.state, render: (r) => badge(r.state, r.state.replace('_', ' ')) },
          ],
          page.items,
          {
            testid: 'findings-table',
            onRow: (r) => {
              select(r.id);
              list.querySelectorAll('tr.selected').forEach((tr) => tr.classList.remove('selected'));
              (list.querySelector(`tr[data-id="${CSS.escape(r.id)}"]`) as HTMLElement | null)?.classList.add('selected');
              void openDrawer(ctx, drawer, r.id, load);
            },
            rowClass: (r) => (r.id === new URLSearchParams(location.search).get('finding') ? 'selected' : undefined),
            rowId: (r) => r.id,
            emptyText: 'No findings match.',
          },
        ),
        cursors.bar(page.items.length, load),
      );
    } catch (e) {
      if (!ctx.signal.aborted) clear(list, errorBox(e));
    }
  };
  await load();
  const id = p.get('finding');
  if (id) await openDrawer(ctx, drawer, id, load);
}

/** select keeps the open finding in the URL without drawing the page again. */
function select(id: string | undefined): void {
  const q = new URLSearchParams(location.search);
  if (id) q.set('finding', id);
  else q.delete('finding');
  history.replaceState(null, '', location.pathname + (q.size ? '?' + q : ''));
}

function field(label: string, input: HTMLElement): HTMLElement {
  return h('label.field', h('span', label), input);
}

async function openDrawer(ctx: Ctx, drawer: HTMLElement, id: string, reload: () => Promise<void>): Promise<void> {
  drawer.hidden = false;
  clear(drawer, loading());
  let f: Finding;
  try {
    f = await call<Finding>('/findings/' + encodeURIComponent(id), { signal: ctx.signal });
  } catch (e) {
    clear(drawer, errorBox(e));
    return;
  }
  const ev = f.evidence ?? {};
  const status = h('div.status', { 'data-testid': 'triage-status' });
  const act = async (what: () => Promise<unknown>, done: string) => {
    clear(status, 'Working…');
    try {
      await what();
      await openDrawer(ctx, drawer, id, reload);
      drawer.querySelector('.status')?.replaceChildren(h('div.ok', done));
      await reload();
    } catch (e) {
      clear(status, errorBox(e));
    }
  };
  const note = h('textarea', { rows: 2, placeholder: 'note (why)', 'data-testid': 'verdict-note' });
  const verdict = h('select', { 'data-testid': 'verdict' }, verdicts.map(([v, l]) => h('option', { value: v }, l)));
  const open = f.state === 'active' || f.state === 'acknowledged';
  const triage = ctx.canTriage
    ? h(
        'div.triage',
        { 'data-testid': 'triage' },
        h('h3', 'Triage'),
        h('button', {
          'data-testid': 'ack',
          disabled: f.state !== 'active',
          title: f.state !== 'active' ? 'only an active finding is acknowledged' : undefined,
          onclick: () => act(() => call('/findings/' + encodeURIComponent(id) + '/ack', { method: 'POST' }), 'Acknowledged.'),
        }, 'Acknowledge'),
        h('div.verdict', verdict, note,
          h('button.primary', {
            'data-testid': 'give-verdict',
            onclick: () => act(() => call('/findings/' + encodeURIComponent(id) + '/verdict', {
              method: 'POST', body: JSON.stringify({ verdict: verdict.value, note: note.value }),
            }), 'Verdict recorded.'),
          }, 'Give verdict')),
        open ? null : h('p.muted.small', 'This finding is closed; a verdict still applies to its like.'),
        status,
      )
    : h('p.muted.small', { 'data-testid': 'read-only' }, 'Your role (' + ctx.who.role + ') reads findings; an analyst acknowledges them and gives verdicts.');
  const values = Object.entries(ev.values ?? {});
  const extra = Object.entries(ev).filter(([k]) => !['summary', 'first_seen', 'last_seen', 'count', 'sessions', 'values', 'state'].includes(k));
  clear(
    drawer,
    h('div.drawer-head',
      h('div', badge(f.severity), ' ', badge(f.state, f.state.replace('_', ' '))),
      h('button.link', { onclick: () => { select(undefined); drawer.hidden = true; }, 'aria-label': 'close' }, '✕')),
    h('h3.finding-title', findingSummary(f)),
    h('dl.kv',
      dt('Detector', f.detector + (f.rule !== f.detector ? ' / ' + f.rule : '')),
      f.technique ? dt('ATT&CK', h('a', { href: 'https://attack.mitre.org/techniques/' + f.technique.replace('.', '/') + '/', target: '_blank', rel: 'noopener noreferrer' }, f.technique)) : null,
      dt('First seen', time(ev.first_seen ?? f.time)),
      dt('Last seen', time(ev.last_seen)),
      dt('Count', num(ev.count ?? 1)),
      dt('Id', h('code', f.id)),
      dt('Entities', h('div.chips', (f.entities ?? []).map((e) => entityLink(e)))),
    ),
    values.length ? h('div', h('h4', 'Evidence'), h('dl.kv', values.map(([k, v]) => dt(k, typeof v === 'object' ? JSON.stringify(v) : String(v))))) : null,
    extra.length ? h('div', h('h4', 'Details'), h('dl.kv', extra.map(([k, v]) => dt(k, typeof v === 'object' ? JSON.stringify(v) : String(v))))) : null,
    ev.sessions?.length
      ? h('div', h('h4', `Sessions (${ev.sessions.length})`),
          h('div.chips', { 'data-testid': 'evidence-sessions' }, ev.sessions.map((s) => h('a.chip', { href: sessionsHref(f, [s]) }, s))),
          h('p', h('a', { href: sessionsHref(f, ev.sessions), 'data-testid': 'open-sessions' }, 'Open these sessions in the explorer →')))
      : null,
    triage,
  );
}

function dt(k: string, v: string | Node): Node[] {
  return [h('dt', k), h('dd', v)];
}

function entityLink(e: string): HTMLElement {
  const [kind, ...rest] = e.split(':');
  const v = rest.join(':');
  if (kind === 'ip') return h('a.chip', { href: '/sessions?' + new URLSearchParams({ ...range.search(range.current()), filter: `src.ip = ${v} or dst.ip = ${v}` }) }, e);
  return link('/findings', e, { entity: e });
}

/** sessionsHref opens the explorer on the finding's ends over its time,
 * the evidence's sessions marked (the filter language has no uid). */
export function sessionsHref(f: Finding, uids: string[]): string {
  const ips = (f.entities ?? []).filter((e) => e.startsWith('ip:')).map((e) => e.slice(3));
  const ports = (f.entities ?? []).filter((e) => e.startsWith('port:')).map((e) => e.slice(5));
  const parts: string[] = [];
  if (ips.length === 1) parts.push(`(src.ip = ${ips[0]} or dst.ip = ${ips[0]})`);
  else if (ips.length > 1) parts.push(`src.ip in (${ips.join(', ')}) and dst.ip in (${ips.join(', ')})`);
  if (ports.length && ips.length) parts.push(`dst.port in (${ports.join(', ')})`);
  const first = new Date(f.evidence?.first_seen ?? f.time);
  const last = new Date(f.evidence?.last_seen ?? f.time);
  const since = new Date(first.getTime() - 60e3);
  const until = new Date(last.getTime() + 120e3);
  const q = new URLSearchParams({
    filter: parts.join(' and '),
    since: since.toISOString(),
    until: until.toISOString(),
    mark: uids.map((u) => u.split('/')[0]).slice(0, 50).join(','),
  });
  return '/sessions?' + q.toString();
}
