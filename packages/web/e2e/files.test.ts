/**
 * Exports & files on the live demo site: a CSV export of chosen fields and range checked
 * row by row against the API's raw history, the Excel variant, the daily file list with
 * download and a confirmed delete, the config backup (YAML) and restore (422 with the keys
 * at fault, then a valid file saved to disk), what a viewer sees, and the file manager's
 * bulk side: the data disk's free space, every shown file as one zip, delete all shown.
 */
import { existsSync, readFileSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
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
    // Headings number cells from 1 as people count them (series cell_mv.0 is cell_mv.1).
    expect(csv.header).toEqual(['time', 'voltage_v', 'soc_pct', 'cell_mv.1', 'cell_mv.2']);
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

  it('shows the free space, zips every file shown and deletes them all after a typed confirmation', async () => {
    const { page, context, errors } = await openPage(browser, server.url);
    const packs: Record<string, string> = {
      [DEMO.rack[0]!]: 'Rack 1',
      [DEMO.rack[1]!]: 'Rack 2',
      [DEMO.rack[2]!]: 'Rack 3',
      [DEMO.rack[3]!]: 'Rack 4',
      [DEMO.pylon]: 'Pylontech pack',
      [DEMO.jk]: 'JK pack',
      [DEMO.daly]: 'DALY pack',
    };
    for (const id of Object.keys(packs)) await waitForSamples(page, id, 5);
    await page.goto('/files');
    const card = page.getByTestId('daily');

    // Free space: the API's figure, which is the file system holding the data directory.
    const disk = (await (await context.request.get('/api/v1/exports/disk')).json()) as {
      available: boolean;
      free_bytes: number;
      total_bytes: number;
    };
    expect(disk.available).toBe(true);
    const fsInfo = statfsSync(server.dataDir);
    expect(disk.total_bytes).toBe(fsInfo.blocks * fsInfo.bsize);
    expect(disk.free_bytes).toBeGreaterThan(0);
    expect(disk.free_bytes).toBeLessThanOrEqual(disk.total_bytes);
    const shownDisk = card.getByTestId('disk-free');
    await expect.poll(() => shownDisk.getAttribute('data-total')).toBe(String(disk.total_bytes));
    const free = Number(await shownDisk.getAttribute('data-free'));
    // Samples keep being written: the free figure moves a little between two reads.
    expect(Math.abs(free - disk.free_bytes)).toBeLessThan(disk.total_bytes * 0.001);
    expect(await shownDisk.getAttribute('data-low')).toBe(String(free / disk.total_bytes < 0.1));
    const m = /^Free space: ([\d.,]+) ([kMGT]?B) of ([\d.,]+) ([kMGT]?B) \(([\d.]+) %\)/.exec(
      (await shownDisk.textContent())!,
    );
    expect(m, 'free space text').not.toBeNull();
    const unit = { B: 1, kB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12 } as Record<string, number>;
    const shownFree = Number(m![1]!.replace(/,/g, '')) * unit[m![2]!]!;
    const shownTotal = Number(m![3]!.replace(/,/g, '')) * unit[m![4]!]!;
    expect(Math.abs(shownTotal - disk.total_bytes) / disk.total_bytes).toBeLessThan(0.01);
    expect(Math.abs(shownFree - free) / free).toBeLessThan(0.01);
    expect(Math.abs(Number(m![5]) - (100 * free) / disk.total_bytes)).toBeLessThan(1);

    // Download all shown: one zip whose entries are the rows listed, each that day's CSV.
    const rows = card.getByTestId('daily-row');
    await expect.poll(() => rows.count()).toBeGreaterThanOrEqual(6);
    const listed = await rows.evaluateAll((els) =>
      els.map((e) => ({
        pack: (e as HTMLElement).dataset.pack!,
        date: (e as HTMLElement).dataset.date!,
        rows: Number(e.querySelectorAll('td')[2]!.textContent!.replace(/\D/g, '')),
      })),
    );
    const entryName = (pack: string, date: string) =>
      `${pack.replace(/[^A-Za-z0-9._-]+/g, '_')}_${date}.csv`;
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      card.getByTestId('daily-download-all').click(),
    ]);
    expect(download.suggestedFilename()).toMatch(
      /^openbms_daily_all_\d{4}-\d{2}-\d{2}_\d{4}-\d{2}-\d{2}\.zip$/,
    );
    const zip = unzipSync(readFileSync((await download.path())!));
    expect(Object.keys(zip).sort()).toEqual(listed.map((f) => entryName(f.pack, f.date)).sort());
    for (const f of listed) {
      const csv = parseCsv(Buffer.from(zip[entryName(f.pack, f.date)]!).toString('utf8'));
      expect(csv.header[0]).toBe('time');
      expect(csv.header).toContain('voltage_v');
      // Made after the list was read: at least the rows it showed (samples keep coming).
      expect(csv.rows.length).toBeGreaterThanOrEqual(f.rows);
      for (const r of csv.rows) expect(r[0]!.slice(0, 10)).toBe(f.date);
    }

    // Filtered to one pack, the zip follows the filter.
    await card.getByTestId('daily-pack').selectOption(DEMO.jk);
    await expect.poll(() => rows.count()).toBe(listed.filter((f) => f.pack === DEMO.jk).length);
    const [one] = await Promise.all([
      page.waitForEvent('download'),
      card.getByTestId('daily-download-all').click(),
    ]);
    expect(one.suggestedFilename()).toMatch(/^openbms_daily_demo_jk_1_/);
    expect(Object.keys(unzipSync(readFileSync((await one.path())!))).sort()).toEqual(
      listed
        .filter((f) => f.pack === DEMO.jk)
        .map((f) => entryName(f.pack, f.date))
        .sort(),
    );
    await card.getByTestId('daily-pack').selectOption('');
    await expect.poll(() => rows.count()).toBe(listed.length);

    // Delete all shown: the dialog names every pack, the files and the day, and wants the
    // number of files typed before it deletes anything.
    const n = listed.length;
    const lastAudit = (
      (await (await context.request.get('/api/v1/audit?limit=1')).json()) as { id: number }[]
    )[0]!.id;
    await card.getByTestId('daily-delete-all').click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    const body = (await dialog.getByTestId('bulk-delete-text').textContent())!;
    for (const name of Object.values(packs)) expect(body).toContain(name);
    expect(body).toContain(`${n} files`);
    for (const d of new Set(listed.map((f) => f.date))) expect(body).toContain(d);
    const confirm = dialog.getByRole('button', { name: `Delete ${n} files` });
    expect(await confirm.isDisabled()).toBe(true);
    await dialog.getByRole('textbox').fill(String(n + 1));
    expect(await confirm.isDisabled()).toBe(true);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => dialog.isVisible()).toBe(false);
    expect(await rows.count()).toBe(n);

    // Watch the progress bar while the files go.
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { progressSeen: string[] }).progressSeen = seen;
      new MutationObserver(() => {
        const p = document.querySelector<HTMLProgressElement>(
          '[data-testid="bulk-progress"] progress',
        );
        if (p) seen.push(`${p.value}/${p.max}`);
      }).observe(document.body, { subtree: true, childList: true, attributes: true });
    });
    await card.getByTestId('daily-delete-all').click();
    await dialog.waitFor();
    await dialog.getByRole('textbox').fill(String(n));
    await confirm.click();
    const notice = card.getByTestId('daily-notice');
    await expect
      .poll(() => notice.textContent(), { timeout: 15_000 })
      .toMatch(new RegExp(`^Deleted ${n} of ${n} files: [\\d,]+ samples removed\\.$`));
    const removed = Number(
      /: ([\d,]+) samples/.exec((await notice.textContent())!)![1]!.replace(/,/g, ''),
    );
    const seen = await page.evaluate(
      () => (window as unknown as { progressSeen: string[] }).progressSeen,
    );
    expect(seen.length).toBeGreaterThan(0);
    for (const s of seen) expect(s).toMatch(new RegExp(`^\\d+/${n}$`));

    // The server deleted (and audited) exactly the files shown, as many samples as reported.
    const audit = (
      (await (await context.request.get('/api/v1/audit?user=admin&limit=100')).json()) as {
        id: number;
        action: string;
        pack_id: string;
        old: { date: string; samples: number };
      }[]
    ).filter((e) => e.id > lastAudit && e.action === 'export.delete');
    expect(audit.map((e) => `${e.pack_id} ${e.old.date}`).sort()).toEqual(
      listed.map((f) => `${f.pack} ${f.date}`).sort(),
    );
    expect(audit.reduce((s, e) => s + e.old.samples, 0)).toBe(removed);
    expect(removed).toBeGreaterThanOrEqual(listed.reduce((s, f) => s + f.rows, 0));
    // What is left of those days is only what arrived after the delete.
    const after = await daily(page);
    for (const e of audit) {
      const left = after.find((f) => f.pack_id === e.pack_id && f.date === e.old.date);
      expect(left?.samples ?? 0, e.pack_id).toBeLessThan(e.old.samples);
    }

    expect(errors).toEqual([]);
    await context.close();
  });
});
