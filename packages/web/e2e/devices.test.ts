/**
 * The fleet's device pages in the browser (issue 14; seed 002 EMS "Device / List", "Group
 * users for approval", "LargeScreen"; seed 003 "List"), against a real `openbms cloud`
 * process with its demo fleet (SQLite, simulated packs):
 * - North Energy Dealer's manager filters and searches the list, registers a device, edits
 *   it, imports a file (a refusal names row and column), exports CSV, binds the device to
 *   Hill School (a customer under the dealer) and asks to unbind it;
 * - Volta Cells' manager (the level above) approves it in their inbox: the device moves to
 *   Volta Cells, and the dealer no longer sees it;
 * - the fleet large screen shows the same counts as the API; the list fits a phone, in Chinese.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, openPage, startConsole } from './harness';

const BIN = fileURLToPath(new URL('../../cli/bin/openbms.js', import.meta.url));

let proc: ChildProcess;
let dir: string;
let url: string;
let browser: Browser;
/** The demo's accounts as printed once at the first start: login → password. */
const accounts = new Map<string, string>();
const login = (name: string): string => [...accounts.keys()].find((k) => k.startsWith(`${name}@`))!;

beforeAll(async () => {
  // The browser starts while the cloud does.
  const launching = launchBrowser();
  dir = mkdtempSync(join(tmpdir(), 'openbms-e2e-devices-'));
  proc = spawn(
    process.execPath,
    [BIN, 'cloud', '--broker-port', '0', '--data-dir', dir, '--port', '0'],
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
  for (const m of readFileSync(join(dir, 'cloud-accounts.txt'), 'utf8').matchAll(
    /^ {2}(\S+@\S+)\s+(\S+)\s/gm,
  ))
    accounts.set(m[1]!, m[2]!);
  browser = await launching;
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

/** Logs the page's browser context in (the session cookie), then opens the console. */
async function logIn(page: Page, name: string): Promise<void> {
  const r = await page.context().request.post('/api/v1/auth/login', {
    data: { username: login(name), password: accounts.get(login(name)) },
  });
  expect(r.status(), await r.text()).toBe(200);
  await page.goto('/');
  await page.getByTestId('logout').waitFor({ state: 'attached' });
}
const nav = (page: Page, name: string) =>
  page.locator('#mainnav').getByRole('link', { name, exact: true });

/** The API's answer as the logged-in page sees it. */
const apiGet = <T>(page: Page, path: string): Promise<T> =>
  page.evaluate((p) => fetch(`/api/v1${p}`).then((r) => r.json()), path) as Promise<T>;

type Counts = Record<'all' | 'online' | 'offline' | 'expired' | 'not_enabled', number>;
const tabCount = async (page: Page, tab: string): Promise<number> =>
  Number(await page.getByTestId(`tab-${tab}`).locator('.tab-count').textContent());

const SERIAL = 'E2E-BIND-0001';

describe('the device list, approvals and the fleet screen', () => {
  it("a dealer's manager filters, searches, registers, edits, imports, exports and binds", async () => {
    const { page, context, errors } = await openPage(browser, url, { login: false });
    page.setDefaultTimeout(15_000);
    await logIn(page, 'north');
    // Menu entries for a manager: Devices and Approvals.
    await nav(page, 'Approvals').waitFor();
    await nav(page, 'Devices').click();
    await page.getByTestId('devices').waitFor();
    const before = (await apiGet<{ counts: Counts }>(page, '/devices?limit=1')).counts;
    const orgs = await apiGet<{ id: string; code: string; name: string }[]>(page, '/orgs');
    const orgNamed = (name: string) => orgs.find((o) => o.name === name)!;
    expect(before.all).toBeGreaterThan(0);
    await expect.poll(() => tabCount(page, 'all')).toBe(before.all);

    // Register a device in the dealer's own organisation, not enabled.
    await page.getByRole('button', { name: 'Register a device' }).click();
    const reg = page.getByTestId('register-dialog');
    await reg.getByLabel('Device no.').fill(SERIAL);
    await reg.getByLabel('Bar code').fill('BC77001');
    await reg.getByLabel('Nickname').fill('Spare rack');
    await reg.getByLabel('Model').fill('MPPT-001');
    await reg.getByLabel('Manufacturer').fill('HYDX');
    await reg.getByLabel('Production date').fill('2021-01-18');
    await reg.getByLabel('Organisation').selectOption(orgNamed('North Energy Dealer').id);
    await reg.getByLabel('Activation').selectOption('not_enabled');
    await reg.getByTestId('register-submit').click();
    await page
      .getByTestId('device-notice')
      .filter({ hasText: `Registered ${SERIAL}` })
      .waitFor();
    await expect.poll(() => tabCount(page, 'not_enabled')).toBe(before.not_enabled + 1);
    await expect.poll(() => tabCount(page, 'all')).toBe(before.all + 1);

    // The Not enabled tab lists it alone (the demo's devices are enabled).
    await page.getByTestId('tab-not_enabled').click();
    const row = page.getByTestId(`device-${SERIAL}`);
    await row.waitFor();
    await expect
      .poll(() => page.locator('tr[data-testid^="device-"]').count())
      .toBe(before.not_enabled + 1);
    const text = await row.textContent();
    for (const s of ['Spare rack', 'North Energy Dealer', 'Not enabled', 'Offline', 'HYDX'])
      expect(text).toContain(s);

    // Edit: enabled, expired since 2020: it moves to the Expired tab.
    await row.getByRole('button', { name: 'Edit', exact: true }).click();
    const edit = page.getByTestId('edit-dialog');
    await edit.getByLabel('Activation').selectOption('enabled');
    await edit.getByLabel('Expires on').fill('2020-01-01');
    await edit.getByTestId('edit-submit').click();
    await page
      .getByTestId('device-notice')
      .filter({ hasText: `Saved ${SERIAL}` })
      .waitFor();
    await expect.poll(() => tabCount(page, 'expired')).toBe(before.expired + 1);
    await page.getByTestId('tab-expired').click();
    await row.filter({ hasText: 'Expired' }).waitFor();

    // Search by bar code (all tabs), then by a device no. prefix of the demo's school.
    await page.getByTestId('tab-all').click();
    await page.getByRole('searchbox').fill('bc77');
    await page.getByTestId('search').click();
    await expect.poll(() => tabCount(page, 'all')).toBe(1);
    await row.waitFor();
    const school = orgNamed('Hill School');
    await page.getByRole('searchbox').fill(`demo-${school.code.toLowerCase()}`);
    await page.getByTestId('search').click();
    const found = await apiGet<{ counts: Counts }>(page, `/devices?limit=1&q=DEMO-${school.code}`);
    expect(found.counts.all).toBeGreaterThan(0);
    await expect.poll(() => tabCount(page, 'all')).toBe(found.counts.all);
    // The school is a lower level: its devices sit in its folded group.
    const group = page.getByTestId(`group-${school.code}`);
    await expect
      .poll(() => group.locator('tr[data-testid^="device-"]').count())
      .toBe(found.counts.all);
    await page.getByTestId('fold-lower').click();
    await expect.poll(() => group.locator('tr[data-testid^="device-"]').count()).toBe(0);
    await page.getByTestId('fold-lower').click();
    await page.getByRole('button', { name: 'Reset' }).click();
    await expect.poll(() => tabCount(page, 'all')).toBe(before.all + 1);

    // Import: a bad type on line 3 is refused naming row and column; nothing is imported.
    await page.getByTestId('import').click();
    const imp = page.getByTestId('import-dialog');
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'serial,type,nickname\nE2E-IMP-1,bms,One\nE2E-IMP-2,battery,Two\n');
    await imp.getByLabel('File').setInputFiles(bad);
    await imp.getByTestId('import-submit').click();
    await imp.getByRole('alert').filter({ hasText: 'row 3, column type' }).waitFor();
    const good = join(dir, 'good.csv');
    writeFileSync(good, 'serial,type,nickname\nE2E-IMP-1,bms,One\nE2E-IMP-2,tracker,Two\n');
    await imp.getByLabel('File').setInputFiles(good);
    await imp.getByTestId('import-submit').click();
    await page.getByTestId('device-notice').filter({ hasText: 'Imported 2 devices' }).waitFor();
    await expect.poll(() => tabCount(page, 'all')).toBe(before.all + 3);

    // Export CSV of the filtered list.
    await page.getByRole('searchbox').fill('E2E-IMP');
    await page.getByTestId('search').click();
    await expect.poll(() => tabCount(page, 'all')).toBe(2);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export CSV' }).click(),
    ]);
    const csv = readFileSync((await download.path())!, 'utf8');
    expect(csv.split(/\r?\n/)[0]).toContain('serial');
    expect(csv).toContain('E2E-IMP-1');
    expect(csv).toContain('E2E-IMP-2');
    expect(csv).not.toContain(SERIAL);

    // Bind the registered device to Hill School, then ask to unbind it.
    await page.getByRole('searchbox').fill(SERIAL);
    await page.getByTestId('search').click();
    await expect.poll(() => tabCount(page, 'all')).toBe(1);
    await row.getByRole('button', { name: 'Bind', exact: true }).click();
    const bind = page.getByTestId('bind-dialog');
    await bind.getByLabel('Organisation').selectOption(orgNamed('Hill School').id);
    await bind.getByTestId('bind-submit').click();
    await page
      .getByTestId('device-notice')
      .filter({ hasText: 'now belongs to Hill School' })
      .waitFor();
    await expect.poll(() => row.getByTestId('device-org').textContent()).toBe('Hill School');
    await row.getByRole('button', { name: 'Unbind', exact: true }).click();
    const unbind = page.getByTestId('unbind-dialog');
    await unbind.getByLabel('Reason (optional)').fill('customer moved out');
    await unbind.getByTestId('unbind-submit').click();
    await page.getByTestId('device-notice').filter({ hasText: 'waits for approval' }).waitFor();
    await row.filter({ hasText: 'Unbind pending' }).waitFor();
    // Still bound until approved; the dealer's inbox lists it under "My requests".
    await nav(page, 'Approvals').click();
    await page.getByTestId('my-requests').getByTestId(`approval-${SERIAL}`).waitFor();
    expect(await page.getByTestId('to-decide').locator('tbody tr').count()).toBe(0);
    if (process.env.OPENBMS_E2E_SHOTS)
      await page.screenshot({ path: `${process.env.OPENBMS_E2E_SHOTS}/approvals.png` });
    expect(errors).toEqual([]);
    await context.close();
  });

  it('the level above approves in its inbox and the device moves', async () => {
    const { page, context, errors } = await openPage(browser, url, { login: false });
    page.setDefaultTimeout(15_000);
    await logIn(page, 'maker');
    await nav(page, 'Approvals (1)').click();
    const item = page.getByTestId('to-decide').getByTestId(`approval-${SERIAL}`);
    await item.waitFor();
    expect(await item.textContent()).toContain('customer moved out');
    await item.getByLabel('Reason for the decision (optional)').fill('back to stock');
    await item.getByRole('button', { name: 'Approve' }).click();
    await page
      .getByTestId('approval-notice')
      .filter({ hasText: `${SERIAL} moved` })
      .waitFor();
    await page
      .getByTestId('decided')
      .getByTestId(`approval-${SERIAL}`)
      .filter({ hasText: 'Approved' })
      .waitFor();
    // Moved to Volta Cells, the approver's organisation.
    await nav(page, 'Devices').click();
    await page.getByRole('searchbox').fill(SERIAL);
    await page.getByTestId('search').click();
    await expect
      .poll(() => page.getByTestId(`device-${SERIAL}`).getByTestId('device-org').textContent())
      .toBe('Volta Cells');
    expect(errors).toEqual([]);
    await context.close();

    // The dealer no longer sees it.
    const north = await openPage(browser, url, { login: false });
    await logIn(north.page, 'north');
    const r = await apiGet<{ counts: Counts }>(north.page, `/devices?limit=1&q=${SERIAL}`);
    expect(r.counts.all).toBe(0);
    await north.context.close();
  });

  it('the fleet large screen shows the counts, the energy and the plants', async () => {
    const { page, context, errors } = await openPage(browser, url, {
      login: false,
      width: 1920,
      height: 1080,
    });
    page.setDefaultTimeout(15_000);
    await logIn(page, 'north');
    await page.goto('/fleet-screen');
    await page.getByTestId('fleet-screen').waitFor();
    const { counts } = await apiGet<{ counts: Counts }>(page, '/devices?limit=1');
    for (const k of ['all', 'online', 'offline', 'expired', 'not_enabled'] as const)
      await expect
        .poll(() => page.getByTestId(`fleet-count-${k}`).textContent())
        .toBe(String(counts[k]));
    const alarms = await apiGet<unknown[]>(page, '/alarms?active=true&limit=1000');
    expect(await page.getByTestId('fleet-alarm-count').textContent()).toBe(String(alarms.length));
    // The dealer's three plants, each a dot on the map.
    const plants = await apiGet<{ name: string }[]>(page, '/plants');
    expect(plants.length).toBe(3);
    for (const p of plants) await page.getByTestId(`plant-dot-${p.name}`).waitFor();
    expect(await page.getByTestId('fleet-today-in').textContent()).toMatch(/kWh$/);
    // It reads again on its own: a device registered meanwhile shows (every 5 s here).
    await page.goto('/fleet-screen?refresh=5');
    await expect
      .poll(() => page.getByTestId('fleet-count-all').textContent())
      .toBe(String(counts.all));
    const made = await page.evaluate(() =>
      fetch('/api/v1/devices', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ serial: 'E2E-SCREEN-1', type: 'bms', activation: 'not_enabled' }),
      }).then((r) => r.status),
    );
    expect(made).toBe(201);
    await expect
      .poll(() => page.getByTestId('fleet-count-not_enabled').textContent(), { timeout: 15_000 })
      .toBe(String(counts.not_enabled + 1));
    expect(await page.getByTestId('fleet-count-all').textContent()).toBe(String(counts.all + 1));
    // Nothing scrolls at 1920×1080.
    expect(
      await page.evaluate(() => document.documentElement.scrollHeight <= window.innerHeight),
    ).toBe(true);
    if (process.env.OPENBMS_E2E_SHOTS)
      await page.screenshot({ path: `${process.env.OPENBMS_E2E_SHOTS}/fleet-screen.png` });
    expect(errors).toEqual([]);
    await context.close();
  });

  it('an end user sees the list without approvals, on a phone and in Chinese', async () => {
    const { page, context, errors } = await openPage(browser, url, {
      login: false,
      width: 390,
      height: 844,
      lang: 'zh',
    });
    page.setDefaultTimeout(15_000);
    await logIn(page, 'cafe');
    await page.goto('/devices');
    await page.getByRole('heading', { name: '设备' }).waitFor();
    const { counts } = await apiGet<{ counts: Counts }>(page, '/devices?limit=1');
    await expect.poll(() => tabCount(page, 'all')).toBe(counts.all);
    await expect.poll(() => page.locator('tr[data-testid^="device-"]').count()).toBe(counts.all);
    // No changes offered to an end user, and no approvals entry in the menu.
    expect(await page.getByRole('button', { name: '解绑' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: '登记设备' }).count()).toBe(0);
    expect(await page.locator('#mainnav a[href="/approvals"]').count()).toBe(0);
    expect(await page.locator('#mainnav a[href="/devices"]').count()).toBe(1);
    expect(
      await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth),
    ).toBe(true);
    if (process.env.OPENBMS_E2E_SHOTS)
      await page.screenshot({
        path: `${process.env.OPENBMS_E2E_SHOTS}/devices-phone.png`,
        fullPage: true,
      });
    // The fleet screen on the phone: its panels stacked, nothing wider than the screen.
    await page.goto('/fleet-screen');
    await page.getByTestId('fleet-count-all').waitFor();
    expect(await page.getByTestId('fleet-count-all').textContent()).toBe(String(counts.all));
    expect(
      await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth),
    ).toBe(true);
    expect(errors).toEqual([]);
    await context.close();
  });
});

describe('the single box', () => {
  it('keeps its menu: no Devices or Approvals entry without a fleet', async () => {
    const box = await startConsole();
    try {
      const { page, context, errors } = await openPage(browser, box.url);
      page.setDefaultTimeout(15_000);
      await page.goto('/');
      await page.locator('#mainnav').getByRole('link', { name: 'Organisations' }).waitFor();
      // The menu asks for the account, then the device counts and the organisations.
      await expect
        .poll(() =>
          page.evaluate(() => performance.getEntriesByType('resource').map((e) => e.name)),
        )
        .toEqual(expect.arrayContaining([expect.stringMatching(/\/api\/v1\/orgs$/)]));
      expect(await page.locator('#mainnav a[href="/devices"]').count()).toBe(0);
      expect(await page.locator('#mainnav a[href="/approvals"]').count()).toBe(0);
      // The page itself still opens by its address, with an empty list.
      await page.goto('/devices');
      await page.getByTestId('no-devices').waitFor();
      expect(errors).toEqual([]);
      await context.close();
    } finally {
      await box.stop();
    }
  }, 60_000);
});
