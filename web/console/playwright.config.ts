import { defineConfig } from '@playwright/test';
import { getuid } from 'node:process';

// Debian's chromium, driven headless (Playwright's own browser downloads
// are not used): make deps-test installs it.
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const args = [
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];
if (getuid?.() === 0) args.push('--no-sandbox');

export default defineConfig({
  testDir: 'tests',
  outputDir: 'test-results/artifacts',
  globalSetup: './tests/global-setup.ts',
  // One server and store for every test, some of which change findings.
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  reporter: [['list'], ['html', { outputFolder: 'playwright-report', open: 'never' }]],
  use: {
    browserName: 'chromium',
    headless: true,
    viewport: { width: 1440, height: 900 },
    deviceScaleFactor: 1,
    launchOptions: { executablePath, args },
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
  },
});
