import { call, type Device, type Page } from '../api';
import { href, setParams, navigate, type Ctx } from '../app';
import { ago, badge, card, clear, errorBox, h, loading, time } from '../dom';
import { Cursors, table } from '../table';

// The categories of docs/devices.md.
const categories = ['camera', 'printer', 'plc', 'hmi', 'rtu', 'iot', 'sensor', 'thermostat', 'building', 'phone', 'workstation', 'server',
  'cloud_vm', 'network', 'gateway', 'unknown'];

export function deviceName(d: Device): string {
  const a = d.attributes ?? {};
  return a.hostnames?.[0] ?? (a as Record<string, unknown>).asset_name as string ?? d.ips?.[0] ?? d.id;
}

export default async function devices(ctx: Ctx): Promise<void> {
  const category = ctx.params.get('category') ?? '';
  const select = h('select', {
    'data-testid': 'category',
    onchange: () => setParams({ category: select.value }),
  }, h('option', { value: '' }, 'all categories'), categories.map((c) => h('option', { value: c, selected: c === category }, c)));
  const list = h('div', loading());
  ctx.main.append(h('form.filters', { onsubmit: (e: Event) => e.preventDefault() }, h('label.field', h('span', 'Category'), select),
    h('span.muted.small', 'Devices cover all time; the range applies to each device page.')), card('Device inventory', list));
  const cursors = new Cursors();
  const load = async () => {
    clear(list, loading());
    try {
      const page = await call<Page<Device>>('/devices', { query: { category, limit: 50, cursor: cursors.cursor }, signal: ctx.signal });
      cursors.next = page.next;
      clear(
        list,
        table(
          [
            { label: 'Device', value: (r) => deviceName(r), render: (r) => h('a', { href: href('/devices/' + encodeURIComponent(r.id)) }, deviceName(r)) },
            { label: 'Category', value: (r) => r.category ?? '', render: (r) => (r.category ? badge('cat', r.category) : '–') },
            { label: 'OS', value: (r) => r.attributes?.os?.name ?? '', render: (r) => r.attributes?.os?.name ?? '–' },
            { label: 'Segment', value: (r) => r.attributes?.segment ?? '', render: (r) => r.attributes?.segment ?? '–' },
            { label: 'Addresses', render: (r) => h('span.mono', (r.ips ?? []).slice(0, 3).join(', ') + ((r.ips?.length ?? 0) > 3 ? ` +${r.ips!.length - 3}` : '')) },
            { label: 'MAC', render: (r) => h('span.mono', (r.macs ?? [])[0] ?? '–') },
            { label: 'Services', value: (r) => r.attributes?.services?.length ?? 0, num: true,
              render: (r) => (r.attributes?.services ?? []).slice(0, 4).map((s) => `${s.port}/${s.proto}`).join(' ') || '–' },
            { label: 'Last seen', value: (r) => r.last_seen, render: (r) => h('span', { title: time(r.last_seen) }, ago(r.last_seen)) },
          ],
          page.items,
          { testid: 'devices-table', onRow: (r) => navigate(href('/devices/' + encodeURIComponent(r.id))), emptyText: 'No devices.' },
        ),
        cursors.bar(page.items.length, load),
      );
    } catch (e) {
      if (!ctx.signal.aborted) clear(list, errorBox(e));
    }
  };
  await load();
}
