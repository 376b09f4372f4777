// The console in Debian's chromium against a running osprey serve
// (fixture.ts): sign in with a token, open every page and check that it
// shows real content, filter sessions, triage a finding and check the
// change through the API, and check what a viewer may not do.
import { expect, test, type Page } from '@playwright/test';
import { copyFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { join, resolve } from 'node:path';
import { api, repo, world } from './fixture';

const w = world();
const shots = resolve(import.meta.dirname, '../test-results/screenshots');
mkdirSync(shots, { recursive: true });

// The screenshots docs/console.md shows.
const docs = new Set(['overview', 'finding', 'device', 'sessions', 'segmentation', 'policies']);

/** shot saves a screenshot as a test artifact, and into docs/img with
 * OSPREY_DOCS_IMG=1 (make console-screenshots). */
async function shot(page: Page, name: string): Promise<void> {
  await page.waitForTimeout(300); // charts draw on the next frame
  const file = join(shots, name + '.png');
  await page.screenshot({ path: file, fullPage: false });
  if (process.env.OSPREY_DOCS_IMG && docs.has(name)) copyFileSync(file, join(repo, 'docs/img', 'console-' + name + '.png'));
}

async function signIn(page: Page, token: string): Promise<void> {
  await page.goto(w.url + '/');
  await expect(page).toHaveURL(/\/login/);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('who')).toBeVisible();
}

/** go follows a link of the left navigation. */
async function go(page: Page, name: string): Promise<void> {
  await page.locator('nav.side').getByRole('link', { name }).click();
}

/** painted says a chart's canvas has been painted (not blank). */
async function painted(page: Page, testid: string): Promise<number> {
  const canvas = page.getByTestId(testid).locator('canvas').first();
  await expect(canvas).toBeVisible();
  return canvas.evaluate((c: HTMLCanvasElement) => {
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
    return n;
  });
}

function num(s: string | null): number {
  const m = (s ?? '').replace(/,/g, '').match(/([\d.]+)\s*([kMG]?)/);
  if (!m) return NaN;
  return parseFloat(m[1]) * ({ k: 1e3, M: 1e6, G: 1e9 }[m[2]] ?? 1);
}

test('a bad token is refused with the API message', async ({ page }) => {
  await page.goto(w.url + '/findings');
  await expect(page).toHaveURL(/\/login\?next=%2Ffindings/);
  await page.getByLabel('API token').fill('osp_not-a-token');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.locator('.error')).toContainText('unauthenticated');
  await shot(page, 'login');
});

test('overview: traffic chart, top talkers, severities and newest findings', async ({ page }) => {
  await signIn(page, w.tokens.analyst);
  await expect(page.getByTestId('who')).toContainText('default');
  await expect(page.getByTestId('who')).toContainText('analyst');
  expect(num(await page.getByTestId('kpi-sessions').locator('.value').textContent())).toBeGreaterThan(100);
  expect(num(await page.getByTestId('kpi-findings').locator('.value').textContent())).toBeGreaterThan(0);
  expect(await painted(page, 'traffic-chart')).toBeGreaterThan(2000);
  expect(await painted(page, 'severity-chart')).toBeGreaterThan(500);
  expect(await painted(page, 'apps-chart')).toBeGreaterThan(500);
  expect(await page.getByTestId('top-talkers').locator('tbody tr').count()).toBeGreaterThan(3);
  expect(await page.getByTestId('recent-findings').locator('tbody tr').count()).toBeGreaterThan(0);
  await shot(page, 'overview');
  // The range is in the URL and every page keeps it.
  await page.getByTestId('range').getByRole('button', { name: '7d' }).click();
  await expect(page).toHaveURL(/range=7d/);
  await expect(page.getByTestId('range').getByRole('button', { name: '7d' })).toHaveClass(/on/);
  await go(page, 'Findings');
  await expect(page).toHaveURL(/\/findings\?range=7d/);
});

test('sessions: a filter narrows the results; a bad one points at its column', async ({ page }) => {
  await signIn(page, w.tokens.analyst);
  await go(page, 'Sessions');
  const rows = page.getByTestId('sessions-table').locator('tbody tr');
  await expect(rows.first()).toBeVisible();
  expect(await rows.count()).toBe(50);
  await expect(page.getByTestId('next-page')).toBeEnabled();
  await page.getByTestId('next-page').click();
  await expect(page.locator('.pager')).toContainText('page 2');
  await page.getByTestId('filter-input').fill('dst.port = 1883 and app = "mqtt"');
  await page.getByTestId('filter-run').click();
  await expect(page).toHaveURL(/filter=dst\.port/);
  await expect(rows.first()).toBeVisible();
  const dsts = await rows.locator('td:nth-child(3) .mono').allTextContents();
  expect(dsts.length).toBeGreaterThan(0);
  for (const d of dsts) expect(d).toMatch(/:1883$/);
  const apps = await rows.locator('td:nth-child(5)').allTextContents();
  for (const a of apps) expect(a).toBe('mqtt');
  // The top-N panel answers the same filter.
  const top = page.getByTestId('top-table').locator('tbody tr');
  await expect(top).toHaveCount(1);
  await expect(top.first()).toContainText('1883');
  await shot(page, 'sessions');
  await page.getByTestId('filter-input').fill('dst.port > http');
  await page.getByTestId('filter-run').click();
  const err = page.getByTestId('filter-error');
  await expect(err).toContainText('column 12');
  await expect(err).toContainText('dst.port is a number');
  await expect(err.locator('pre.caret')).toContainText('           ^');
  await shot(page, 'sessions-error');
});

test('findings: filter, open a finding, acknowledge it and give a verdict', async ({ page, request }) => {
  await signIn(page, w.tokens.analyst);
  await go(page, 'Findings');
  const rows = page.getByTestId('findings-table').locator('tbody tr');
  await expect(rows.first()).toBeVisible();
  await page.getByLabel('Severity').selectOption('high');
  await page.getByLabel('State').selectOption('active');
  await page.getByTestId('finding-filters').getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(/severity=high/);
  await expect(rows.first()).toBeVisible();
  for (const s of await rows.locator('td:nth-child(2)').allTextContents()) expect(['high', 'critical']).toContain(s);
  for (const s of await rows.locator('td:nth-child(6)').allTextContents()) expect(s).toBe('active');
  await rows.first().click();
  const drawer = page.getByTestId('finding-drawer');
  await expect(drawer).toBeVisible();
  const id = new URL(page.url()).searchParams.get('finding')!;
  expect(id).toBeTruthy();
  await expect(drawer.getByTestId('evidence-sessions').locator('a').first()).toBeVisible();
  await shot(page, 'finding');
  const get = async () => (await api<{ state: string }>(w, w.tokens.viewer, '/findings/' + id)).state;
  expect(await get()).toBe('active');
  await drawer.getByTestId('ack').click();
  await expect(drawer.locator('.ok')).toContainText('Acknowledged');
  await expect.poll(get).toBe('acknowledged');
  await drawer.getByTestId('verdict').selectOption('false_positive');
  await drawer.getByTestId('verdict-note').fill('the lab scanner, by design');
  await drawer.getByTestId('give-verdict').click();
  await expect(drawer.locator('.ok')).toContainText('Verdict recorded');
  await expect.poll(get).toBe('false_positive');
  const sup = await api<{ items: { note?: string }[] }>(w, w.tokens.viewer, '/suppressions');
  expect(sup.items.some((s) => JSON.stringify(s).includes('the lab scanner'))).toBe(true);
  // The evidence's sessions open in the explorer, marked.
  await drawer.getByTestId('open-sessions').click();
  await expect(page).toHaveURL(/\/sessions\?.*mark=/);
  await expect(page.getByTestId('sessions-table').locator('tbody tr.marked').first()).toBeVisible();
  void request;
});

test('devices: inventory, category filter and a device page with its charts', async ({ page }) => {
  await signIn(page, w.tokens.analyst);
  await go(page, 'Devices');
  const rows = page.getByTestId('devices-table').locator('tbody tr');
  await expect(rows.first()).toBeVisible();
  expect(await rows.count()).toBeGreaterThan(10);
  await shot(page, 'devices');
  await page.getByTestId('category').selectOption('plc');
  await expect(page).toHaveURL(/category=plc/);
  await expect(rows.first()).toBeVisible();
  for (const c of await rows.locator('td:nth-child(2)').allTextContents()) expect(c).toBe('plc');
  await rows.first().click();
  await expect(page).toHaveURL(/\/devices\/.+/);
  await expect(page.getByTestId('device-head')).toBeVisible();
  expect(await page.getByTestId('peers-table').locator('tbody tr').count()).toBeGreaterThan(0);
  expect(await painted(page, 'ports-chart')).toBeGreaterThan(500);
  // The device given Device Defender metrics draws them over time.
  await page.goto(w.url + '/devices/' + encodeURIComponent(w.metricDevice));
  const charts = page.getByTestId('metric-charts').locator('.metric');
  await expect(charts.first()).toBeVisible();
  expect(await charts.count()).toBeGreaterThanOrEqual(4);
  await expect(page.getByTestId('ports-chart').locator('canvas')).toBeVisible();
  await shot(page, 'device');
});

test('segmentation: the matrix heatmap, recommendations and capacity', async ({ page }) => {
  await signIn(page, w.tokens.analyst);
  await go(page, 'Segmentation');
  expect(await painted(page, 'matrix-chart')).toBeGreaterThan(5000);
  expect(await page.getByTestId('matrix-table').locator('tbody tr').count()).toBeGreaterThan(2);
  // Recommendations and capacity: a table when the server has them, else "not available".
  await expect(page.locator('[data-testid=recommendations], [data-testid=not-available]').first()).toBeVisible();
  await expect(page.locator('[data-testid=capacity], [data-testid=not-available], .card:has-text("Capacity") .empty').first()).toBeVisible();
  await shot(page, 'segmentation');
});

test('policies: the files in force, validation with its line, what-if', async ({ page }) => {
  await signIn(page, w.tokens.analyst);
  await go(page, 'Policies');
  await expect(page.getByTestId('policy-files')).toContainText('demo-baseline');
  await expect(page.getByTestId('policy-files')).toContainText('no-telnet');
  const editor = page.getByTestId('policy-editor');
  await page.getByTestId('validate').click();
  await expect(page.getByTestId('policy-result')).toContainText('Valid: policy "my-baseline", 2 rules');
  await page.getByTestId('whatif').click();
  const rules = page.getByTestId('whatif-table').locator('tbody tr');
  await expect(rules.first()).toBeVisible();
  await expect(page.getByTestId('whatif-result')).toContainText('stored sessions');
  await shot(page, 'policies');
  const bad = (await editor.inputValue()).replace('deny: {proto: tcp, to: {port: 23}}', 'deny: {proto: tcp, to: {prot: 23}}');
  await editor.fill(bad);
  await page.getByTestId('validate').click();
  const res = page.getByTestId('policy-result');
  await expect(res.locator('.error')).toContainText('line 8');
  await expect(res.locator('.error')).toContainText('rules[0] "no-telnet"');
  await page.getByRole('button', { name: 'Reset' }).click();
});

test('sources and health', async ({ page }) => {
  await signIn(page, w.tokens.analyst);
  await go(page, 'Sources & health');
  await expect(page.getByTestId('kpi-sources')).toBeVisible();
  await expect(page.locator('main')).toContainText(/osprey serve reads a store|Listeners and collectors/);
  await shot(page, 'sources');
});

test('a viewer reads findings but sees no triage, and signs out', async ({ page }) => {
  await signIn(page, w.tokens.viewer);
  await expect(page.getByTestId('who')).toContainText('viewer');
  await go(page, 'Findings');
  await page.getByTestId('findings-table').locator('tbody tr').first().click();
  const drawer = page.getByTestId('finding-drawer');
  await expect(drawer.getByTestId('read-only')).toBeVisible();
  await expect(drawer.getByTestId('ack')).toHaveCount(0);
  await expect(drawer.getByTestId('give-verdict')).toHaveCount(0);
  await go(page, 'Policies');
  await expect(page.getByTestId('validate')).toHaveCount(0);
  await page.getByTestId('logout').click();
  await expect(page).toHaveURL(/\/login/);
  await expect(page.getByLabel('API token')).toBeVisible();
});

test('a token revoked mid-session returns to the login page', async ({ page }) => {
  await signIn(page, w.tokens.analyst);
  // The overview's requests settle first: one still to start would meet
  // the revoked token before the click does (seen on a loaded machine).
  await page.waitForLoadState('networkidle');
  await page.evaluate(() => sessionStorage.setItem('osprey.token', 'osp_revoked'));
  await go(page, 'Devices');
  await expect(page).toHaveURL(/\/login/);
  await expect(page.locator('.notice')).toContainText('Signed out');
});

test('a page of an allowed origin calls the API from the browser; another origin is refused', async ({ page }) => {
  // A dashboard page on another origin: 127.0.0.1 is in api.cors_origins,
  // localhost (the same server, another origin) is not.
  const dashboard = createServer((_, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>dashboard</title>'));
  await new Promise<void>((ok) => dashboard.listen(w.dashboardPort, '127.0.0.1', ok));
  try {
    const callFrom = async (origin: string) => {
      await page.goto(origin + '/');
      return page.evaluate(
        async ({ url, token }) => {
          try {
            const r = await fetch(url + '/api/v1/findings?limit=1', { headers: { Authorization: 'Bearer ' + token } });
            return `${r.status} ${((await r.json()) as { items?: unknown[] }).items?.length ?? 0}`;
          } catch {
            return 'refused';
          }
        },
        { url: w.url, token: w.tokens.viewer },
      );
    };
    expect(await callFrom(`http://127.0.0.1:${w.dashboardPort}`)).toBe('200 1');
    expect(await callFrom(`http://localhost:${w.dashboardPort}`)).toBe('refused');
  } finally {
    dashboard.close();
  }
});
