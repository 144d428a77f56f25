/**
 * The Control and Records tabs against a real `openbms start`: the demo site plus a DALY
 * pack whose simulated load discharges it at a constant 10 A, so the MOSFET interlock is
 * reached on purpose (opening the charge FET under discharge current is refused, seed 004).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { APIRequestContext, Browser } from 'playwright-core';
import { DEMO, launchBrowser, openPage, packUrl, startConsole, type Console } from './harness';

const DSG = 'lab/dsg/64';
const CONFIG = `version: 1
demo: true
sites:
  - id: lab
    buses:
      - id: dsg
        port: sim
        protocol: daly
        poll_interval_s: 1
        simulator: { profile: "constant:-10", speed: 1 }
        packs:
          - { address: 64, name: Discharging pack }
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

interface Snap {
  current_a?: number;
  charge_mos?: boolean;
  discharge_mos?: boolean;
  soc_pct?: number;
}

async function snapshot(req: APIRequestContext, id: string): Promise<Snap> {
  const r = await req.get('/api/v1/packs');
  const packs = (await r.json()) as { id: string; snapshot: Snap | null }[];
  return packs.find((p) => p.id === id)?.snapshot ?? {};
}

interface Command {
  action: string;
  status: string;
  detail: string;
}
async function commands(req: APIRequestContext, id: string): Promise<Command[]> {
  return (await (
    await req.get(`/api/v1/commands?pack=${encodeURIComponent(id)}`)
  ).json()) as Command[];
}

/** Console errors other than the browser's own note about an expected 4xx answer. */
const unexpected = (errors: string[]) =>
  errors.filter(
    (e) => !/Failed to load resource: the server responded with a status of 4\d\d/.test(e),
  );

describe('the Control tab', () => {
  it('shows the interlock’s refusal when the charge MOS is switched off under discharge', async () => {
    const { page, context, errors } = await openPage(browser, server.url);
    // The simulated load settles within a few polls; a busy machine needs more than the
    // default second to see it.
    await expect
      .poll(async () => (await snapshot(context.request, DSG)).current_a, { timeout: 15_000 })
      .toBeLessThan(-5);
    await page.goto(packUrl(DSG, 'control'));
    const charge = page.getByTestId('mos-charge');
    await expect.poll(() => charge.getAttribute('data-state')).toBe('on');
    await page.getByTestId('mos-charge-toggle').click();
    const dialog = page.locator('dialog[open]');
    await dialog.waitFor();
    expect(await dialog.locator('h2').textContent()).toBe(
      'Switch the Charge MOS of Discharging pack off?',
    );
    await dialog.getByRole('button', { name: 'Switch off' }).click();

    const outcome = page.getByTestId('mos-charge-outcome');
    await outcome.waitFor();
    expect(await outcome.getAttribute('data-ok')).toBe('false');
    expect(await outcome.getAttribute('data-code')).toBe('COMMAND_REFUSED');
    const text = (await outcome.textContent()) ?? '';
    expect(text).toMatch(
      /^Refused: discharge current flows \(-\d+(\.\d)? A, limit 0.5 A\): the charge MOSFET cannot be switched off now/,
    );
    // The words are the API's: the command log holds the same refusal.
    const last = (await commands(context.request, DSG))[0]!;
    expect(last).toMatchObject({ action: 'mos.charge', status: 'refused' });
    expect(text).toBe(`Refused: ${last.detail}`);
    // ...and so does the list on the page.
    const listed = page.getByTestId('command-row').first();
    await expect.poll(() => listed.getAttribute('data-status')).toBe('refused');
    expect(await listed.locator('.cmd-detail').textContent()).toBe(last.detail);
    // Nothing changed.
    expect((await snapshot(context.request, DSG)).charge_mos).toBe(true);
    expect(await charge.getAttribute('data-state')).toBe('on');
    expect(unexpected(errors)).toEqual([]);
    await context.close();
  });

  it('a permitted switch changes the state shown, and the snapshot follows', async () => {
    const { page, context, errors } = await openPage(browser, server.url);
    await page.goto(packUrl(DSG, 'control'));
    const discharge = page.getByTestId('mos-discharge');
    await expect.poll(() => discharge.getAttribute('data-state'), { timeout: 15_000 }).toBe('on');

    await page.getByTestId('mos-discharge-toggle').click();
    await page.locator('dialog[open]').getByRole('button', { name: 'Switch off' }).click();
    const outcome = page.getByTestId('mos-discharge-outcome');
    await expect.poll(() => outcome.getAttribute('data-ok'), { timeout: 15_000 }).toBe('true');
    expect(await outcome.textContent()).toBe('Discharge MOS switched off; read back: Off.');
    await expect.poll(() => discharge.getAttribute('data-state'), { timeout: 15_000 }).toBe('off');
    await expect
      .poll(async () => (await snapshot(context.request, DSG)).discharge_mos, { timeout: 15_000 })
      .toBe(false);
    // With the discharge path open, the load draws nothing.
    await expect
      .poll(async () => Math.abs((await snapshot(context.request, DSG)).current_a ?? 99))
      .toBeLessThan(0.5);

    // And back on.
    await page.getByTestId('mos-discharge-toggle').click();
    const dialog = page.locator('dialog[open]');
    expect(await dialog.locator('h2').textContent()).toBe(
      'Switch the Discharge MOS of Discharging pack on?',
    );
    await dialog.getByRole('button', { name: 'Switch on' }).click();
    await expect
      .poll(() => outcome.textContent())
      .toBe('Discharge MOS switched on; read back: On.');
    await expect.poll(() => discharge.getAttribute('data-state'), { timeout: 15_000 }).toBe('on');
    expect((await snapshot(context.request, DSG)).discharge_mos).toBe(true);
    expect(unexpected(errors)).toEqual([]);
    await context.close();
  });

  it('sets the SOC: validated in the browser, confirmed, read back', async () => {
    const { page, context, errors } = await openPage(browser, server.url);
    await page.goto(packUrl(DSG, 'control'));
    const input = page.getByTestId('soc-input');
    const set = page.getByTestId('soc-set');
    await input.fill('150');
    await page.getByTestId('soc-error').waitFor();
    expect(await page.getByTestId('soc-error').textContent()).toBe('Enter a number from 0 to 100');
    expect(await input.getAttribute('aria-invalid')).toBe('true');
    expect(await set.isDisabled()).toBe(true);

    await input.fill('80');
    expect(await page.getByTestId('soc-error').count()).toBe(0);
    await set.click();
    const dialog = page.locator('dialog[open]');
    await dialog.waitFor();
    expect(await dialog.locator('h2').textContent()).toBe(
      'Set the SOC of Discharging pack to 80 %?',
    );
    await dialog.getByRole('button', { name: 'Set SOC' }).click();
    const outcome = page.getByTestId('soc-outcome');
    await expect.poll(() => outcome.getAttribute('data-ok')).toBe('true');
    expect(await outcome.textContent()).toMatch(/^SOC set; the pack reports (79\.\d|80\.\d) %\.$/);
    await expect
      .poll(async () => (await snapshot(context.request, DSG)).soc_pct ?? 0)
      .toBeGreaterThan(79);
    expect((await snapshot(context.request, DSG)).soc_pct).toBeLessThanOrEqual(80.5);
    expect((await commands(context.request, DSG))[0]).toMatchObject({
      action: 'soc.set',
      status: 'done',
    });
    expect(unexpected(errors)).toEqual([]);
    await context.close();
  });

  it('disables what the family lacks and asks for the typed pack name before a restart', async () => {
    const { page, context, errors } = await openPage(browser, server.url);
    await page.goto(packUrl(DSG, 'control'));
    await page.getByTestId('clock-card').waitFor();
    expect(await page.getByTestId('clock-set').isDisabled()).toBe(true);
    expect(await page.getByTestId('clock-card').textContent()).toContain('Not supported by daly');
    expect(await page.getByTestId('cmd-factory-reset').isDisabled()).toBe(true);

    await page.getByTestId('cmd-restart').click();
    const dialog = page.locator('dialog[open]');
    await dialog.waitFor();
    expect(await dialog.locator('h2').textContent()).toBe('Restart the BMS of Discharging pack?');
    const confirm = dialog.getByRole('button', { name: 'Restart BMS' });
    expect(await confirm.isDisabled()).toBe(true);
    await dialog.locator('input').fill('Discharging');
    expect(await confirm.isDisabled()).toBe(true);
    await dialog.locator('input').fill('Discharging pack');
    expect(await confirm.isDisabled()).toBe(false);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => page.locator('dialog[open]').count()).toBe(0);
    expect((await commands(context.request, DSG)).some((c) => c.action === 'pack.restart')).toBe(
      false,
    );

    // JK: MOS switching only.
    await page.goto(packUrl(DEMO.jk, 'control'));
    await page.getByTestId('soc-card').waitFor();
    expect(await page.getByTestId('soc-set').isDisabled()).toBe(true);
    expect(await page.getByTestId('soc-card').textContent()).toContain('Not supported by jk');
    expect(await page.getByTestId('cmd-restart').isDisabled()).toBe(true);
    expect(await page.getByTestId('mos-charge-toggle').isDisabled()).toBe(false);
    // Pylontech: none of it.
    await page.goto(packUrl(DEMO.pylon, 'control'));
    await page.getByTestId('mos-card').waitFor();
    expect(await page.getByTestId('mos-charge-toggle').isDisabled()).toBe(true);
    expect(await page.getByTestId('mos-card').textContent()).toContain(
      'Not supported by pylontech',
    );
    expect(unexpected(errors)).toEqual([]);
    await context.close();
  });
});

describe('the Records tab', () => {
  it('says plainly that the family does not expose on-board records', async () => {
    const { page, context, errors } = await openPage(browser, server.url);
    const api = await context.request.get(`/api/v1/packs/${encodeURIComponent(DEMO.jk)}/records`);
    expect(api.status()).toBe(501);
    expect(await api.json()).toMatchObject({ code: 'CAPABILITY_MISSING' });
    await page.goto(packUrl(DEMO.jk, 'records'));
    await page.getByTestId('records-unsupported').waitFor();
    expect(await page.getByTestId('records-unsupported').textContent()).toBe(
      'This BMS family (jk) does not expose on-board records over its protocol.',
    );
    expect(await page.getByTestId('records-tab').getByRole('button').count()).toBe(0);
    expect(unexpected(errors)).toEqual([]);
    await context.close();
  });
});
