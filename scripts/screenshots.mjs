// `npm run screenshots`: every page of the web console at 1280x800 and 390x844, taken from a
// real `openbms start` on the demo site with Debian's Chromium, into docs/screenshots/.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const OUT = 'docs/screenshots';
const VIEWPORTS = [
  { width: 1280, height: 800 },
  { width: 390, height: 844 },
];
const pack = (id, tab) => `/packs/${encodeURIComponent(id)}/${tab}`;
const PAGES = [
  ['overview', '/'],
  ['pack-status', pack('demo/jk/1', 'status')],
  ['pack-cells', pack('demo/jk/1', 'cells')],
  // Seed 004's real-time data table: a few polls' rows first.
  ['pack-live', pack('demo/jk/1', 'live'), 'live-rows'],
  ['pack-history', pack('demo/jk/1', 'history')],
  ['pack-alarms', pack('demo/jk/1', 'alarms')],
  ['pack-settings', pack('demo/jk/1', 'settings')],
  ['pack-control', pack('demo/jk/1', 'control')],
  ['pack-records', pack('demo/jk/1', 'records')],
  ['pack-system', pack('demo/jk/1', 'system')],
  // A PACE pack of the rack (seeds 002/004): records read from the BMS, the clock, calibration
  // (Rack 4 allows unverified commands), the inverter protocol and the unverified switch.
  ['pace-records', pack('demo/rack/1', 'records'), 'read-records'],
  ['pace-control', pack('demo/rack/4', 'control')],
  ['pace-settings', pack('demo/rack/1', 'settings')],
  ['parallel', '/parallel/demo/rack'],
  ['alarms', '/alarms'],
  ['files', '/files'],
  ['buses', '/buses'],
  ['settings', '/settings'],
  ['account', '/account'],
  ['wall', '/wall'],
];

async function start(dataDir, env) {
  const child = spawn(
    process.execPath,
    // SCREENSHOTS_PORT: a fixed port for sessions sharing the machine (else any free one).
    [
      'packages/cli/bin/openbms.js',
      'start',
      '--data-dir',
      dataDir,
      '--port',
      process.env.SCREENSHOTS_PORT ?? '0',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } },
  );
  for await (const line of createInterface({ input: child.stdout })) {
    const m = /listening on (http:\/\/\S+) /.exec(line);
    if (m) return { child, url: m[1] };
  }
  throw new Error('openbms start did not start');
}

const stop = async (child) => {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
};

mkdirSync(OUT, { recursive: true });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
  ],
});
const settle = (page) => page.waitForLoadState('networkidle').catch(() => undefined);

// First run: the onboarding page (no admin yet).
{
  const dir = mkdtempSync(join(tmpdir(), 'openbms-shots-'));
  const { child, url } = await start(dir, { OPENBMS_ADMIN_USER: '', OPENBMS_ADMIN_PASSWORD: '' });
  for (const vp of VIEWPORTS) {
    const ctx = await browser.newContext({ baseURL: url, viewport: vp });
    const page = await ctx.newPage();
    await page.goto('/');
    await page.getByRole('heading').first().waitFor();
    await page.screenshot({ path: join(OUT, `setup-${vp.width}x${vp.height}.png`) });
    await ctx.close();
  }
  await stop(child);
  rmSync(dir, { recursive: true, force: true });
}

const dir = mkdtempSync(join(tmpdir(), 'openbms-shots-'));
const { child, url } = await start(dir, {
  OPENBMS_ADMIN_USER: 'admin',
  OPENBMS_ADMIN_PASSWORD: 'screenshot-password',
});
try {
  for (const vp of VIEWPORTS) {
    const ctx = await browser.newContext({ baseURL: url, viewport: vp });
    const page = await ctx.newPage();
    await page.goto('/');
    await page.getByRole('heading').first().waitFor();
    await page.screenshot({ path: join(OUT, `login-${vp.width}x${vp.height}.png`) });
    await ctx.request.post('/api/v1/auth/login', {
      data: { username: 'admin', password: 'screenshot-password' },
    });
    // Let the demo packs come online and a little history build up.
    await page.goto('/');
    await page.locator('[data-testid="live-state"][data-state="open"]').waitFor();
    for (const [name, path, action] of PAGES) {
      await page.goto(path);
      await settle(page);
      if (action === 'read-records') {
        await page.getByTestId('records-read').click();
        await page
          .locator('[data-testid="records-status"][data-done="end"]')
          .waitFor({ timeout: 60_000 });
      }
      if (action === 'live-rows') {
        await page.waitForFunction(
          () =>
            Number(
              document.querySelector('[data-testid="live-status"]')?.getAttribute('data-rows'),
            ) >= 3,
          undefined,
          { timeout: 60_000 },
        );
      }
      await page.locator('main, [data-testid="wall"]').first().waitFor();
      await page.screenshot({
        path: join(OUT, `${name}-${vp.width}x${vp.height}.png`),
        fullPage: name !== 'wall',
      });
      console.log(`${name} ${vp.width}x${vp.height}`);
    }
    await ctx.close();
  }
} finally {
  await browser.close();
  await stop(child);
  rmSync(dir, { recursive: true, force: true });
}
