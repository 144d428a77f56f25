/**
 * The screens of seeds 002 and 004 on a PACE rack, against a real `openbms start` with two
 * simulated PACE packs (one allowing unverified commands): the Records tab (read, stop, the
 * two lists, CSV export, erase), the BMS clock, the inverter protocol selection, calibration
 * behind the unverified switch, and the switch shown in the pack's settings.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { APIRequestContext, Browser } from 'playwright-core';
import { launchBrowser, openPage, packUrl, startConsole, type Console } from './harness';

const LOCKED = 'lab/pace/1';
const OPEN = 'lab/pace/2';
// At 600x the simulated packs write a timed record every simulated 10 minutes (1 s here).
const CONFIG = `version: 1
sites:
  - id: lab
    buses:
      - id: pace
        port: sim
        protocol: pace
        poll_interval_s: 1
        simulator: { profile: idle, speed: 600 }
        packs:
          - { address: 1, name: Locked pack }
          - { address: 2, name: Open pack, allow_unverified: true }
`;

let server: Console;
let browser: Browser;

beforeAll(async () => {
  [server, browser] = await Promise.all([startConsole({ config: CONFIG }), launchBrowser()]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

const enc = encodeURIComponent;

async function getJson<T>(req: APIRequestContext, path: string): Promise<T> {
  const r = await req.get(`/api/v1${path}`);
  if (!r.ok()) throw new Error(`${path}: ${r.status()} ${await r.text()}`);
  return (await r.json()) as T;
}

interface Record {
  index: number;
  kind: string;
}
interface Page {
  records: Record[];
  next: number | null;
}

/** Every record the BMS holds now, through the API (pages of 10). */
async function allRecords(req: APIRequestContext, id: string): Promise<Record[]> {
  const out: Record[] = [];
  for (let next: number | null = 0; next !== null;) {
    const p: Page = await getJson<Page>(req, `/packs/${enc(id)}/records?start=${next}&count=10`);
    out.push(...p.records);
    next = p.next;
  }
  return out;
}

/**
 * Whether the BMS holds at least `n` records now: one read of the record at position n - 1
 * (positions run 0..length-1 without gaps), so waiting for records does not read them all
 * over the simulated link again and again.
 */
async function holdsAtLeast(req: APIRequestContext, id: string, n: number): Promise<boolean> {
  const p = await getJson<Page>(req, `/packs/${enc(id)}/records?start=${n - 1}&count=1`);
  return p.records.length === 1;
}

/** Console errors other than the browser's own note about an expected 4xx answer. */
const unexpected = (errors: string[]) =>
  errors.filter(
    (e) => !/Failed to load resource: the server responded with a status of 4\d\d/.test(e),
  );

// The clock, inverter and calibration tests come first: they need no records, and the
// simulated packs write one a second meanwhile, so the Records tests find enough at once.
describe('the BMS clock, the inverter protocol and calibration', () => {
  it('shows the BMS clock and sets it to this computer’s time, read back', async () => {
    const { page, context, errors } = await openPage(browser, server.url);
    await page.goto(packUrl(LOCKED, 'control'));
    const bms = page.getByTestId('clock-bms');
    await expect.poll(() => bms.getAttribute('data-value'), { timeout: 15_000 }).toMatch(/^\d{4}-/);
    await page.getByTestId('clock-set').click();
    const confirm = page.locator('dialog[open]').getByRole('button', { name: /Set the BMS clock/ });
    await confirm.waitFor();
    const sentAt = Date.now();
    await confirm.click();
    const outcome = page.getByTestId('clock-outcome');
    await outcome.waitFor({ timeout: 15_000 });
    expect(await outcome.textContent()).toMatch(/the BMS now shows \d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
    const api = await getJson<{ drift_ms: number }>(context.request, `/packs/${enc(LOCKED)}/clock`);
    // In step: the simulated RTC runs 600x, so it gains 599 ms per real ms between the set and
    // the reading (bounded by the real time since the click), plus a few simulated seconds of
    // step and whole-second rounding. An unset clock has gained as much since the console started.
    expect(Math.abs(api.drift_ms)).toBeLessThan(600 * (Date.now() - sentAt) + 5_000);
    expect(unexpected(errors)).toEqual([]);
    await context.close();
  }, 60_000);

  it('selects an inverter protocol from the family list and reads it back (seed 002 §2.5)', async () => {
    const { page, context, errors } = await openPage(browser, server.url);
    await page.goto(packUrl(LOCKED, 'settings'));
    const can = page.getByTestId('inverter-now-can');
    await expect.poll(() => can.getAttribute('data-code'), { timeout: 15_000 }).toBe('1');
    expect(await can.textContent()).toBe('Pylon (Deye, SunSynk, Sol-Ark)');
    await page.getByTestId('inverter-link').selectOption('can');
    await page.getByTestId('inverter-protocol').selectOption({ label: 'Growatt' });
    await page.getByTestId('inverter-set').click();
    await page.locator('dialog[open]').getByRole('button', { name: 'Set' }).click();
    await page.getByTestId('inverter-outcome').waitFor({ timeout: 15_000 });
    await expect.poll(() => can.getAttribute('data-code'), { timeout: 15_000 }).toBe('2');
    expect(await can.textContent()).toBe('Growatt');
    const api = await getJson<{ setting: { can: number; mode: string } }>(
      context.request,
      `/packs/${enc(LOCKED)}/inverter-protocol`,
    );
    expect(api.setting).toMatchObject({ can: 2, mode: 'manual' });
    expect(unexpected(errors)).toEqual([]);
    await context.close();
  }, 60_000);

  it('shows the unverified switch with its reasons, refuses calibration without it and calibrates with it', async () => {
    const { page, context, errors } = await openPage(browser, server.url);
    await page.goto(packUrl(LOCKED, 'settings'));
    const card = page.getByTestId('unverified-card');
    await card.waitFor();
    expect(await page.getByTestId('unverified-state').getAttribute('data-on')).toBe('false');
    expect(await page.getByTestId('unverified-list').textContent()).toContain('Calibration');

    await page.goto(packUrl(LOCKED, 'control'));
    await page.getByTestId('calibration-card').waitFor();
    expect(await page.getByTestId('calibration-why').textContent()).toContain('allow_unverified');
    expect(await page.getByTestId('cal-cycles').getByTestId('cal-send').isDisabled()).toBe(true);

    await page.goto(packUrl(OPEN, 'control'));
    const cycles = page.getByTestId('cal-cycles');
    await cycles.waitFor();
    expect(await page.getByTestId('calibration-why').count()).toBe(0);
    await cycles.getByTestId('cal-input').fill('70000');
    expect(await cycles.getByTestId('cal-error').textContent()).toContain('0 to 65535');
    await cycles.getByTestId('cal-input').fill('321');
    await cycles.getByTestId('cal-send').click();
    await page.locator('dialog[open]').getByRole('button', { name: 'Calibrate' }).click();
    const outcome = cycles.getByTestId('cal-outcome');
    await outcome.waitFor({ timeout: 15_000 });
    expect(await outcome.getAttribute('data-ok')).toBe('true');
    expect(await outcome.textContent()).toContain('321');
    await expect
      .poll(async () => {
        const all = await getJson<{ id: string; snapshot: { cycles?: number } | null }[]>(
          context.request,
          '/packs',
        );
        return all.find((p) => p.id === OPEN)?.snapshot?.cycles;
      })
      .toBe(321);
    expect(unexpected(errors)).toEqual([]);
    await context.close();
  }, 60_000);
});

describe('the Records tab (seed 004)', () => {
  it('reads every record, newest first, filters data and alarm records, and exports CSV', async () => {
    const { page, context, errors } = await openPage(browser, server.url);
    await expect
      .poll(() => holdsAtLeast(context.request, LOCKED, 12), { timeout: 30_000 })
      .toBe(true);
    await page.goto(packUrl(LOCKED, 'records'));
    await page.getByTestId('records-read').click();
    const status = page.getByTestId('records-status');
    await expect.poll(() => status.getAttribute('data-done'), { timeout: 30_000 }).toBe('end');
    const count = Number(await status.getAttribute('data-count'));
    expect(count).toBeGreaterThanOrEqual(12);
    const rows = page.getByTestId('record-row');
    expect(await rows.count()).toBe(count);
    const indexes = await rows.evaluateAll((els) =>
      els.map((e) => Number(e.getAttribute('data-index'))),
    );
    expect(indexes).toEqual(Array.from({ length: count }, (_, i) => i));
    // The two lists of seed 004.
    await page.getByRole('tab', { name: /^Data records/ }).click();
    const kinds = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-kind')));
    expect(kinds.every((k) => k === 'data')).toBe(true);
    await page.getByRole('tab', { name: /^All/ }).click();
    // Export: the CSV of what was read.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('records-export').click(),
    ]);
    expect(download.suggestedFilename()).toBe('lab-pace-1-records.csv');
    const path = await download.path();
    const { readFileSync } = await import('node:fs');
    const lines = readFileSync(path!, 'utf8').trimEnd().split('\r\n');
    expect(lines[0]).toMatch(/^index,kind,bms_time,event,voltage_v,current_a,soc_pct/);
    expect(lines).toHaveLength(count + 1);
    // Clear list empties the table here only.
    await page.getByTestId('records-clear').click();
    await page.getByTestId('records-empty').waitFor();
    expect(await holdsAtLeast(context.request, LOCKED, count)).toBe(true);
    expect(unexpected(errors)).toEqual([]);
    await context.close();
  }, 90_000);

  it('stops reading between pages', async () => {
    const { page, context, errors } = await openPage(browser, server.url);
    await expect
      .poll(() => holdsAtLeast(context.request, LOCKED, 25), { timeout: 30_000 })
      .toBe(true);
    // Slow each page down so Stop lands while the read goes on.
    await page.route('**/records?**', async (route) => {
      await new Promise((r) => setTimeout(r, 400));
      await route.continue();
    });
    await page.goto(packUrl(LOCKED, 'records'));
    await page.getByTestId('records-read').click();
    const status = page.getByTestId('records-status');
    await expect.poll(() => status.getAttribute('data-count'), { timeout: 20_000 }).toBe('10');
    await page.getByTestId('records-stop').click();
    await expect.poll(() => status.getAttribute('data-done'), { timeout: 20_000 }).toBe('stopped');
    const got = Number(await status.getAttribute('data-count'));
    expect(got).toBeGreaterThanOrEqual(10);
    // The BMS holds more than what was read: there is a record at position `got`.
    expect(await holdsAtLeast(context.request, LOCKED, got + 1)).toBe(true);
    expect(unexpected(errors)).toEqual([]);
    await context.close();
  }, 60_000);

  it('erases on the BMS only where unverified commands are allowed, after a typed confirmation', async () => {
    const { page, context, errors } = await openPage(browser, server.url);
    await page.goto(packUrl(LOCKED, 'records'));
    expect(await page.getByTestId('records-erase').isDisabled()).toBe(true);
    expect(await page.getByTestId('erase-why').textContent()).toContain('allow_unverified');

    await page.goto(packUrl(OPEN, 'records'));
    await expect.poll(() => holdsAtLeast(context.request, OPEN, 1), { timeout: 30_000 }).toBe(true);
    await page.getByTestId('records-erase').click();
    const dialog = page.locator('dialog[open]');
    await dialog.waitFor();
    expect(await dialog.getByRole('button', { name: 'Erase on the BMS' }).isDisabled()).toBe(true);
    await dialog.locator('input').fill('Open pack');
    await dialog.getByRole('button', { name: 'Erase on the BMS' }).click();
    await page.getByTestId('records-notice').waitFor();
    // Erased: what is left is at most the record written since (one a second here).
    expect((await allRecords(context.request, OPEN)).length).toBeLessThanOrEqual(2);
    expect(unexpected(errors)).toEqual([]);
    await context.close();
  }, 60_000);
});
