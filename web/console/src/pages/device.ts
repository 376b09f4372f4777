import { call, type Timeline } from '../api';
import { link, type Ctx } from '../app';
import { axisTime, axisValue, chart, grid } from '../charts';
import { badge, bytes, card, empty, h, num, time } from '../dom';
import * as range from '../range';
import { table } from '../table';
import { bar } from './overview';
import { deviceName } from './devices';

const metricNames: Record<string, [string, (v: number) => string]> = {
  'aws:num-listening-tcp-ports': ['Listening TCP ports', num],
  'aws:num-listening-udp-ports': ['Listening UDP ports', num],
  'aws:num-established-tcp-connections': ['Established TCP connections', num],
  'aws:all-bytes-in': ['Bytes in', bytes],
  'aws:all-bytes-out': ['Bytes out', bytes],
  'aws:all-packets-in': ['Packets in', num],
  'aws:all-packets-out': ['Packets out', num],
  'aws:num-authorization-failures': ['Authorization failures', num],
};

export default async function device(ctx: Ctx, id: string): Promise<void> {
  const t = await call<Timeline>('/devices/' + encodeURIComponent(id) + '/timeline', { query: { ...range.params(), peers: 15 }, signal: ctx.signal });
  const d = t.device;
  const a = d.attributes ?? {};
  const sessionsFilter = (d.ips ?? []).length ? `src.ip in (${d.ips!.join(', ')}) or dst.ip in (${d.ips!.join(', ')})` : '';
  ctx.main.append(
    h(
      'section.card.device-head',
      { 'data-testid': 'device-head' },
      h('div.title', h('h2', deviceName(d)), d.category ? badge('cat', d.category) : null, a.segment ? badge('seg', a.segment) : null,
        sessionsFilter ? link('/sessions', 'sessions →', { filter: sessionsFilter }) : null,
        link('/findings', 'findings →', { entity: d.ips?.[0] ? 'ip:' + d.ips[0] : undefined })),
      h('dl.kv.cols',
        kv('Id', h('code', d.id)),
        kv('Addresses', (d.ips ?? []).join(', ') || '–'),
        kv('MAC', (d.macs ?? []).join(', ') || '–'),
        kv('OS', a.os ? `${a.os.name} (${Math.round(a.os.confidence * 100)} %)` : '–'),
        kv('Category', a.category ? `${a.category.name} (${Math.round(a.category.confidence * 100)} %): ${(a.category.evidence ?? []).map((e) => e.detail).join('; ')}` : d.category ?? '–'),
        kv('Tags', (a.tags ?? []).join(', ') || '–'),
        kv('First seen', time(d.first_seen)),
        kv('Last seen', time(d.last_seen)),
      ),
    ),
  );
  const metrics = Object.entries(t.metrics).filter(([, pts]) => pts.length);
  ctx.main.append(
    card(
      'Device metrics (Device Defender, max per ' + t.step + ')',
      metrics.length
        ? h('div.metric-grid', { 'data-testid': 'metric-charts' }, metrics.map(([name, pts]) => {
            const [label, fmt] = metricNames[name] ?? [name, num];
            return h('div.metric', h('h4', label, h('span.muted.small', ' ' + name)),
              chart({ tooltip: { trigger: 'axis', valueFormatter: fmt }, grid: { left: 56, right: 12, top: 10, bottom: 24 }, xAxis: axisTime,
                yAxis: axisValue(fmt), series: [{ type: 'line', step: 'end', symbol: 'none', areaStyle: { opacity: 0.12 }, data: pts.map((p) => [p.time, p.value]) }] }, 150));
          }))
        : empty('No Device Defender metrics for this device in this range (they come from Device Defender reports or POST /api/v1/ingest/metrics).'),
    ),
  );
  // Ports it answered on per step, as a scatter of port against time
  // sized by sessions, and the listening TCP ports it reported.
  const ports = [...new Set(t.ports.map((p) => p.port))].sort((x, y) => x - y);
  const maxS = Math.max(1, ...t.ports.map((p) => p.sessions));
  ctx.main.append(
    h(
      'div.grid-2',
      card(
        'Listening ports over time',
        ports.length || t.listening_tcp_ports.length
          ? chart(
              {
                tooltip: { trigger: 'item', formatter: (p: { seriesName: string; value: [string, string | number, number] }) =>
                  p.seriesName === 'answered' ? `${p.value[1]}: ${num(p.value[2])} sessions at ${time(p.value[0])}` : `${num(p.value[1] as number)} listening TCP ports (reported) at ${time(p.value[0])}` },
                legend: { top: 0, right: 8 },
                grid: { ...grid, left: 70 },
                xAxis: axisTime,
                yAxis: [
                  { type: 'category', data: ports.map(String), name: 'port', axisTick: { show: false } },
                  { ...axisValue(num), name: 'reported', show: t.listening_tcp_ports.length > 0 },
                ],
                series: [
                  { name: 'answered', type: 'scatter', data: t.ports.map((p) => [p.time, String(p.port), p.sessions]),
                    symbolSize: (v: [string, string, number]) => 6 + 14 * Math.sqrt(v[2] / maxS) },
                  ...(t.listening_tcp_ports.length
                    ? [{ name: 'listening TCP ports (reported)', type: 'line', yAxisIndex: 1, step: 'end', symbol: 'none', data: t.listening_tcp_ports.map((p) => [p.time, p.value]) }]
                    : []),
                ],
              },
              Math.max(200, 22 * ports.length + 80),
              'ports-chart',
            )
          : empty('It answered on no port in this range.'),
        (a.services ?? []).length
          ? h('div', h('h4', 'Services seen (all time)'), h('div.chips', a.services!.map((s) => h('span.chip', `${s.port}/${s.proto}${s.app ? ' ' + s.app : ''} · ${num(s.sessions)}`))))
          : null,
      ),
      card(
        'Peers (by bytes)',
        table(
          [
            { label: 'Peer', value: (r) => r.key, render: (r) => link('/sessions', r.key, { filter: peerFilter(d.ips ?? [], r.key) }) },
            { label: 'Bytes', value: (r) => r.bytes, num: true, render: (r) => bar(r.bytes, t.peers[0]?.bytes ?? 1, bytes(r.bytes)) },
            { label: 'Packets', value: (r) => r.packets, num: true, render: (r) => num(r.packets) },
            { label: 'Sessions', value: (r) => r.sessions, num: true, render: (r) => num(r.sessions) },
          ],
          t.peers,
          { testid: 'peers-table', emptyText: 'No peers in this range.' },
        ),
      ),
    ),
  );
}

function kv(k: string, v: string | Node): Node[] {
  return [h('div', h('dt', k), h('dd', v))];
}

function peerFilter(ips: string[], peer: string): string | undefined {
  if (!ips.length) return undefined;
  const me = `(${ips.join(', ')})`;
  const isIP = /^[0-9.]+$/.test(peer) || peer.includes(':');
  const other = isIP ? `ip = ${peer}` : `asset = "${peer}"`;
  return `(src.ip in ${me} and dst.${other}) or (dst.ip in ${me} and src.${other})`;
}
