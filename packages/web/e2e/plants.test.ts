/**
 * Plants and point groups in the browser (issue 14, seed 000 "Create Plant", "Plant
 * Visitor", "Set of points"): the box's manager creates a plant, attaches the box's gateway
 * and shares the plant by e-mail; the visitor logs in (on a phone) and sees that plant alone,
 * read-only, with its battery. The manager removes `cycles` for end users, after a refusal
 * naming the field, and an end user's pack page stops showing it.
 *
 * The server runs in this process (the real Fastify app, a real SQLite store and a gateway
 * polling a simulated JK pack), serving the built console.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Gateway, validateConfig, withSimulatedBuses } from '@openbms/gateway';
import { buildServer, hashPassword } from '@openbms/server';
import { createSimulation, serveTcp } from '@openbms/simulator';
import { openSqliteStorage } from '@openbms/storage-sqlite';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, openPage, packUrl } from './harness';

const ORIGIN = { orgId: '01JD00000000000000000000PL', gatewayId: '01JD000000000000000000GWPL' };
const COST = { N: 1024, r: 8, p: 1 };
const WEB_ROOT = fileURLToPath(new URL('../dist', import.meta.url));
const T0 = Date.UTC(2026, 0, 1);
const PACK = 'lab/jk/1';

let app: Awaited<ReturnType<typeof buildServer>>;
let gateway: Gateway;
let storage: Awaited<ReturnType<typeof openSqliteStorage>>;
let dir: string;
let browser: Browser;
let url: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'openbms-e2e-plants-'));
  storage = await openSqliteStorage({ dataDir: dir, identity: ORIGIN });
  gateway = new Gateway({
    config: validateConfig({
      version: 1,
      sites: [
        {
          id: 'lab',
          name: 'Lab',
          buses: [
            {
              id: 'jk',
              port: 'sim',
              protocol: 'jk',
              poll_interval_s: 1,
              simulator: { cells: 4, seed: 8, soc_pct: 80 },
              packs: [{ address: 1, name: 'Small JK' }],
            },
          ],
        },
      ],
    }),
    storage,
    // `port: sim` served as `openbms start` serves it: the simulator on a local TCP port.
    busFactory: withSimulatedBuses(async (plan) => {
      const simulation = createSimulation(plan);
      const listening = await serveTcp(simulation.bus);
      return {
        endpoint: listening.endpoint,
        answering: simulation.packs.map((p) => p.address),
        clock: simulation.clock,
        close: () => listening.close(),
      };
    }),
  });
  app = await buildServer({
    storage,
    identity: ORIGIN,
    gateway,
    passwordCost: COST,
    webRoot: WEB_ROOT,
    captcha: { mode: 'off' },
  });
  await gateway.start();
  url = await app.listen({ host: '127.0.0.1', port: 0 });
  // The box's first admin: the manager of its organisation.
  const setup = await fetch(`${url}/api/v1/setup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'owner', password: 'owner-password-1' }),
  });
  expect(setup.status).toBe(201);
  // Vera belongs to another customer altogether; Eli is an end user of the box's organisation.
  const elsewhere = await storage.orgs.createRoot({
    kind: 'customer',
    name: 'Elsewhere',
    createdAt: T0,
  });
  const vera = await storage.users.create(
    { orgId: elsewhere.id, gatewayId: ORIGIN.gatewayId },
    { username: 'vera', role: 'viewer', createdAt: T0 },
    await hashPassword('vera-password-1', COST),
  );
  await storage.accounts.setProfile(vera.id, { email: 'vera@example.com' });
  const eli = await storage.users.create(
    ORIGIN,
    { username: 'eli', role: 'viewer', createdAt: T0 + 1 },
    await hashPassword('eli-password-1', COST),
  );
  await storage.orgs.setRole([ORIGIN.orgId], ORIGIN.orgId, eli.id, 'end_user');
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await gateway?.stop();
  await storage?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function logIn(page: Page, username: string, password: string): Promise<void> {
  await page.goto('/');
  await page.getByLabel('User name or e-mail').fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/login')),
    page.getByRole('button', { name: 'Log in' }).click(),
  ]);
  expect(res.status()).toBe(200);
  await page.getByTestId('logout').waitFor({ state: 'attached' });
}

const navLinks = (page: Page) => page.locator('#mainnav a').allTextContents();

describe('plants and point groups in the browser', () => {
  it('creates a plant, attaches the gateway, shares it; the visitor sees that plant alone, read-only', async () => {
    const owner = await openPage(browser, url, { login: false });
    const page = owner.page;
    page.setDefaultTimeout(10_000);
    await logIn(page, 'owner', 'owner-password-1');
    // The single box without plants keeps its menu: Plants is reached from Organisations.
    expect(await navLinks(page)).not.toContain('Plants');
    await page.goto('/orgs');
    await page.getByRole('link', { name: 'Plants' }).click();
    await page.getByTestId('plants').getByText('No plant yet.').waitFor();

    // Another plant, never shared: the visitor must not see it.
    const other = await owner.context.request.post('/api/v1/plants', {
      data: {
        org_id: ORIGIN.orgId,
        name: 'Back Office',
        business_type: 'commercial',
        plant_type: 'backup',
        time_zone: 'UTC',
      },
    });
    expect(other.status()).toBe(201);

    const form = page.getByTestId('create-plant');
    await form.getByLabel('Name').fill('Harbour Plant');
    await form.locator('select[name="business_type"]').selectOption('residential');
    await form.locator('select[name="plant_type"]').selectOption('pv_storage');
    await form.getByLabel('Latitude').fill('53.55');
    await form.getByLabel('Longitude').fill('9.99');
    await form.getByLabel('Time zone').fill('Europe/Berlin');
    await form.getByTestId('plant-submit').click();
    await page.getByTestId('plant-created').waitFor();
    await page.getByTestId('plant-Harbour Plant').waitFor();
    expect(await page.locator('table.plant-list tbody tr').count()).toBe(2);
    // Search by name narrows the list.
    await page.getByTestId('plant-search').fill('harb');
    expect(await page.locator('table.plant-list tbody tr').count()).toBe(1);
    await page.getByRole('link', { name: 'Harbour Plant' }).click();
    await page.getByTestId('plant').waitFor();
    expect(await page.getByTestId('plant-type').textContent()).toBe('PV + storage');
    // Now there is a plant: the menu lists Plants.
    await expect.poll(() => navLinks(page)).toContain('Plants');

    // Attach the box's gateway: its battery is listed under the collector's dropdown.
    const attach = page.getByTestId('attach-collector');
    await attach.getByLabel('Gateway id').fill(ORIGIN.gatewayId);
    await attach.getByLabel('Name (optional)').fill('Box gateway');
    await attach.getByTestId('attach-submit').click();
    const collector = page.getByTestId(`collector-${ORIGIN.gatewayId}`);
    await collector.locator('summary').click();
    await collector.getByRole('link', { name: 'Small JK' }).waitFor();
    // Attaching it again: the server's refusal shows under the gateway field.
    await attach.getByLabel('Gateway id').fill(ORIGIN.gatewayId);
    await attach.getByTestId('attach-submit').click();
    await attach.getByTestId('gateway_id-error').waitFor();

    // Share by e-mail: an unknown address is refused under the field, Vera's is taken.
    const share = page.getByTestId('share-plant');
    await share.getByLabel('E-mail').fill('nobody@example.com');
    await share.getByTestId('share-submit').click();
    await share.getByTestId('email-error').waitFor();
    await share.getByLabel('E-mail').fill('vera@example.com');
    await share.getByTestId('share-submit').click();
    await page.getByTestId('visitor-vera').waitFor();
    expect(owner.errors).toEqual([]);

    // Vera, on a phone: Plants is in her menu, one plant in it, read-only.
    const visitor = await openPage(browser, url, { login: false, width: 390, height: 844 });
    const v = visitor.page;
    v.setDefaultTimeout(10_000);
    await logIn(v, 'vera@example.com', 'vera-password-1');
    // The menu lists Plants once its plant list has answered (asked after the login).
    await expect.poll(() => navLinks(v)).toContain('Plants');
    await v.goto('/plants');
    await v.getByTestId('plant-Harbour Plant').waitFor();
    expect(await v.locator('table.plant-list tbody tr').count()).toBe(1);
    expect(await v.getByTestId('plant-Back Office').count()).toBe(0);
    await v.getByRole('link', { name: 'Harbour Plant' }).click();
    await v.getByTestId('plant-read-only').waitFor();
    expect(await v.getByTestId('plant').getAttribute('data-access')).toBe('visitor');
    const vc = v.getByTestId(`collector-${ORIGIN.gatewayId}`);
    await vc.locator('summary').click();
    await vc.getByRole('link', { name: 'Small JK' }).waitFor();
    for (const id of ['plant-edit', 'plant-delete', 'attach-collector', 'visitors', 'share-plant'])
      expect(await v.getByTestId(id).count(), id).toBe(0);
    expect(await vc.getByRole('button', { name: 'Detach' }).count()).toBe(0);
    // Nothing wider than the phone.
    expect(await v.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    // The other plant is not hers: the page says so (the server answers 404).
    await v.goto(`/plants/${encodeURIComponent(((await other.json()) as { id: string }).id)}`);
    await v.getByText('No such plant (or not yours to see).').waitFor();
    // Her battery opens on the pack page.
    await v.goto(packUrl(PACK));
    await v.getByTestId('status-soc').waitFor();
    expect(visitor.errors).toEqual([]);
    await owner.context.close();
    await visitor.context.close();
  }, 60_000);

  it('the manager hides cycles from end users; an end user stops seeing it, read-only groups', async () => {
    const end = await openPage(browser, url, { login: false });
    const e = end.page;
    e.setDefaultTimeout(10_000);
    await logIn(e, 'eli', 'eli-password-1');
    await e.goto(packUrl(PACK));
    await e.getByTestId('status-cycles').waitFor();

    const owner = await openPage(browser, url, { login: false });
    const page = owner.page;
    page.setDefaultTimeout(10_000);
    await logIn(page, 'owner', 'owner-password-1');
    await page.goto(`/orgs/${ORIGIN.orgId}`);
    await page.getByRole('link', { name: 'Set of points' }).click();
    const jk = page.getByTestId('group-0-model-jk');
    await jk.waitFor();
    expect(await page.getByTestId('group-0-model-jk-count').textContent()).toBe(
      'Every point shown',
    );
    // A group without roles is refused: the server names the field.
    await page.getByTestId('add-group').click();
    await page.getByTestId('save-points').click();
    const refusal = page.getByTestId('points-error');
    await refusal.waitFor();
    expect(await refusal.getAttribute('data-field')).toMatch(/^groups\.1\.roles/);
    await page.getByTestId('group-1').getByRole('button', { name: 'Remove the group' }).click();

    await page.getByTestId('group-0-model-jk-cycles').uncheck();
    expect(await page.getByTestId('group-0-model-jk-count').textContent()).toMatch(
      /^\d+ of \d+ shown$/,
    );
    await page.getByTestId('save-points').click();
    await page.getByTestId('points-notice').waitFor();
    expect(await page.getByTestId('group-0-model-jk-cycles').isChecked()).toBe(false);
    expect(owner.errors).toEqual([]);

    // Eli's pack page no longer shows cycles; the voltage stays.
    await e.reload();
    await e.getByTestId('status-voltage').waitFor();
    expect(await e.getByTestId('status-cycles').count()).toBe(0);
    // Eli reads the groups but cannot change them.
    await e.goto(`/orgs/${ORIGIN.orgId}/points`);
    await e.getByTestId('points-read-only').waitFor();
    await e.getByTestId('group-0-model-jk').waitFor();
    expect(await e.getByTestId('save-points').count()).toBe(0);
    expect(await e.getByTestId('group-0-model-jk-cycles').isDisabled()).toBe(true);
    expect(end.errors).toEqual([]);
    await owner.context.close();
    await end.context.close();
  }, 60_000);
});
