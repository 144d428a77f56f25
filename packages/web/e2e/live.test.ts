/**
 * The pack's Live tab (seed 004's real-time data table) against a real `openbms start`: a
 * simulated 8-cell JK pack polled twice a second in a site whose zone is Asia/Shanghai.
 * Rows arrive with the polls, pause stops appending while readings keep arriving, clear
 * empties the table, and the CSV and .xlsx saved hold the rows shown (the workbook is
 * unzipped with fflate and its cells read).
 */
import { readFileSync } from 'node:fs';
import { strFromU8, unzipSync } from 'fflate';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, openPage, packUrl, startConsole, type Console } from './harness';

const PACK = 'lab/jk/1';
const CONFIG = `version: 1
location: { latitude: 31.23, longitude: 121.47, timezone: Asia/Shanghai }
sites:
  - id: lab
    name: Lab
    buses:
      - id: jk
        port: sim
        protocol: jk
        poll_interval_s: 0.5
        simulator: { cells: 8, seed: 3, soc_pct: 70 }
        packs: [{ address: 1, name: "Lab JK" }]
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

const num = async (page: Page, attr: string): Promise<number> =>
  Number(await page.getByTestId('live-status').getAttribute(attr));

/** Shanghai wall time (UTC+8, no DST) of an instant, as the table and the CSV show it. */
const shanghai = (ms: number): string =>
  new Date(ms + 8 * 3_600_000).toISOString().replace('T', ' ').slice(0, 19);

describe('the Live tab', () => {
  it('appends a row per poll, pauses, clears, and saves the rows as CSV and .xlsx', async () => {
    const { page, errors } = await openPage(browser, server.url, { width: 390, height: 844 });
    await page.goto(packUrl(PACK, 'live'));
    await page.getByTestId('live-log').waitFor();
    expect(await page.getByTestId('live-cap-hint').textContent()).toContain('5,000');

    // Rows arrive with the polls (newest first), times in the site's zone.
    await expect.poll(() => num(page, 'data-rows'), { timeout: 15_000 }).toBeGreaterThanOrEqual(3);
    const first = page.getByTestId('live-row').first();
    const firstTs = Number(await first.getAttribute('data-ts'));
    expect(await first.locator('td').first().textContent()).toBe(shanghai(firstTs).slice(5));
    const heads = await page.locator('.live-table thead th').allTextContents();
    expect(heads.slice(0, 4)).toEqual(['Time', 'State', 'V', 'A']);
    expect(heads).toContain('V01');
    expect(heads).toContain('V08');
    expect(heads).not.toContain('V09');

    // Paused: readings keep arriving (seen grows) but no row is added.
    await page.getByTestId('live-pause').click();
    await expect
      .poll(() => page.getByTestId('live-status').getAttribute('data-paused'))
      .toBe('true');
    const rows = await num(page, 'data-rows');
    const seen = await num(page, 'data-seen');
    await expect
      .poll(() => num(page, 'data-seen'), { timeout: 10_000 })
      .toBeGreaterThanOrEqual(seen + 3);
    expect(await num(page, 'data-rows')).toBe(rows);
    expect(await page.getByTestId('live-row').count()).toBe(rows);
    expect(await page.getByTestId('live-status').textContent()).toContain('Paused');
    const ts = Number(await page.getByTestId('live-row').first().getAttribute('data-ts'));

    // The saved files hold exactly the rows of the table.
    const [csvDl] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('live-csv').click(),
    ]);
    expect(csvDl.suggestedFilename()).toMatch(/^openbms-live-lab_jk_1-\d{14}\.csv$/);
    const csv = readFileSync((await csvDl.path())!, 'utf8')
      .replace(/^\uFEFF/, '')
      .trimEnd();
    const lines = csv.split('\r\n');
    expect(lines.length).toBe(rows + 1);
    const header = lines[0]!.split(',');
    expect(header.slice(0, 4)).toEqual([
      'time (Asia/Shanghai)',
      'State',
      'Pack voltage (V)',
      'Pack current (A)',
    ]);
    expect(header).toContain('V01 (mV)');
    // The last line is the newest row: the first of the table.
    const last = lines.at(-1)!.split(',');
    expect(last[0]).toBe(shanghai(ts));
    const volts = Number(last[2]);
    expect(volts).toBeGreaterThan(20);
    expect(volts).toBeLessThan(35); // 8 LFP cells
    const v01 = Number(last[header.indexOf('V01 (mV)')]);
    expect(v01).toBeGreaterThan(2500);
    expect(v01).toBeLessThan(3700);

    const [xlsxDl] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('live-xlsx').click(),
    ]);
    expect(xlsxDl.suggestedFilename()).toMatch(/\.xlsx$/);
    const files = unzipSync(new Uint8Array(readFileSync((await xlsxDl.path())!)));
    const sheet = strFromU8(files['xl/worksheets/sheet1.xml']!);
    const cell = (ref: string): string | undefined =>
      new RegExp(`<c r="${ref}"[^>]*>(?:<v>([^<]*)</v>|<is><t>([^<]*)</t></is>)</c>`)
        .exec(sheet)
        ?.slice(1)
        .find((x) => x !== undefined);
    expect(cell('A1')).toBe('time (Asia/Shanghai)');
    expect(cell('C1')).toBe('Pack voltage (V)');
    expect(sheet.match(/<row /g)!.length).toBe(rows + 1);
    const r = rows + 1;
    expect(Number(cell(`C${r}`))).toBe(volts);
    // The time is an Excel serial of the Shanghai wall time.
    const serial = Number(cell(`A${r}`));
    expect(serial * 86_400_000 + Date.UTC(1899, 11, 30)).toBeCloseTo(ts + 8 * 3_600_000, -1);

    // Resume: rows are added again; clear empties the table.
    await page.getByTestId('live-pause').click();
    await expect.poll(() => num(page, 'data-rows'), { timeout: 10_000 }).toBeGreaterThan(rows);
    await page.getByTestId('live-pause').click();
    await page.getByTestId('live-clear').click();
    expect(await num(page, 'data-rows')).toBe(0);
    expect(await page.getByTestId('live-row').count()).toBe(0);
    expect(errors).toEqual([]);
  }, 60_000);

  it('is in Chinese with the Chinese headings', async () => {
    const { page, errors } = await openPage(browser, server.url, { lang: 'zh' });
    await page.goto(packUrl(PACK, 'live'));
    await expect.poll(() => num(page, 'data-rows'), { timeout: 15_000 }).toBeGreaterThanOrEqual(1);
    expect(await page.getByRole('tab', { name: '实时数据' }).count()).toBe(1);
    expect(await page.getByTestId('live-pause').textContent()).toBe('暂停');
    const [dl] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('live-csv').click(),
    ]);
    const header = readFileSync((await dl.path())!, 'utf8')
      .replace(/^\uFEFF/, '')
      .split('\r\n')[0]!;
    expect(header.split(',').slice(0, 3)).toEqual(['time (Asia/Shanghai)', '状态', '总电压 (V)']);
    expect(errors).toEqual([]);
  }, 60_000);
});
