import { ApiError, call, type Capacity, type Cell, type Recommendation } from '../api';
import { navigate, href, setParams, type Ctx } from '../app';
import { chart } from '../charts';
import { badge, bps, bytes, card, clear, empty, errorBox, h, loading, num } from '../dom';
import * as range from '../range';
import { table } from '../table';
import { bar } from './overview';

export const DRAFT_KEY = 'osprey.policyDraft';

export default async function segmentation(ctx: Ctx): Promise<void> {
  const group = ctx.params.get('group') ?? 'segment';
  const by = ctx.params.get('by') ?? 'bytes';
  const groupSel = h('select', { onchange: () => setParams({ group: groupSel.value }, true) },
    ['segment', 'tag'].map((g) => h('option', { value: g, selected: g === group }, 'by ' + g)));
  const bySel = h('select', { onchange: () => setParams({ by: bySel.value }, true) },
    ['bytes', 'sessions', 'packets'].map((g) => h('option', { value: g, selected: g === by }, g)));
  const matrix = h('div', loading());
  const recs = h('div', loading());
  const cap = h('div', loading());
  ctx.main.append(
    card(h('span', 'Traffic between ', groupSel, ', ', bySel), matrix),
    h('div.grid-2', card('Recommendations', recs), card('Capacity', cap)),
  );
  const q = range.params();
  await Promise.all([
    call<{ items: Cell[] }>('/sessions/matrix', { query: { ...q, group, by, limit: 400 }, signal: ctx.signal })
      .then((m) => clear(matrix, heatmap(m.items, by)))
      .catch((e) => clear(matrix, errorBox(e))),
    call<{ items: Recommendation[]; policy?: string }>('/segmentation/recommendations', { query: q, signal: ctx.signal })
      .then((r) => clear(recs, recommendations(r)))
      .catch((e) => clear(recs, unavailable(e, 'Segmentation recommendations'))),
    call<{ items: Capacity[] }>('/segmentation/capacity', { query: q, signal: ctx.signal })
      .then((c) => clear(cap, capacity(c.items)))
      .catch((e) => clear(cap, unavailable(e, 'Capacity planning'))),
  ]);
}

function unavailable(e: unknown, what: string): HTMLElement {
  if (e instanceof ApiError && (e.status === 404 || e.status === 405)) {
    return h('div.empty', { 'data-testid': 'not-available' }, `${what}: not available from this server.`);
  }
  return errorBox(e);
}

function heatmap(cells: Cell[], by: string): HTMLElement {
  if (!cells.length) return empty('No traffic between groups in this range.');
  const srcs = [...new Set(cells.map((c) => c.src))].sort();
  const dsts = [...new Set(cells.map((c) => c.dst))].sort();
  const fmt = by === 'bytes' ? bytes : num;
  const max = Math.max(...cells.map((c) => c.value));
  return h('div', chart(
    {
      tooltip: { position: 'top', formatter: (p: { value: [number, number, number] }) => `${srcs[p.value[1]] || '(none)'} → ${dsts[p.value[0]] || '(none)'}: ${fmt(p.value[2])}` },
      grid: { left: 130, right: 24, top: 16, bottom: 90 },
      xAxis: { type: 'category', data: dsts.map((d) => d || '(none)'), name: 'to', axisLabel: { rotate: 35, fontSize: 11 }, splitArea: { show: true } },
      yAxis: { type: 'category', data: srcs.map((s) => s || '(none)'), name: 'from', axisLabel: { fontSize: 11 }, splitArea: { show: true } },
      // Colour by the logarithm: one busy pair must not wash out the rest.
      visualMap: { min: 0, max: Math.log10(max + 1), dimension: 3, calculable: false, orient: 'horizontal', left: 'center', bottom: 0, itemHeight: 200, show: true,
        inRange: { color: ['#eaf1fd', '#8fb4f3', '#2f6fde', '#173a7a'] }, formatter: (v: number) => fmt(10 ** v - 1) },
      series: [{ type: 'heatmap', data: cells.map((c) => [dsts.indexOf(c.dst), srcs.indexOf(c.src), c.value, Math.log10(c.value + 1)]),
        label: { show: srcs.length * dsts.length <= 120, formatter: (p: { value: number[] }) => fmt(p.value[2]), fontSize: 10 },
        emphasis: { itemStyle: { borderColor: '#1f2933', borderWidth: 1 } } }],
    },
    Math.max(260, 34 * srcs.length + 130),
    'matrix-chart',
  ), h('p.muted.small', 'Click a cell in the table below to open its sessions.'),
  table(
    [
      { label: 'From', value: (c) => c.src, render: (c) => c.src || '(none)' },
      { label: 'To', value: (c) => c.dst, render: (c) => c.dst || '(none)' },
      { label: by, value: (c) => c.value, num: true, render: (c) => bar(c.value, max, fmt(c.value)) },
    ],
    cells.slice(0, 15),
    { testid: 'matrix-table', onRow: (c) => navigate(href('/sessions', { filter: `src.segment = "${c.src}" and dst.segment = "${c.dst}"` })) },
  ));
}

function recommendations(r: { items: Recommendation[]; policy?: string }): HTMLElement {
  return h('div', { 'data-testid': 'recommendations' },
    table(
      [
        { label: 'From', value: (x) => x.src },
        { label: 'To', value: (x) => x.dst },
        { label: 'Ports', render: (x) => h('div.chips', x.ports.slice(0, 6).map((p) => h('span.chip', `${p.port}/${p.proto}`)), x.ports.length > 6 ? ` +${x.ports.length - 6}` : '') },
        { label: 'Sessions', value: (x) => x.sessions, num: true, render: (x) => num(x.sessions) },
        { label: 'Bytes', value: (x) => x.bytes, num: true, render: (x) => bytes(x.bytes) },
      ],
      r.items,
      { emptyText: 'No cross-segment traffic to recommend from in this range.' },
    ),
    r.policy
      ? h('details', h('summary', 'Proposed policy'), h('pre.code', r.policy),
          h('button', { onclick: () => { sessionStorage.setItem(DRAFT_KEY, r.policy!); navigate(href('/policies')); } }, 'Open in the policy editor'))
      : null,
  );
}

function capacity(items: Capacity[]): HTMLElement {
  return table(
    [
      { label: 'Link', value: (c) => c.name, render: (c) => h('span', c.name, h('span.muted.small', ` ${c.src} → ${c.dst}`)) },
      { label: 'Capacity', value: (c) => c.bandwidth_bps, num: true, render: (c) => bps(c.bandwidth_bps) },
      { label: 'P95', value: (c) => c.p95_bps, num: true, render: (c) => bps(c.p95_bps) },
      { label: 'Peak', value: (c) => c.peak_bps, num: true, render: (c) => bps(c.peak_bps) },
      { label: 'Utilisation', value: (c) => c.utilisation, num: true,
        render: (c) => h('div', { class: c.warning ? 'util warn' : 'util' }, bar(c.utilisation, 1, Math.round(c.utilisation * 100) + ' %'), c.warning ? badge('high', 'plan') : null) },
    ],
    items,
    { testid: 'capacity', emptyText: 'No links configured.' },
  );
}
