/**
 * Renewing batteries in the browser (issue 17, seed 003 "renewal"; docs/trackers.md
 * "Renewals"), against a real `openbms cloud --no-demo` process (SQLite): the platform
 * manager sees the tracker expiring within 30 days under its tab, selects two batteries (one
 * expired, one expiring), renews them by 2 years with the new expiries shown before
 * confirming, finds them renewed in the list and the API, and reads a battery's renewal
 * history; then the tabs and the dialog in Chinese.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, openPage } from './harness';

const BIN = fileURLToPath(new URL('../../cli/bin/openbms.js', import.meta.url));
const DAY = 86_400_000;

let proc: ChildProcess;
let dir: string;
let url: string;
let browser: Browser;
let admin: { username: string; password: string };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'openbms-e2e-renew-'));
  proc = spawn(
    process.execPath,
    [BIN, 'cloud', '--broker-port', '0', '--no-demo', '--data-dir', dir, '--port', '0'],
    {
      cwd: dir,
      stdio: 'pipe',
      env: { ...process.env, OPENBMS_ADMIN_USER: '', OPENBMS_ADMIN_PASSWORD: '' },
    },
  );
  let out = '';
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
  const m = /^ {2}(admin@\S+)\s+(\S+)\s/m.exec(
    readFileSync(join(dir, 'cloud-accounts.txt'), 'utf8'),
  );
  admin = { username: m![1]!, password: m![2]! };
  browser = await launchBrowser();
}, 90_000);

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
  const r = await page.context().request.post('/api/v1/auth/login', { data: admin });
  expect(r.status(), await r.text()).toBe(200);
  await page.goto('/');
  await page.getByTestId('logout').waitFor({ state: 'attached' });
}

type Device = { id: string; serial: string; expires_at?: number };
const apiGet = <T>(page: Page, path: string): Promise<T> =>
  page.evaluate((p) => fetch(`/api/v1${p}`).then((r) => r.json()), path) as Promise<T>;
const tabCount = async (page: Page, tab: string): Promise<number> =>
  Number(await page.getByTestId(`tab-${tab}`).locator('.tab-count').textContent());

describe('renewals in the device list', () => {
  it('selects two batteries, renews them by 2 years and shows the history', async () => {
    const { page, context, errors } = await openPage(browser, url, { login: false });
    page.setDefaultTimeout(15_000);
    await logIn(page);
    const now = Date.now();
    for (const [serial, expires_at] of [
      ['E2E-TRK-OLD', now - 5 * DAY],
      ['E2E-TRK-SOON', now + 10 * DAY],
      ['E2E-TRK-LATER', now + 90 * DAY],
    ] as const) {
      const r = await page.context().request.post('/api/v1/devices', {
        data: { serial, type: 'tracker', expires_at },
      });
      expect(r.status(), await r.text()).toBe(201);
    }
    await page.goto('/devices');
    await page.getByTestId('devices').waitFor();

    // Expiring in 30 days: the one due in 10 days, alone.
    await expect.poll(() => tabCount(page, 'expiring')).toBe(1);
    await expect.poll(() => tabCount(page, 'expired')).toBe(1);
    await page.getByTestId('tab-expiring').click();
    await page.getByTestId('device-E2E-TRK-SOON').waitFor();
    await expect.poll(() => page.locator('tr[data-testid^="device-"]').count()).toBe(1);

    // Select it here and the expired one on the Expired tab: the selection is kept.
    await page.getByLabel('Select E2E-TRK-SOON').check();
    await page.getByTestId('tab-expired').click();
    await page.getByTestId('device-E2E-TRK-OLD').waitFor();
    await page.getByLabel('Select E2E-TRK-OLD').check();
    await page.getByTestId('renew').filter({ hasText: 'Renew (2)' }).click();

    const dialog = page.getByTestId('renew-dialog');
    await dialog.getByLabel('2 years').check();
    const preview = async (serial: string) =>
      (await dialog.getByTestId(`renew-${serial}`).getByTestId('renew-new').textContent())!;
    // Lifetime first shows "Never", then 2 years the dates.
    await dialog.getByLabel('Lifetime').check();
    expect(await preview('E2E-TRK-OLD')).toBe('Never (lifetime)');
    await dialog.getByLabel('2 years').check();
    const newOld = await preview('E2E-TRK-OLD');
    const newSoon = await preview('E2E-TRK-SOON');
    expect(newOld).not.toBe(newSoon);
    await dialog.getByTestId('renew-submit').click();
    await page.getByTestId('device-notice').filter({ hasText: 'Renewed 2 devices' }).waitFor();

    // Neither expired nor expiring now; the list shows the previewed dates.
    await expect.poll(() => tabCount(page, 'expired')).toBe(0);
    await expect.poll(() => tabCount(page, 'expiring')).toBe(0);
    await page.getByTestId('tab-all').click();
    for (const [serial, date] of [
      ['E2E-TRK-OLD', newOld],
      ['E2E-TRK-SOON', newSoon],
    ] as const)
      await page
        .getByTestId(`device-${serial}`)
        .filter({ hasText: `until ${date}` })
        .waitFor();
    const list = await apiGet<{ devices: Device[] }>(page, '/devices?q=E2E-TRK');
    const by = new Map(list.devices.map((d) => [d.serial, d]));
    const years2 = (t: number) => {
      const d = new Date(t);
      d.setUTCFullYear(d.getUTCFullYear() + 2);
      return d.getTime();
    };
    // Expired: two years from the renewal (between the test's start and now); still valid:
    // two years from its expiry, exactly.
    const old = by.get('E2E-TRK-OLD')!.expires_at!;
    expect(old).toBeGreaterThanOrEqual(years2(now));
    expect(old).toBeLessThanOrEqual(years2(Date.now()));
    expect(by.get('E2E-TRK-SOON')!.expires_at).toBe(years2(now + 10 * DAY));
    expect(by.get('E2E-TRK-LATER')!.expires_at).toBe(now + 90 * DAY);

    // The history of one battery.
    await page
      .getByTestId('device-E2E-TRK-SOON')
      .getByRole('button', { name: 'Renewals', exact: true })
      .click();
    const hist = page.getByTestId('renewals-dialog');
    await expect.poll(() => hist.getByTestId('renewal-row').count()).toBe(1);
    const row = (await hist.getByTestId('renewal-row').textContent())!;
    expect(row).toContain('2 years');
    expect(row).toContain(newSoon);
    expect(row).toContain('admin');
    await hist.getByRole('button', { name: 'Close' }).click();
    await page
      .getByTestId('device-E2E-TRK-LATER')
      .getByRole('button', { name: 'Renewals', exact: true })
      .click();
    await page.getByTestId('no-renewals').waitFor();
    expect(errors).toEqual([]);
    await context.close();
  });

  it('shows the tab and the dialog in Chinese', async () => {
    const { page, context, errors } = await openPage(browser, url, { login: false, lang: 'zh' });
    page.setDefaultTimeout(15_000);
    await logIn(page);
    await page.goto('/devices');
    await page.getByTestId('tab-expiring').filter({ hasText: '30天内到期' }).waitFor();
    await page.getByLabel('选择 E2E-TRK-LATER').check();
    await page.getByTestId('renew').filter({ hasText: '续费（1）' }).click();
    const dialog = page.getByTestId('renew-dialog');
    await dialog.getByLabel('终身').check();
    expect(
      await dialog.getByTestId('renew-E2E-TRK-LATER').getByTestId('renew-new').textContent(),
    ).toBe('永不到期（终身）');
    await dialog.getByRole('button', { name: '取消' }).click();
    expect(errors).toEqual([]);
    await context.close();
  });
});
