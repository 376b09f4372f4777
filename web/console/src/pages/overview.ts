import { call, type Overview } from '../api';
import { href, link, type Ctx } from '../app';
import { axisTime, axisValue, chart, grid, severityColour } from '../charts';
import { badge, bytes, card, empty, h, num, severities, time } from '../dom';
import * as range from '../range';
import { table } from '../table';
import { findingSummary } from './findings';

export default async function overview(ctx: Ctx): Promise<void> {
  const o = await call<Overview>('/overview', { query: { ...range.params(), top: 10 }, signal: ctx.signal });
  const f = o.findings;
  const open = Object.values(f.open_by_severity).reduce((a, b) => a + b, 0);
  const hot = (f.open_by_severity.critical ?? 0) + (f.open_by_severity.high ?? 0);
  ctx.main.append(
    h(
      'div.kpis',
      kpi('Traffic', bytes(o.totals.bytes), `${num(o.totals.packets)} packets`, 'kpi-bytes'),
      kpi('Sessions', num(o.totals.sessions), `step ${o.step}`, 'kpi-sessions'),
      kpi('Findings', num(f.total), `${num(open)} open`, 'kpi-findings'),
      kpi('High and critical open', num(hot), 'to triage', 'kpi-hot', hot > 0 ? 'alert' : undefined),
    ),
    h(
      'div.grid-2-1',
      card(
        'Traffic over time',
        o.traffic.length
          ? chart(
              {
                tooltip: { trigger: 'axis', valueFormatter: (v: number) => num(v) },
                legend: { data: ['bytes', 'sessions'], top: 0, right: 8 },
                grid,
                xAxis: axisTime,
                yAxis: [axisValue(bytes), axisValue(num)],
                series: [
                  { name: 'bytes', type: 'bar', barMaxWidth: 18, data: o.traffic.map((p) => [p.time, p.bytes]),
                    tooltip: { valueFormatter: (v: number) => bytes(v) } },
                  { name: 'sessions', type: 'line', yAxisIndex: 1, symbol: 'none', smooth: true, data: o.traffic.map((p) => [p.time, p.sessions]) },
                ],
              },
              280,
              'traffic-chart',
            )
          : empty('No traffic in this range.'),
      ),
      card(
        'Findings by severity',
        f.total
          ? chart(
              {
                tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
                legend: { top: 0, right: 8, data: ['open', 'closed'] },
                grid: { left: 70, right: 16, top: 28, bottom: 24 },
                xAxis: axisValue(num),
                yAxis: { type: 'category', data: [...severities].reverse(), axisTick: { show: false } },
                series: [
                  { name: 'open', type: 'bar', stack: 's', data: [...severities].reverse().map((s) => ({ value: f.open_by_severity[s] ?? 0, itemStyle: { color: severityColour[s] } })) },
                  { name: 'closed', type: 'bar', stack: 's', itemStyle: { color: '#cbd2d9' },
                    data: [...severities].reverse().map((s) => (f.by_severity[s] ?? 0) - (f.open_by_severity[s] ?? 0)) },
                ],
              },
              280,
              'severity-chart',
            )
          : empty('No findings in this range.'),
      ),
    ),
    h(
      'div.grid-2',
      card(
        'Top talkers',
        table(
          [
            { label: 'Device or address', value: (r) => r.key, render: (r) => link('/sessions', r.key, { filter: endFilter(r.key) }) },
            { label: 'Bytes', value: (r) => r.bytes, num: true, render: (r) => bar(r.bytes, o.top_talkers[0]?.bytes ?? 1, bytes(r.bytes)) },
            { label: 'Sessions', value: (r) => r.sessions, num: true, render: (r) => num(r.sessions) },
          ],
          o.top_talkers,
          { testid: 'top-talkers' },
        ),
      ),
      card(
        'Top applications',
        o.apps.length
          ? chart(
              {
                tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: (v: number) => bytes(v) },
                grid: { left: 80, right: 24, top: 8, bottom: 24 },
                xAxis: axisValue(bytes),
                yAxis: { type: 'category', inverse: true, data: o.apps.map((a) => a.key || '(unknown)'), axisTick: { show: false } },
                series: [{ type: 'bar', data: o.apps.map((a) => a.bytes), barMaxWidth: 16 }],
              },
              Math.max(160, 26 * o.apps.length + 40),
              'apps-chart',
            )
          : empty('No applications in this range.'),
      ),
    ),
    card(
      h('span', 'Newest open high and critical findings ', link('/findings', 'all findings →', { severity: 'high', state: 'active' })),
      table(
        [
          { label: 'First seen', value: (r) => r.evidence?.first_seen ?? r.time, render: (r) => time(r.evidence?.first_seen ?? r.time) },
          { label: 'Severity', value: (r) => severities.indexOf(r.severity), render: (r) => badge(r.severity) },
          { label: 'Detector', value: (r) => r.detector, render: (r) => `${r.detector}${r.rule !== r.detector ? ' / ' + r.rule : ''}` },
          { label: 'Summary', render: (r) => link('/findings', findingSummary(r), { finding: r.id, severity: 'high' }) },
          { label: 'State', value: (r) => r.state, render: (r) => badge(r.state) },
        ],
        o.recent_findings,
        { testid: 'recent-findings', emptyText: 'No open high or critical findings in this range.' },
      ),
    ),
  );
}

function kpi(label: string, value: string, sub: string, testid: string, cls?: string): HTMLElement {
  return h('div.kpi', { 'data-testid': testid, class: cls }, h('div.label', label), h('div.value', value), h('div.sub', sub));
}

export function bar(v: number, max: number, text: string): HTMLElement {
  return h('div.cellbar', h('span.fill', { style: { width: Math.max(1, (100 * v) / (max || 1)) + '%' } }), h('span.txt', text));
}

/** endFilter selects the sessions of a top-talker key: an address, else an asset id. */
export function endFilter(key: string): string {
  if (/^[0-9.]+$/.test(key) || key.includes(':')) return `src.ip = ${key} or dst.ip = ${key}`;
  return `src.asset = "${key}" or dst.asset = "${key}"`;
}

export { href };
