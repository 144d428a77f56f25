/**
 * A tracker battery's BMS, alarms and instructions tabs in the browser (issue 17, seed 003
 * "BMS status / settings / control / stats", "alarm list", "instructions"), against a real
 * `openbms cloud` in demo mode with no tracker config: its demo riders connect to the JT/T 808
 * server it makes for them, each carrying a simulated JBD BMS behind its pass-through, which
 * the node's gateway polls (docs/trackers.md "Demo", "BMS through the tracker").
 *
 * As the manager of a dealer (North Energy), whose organisation owns some riders while the
 * node's gateway (the platform's) polls their BMS:
 * - the BMS tab shows the battery's SOC and its 16 cells, and the settings tab reads the BMS's
 *   parameters through the tracker;
 * - the Instructions tab sends "Locate now" and shows the tracker's reply;
 * - the Alarms tab lists the battery's alarms;
 * - a battery of the other dealer is not theirs: its BMS tab is refused like an unknown one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, openPage } from './harness';

const BIN = fileURLToPath(new URL('../../cli/bin/openbms.js', import.meta.url));

let proc: ChildProcess;
let dir: string;
let url: string;
let out = '';
let browser: Browser;
/** The dealer's login, from the accounts file the cloud wrote. */
let north: { username: string; password: string };

interface Tracker {
  device_id: string;
  serial: string;
}

async function signIn(context: BrowserContext): Promise<void> {
  const r = await context.request.post('/api/v1/auth/login', { data: north });
  expect(r.ok(), await r.text()).toBe(true);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'openbms-e2e-tracker-tabs-'));
  proc = spawn(
    process.execPath,
    [BIN, 'cloud', '--broker-port', '0', '--data-dir', dir, '--port', '0'],
    {
      cwd: dir,
      stdio: 'pipe',
      env: { ...process.env },
    },
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
  expect(out).toMatch(/BMS of enabled trackers is polled through JT\/T 808 pass-through \(jbd/);
  const m = /^ {2}(north@\S+)\s+(\S+)\s/m.exec(
    readFileSync(join(dir, 'cloud-accounts.txt'), 'utf8'),
  );
  north = { username: m![1]!, password: m![2]! };
  browser = await launchBrowser();
}, 90_000);

afterAll(async () => {
  await browser?.close();
  if (proc && proc.exitCode === null) {
    proc.kill('SIGINT');
    await new Promise((r) => proc.once('exit', r));
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("a tracker battery's tabs", () => {
  it('shows the BMS read through the tracker, sends Locate now, lists alarms; not another dealer’s', async () => {
    const { page, context, errors } = await openPage(browser, url, { login: false });
    await signIn(context);
    const mine = (await (await context.request.get('/api/v1/trackers/positions')).json()) as {
      trackers: Tracker[];
    };
    expect(mine.trackers.length).toBeGreaterThan(0);
    const rider = mine.trackers[0]!;
    const pack = `/api/v1/packs/${encodeURIComponent(`tracker/${rider.serial}`)}`;
    // The node's gateway polls its BMS once the rider has connected (every 30 s after).
    await expect
      .poll(async () => (await context.request.get(pack)).status(), { timeout: 60_000 })
      .toBe(200);

    await page.goto(`/trackers/${encodeURIComponent(rider.device_id)}/bms`);
    await page.getByTestId('tracker-bms').waitFor();
    const soc = Number(await page.getByTestId('status-soc').getAttribute('data-value'));
    expect(soc).toBeGreaterThan(0);
    expect(soc).toBeLessThanOrEqual(100);
    await page.getByRole('tab', { name: 'Cells' }).click();
    await page.getByTestId('cells-tab').waitFor();
    await expect
      .poll(() => page.locator('[data-testid$="-value"][data-testid^="cell-"]').count())
      .toBe(16);
    // Settings: the BMS's parameters, read through the tracker's pass-through.
    await page.getByRole('tab', { name: 'Settings' }).click();
    await page.getByTestId('params-tab').waitFor();
    const read = page.getByTestId('params-read');
    if (await read.isVisible()) await read.click();
    await page.locator('[data-param="cell_ov_l2_mv"]').first().waitFor({ timeout: 60_000 });

    // Instructions: Locate now, answered by the rider (0x8201 -> 0x0201).
    await page.getByRole('tab', { name: 'Instructions' }).click();
    await page.getByTestId('tracker-instructions').waitFor();
    await page.locator('button[data-kind="locate"]').click();
    await expect
      .poll(
        () =>
          page
            .locator('[data-testid="instruction-row"][data-kind="locate"]')
            .first()
            .getAttribute('data-state'),
        { timeout: 30_000 },
      )
      .toBe('replied');

    // Alarms: this battery's list (the page's own, narrowed to it).
    await page.getByRole('tab', { name: 'Alarms' }).click();
    await page.getByTestId('tracker-alarms-page').waitFor();
    expect(await page.getByTestId('alarm-search').inputValue()).toBe(rider.serial);

    // A rider of the other dealer: its BMS is not found for North Energy.
    const all = Array.from({ length: 12 }, (_, i) => `1390000${String(i + 1).padStart(4, '0')}`);
    const theirs = all.find((s) => !mine.trackers.some((t) => t.serial === s))!;
    expect(theirs).toBeDefined();
    const other = await context.request.get(
      `/api/v1/packs/${encodeURIComponent(`tracker/${theirs}`)}`,
    );
    expect(other.status()).toBe(404);
    expect(errors).toEqual([]);
  }, 180_000);
});
