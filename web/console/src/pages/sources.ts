import { call, type Source } from '../api';
import { type Ctx } from '../app';
import { badge, card, h, num } from '../dom';
import { table } from '../table';

export default async function sources(ctx: Ctx): Promise<void> {
  const started = performance.now();
  const s = await call<{ items: Source[] }>('/sources', { signal: ctx.signal });
  const ms = performance.now() - started;
  ctx.main.append(
    h('div.kpis',
      h('div.kpi', { 'data-testid': 'kpi-sources' }, h('div.label', 'Sources'), h('div.value', String(s.items.length)), h('div.sub', 'writing into ' + ctx.who.tenant)),
      h('div.kpi', h('div.label', 'Healthy'), h('div.value', String(s.items.filter((x) => x.healthy).length)), h('div.sub', 'by the daemon\'s /healthz')),
      h('div.kpi', h('div.label', 'API'), h('div.value', 'up'), h('div.sub', `answered in ${ms.toFixed(0)} ms`))),
    card('Listeners and collectors',
      table(
        [
          { label: 'Source', value: (r) => r.name, render: (r) => h('strong', r.name) },
          { label: 'Kind', value: (r) => r.kind },
          { label: 'Health', value: (r) => (r.healthy ? 1 : 0), render: (r) => badge(r.healthy ? 'healthy' : 'unhealthy', r.healthy ? 'healthy' : 'unhealthy') },
          { label: 'Status', render: (r) => r.status || '–' },
          { label: 'Counters', render: (r) => h('dl.counters', Object.entries(r.metrics ?? {}).sort().map(([k, v]) => [h('dt', k.replace(/_total$/, '')), h('dd', num(v))])) },
        ],
        s.items,
        { testid: 'sources-table', emptyText: 'No source writes into this tenant here: osprey serve reads a store without ingesting; osprey run lists its listeners and collectors.' },
      )),
  );
}
