/**
 * Geofences and the tracker alarm list in the browser (issue 17, seed 003 "fence", "Alarm"),
 * against a real `openbms cloud` process (platform only, a JT/T 808 server on a free port, no
 * map tiles: the map draws its graticule). As the platform's admin:
 * - on /geofences a circle is drawn by clicking the map (its centre read back from the
 *   marker), given a 150 m radius, the exit alarm and the tracker, and saved;
 * - a simulated tracker (packages/simulator) then rides a route starting at that centre;
 * - /tracker-alarms lists exactly one "Left a geofence" alarm; a click on it shows the map
 *   with the alarm's place marked and the fence drawn; the vibration switch turned off and on
 *   is saved to the account.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateRoute, TrackerSim } from '@openbms/simulator';
import { launchBrowser, openPage } from './harness';

const BIN = fileURLToPath(new URL('../../cli/bin/openbms.js', import.meta.url));
const PHONE = '13712340001';

let proc: ChildProcess;
let dir: string;
let url: string;
let out = '';
let port: number;
let browser: Browser;
let adminPassword: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'openbms-e2e-fences-'));
  const config = join(dir, 'openbms.yaml');
  writeFileSync(
    config,
    ['version: 1', 'trackers:', '  jt808: { port: 0, host: 127.0.0.1 }', ''].join('\n'),
  );
  proc = spawn(
    process.execPath,
    [
      BIN,
      'cloud',
      '--broker-port',
      '0',
      '--data-dir',
      dir,
      '--port',
      '0',
      '--config',
      config,
      '--no-demo',
    ],
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
  port = Number(/trackers: jt808 (\d+)/.exec(out)![1]);
  adminPassword = /^ {2}admin@\S+\s+(\S+)\s/m.exec(
    readFileSync(join(dir, 'cloud-accounts.txt'), 'utf8'),
  )![1]!;
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (proc && proc.exitCode === null) {
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await exited;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function logIn(page: Page): Promise<void> {
  const r = await page.context().request.post('/api/v1/auth/login', {
    data: { username: 'admin', password: adminPassword },
  });
  expect(r.status(), await r.text()).toBe(200);
}

describe('geofences and tracker alarms', () => {
  it('draws a circle fence on the map, and lists the exit alarm of a ride leaving it, shown at its place', async () => {
    // The tracker registers first (it is then in the device list, not enabled).
    const sim = new TrackerSim({ protocol: 'jt808', host: '127.0.0.1', port, id: PHONE });
    await sim.connect();
    const { page, errors } = await openPage(browser, url, { login: false });
    page.setDefaultTimeout(15_000);
    await logIn(page);

    await page.goto('/geofences');
    await page.getByTestId('fence-new').click();
    await page.getByTestId('fence-name').fill('Depot');
    const map = page.getByTestId('geofence-map');
    const box = (await map.boundingBox())!; // the test id is on the Leaflet container
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    const centre = map.locator('[data-marker="centre"]');
    await centre.waitFor();
    const lat = Number(await centre.getAttribute('data-lat'));
    const lon = Number(await centre.getAttribute('data-lon'));
    expect(Math.abs(lat)).toBeLessThan(85);
    await page.getByTestId('fence-radius').fill('150');
    await page.getByTestId('fence-alarm').selectOption('exit');
    await page
      .getByTestId('fence-devices')
      .locator('option', { hasText: PHONE })
      .waitFor({ state: 'attached' });
    await page.getByTestId('fence-devices').selectOption({ label: PHONE });
    await page.getByTestId('fence-save').click();
    await page.getByTestId('fence-row-Depot').waitFor();
    expect(await page.getByTestId('fence-row-Depot').textContent()).toContain('150 m');

    // The ride starts at the centre; its first leg (300 m at least) leaves the 150 m circle.
    // JT/T 808 carries 6 decimals: the start is rounded the same way.
    const start = { lat: Math.round(lat * 1e6) / 1e6, lon: Math.round(lon * 1e6) / 1e6 };
    const t0 = Math.floor((Date.now() - 60 * 60_000) / 1000) * 1000;
    const route = generateRoute({ seed: 21, t0, legs: 2, start });
    for (const p of route.points) await sim.report(p);
    sim.close();

    await page.goto('/tracker-alarms');
    const row = page.getByTestId('alarm-row-geofence_exit');
    await row.waitFor();
    expect(await row.count()).toBe(1);
    expect(await row.textContent()).toContain(PHONE);
    expect(await row.textContent()).toContain('Left a geofence');
    await row.click();
    const alarmMap = page.getByTestId('alarm-map');
    const marker = alarmMap.locator('[data-marker]');
    await marker.waitFor();
    // the place is a ridden fix: on the route, outside the circle
    const at: [number, number] = [
      Number(await marker.getAttribute('data-lat')),
      Number(await marker.getAttribute('data-lon')),
    ];
    expect(route.points.some((p) => p.lat === at[0] && p.lon === at[1])).toBe(true);
    await alarmMap.locator('[data-shape]').waitFor();

    // The vibration switch: off is saved to the account, then on again.
    const sw = page.getByTestId('switch-vibration');
    await sw.uncheck();
    await expect
      .poll(async () => {
        const r = await page.context().request.get('/api/v1/auth/account');
        return ((await r.json()) as { notify: { alarm_types?: Record<string, boolean> } }).notify
          .alarm_types;
      })
      .toEqual({ vibration: false });
    await sw.check();
    await expect.poll(() => sw.isChecked()).toBe(true);
    expect(errors).toEqual([]);
  }, 120_000);
});
