/**
 * The tracker pages in the browser (issue 17, seed 003 "Map", "Track playback", "Mileage
 * statistics"), against a real `openbms cloud` process with its demo fleet and its riding
 * demo trackers, a JT/T 808 server on a free port, and map tiles served by this test (a
 * one-pixel PNG from a local HTTP server: no internet, and the tiles' origin must pass the
 * Content-Security-Policy).
 *
 * A simulated tracker (packages/simulator) rides a generated route of known length to the
 * server; then, as the platform's manager:
 * - its page shows the marker at the route's last point, and a click shows the battery's
 *   information and the navigation links;
 * - Track lists every ridden fix, and playback moves the marker along the route to its end,
 *   the list's highlighted row following;
 * - Mileage shows the route's length within 1 %;
 * - the fleet map lists it with the demo's riders, and leads to its page; the device list's
 *   row links to it too.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateRoute, TrackerSim, type Route } from '@openbms/simulator';
import { launchBrowser, openPage } from './harness';

const BIN = fileURLToPath(new URL('../../cli/bin/openbms.js', import.meta.url));
/** The smallest valid PNG (1x1, grey). */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGPY2QAAAnwBPjqcvE4AAAAASUVORK5CYII=',
  'base64',
);
const PHONE = '13712345678';

let proc: ChildProcess;
let dir: string;
let url: string;
let out = '';
let browser: Browser;
let tiles: Server;
let tileHits = 0;
let route: Route;
let deviceId: string;
let adminPassword: string;

beforeAll(async () => {
  tiles = createServer((req, res) => {
    if (/^\/\d+\/\d+\/\d+\.png$/.test(req.url ?? '')) {
      tileHits++;
      res.writeHead(200, { 'content-type': 'image/png', 'cache-control': 'no-store' });
      res.end(PNG);
    } else res.writeHead(404).end();
  });
  await new Promise<void>((r) => tiles.listen(0, '127.0.0.1', r));
  const tilePort = (tiles.address() as { port: number }).port;

  dir = mkdtempSync(join(tmpdir(), 'openbms-e2e-trackers-'));
  const config = join(dir, 'openbms.yaml');
  writeFileSync(
    config,
    [
      'version: 1',
      'trackers:',
      '  jt808: { port: 0, host: 127.0.0.1 }',
      'web:',
      '  map:',
      `    tiles: http://127.0.0.1:${tilePort}/{z}/{x}/{y}.png`,
      "    attribution: 'Test tiles <b>not bold</b>'",
      '',
    ].join('\n'),
  );
  proc = spawn(
    process.execPath,
    [BIN, 'cloud', '--broker-port', '0', '--data-dir', dir, '--port', '0', '--config', config],
    { cwd: dir, stdio: 'pipe', env: { ...process.env } },
  );
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  url = await new Promise<string>((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error(`no listen:\n${out}`)), 60_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /OpenBMS cloud listening on (http:\/\/\S+) /.exec(out);
      if (m) {
        clearTimeout(deadline);
        resolve(m[1]!);
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(deadline);
      reject(new Error(`openbms cloud exited with ${code}:\n${out}`));
    });
  });
  const port = Number(/trackers: jt808 (\d+)/.exec(out)![1]);
  expect(out).toMatch(/demo trackers: 12 e-bike batteries riding around Hamburg/);
  adminPassword = /^ {2}admin@\S+\s+(\S+)\s/m.exec(
    readFileSync(join(dir, 'cloud-accounts.txt'), 'utf8'),
  )![1]!;

  // The ride: about 20 minutes of fixes every 5 s, ending an hour ago.
  // (JT/T 808 times are whole seconds.)
  const t0 = Math.floor((Date.now() - 90 * 60_000) / 1000) * 1000;
  route = generateRoute({ seed: 17, t0, legs: 5, start: { lat: 53.54, lon: 9.98 } });
  const sim = new TrackerSim({ protocol: 'jt808', host: '127.0.0.1', port, id: PHONE, socPct: 77 });
  await sim.connect();
  for (const p of route.points) await sim.report(p);
  sim.close();
  const login = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: adminPassword }),
  });
  const { token } = (await login.json()) as { token: string };
  const fleet = (await (
    await fetch(`${url}/api/v1/trackers/positions`, {
      headers: { authorization: `Bearer ${token}` },
    })
  ).json()) as { trackers: { device_id: string; serial: string }[] };
  deviceId = fleet.trackers.find((x) => x.serial === PHONE)!.device_id;
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (proc && proc.exitCode === null) {
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await exited;
  }
  await new Promise((r) => tiles?.close(r));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function logIn(page: Page): Promise<void> {
  const r = await page.context().request.post('/api/v1/auth/login', {
    data: { username: 'admin', password: adminPassword },
  });
  expect(r.status(), await r.text()).toBe(200);
}

/** The marker's position in a map (its SVG path carries data-lat/data-lon). */
async function markerAt(page: Page, map: string): Promise<[number, number]> {
  const m = page.getByTestId(map).locator('[data-marker]').first();
  return [Number(await m.getAttribute('data-lat')), Number(await m.getAttribute('data-lon'))];
}

describe('the tracker pages', () => {
  it('show the battery at its last position, with its information and navigation on a click', async () => {
    const { page, errors } = await openPage(browser, url, { login: false });
    page.setDefaultTimeout(15_000);
    await logIn(page);
    await page.goto(`/trackers/${deviceId}`);
    const map = page.getByTestId('tracker-map');
    await map.locator('[data-marker]').waitFor();
    const last = route.points[route.points.length - 1]!;
    expect(await markerAt(page, 'tracker-map')).toEqual([last.lat, last.lon]);
    // The configured tiles were loaded (the CSP let them through) and the attribution is text.
    await expect.poll(() => tileHits).toBeGreaterThan(0);
    expect(await map.getAttribute('data-tiles')).toBe('on');
    expect(await map.locator('path.map-graticule').count()).toBe(0); // tiles instead
    await expect
      .poll(() => map.locator('.leaflet-control-attribution').textContent())
      .toContain('Test tiles <b>not bold</b>');

    await map.locator('[data-marker]').first().click();
    const info = page.getByTestId('battery-info');
    await info.waitFor();
    expect(await info.getByTestId('info-id').textContent()).toBe(PHONE);
    expect(await info.getByTestId('info-soc').textContent()).toBe('77 %');
    expect(await info.getByTestId('info-satellites').textContent()).toBe('9');
    // Seed 003's tracker status: the signal the tracker reported (item 0x30) and the fix kind.
    expect(await info.getByTestId('info-signal').textContent()).toBe('24 / 31');
    expect(await info.getByTestId('info-locate').textContent()).toBe('Located by GPS');
    const geo = await info.getByTestId('navigate-geo').getAttribute('href');
    expect(geo).toBe(
      `geo:${last.lat.toFixed(6)},${last.lon.toFixed(6)}?q=${last.lat.toFixed(6)},${last.lon.toFixed(6)}`,
    );
    expect(await info.getByTestId('navigate-google').getAttribute('href')).toContain(
      `destination=${last.lat.toFixed(6)},${last.lon.toFixed(6)}`,
    );
    expect(errors).toEqual([]);
  });

  it('play the ridden track back: every fix listed, the marker moving along it to its end', async () => {
    const { page, errors } = await openPage(browser, url, { login: false });
    page.setDefaultTimeout(15_000);
    await logIn(page);
    await page.goto(`/trackers/${deviceId}/track`);
    const rows = page.getByTestId('fix-row');
    await rows
      .first()
      .waitFor()
      .catch(async (e: unknown) => {
        throw new Error(
          `${String(e)}\n${errors.join('\n')}\n${(await page.content()).slice(0, 3000)}`,
        );
      });
    await expect.poll(() => rows.count()).toBe(route.points.length);
    const shown = await page
      .getByTestId('fix-table')
      .locator('tbody tr')
      .evaluateAll((trs) =>
        trs.map((tr) => [Number(tr.children[1]!.textContent), Number(tr.children[2]!.textContent)]),
      );
    expect(shown).toEqual(route.points.map((p) => [p.lat, p.lon]));
    const first = route.points[0]!;
    const last = route.points[route.points.length - 1]!;
    await page.getByTestId('track-map').locator('[data-marker]').waitFor();
    expect(await markerAt(page, 'track-map')).toEqual([first.lat, first.lon]);

    // Record every place the marker is drawn at while it plays.
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { seen: string[] }).seen = seen;
      const el = document.querySelector('[data-testid="track-map"] [data-marker]')!;
      new MutationObserver(() =>
        seen.push(`${el.getAttribute('data-lat')},${el.getAttribute('data-lon')}`),
      ).observe(el, { attributes: true, attributeFilter: ['data-lat', 'data-lon'] });
    });
    await page.getByTestId('speed').selectOption('8');
    await page.getByTestId('play').click();
    expect(await page.getByTestId('play').getAttribute('aria-pressed')).toBe('true');
    // It stops by itself at the end of the track.
    await page.waitForFunction(
      () =>
        document.querySelector('[data-testid="play"]')?.getAttribute('aria-pressed') === 'false',
      undefined,
      { timeout: 30_000 },
    );
    expect(Number(await page.getByTestId('playback-time').getAttribute('data-t'))).toBe(last.t);
    expect(await markerAt(page, 'track-map')).toEqual([last.lat, last.lon]);
    const seen = await page.evaluate(() => (window as unknown as { seen: string[] }).seen);
    // It went through places in between (how many depends on the frame rate: a few seconds of
    // playback at 8x), each near the route.
    const between = new Set(seen);
    between.delete(`${first.lat},${first.lon}`);
    between.delete(`${last.lat},${last.lon}`);
    expect(between.size).toBeGreaterThanOrEqual(3);
    for (const s of seen) {
      const [lat, lon] = s.split(',').map(Number) as [number, number];
      const near = route.points.some(
        (p) => Math.abs(p.lat - lat) < 0.01 && Math.abs(p.lon - lon) < 0.01,
      );
      expect(near, s).toBe(true);
    }
    // The list follows: the last row is the current one.
    expect(
      await page.locator('[data-testid="fix-row"][aria-current="true"]').getAttribute('data-index'),
    ).toBe(String(route.points.length - 1));
    // A click on a row moves the marker there.
    const k = Math.floor(route.points.length / 2);
    await rows.nth(k).click();
    expect(await markerAt(page, 'track-map')).toEqual([route.points[k]!.lat, route.points[k]!.lon]);
    expect(Number(await page.getByTestId('slider').inputValue())).toBe(route.points[k]!.t);
    expect(errors).toEqual([]);
  });

  it('show the ridden distance within 1 % as mileage', async () => {
    const { page, errors } = await openPage(browser, url, { login: false });
    page.setDefaultTimeout(15_000);
    await logIn(page);
    await page.goto(`/trackers/${deviceId}/mileage`);
    const total = page.getByTestId('mileage-total-km');
    await total.waitFor({ state: 'attached' });
    const km = Number(await total.getAttribute('data-km'));
    expect(Math.abs(km - route.lengthM / 1000) / (route.lengthM / 1000)).toBeLessThan(0.01);
    // The bars: one per day of the last 7, the ride's day holding it.
    const bars = page.getByTestId('mileage-bars').locator('rect');
    const kms = await bars.evaluateAll((rs) => rs.map((r) => Number(r.getAttribute('data-km'))));
    expect(kms.reduce((a, b) => a + b, 0)).toBeCloseTo(km, 2);
    await page.getByTestId('mileage-step').selectOption('month');
    await expect.poll(() => page.getByTestId('mileage-row').count()).toBeLessThanOrEqual(2);
    expect(errors).toEqual([]);
  });

  it('the fleet map lists every tracker, leading to their pages; the device list links there too', async () => {
    const { page, errors } = await openPage(browser, url, { login: false });
    page.setDefaultTimeout(15_000);
    await logIn(page);
    await page.goto('/');
    await page.locator('#mainnav').getByRole('link', { name: 'Map', exact: true }).click();
    await page.getByTestId('fleet-map').waitFor();
    // The demo's 12 riders and ours.
    await expect
      .poll(async () => Number(await page.getByTestId('fleet-count').getAttribute('data-count')))
      .toBe(13);
    expect(await page.getByTestId('fleet-map-view').locator('[data-marker]').count()).toBe(13);
    await page.getByTestId(`fleet-row-${PHONE}`).getByRole('button').click();
    const info = page.getByTestId('battery-info');
    expect(await info.getByTestId('info-id').textContent()).toBe(PHONE);
    expect(
      await page
        .getByTestId('fleet-map-view')
        .locator('[data-selected="true"]')
        .getAttribute('data-marker'),
    ).toBe(deviceId);
    await info.getByTestId('info-open').click();
    await page.getByTestId('tracker-page').waitFor();
    expect(new URL(page.url()).pathname).toBe(`/trackers/${deviceId}`);

    await page.goto('/devices');
    await page.getByTestId(`device-${PHONE}`).getByTestId('tracker-link').click();
    await page.getByTestId('tracker-map').locator('[data-marker]').waitFor();
    expect(new URL(page.url()).pathname).toBe(`/trackers/${deviceId}`);

    // In Chinese, offline: no tile loads, so the graticule is drawn under the track.
    const zh = await openPage(browser, url, { login: false, lang: 'zh' });
    await zh.context.route(/\/\d+\/\d+\/\d+\.png$/, (r) => r.abort('internetdisconnected'));
    await logIn(zh.page);
    await zh.page.goto(`/trackers/${deviceId}/track`);
    await zh.page.getByRole('tab', { name: '轨迹' }).waitFor();
    await zh.page.getByRole('button', { name: '播放' }).waitFor();
    const map = zh.page.getByTestId('track-map');
    await expect.poll(() => map.getAttribute('data-tiles')).toBe('on');
    await map.locator('path.map-graticule').first().waitFor({ state: 'attached' });
    expect(await map.locator('[data-line="track"]').count()).toBe(1);
    expect(errors).toEqual([]);
    // (Chromium logs each refused tile; nothing else may go wrong.)
    expect(zh.errors.filter((e) => !e.includes('ERR_INTERNET_DISCONNECTED'))).toEqual([]);
  });
});
