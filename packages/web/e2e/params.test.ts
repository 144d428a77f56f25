/**
 * The Settings (parameters) tab against a real `openbms start` on the simulator: the demo
 * site plus a DALY Modbus pack (the one family with "restore defaults"). Values shown are
 * compared with the API's; refused values never leave the browser (no PUT, no audit entry);
 * a valid write shows its read-back and lands on the device.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { APIRequestContext, Browser, Page } from 'playwright-core';
import { DEMO, launchBrowser, openPage, packUrl, startConsole, type Console } from './harness';

const MODBUS = 'lab/dm/210';
const CONFIG = `version: 1
demo: true
sites:
  - id: lab
    buses:
      - id: dm
        port: sim
        protocol: daly-modbus
        poll_interval_s: 1
        simulator: { profile: idle, speed: 1 }
        packs:
          - { address: 210, name: Modbus pack }
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
  if (!r.ok()) throw new Error(`GET ${path}: ${r.status()} ${await r.text()}`);
  return (await r.json()) as T;
}

const deviceValues = async (req: APIRequestContext, id: string) =>
  (await getJson<{ values: Record<string, number> }>(req, `/packs/${enc(id)}/parameters`)).values;

interface AuditEntry {
  action: string;
  pack_id?: string;
  new?: Record<string, unknown>;
  result: string;
}
const parameterWrites = async (req: APIRequestContext) =>
  (await getJson<AuditEntry[]>(req, '/audit?limit=1000')).filter(
    (e) => e.action === 'parameter.write',
  );

/** Console errors other than the browser's own note about an expected 4xx answer. */
const unexpected = (errors: string[]) =>
  errors.filter(
    (e) => !/Failed to load resource: the server responded with a status of 4\d\d/.test(e),
  );

async function readParameters(page: Page): Promise<void> {
  await page.getByTestId('params-read').click();
  await expect.poll(() => page.getByTestId('params-read-at').textContent()).toMatch(/^Read \d/);
}

const row = (page: Page, id: string) => page.getByTestId(`param-${id}`);
const input = (page: Page, id: string) => row(page, id).locator('input[type="text"]');

describe('the Settings tab', () => {
  it('reads the JK pack’s parameters: the table shows what the device holds', async () => {
    const { page, context, errors } = await openPage(browser, server.url);
    await page.goto(packUrl(DEMO.jk, 'settings'));
    await expect.poll(() => page.getByTestId('params-read-at').textContent()).toMatch(/Not read/);
    await readParameters(page);
    const values = await deviceValues(context.request, DEMO.jk);
    expect(Object.keys(values).length).toBeGreaterThan(10);
    for (const [id, v] of Object.entries(values)) {
      await expect
        .poll(() => row(page, id).getByTestId('current').getAttribute('data-value'))
        .toBe(String(v));
    }
    // Grouped, with the chemistry's tighter limit; JK has one level, so none is named.
    await expect
      .poll(() => row(page, 'cell_ov_l2_mv').locator('.pname').textContent())
      .toBe('Cell over-voltage');
    expect(await row(page, 'cell_ov_l2_mv').locator('.pmax').textContent()).toBe('3,750*');
    expect(await row(page, 'cell_ov_l2_mv').locator('.plevel').textContent()).toBe('');
    expect(await row(page, 'cell_ov_l2_mv').getByTestId('current').textContent()).toBe(
      (values['cell_ov_l2_mv'] ?? NaN).toLocaleString('en-GB'),
    );
    expect(unexpected(errors)).toEqual([]);
    await context.close();
  });

  it('an unsafe value is refused in the browser; a valid one is written and read back', async () => {
    const { page, context, errors } = await openPage(browser, server.url);
    const puts: string[] = [];
    page.on('request', (r) => {
      if (r.method() === 'PUT' && r.url().includes('/parameters')) puts.push(r.postData() ?? '');
    });
    const auditBefore = await parameterWrites(context.request);
    const before = await deviceValues(context.request, DEMO.jk);
    expect(before['cell_ov_l2_mv']).not.toBe(3600);

    await page.goto(packUrl(DEMO.jk, 'settings'));
    await readParameters(page);

    // 4200 mV on LiFePO4: above the chemistry's safe limit.
    await input(page, 'cell_ov_l2_mv').fill('4200');
    await expect.poll(() => input(page, 'cell_ov_l2_mv').getAttribute('aria-invalid')).toBe('true');
    expect(await row(page, 'cell_ov_l2_mv').getByTestId('param-error').textContent()).toBe(
      'Above the LiFePO4 safe limit of 3750 mV',
    );
    // A recovery above its threshold: the consistency rule, named at the row.
    await input(page, 'cell_ov_l2_recover_mv').fill('3700');
    await expect
      .poll(() => row(page, 'cell_ov_l2_recover_mv').getByTestId('param-error').textContent())
      .toBe(`Must be below Cell over-voltage (${before['cell_ov_l2_mv']} mV)`);
    // Off-step and junk.
    await input(page, 'balance_current_a').fill('0.15');
    await expect
      .poll(() => row(page, 'balance_current_a').getByTestId('param-error').textContent())
      .toBe('Must be a multiple of 0.1');
    await input(page, 'balance_current_a').fill('abc');
    await expect
      .poll(() => row(page, 'balance_current_a').getByTestId('param-error').textContent())
      .toBe('Not a number');
    // Rules over the whole set, shown before anything is sent: balancing above the cell
    // over-voltage, and an over-current above 1 C of the design capacity.
    await input(page, 'balance_start_mv').fill('3720');
    await expect
      .poll(() => row(page, 'balance_start_mv').getByTestId('param-error').allTextContents())
      .toContain(`Must be below Cell over-voltage (${before['cell_ov_l2_mv']} mV)`);
    const caps = await getJson<{ limits: { design_ah: number; max_charge_c: number } }>(
      context.request,
      `/packs/${enc(DEMO.jk)}/capabilities`,
    );
    const ceiling = caps.limits.max_charge_c * caps.limits.design_ah;
    await input(page, 'chg_oc_l2_a').fill(String(Math.round(ceiling) + 20));
    await expect
      .poll(() => row(page, 'chg_oc_l2_a').getByTestId('param-error').allTextContents())
      .toContain(
        `Must not be above ${caps.limits.max_charge_c} C of the ${caps.limits.design_ah} Ah design capacity (${ceiling} A)`,
      );

    expect(await page.getByTestId('params-write-selected').isDisabled()).toBe(true);
    expect(await page.getByTestId('params-write-changed').isDisabled()).toBe(true);
    expect(await page.getByTestId('params-blocked').textContent()).toContain(
      'nothing is sent while an error stands',
    );
    // A click on the disabled button does nothing either.
    await page.getByTestId('params-write-selected').click({ force: true });

    // Fix: only a valid threshold remains.
    await input(page, 'cell_ov_l2_recover_mv').fill('');
    await input(page, 'balance_current_a').fill('');
    await input(page, 'balance_start_mv').fill('');
    await input(page, 'chg_oc_l2_a').fill('');
    await input(page, 'cell_ov_l2_mv').fill('3600');
    await expect.poll(() => row(page, 'cell_ov_l2_mv').getByTestId('param-error').count()).toBe(0);
    expect(await input(page, 'cell_ov_l2_mv').getAttribute('aria-invalid')).toBe('false');
    // Nothing reached the server while the errors stood: no PUT at all, no audit entry.
    expect(puts).toEqual([]);
    expect(await parameterWrites(context.request)).toHaveLength(auditBefore.length);

    await page.getByTestId('params-write-selected').click();
    const dialog = page.locator('dialog[open]');
    await dialog.waitFor();
    expect(await dialog.locator('h2').textContent()).toBe('Write 1 parameter(s) to JK pack?');
    expect(await dialog.getByTestId('plan-cell_ov_l2_mv').textContent()).toBe(
      `Cell over-voltage: ${before['cell_ov_l2_mv']!.toLocaleString('en-GB')} → 3,600 mV`,
    );
    // The server checked it first (dry run), and nothing was written yet.
    expect(puts.map((p) => JSON.parse(p))).toEqual([
      { values: { cell_ov_l2_mv: 3600 }, dry_run: true },
    ]);
    expect((await deviceValues(context.request, DEMO.jk))['cell_ov_l2_mv']).toBe(
      before['cell_ov_l2_mv'],
    );
    await dialog.getByRole('button', { name: 'Write' }).click();

    const result = page.getByTestId('result-cell_ov_l2_mv');
    await result.waitFor();
    expect(await result.getAttribute('data-ok')).toBe('true');
    expect(await result.getAttribute('data-readback')).toBe('3600');
    expect(await page.getByTestId('write-summary').textContent()).toBe(
      'All 1 value(s) read back equal.',
    );
    expect((await deviceValues(context.request, DEMO.jk))['cell_ov_l2_mv']).toBe(3600);
    await expect
      .poll(() => row(page, 'cell_ov_l2_mv').getByTestId('current').getAttribute('data-value'))
      .toBe('3600');
    expect(await input(page, 'cell_ov_l2_mv').inputValue()).toBe('');

    // The audit log holds exactly this write, never the refused values.
    const after = await parameterWrites(context.request);
    expect(after).toHaveLength(auditBefore.length + 1);
    expect(after[0]).toMatchObject({
      pack_id: DEMO.jk,
      result: 'ok',
      new: { cell_ov_l2_mv: 3600 },
    });
    expect(puts.some((p) => p.includes('4200') || p.includes('3700'))).toBe(false);
    expect(unexpected(errors)).toEqual([]);
    await context.close();
  });

  it('export then import of the same file shows no difference; a tampered file is refused', async () => {
    const { page, context, errors } = await openPage(browser, server.url);
    await page.goto(packUrl(DEMO.jk, 'settings'));
    await page.getByTestId('params-tab').waitFor();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('params-export').click(),
    ]);
    expect(download.suggestedFilename()).toBe('demo-jk-1-parameters.json');
    const path = await download.path();
    const file = JSON.parse(readFileSync(path, 'utf8')) as {
      format: string;
      pack: { id: string; protocol: string };
      values: Record<string, number>;
    };
    expect(file.format).toBe('openbms-parameters');
    expect(file.pack).toMatchObject({ id: DEMO.jk, protocol: 'jk' });
    expect(file.values).toEqual(await deviceValues(context.request, DEMO.jk));

    await page.getByTestId('params-import-input').setInputFiles(path);
    await page.getByTestId('diff-empty').waitFor();
    expect(await page.getByTestId('diff-unchanged').textContent()).toBe(
      `${Object.keys(file.values).length} value(s) equal to the device`,
    );
    expect(await page.getByTestId('diff-table').count()).toBe(0);

    // The same file with an unsafe value: the diff names the problem, it cannot be applied.
    const tampered = { ...file, values: { ...file.values, cell_ov_l2_mv: 4200 } };
    await page.getByTestId('params-import-input').setInputFiles({
      name: 'tampered.json',
      mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify(tampered)),
    });
    await page.getByTestId('diff-errors').waitFor();
    expect(await page.getByTestId('diff-errors').textContent()).toContain(
      '4200 mV is above the LiFePO4 safe limit 3750 mV',
    );
    expect(await page.getByTestId('diff-cell_ov_l2_mv').locator('input').isDisabled()).toBe(true);
    expect(await page.getByTestId('diff-apply').isDisabled()).toBe(true);

    // A valid change in the file: applied through the same checked write path.
    const next = file.values['balance_delta_mv'] === 12 ? 11 : 12;
    const edited = { ...file, values: { ...file.values, balance_delta_mv: next } };
    await page.getByTestId('params-import-input').setInputFiles({
      name: 'edited.json',
      mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify(edited)),
    });
    const diffRow = page.getByTestId('diff-balance_delta_mv');
    await diffRow.waitFor();
    expect(await diffRow.locator('td.num').allTextContents()).toEqual([
      `${file.values['balance_delta_mv']} mV`,
      `${next} mV`,
    ]);
    expect(await page.getByTestId('diff-errors').count()).toBe(0);
    await page.getByTestId('diff-apply').click();
    const dialog = page.locator('dialog[open]');
    await dialog.waitFor();
    expect(await dialog.getByTestId('plan-balance_delta_mv').textContent()).toBe(
      `Balance starting voltage difference: ${file.values['balance_delta_mv']} → ${next} mV`,
    );
    await dialog.getByRole('button', { name: 'Write' }).click();
    const result = page.getByTestId('result-balance_delta_mv');
    await result.waitFor();
    expect(await result.getAttribute('data-ok')).toBe('true');
    expect((await deviceValues(context.request, DEMO.jk))['balance_delta_mv']).toBe(next);
    expect(unexpected(errors)).toEqual([]);
    await context.close();
  });

  it('restores the defaults of the Modbus pack after the typed confirmation', async () => {
    const { page, context, errors } = await openPage(browser, server.url);
    const defaults = await deviceValues(context.request, MODBUS);
    const changed = defaults['cell_ov_l1_mv']! - 50;
    const put = await context.request.put(`/api/v1/packs/${enc(MODBUS)}/parameters`, {
      data: { values: { cell_ov_l1_mv: changed } },
    });
    expect(put.status()).toBe(200);

    await page.goto(packUrl(MODBUS, 'settings'));
    await readParameters(page);
    expect(await row(page, 'cell_ov_l1_mv').getByTestId('current').getAttribute('data-value')).toBe(
      String(changed),
    );
    // Levels 1 and 2 side by side.
    expect(await row(page, 'cell_ov_l2_mv').locator('.plevel').textContent()).toBe('L2');
    await page.getByTestId('params-restore').click();
    const dialog = page.locator('dialog[open]');
    await dialog.waitFor();
    expect(await dialog.locator('h2').textContent()).toBe(
      'Restore the default parameters of Modbus pack?',
    );
    const confirm = dialog.getByRole('button', { name: 'Restore defaults' });
    expect(await confirm.isDisabled()).toBe(true);
    await dialog.locator('input').fill('Modbus');
    expect(await confirm.isDisabled()).toBe(true);
    await dialog.locator('input').fill('Modbus pack');
    await confirm.click();
    await page.getByTestId('params-notice').waitFor();
    expect(await page.getByTestId('params-notice').textContent()).toMatch(
      /^Restore defaults: defaults restored; \d+ parameter\(s\) changed: .*cell_ov_l1_mv/,
    );
    const now = await deviceValues(context.request, MODBUS);
    expect(now['cell_ov_l1_mv']).toBe(defaults['cell_ov_l1_mv']);
    expect(await row(page, 'cell_ov_l1_mv').getByTestId('current').getAttribute('data-value')).toBe(
      String(now['cell_ov_l1_mv']),
    );
    expect(unexpected(errors)).toEqual([]);
    await context.close();
  });

  it('follows each family: DALY has no parameter commands, Pylontech writes three limits', async () => {
    const { page, context, errors } = await openPage(browser, server.url);
    await page.goto(packUrl(DEMO.daly, 'settings'));
    await page.getByTestId('params-unsupported').waitFor();
    expect(await page.getByTestId('params-unsupported').textContent()).toContain(
      'The daly protocol has no command to read or write parameters',
    );

    await page.goto(packUrl(DEMO.pylon, 'settings'));
    await readParameters(page);
    const values = await deviceValues(context.request, DEMO.pylon);
    const caps = await getJson<{ parameters: { id: string }[] }>(
      context.request,
      `/packs/${enc(DEMO.pylon)}/capabilities`,
    );
    const writable = caps.parameters.map((p) => p.id).sort();
    expect(writable).toEqual([
      'charge_current_limit_a',
      'charge_voltage_limit_v',
      'discharge_current_limit_a',
    ]);
    const rows = page.locator('tr.prow');
    expect(await rows.count()).toBe(new Set([...writable, ...Object.keys(values)]).size);
    for (const id of Object.keys(values)) {
      expect(await row(page, id).getByTestId('current').getAttribute('data-value')).toBe(
        String(values[id]),
      );
      const editable = writable.includes(id);
      expect(await input(page, id).count()).toBe(editable ? 1 : 0);
      if (!editable) expect(await row(page, id).textContent()).toContain('read only');
    }
    // Restore defaults is not offered by the protocol: disabled, with the reason.
    expect(await page.getByTestId('params-restore').isDisabled()).toBe(true);
    expect(await page.locator('#restore-why').textContent()).toBe('Not supported by pylontech');
    expect(unexpected(errors)).toEqual([]);
    await context.close();
  });

  it('a viewer reads and exports but gets no write controls', async () => {
    const admin = await openPage(browser, server.url);
    const add = await admin.context.request.post('/api/v1/users', {
      data: { username: 'watcher', password: 'watcher-password', role: 'viewer' },
    });
    expect(add.status()).toBeLessThan(300);
    await admin.context.close();
    const { page, context, errors } = await openPage(browser, server.url, { login: false });
    const login = await context.request.post('/api/v1/auth/login', {
      data: { username: 'watcher', password: 'watcher-password' },
    });
    expect(login.ok()).toBe(true);
    await page.goto(packUrl(DEMO.jk, 'settings'));
    await readParameters(page);
    expect(await page.getByText('changing them needs the operator role').count()).toBe(1);
    expect(await page.getByTestId('params-write-selected').count()).toBe(0);
    expect(await page.getByTestId('params-import').count()).toBe(0);
    expect(await page.locator('[data-testid="param-table"] input').count()).toBe(0);
    expect(await page.getByTestId('params-export').isEnabled()).toBe(true);
    expect(unexpected(errors)).toEqual([]);
    await context.close();
  });
});
