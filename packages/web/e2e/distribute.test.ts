/**
 * Distribute (seed 003) in the Settings tab against a real `openbms start` on the simulator:
 * three JBD packs (one link each). A value edited on the first pack is sent to the two others
 * chosen in the Distribute card: each answers with its own result, the devices hold the value
 * read back through the API, and the audit lists a write per pack.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { APIRequestContext, Browser } from 'playwright-core';
import { launchBrowser, openPage, packUrl, startConsole, type Console } from './harness';

const bus = (n: number): string => `
      - id: j${n}
        port: sim
        protocol: jbd
        poll_interval_s: 1
        simulator: { profile: idle, speed: 1, seed: ${n} }
        packs:
          - { address: 0, name: E-bike ${n} }`;
const CONFIG = `version: 1
sites:
  - id: fleet
    buses:${bus(1)}${bus(2)}${bus(3)}
`;
const PACKS = ['fleet/j1/0', 'fleet/j2/0', 'fleet/j3/0'];

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

async function valueOf(req: APIRequestContext, id: string, param: string): Promise<number> {
  const r = await req.get(`/api/v1/packs/${enc(id)}/parameters`);
  if (!r.ok()) throw new Error(`GET parameters of ${id}: ${r.status()} ${await r.text()}`);
  return ((await r.json()) as { values: Record<string, number> }).values[param]!;
}

describe('Distribute', () => {
  it('sends the edited value to the chosen packs of the family, with a result per pack', async () => {
    const { page, context, errors } = await openPage(browser, server.url);
    const before = await Promise.all(
      PACKS.map((p) => valueOf(context.request, p, 'cell_ov_l2_mv')),
    );
    const want = before[1]! - 20;
    expect(before[2]).not.toBe(want);

    await page.goto(packUrl(PACKS[0]!, 'settings'));
    await page.getByTestId('params-read').click();
    // A JBD read enters factory mode and reads the EEPROM register by register: seconds.
    await expect
      .poll(() => page.getByTestId('params-read-at').textContent(), { timeout: 30_000 })
      .toMatch(/^Read \d/);
    await page.getByTestId('param-cell_ov_l2_mv').locator('input[type="text"]').fill(String(want));
    await page.getByTestId('params-distribute-open').click();
    const card = page.getByTestId('params-distribute');
    await card.waitFor();
    expect(await card.getByTestId('distribute-values').textContent()).toContain(String(want));
    // The other packs of the family are offered, not the pack itself.
    await card.getByTestId(`distribute-pack-${PACKS[1]}`).waitFor();
    expect(await card.getByTestId(`distribute-pack-${PACKS[0]}`).count()).toBe(0);
    expect(await card.getByTestId('distribute-send').isDisabled()).toBe(true);
    await card.getByTestId(`distribute-pack-${PACKS[1]}`).check();
    await card.getByTestId(`distribute-pack-${PACKS[2]}`).check();
    await card.getByTestId('distribute-send').click();
    const dialog = page.locator('dialog[open]');
    await dialog.waitFor();
    expect(await dialog.locator('h2').textContent()).toBe('Write these values to 2 pack(s)?');
    await dialog.getByRole('button', { name: 'Distribute' }).click();

    const table = card.getByTestId('distribute-results');
    await table.waitFor({ timeout: 30_000 });
    for (const id of PACKS.slice(1))
      expect(await table.getByTestId(`distribute-result-${id}`).textContent()).toContain('Done');
    expect(await valueOf(context.request, PACKS[1]!, 'cell_ov_l2_mv')).toBe(want);
    expect(await valueOf(context.request, PACKS[2]!, 'cell_ov_l2_mv')).toBe(want);
    // The pack the values were edited on is not written by Distribute.
    expect(await valueOf(context.request, PACKS[0]!, 'cell_ov_l2_mv')).toBe(before[0]);
    const audit = (await (await context.request.get('/api/v1/audit?limit=100')).json()) as {
      action: string;
      pack_id?: string;
    }[];
    const writes = audit.filter((e) => e.action === 'parameter.write').map((e) => e.pack_id);
    expect(writes).toEqual(expect.arrayContaining(PACKS.slice(1)));
    expect(errors).toEqual([]);
    await context.close();
  });
});
