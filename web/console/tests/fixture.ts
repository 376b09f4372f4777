// The world the browser tests run against: the osprey binary (with the
// console embedded), a store holding a day of synthetic fleet and plant
// traffic ending now, findings from the demo's detectors and policy,
// Device Defender metrics for one device, three tokens (admin, analyst,
// viewer) and `osprey serve` on a free loopback port.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const repo = resolve(import.meta.dirname, '../../..');

export interface World {
  url: string;
  dir: string;
  tokens: { admin: string; analyst: string; viewer: string };
  /** the device given Device Defender metrics */
  metricDevice: string;
  /** the port of a page whose origin (http://127.0.0.1:port) api.cors_origins allows */
  dashboardPort: number;
}

export function world(): World {
  return JSON.parse(process.env.OSPREY_WORLD ?? '{}') as World;
}

function osprey(bin: string, args: string[], cwd: string): string {
  return execFileSync(bin, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
}

/** shift moves every packet of a little-endian microsecond pcap (what
 * osprey synth writes) so that the capture starts at start (seconds). */
function shift(file: string, start: number): void {
  const b = readFileSync(file);
  if (b.readUInt32LE(0) !== 0xa1b2c3d4) throw new Error(`${file}: not a little-endian microsecond pcap`);
  const delta = start - b.readUInt32LE(24);
  for (let off = 24; off + 16 <= b.length; ) {
    b.writeUInt32LE(b.readUInt32LE(off) + delta, off);
    off += 16 + b.readUInt32LE(off + 8);
  }
  writeFileSync(file, b);
}

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
  });
}

async function api<T>(w: { url: string }, token: string, path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(w.url + '/api/v1' + path, { ...init, headers: { Authorization: 'Bearer ' + token, ...(init.headers ?? {}) } });
  const text = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${path}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

let server: ChildProcess | undefined;

export async function setUp(): Promise<World> {
  const bin = resolve(process.env.OSPREY_BIN ?? join(repo, 'bin/osprey'));
  if (!existsSync(bin)) throw new Error(`${bin} is missing: make build (or set OSPREY_BIN)`);
  const dir = mkdtempSync(join(tmpdir(), 'osprey-console-'));
  const dashboardPort = await freePort();
  const caps = join(dir, 'captures');
  mkdirSync(caps);
  const demo = join(repo, 'examples/demo');
  writeFileSync(
    join(dir, 'osprey.yaml'),
    [
      'enrich:',
      `  assets: [${demo}/assets.yaml]`,
      `  cidrs: [${demo}/ranges.yaml]`,
      '  intel:',
      `    - {name: demo-watchlist, path: ${demo}/intel.txt}`,
      'detect:',
      `  policies: [${demo}/policy.yaml]`,
      `  suppression_file: ${dir}/suppressions.yaml`,
      'api:',
      `  tokens: ${dir}/tokens.json`,
      `  audit_log: ${dir}/audit.jsonl`,
      `  cors_origins: ['http://127.0.0.1:${dashboardPort}']`,
      '',
    ].join('\n'),
  );
  // A day of traffic: one short capture every two hours, busier by day
  // (seeds 11-22: seed 2 of synth makes a Modbus session of 6 GB).
  const now = Math.floor(Date.now() / 1000);
  const files: string[] = [];
  for (let i = 0; i < 12; i++) {
    const f = join(caps, `slice-${String(i).padStart(2, '0')}.pcap`);
    const packets = Math.round(9000 + 7000 * Math.sin((i / 11) * Math.PI));
    osprey(bin, ['synth', '--packets', String(packets), '--flows', '600', '--iot', '--seed', String(i + 11), '-o', f], dir);
    shift(f, now - (23 - 2 * i) * 3600 - 600);
    files.push(f);
  }
  osprey(bin, ['read', '--config', 'osprey.yaml', '--output', 'none', '--store', 'store', ...files], dir);
  const token = (role: string) =>
    osprey(bin, ['token', 'create', '--config', 'osprey.yaml', '--tenant', 'default', '--role', role, '--name', 'console-' + role], dir).trim();
  const tokens = { admin: token('admin'), analyst: token('analyst'), viewer: token('viewer') };
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  server = spawn(bin, ['serve', '--config', 'osprey.yaml', '--store', 'store', '--listen', `127.0.0.1:${port}`], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  server.stderr!.on('data', (d) => (log += d));
  for (let i = 0; ; i++) {
    try {
      const r = await fetch(url + '/api/v1/openapi.json');
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (server.exitCode !== null || i > 100) throw new Error('osprey serve did not start: ' + log);
    await new Promise((r) => setTimeout(r, 100));
  }
  // Device Defender metrics for the first device with an address: every
  // ten minutes over the day.
  const w = { url, dir, tokens, metricDevice: '', dashboardPort };
  const devs = await api<{ items: { id: string; ips?: string[] }[] }>(w, tokens.admin, '/devices?category=iot&limit=20');
  const dev = devs.items.find((d) => d.ips?.length) ?? devs.items[0];
  if (!dev) throw new Error('the store holds no device');
  w.metricDevice = dev.id;
  const key = dev.id.replace(/^(asset|ip|mac):/, '');
  const metrics = [];
  for (let t = now - 86400 + 300; t < now; t += 600) {
    const k = (t - now + 86400) / 86400;
    const ports = k > 0.6 ? ['22', '443', '1883', '8080'] : ['443', '1883'];
    const time = new Date(t * 1000).toISOString();
    metrics.push(
      { device: key, time, name: 'aws:num-established-tcp-connections', value: Math.round(4 + 3 * Math.sin(k * 12) + (k > 0.6 ? 6 : 0)) },
      { device: key, time, name: 'aws:all-bytes-out', value: Math.round(20000 + 15000 * Math.sin(k * 9) ** 2 + (k > 0.8 ? 400000 : 0)) },
      { device: key, time, name: 'aws:num-authorization-failures', value: k > 0.85 ? 7 : 0 },
      { device: key, time, name: 'aws:num-listening-tcp-ports', value: ports.length },
      { device: key, time, name: 'aws:listening-tcp-ports', value: ports.length, list: ports },
    );
  }
  await api(w, tokens.admin, '/ingest/metrics', { method: 'POST', body: JSON.stringify(metrics), headers: { 'Content-Type': 'application/json' } });
  return w;
}

export async function tearDown(w: World | undefined): Promise<void> {
  if (server && server.exitCode === null) {
    const done = new Promise((r) => server!.once('exit', r));
    server.kill('SIGTERM');
    await Promise.race([done, new Promise((r) => setTimeout(r, 15000))]);
    if (server.exitCode === null) server.kill('SIGKILL');
  }
  if (w?.dir && !process.env.OSPREY_KEEP) rmSync(w.dir, { recursive: true, force: true });
}

export { api };
