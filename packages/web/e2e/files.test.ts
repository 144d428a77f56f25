/**
 * Exports & files on the live demo site: a CSV export of chosen fields and range checked
 * row by row against the API's raw history, the Excel variant, the daily file list with
 * download and a confirmed delete, the config backup (YAML) and restore (422 with the keys
 * at fault, then a valid file saved to disk), and what a viewer sees.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO, launchBrowser, openPage, startConsole, type Console } from './harness';

interface DailyFile {
  pack_id: string;
  date: string;
  samples: number;
  bytes: number;
  url: string;
}

let server: Console;
let browser: Browser;

beforeAll(async () => {
  [server, browser] = await Promise.all([startConsole(), launchBrowser()]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

const pad = (n: number) => String(n).padStart(2, '0');
/** ms -> the datetime-local value (browser and test share the machine's time zone). */
const local = (ms: number) => {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
};

async function daily(page: Page): Promise<DailyFile[]> {
  const r = await page.context().request.get('/api/v1/exports/daily');
  expect(r.status()).toBe(200);
  return (await r.json()) as DailyFile[];
}

/** Waits until a pack has at least `n` samples stored today. */
async function waitForSamples(page: Page, pack: string, n: number): Promise<DailyFile> {
  const today = new Date().toISOString().slice(0, 10);
  let found: DailyFile | undefined;
  await expect
    .poll(
      async () => {
        found = (await daily(page)).find((f) => f.pack_id === pack && f.date === today);
        return found?.samples ?? 0;
      },
      { timeout: 30_000, interval: 250 },
    )
    .toBeGreaterThanOrEqual(n);
  return found!;
}

function parseCsv(text: string): { header: string[]; rows: string[][] } {
  const lines = text.trim().split('\n');
  return { header: lines[0]!.split(','), rows: lines.slice(1).map((l) => l.split(',')) };
}

describe('exports and files page', () => {
  it('exports a CSV of the chosen fields and range, row for row what the API stored', async () => {
    const { page, context, errors } = await openPage(browser, server.url);
    await waitForSamples(page, DEMO.jk, 3);
    await page.goto('/files');
    const card = page.getByTestId('export');
    await card.getByTestId('export-pack').selectOption(DEMO.jk);

    // A range in whole minutes around now (datetime-local has minute precision).
    const to = Math.ceil((Date.now() + 60_000) / 60_000) * 60_000;
    const from = to - 3600_000;
    await card.getByTestId('export-from').fill(local(from));
    await card.getByTestId('export-to').fill(local(to));

    await card.getByRole('button', { name: 'Select none' }).click();
    await expect.poll(() => card.getByTestId('export-count').textContent()).toContain('0 series');
    expect(await card.getByTestId('export-csv').getAttribute('aria-disabled')).toBe('true');
    for (const f of ['voltage_v', 'soc_pct', 'cell_mv.0', 'cell_mv.1']) {
      await card.locator(`input[value="${f}"]`).check();
    }

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      card.getByTestId('export-csv').click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^demo_jk_1_.*\.csv$/);
    const csv = parseCsv(readFileSync((await download.path())!, 'utf8'));
    expect(csv.header).toEqual(['time', 'voltage_v', 'soc_pct', 'cell_mv.0', 'cell_mv.1']);
    expect(csv.rows.length).toBeGreaterThan(0);

    // The API's raw samples of the same range: same times, same values.
    const api = await context.request.get(
      `/api/v1/packs/${encodeURIComponent(DEMO.jk)}/history?resolution=raw&from=${from}&to=${to}` +
        '&fields=voltage_v,soc_pct,cell_mv.0,cell_mv.1',
    );
    const h = (await api.json()) as {
      series: Record<string, { t: number[]; avg: number[] }>;
    };
    for (const row of csv.rows) {
      const t = Date.parse(row[0]!);
      expect(t).toBeGreaterThanOrEqual(from);
      expect(t).toBeLessThanOrEqual(to);
      const i = h.series.voltage_v!.t.indexOf(t);
      expect(i, `sample at ${row[0]} is in the API history`).toBeGreaterThanOrEqual(0);
      const [v, soc, c0, c1] = row.slice(1).map(Number) as [number, number, number, number];
      expect(v).toBe(h.series.voltage_v!.avg[i]);
      expect(soc).toBe(h.series.soc_pct!.avg[i]);
      expect(c0).toBe(h.series['cell_mv.0']!.avg[i]);
      expect(c1).toBe(h.series['cell_mv.1']!.avg[i]);
      // Plausible for a 16-cell LiFePO4 pack.
      expect(v).toBeGreaterThan(40);
      expect(v).toBeLessThan(60);
      expect(soc).toBeGreaterThanOrEqual(0);
      expect(soc).toBeLessThanOrEqual(100);
      expect(c0).toBeGreaterThan(2500);
      expect(c0).toBeLessThan(3700);
    }

    // The same choice as an Excel workbook (a zip file).
    const [xlsx] = await Promise.all([
      page.waitForEvent('download'),
      card.getByTestId('export-xlsx').click(),
    ]);
    expect(xlsx.suggestedFilename()).toMatch(/\.xlsx$/);
    expect(
      readFileSync((await xlsx.path())!)
        .subarray(0, 2)
        .toString(),
    ).toBe('PK');

    // A range that ends before it starts cannot be downloaded.
    await card.getByTestId('export-to').fill(local(from - 60_000));
    await expect
      .poll(() => card.getByTestId('export-csv').getAttribute('aria-disabled'))
      .toBe('true');
    expect(await card.getByRole('alert').textContent()).toContain('must be after');

    expect(errors).toEqual([]);
    await context.close();
  });

  it("lists today's daily files, downloads one and deletes one only after confirmation", async () => {
    const { page, context, errors } = await openPage(browser, server.url);
    const before = await waitForSamples(page, DEMO.daly, 5);
    await page.goto('/files');
    const card = page.getByTestId('daily');
    const row = card.locator(
      `[data-testid="daily-row"][data-pack="${DEMO.daly}"][data-date="${before.date}"]`,
    );
    await row.waitFor();
    expect(await row.textContent()).toContain('DALY pack');
    await expect
      .poll(async () => Number((await row.locator('td').nth(2).textContent())!.replace(/\D/g, '')))
      .toBeGreaterThanOrEqual(5);

    // Download gives that day's CSV.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      row.getByTestId('daily-download').click(),
    ]);
    expect(download.suggestedFilename()).toBe(`demo_daly_64_${before.date}.csv`);
    const csv = parseCsv(readFileSync((await download.path())!, 'utf8'));
    expect(csv.header[0]).toBe('time');
    expect(csv.header).toContain('voltage_v');
    expect(csv.rows.length).toBeGreaterThanOrEqual(5);
    for (const r of csv.rows) expect(r[0]!.slice(0, 10)).toBe(before.date);

    // Delete asks first, naming the pack and the day; cancel keeps the file.
    await row.getByTestId('daily-delete').click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    const text = await dialog.getByTestId('delete-text').textContent();
    expect(text).toContain('DALY pack');
    expect(text).toContain(before.date);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => dialog.isVisible()).toBe(false);
    const kept = (await daily(page)).find((f) => f.pack_id === DEMO.daly && f.date === before.date);
    expect(kept!.samples).toBeGreaterThanOrEqual(before.samples);

    // Confirmed: the day's samples are gone (new ones keep arriving, far fewer).
    await row.getByTestId('daily-delete').click();
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await expect
      .poll(() => card.getByRole('status').textContent())
      .toMatch(new RegExp(`Deleted DALY pack ${before.date}: [\\d,]+ samples removed`));
    const removed = Number(
      /: ([\d,]+) samples/
        .exec((await card.getByRole('status').textContent())!)![1]!
        .replace(/,/g, ''),
    );
    expect(removed).toBeGreaterThanOrEqual(kept!.samples);
    const after = (await daily(page)).find(
      (f) => f.pack_id === DEMO.daly && f.date === before.date,
    );
    expect(after?.samples ?? 0).toBeLessThan(removed);

    expect(errors).toEqual([]);
    await context.close();
  });

  it('backs up the config as YAML and restores a file, showing what the server refused', async () => {
    const { page, context, errors } = await openPage(browser, server.url);
    await page.goto('/files');
    const card = page.getByTestId('config');
    await card.getByTestId('config-backup').waitFor();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      card.getByTestId('config-backup').click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^openbms-config-\d{4}-\d{2}-\d{2}\.yaml$/);
    const yaml = readFileSync((await download.path())!, 'utf8');
    expect(yaml).toMatch(/^version: \d+/m);

    // An invalid file: nothing is written, the keys at fault are listed.
    const file = join(server.dataDir, 'openbms.yaml');
    const existed = existsSync(file);
    await card.getByTestId('config-file').setInputFiles({
      name: 'broken.yaml',
      mimeType: 'text/yaml',
      buffer: Buffer.from('version: 1\nmqtt:\n  port: 99999\n'),
    });
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain('broken.yaml');
    await dialog.getByRole('button', { name: 'Restore' }).click();
    const refused = card.getByTestId('restore-error');
    await refused.waitFor();
    expect(await refused.textContent()).toContain('mqtt.port');
    expect(existsSync(file)).toBe(existed);

    // The backup itself restores: saved to the config file.
    await card.getByTestId('config-file').setInputFiles({
      name: 'backup.yaml',
      mimeType: 'text/yaml',
      buffer: Buffer.from(yaml),
    });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Restore' }).click();
    const result = card.getByTestId('restore-result');
    await result.waitFor();
    expect(await result.textContent()).toContain('Saved.');
    expect(existsSync(file)).toBe(true);
    expect(readFileSync(file, 'utf8')).toMatch(/^version: \d+/m);

    // The refused upload may be logged by the browser itself as a failed request; the page
    // handled it (shown above), so only that line is let through.
    expect(errors.filter((e) => !/status of 422/.test(e))).toEqual([]);
    await context.close();
  });

  it('shows a viewer the files without delete, backup or restore', async () => {
    const admin = await openPage(browser, server.url);
    const made = await admin.context.request.post('/api/v1/users', {
      data: { username: 'watcher', password: 'watcher-password', role: 'viewer' },
    });
    expect(made.status()).toBeLessThan(300);
    await admin.context.close();

    const { page, context, errors } = await openPage(browser, server.url, { login: false });
    const r = await context.request.post('/api/v1/auth/login', {
      data: { username: 'watcher', password: 'watcher-password' },
    });
    expect(r.ok()).toBe(true);
    await page.goto('/files');
    await page.getByTestId('daily-row').first().waitFor();
    expect(await page.getByTestId('daily-download').count()).toBeGreaterThan(0);
    expect(await page.getByTestId('daily-delete').count()).toBe(0);
    expect(await page.getByTestId('config').count()).toBe(0);
    await page.getByTestId('config-admin-only').waitFor();
    // The API agrees: a viewer cannot delete a day.
    const files = (await (
      await context.request.get('/api/v1/exports/daily')
    ).json()) as DailyFile[];
    const del = await context.request.delete(files[0]!.url);
    expect(del.status()).toBe(403);

    expect(errors).toEqual([]);
    await context.close();
  });
});
