/**
 * Accounts in the browser (issue 14, seed 000 "Registration & Login", seed 003 "Mine"):
 * sign up with the code mailed to the address, log in by e-mail and see My account; reset
 * the password by mailed code; a dealer's manager creates an organisation and changes a
 * member's role.
 *
 * The server runs in this process (the real Fastify app over a real SQLite store, serving the
 * built console) with `accounts.signup` on, its codes mailed by the production mailer
 * (nodemailer) to a real SMTP server (smtp-server) that the test reads them from.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Gateway, validateConfig } from '@openbms/gateway';
import { accountMailer, buildServer, hashPassword, type AccountMailer } from '@openbms/server';
import { codeIn, smtpServer } from '@openbms/server/testing';
import { openSqliteStorage } from '@openbms/storage-sqlite';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, openPage } from './harness';

const ORIGIN = { orgId: '01JD00000000000000000000RG', gatewayId: '01JD000000000000000000GW01' };
const COST = { N: 1024, r: 8, p: 1 };
const WEB_ROOT = fileURLToPath(new URL('../dist', import.meta.url));
const T0 = Date.UTC(2026, 0, 1);

let app: Awaited<ReturnType<typeof buildServer>>;
let gateway: Gateway;
let storage: Awaited<ReturnType<typeof openSqliteStorage>>;
let smtp: Awaited<ReturnType<typeof smtpServer>>;
let mailer: AccountMailer;
let dir: string;
let browser: Browser;
let url: string;
let dealer: { id: string; code: string };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'openbms-e2e-account-'));
  storage = await openSqliteStorage({ dataDir: dir, identity: ORIGIN });
  smtp = await smtpServer();
  mailer = accountMailer({
    host: '127.0.0.1',
    port: smtp.port,
    secure: false,
    starttls: false,
    from: 'OpenBMS <bms@example.com>',
    insecure: false,
    timeout_s: 10,
  });
  // A fleet: platform → dealer, whose manager is mia (name@CODE login).
  const platform = await storage.orgs.createRoot({
    kind: 'platform',
    name: 'Platform',
    createdAt: T0,
  });
  dealer = await storage.orgs.create([platform.id], {
    parentId: platform.id,
    kind: 'dealer',
    name: 'North Dealer',
    createdAt: T0,
  });
  const mia = await storage.users.create(
    { orgId: dealer.id, gatewayId: ORIGIN.gatewayId },
    { username: 'mia', role: 'admin', createdAt: T0 },
    await hashPassword('mia-password-1', COST),
  );
  await storage.orgs.setRole([dealer.id], dealer.id, mia.id, 'manager');
  gateway = new Gateway({ config: validateConfig({ version: 1 }), storage });
  app = await buildServer({
    storage,
    identity: ORIGIN,
    gateway,
    passwordCost: COST,
    webRoot: WEB_ROOT,
    captcha: { mode: 'off' },
    signup: {
      signup: true,
      send: mailer.send,
      terms: { service: 'Use the batteries kindly.', privacy: 'We keep your e-mail address.' },
    },
  });
  await gateway.start();
  url = await app.listen({ host: '127.0.0.1', port: 0 });
  const setup = await fetch(`${url}/api/v1/setup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'owner', password: 'owner-password-1' }),
  });
  expect(setup.status).toBe(201);
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await gateway?.stop();
  mailer?.close();
  await smtp?.close();
  await storage?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function logIn(page: Page, username: string, password: string): Promise<void> {
  await page.getByLabel('User name or e-mail').fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/login')),
    page.getByRole('button', { name: 'Log in' }).click(),
  ]);
  expect(res.status()).toBe(200);
  // In the phone's layout the button is in the closed menu: there, not visible.
  await page.getByTestId('logout').waitFor({ state: 'attached' });
}

describe('accounts in the browser', () => {
  it('signs up with the mailed code, logs in by e-mail and shows my account', async () => {
    const { page, context, errors } = await openPage(browser, url, { login: false });
    page.setDefaultTimeout(10_000);
    await page.goto('/');
    await page.getByTestId('signup-link').click();
    await page.getByRole('heading', { name: 'Sign up' }).waitFor();

    await page.getByLabel('E-mail', { exact: true }).fill('Ann@Example.com');
    await page.getByTestId('send-code').click();
    await page.getByText('A 6-digit code is on its way to Ann@Example.com').waitFor();
    // The button counts down before another code may be asked for.
    await expect
      .poll(() => page.getByTestId('send-code').textContent())
      .toMatch(/Send again in \d+ s/);
    expect(await page.getByTestId('send-code').isDisabled()).toBe(true);
    const code = codeIn(await smtp.next('ann@example.com'));

    await page.getByLabel('Code from the e-mail').fill(code);
    await page.getByLabel('User name', { exact: true }).fill('ann');
    await page.getByLabel('Password', { exact: true }).fill('ann-password-1');
    await page.getByLabel('Repeat the password').fill('ann-password-1');
    await page.getByLabel('Time zone').fill('Europe/Berlin');
    await page.getByLabel('Organisation code').fill('ZZZZZZ');
    // The terms open in a dialog with the server's text.
    await page.getByRole('button', { name: 'Privacy terms' }).click();
    await page
      .getByTestId('terms-text')
      .filter({ hasText: 'We keep your e-mail address.' })
      .waitFor();
    await page.getByRole('button', { name: 'Close' }).click();
    await page.getByRole('checkbox').check();
    // An unknown organisation code: the server's refusal shows at that field.
    await page.getByTestId('signup-submit').click();
    await page
      .getByTestId('org_code-error')
      .filter({ hasText: 'org_code names no organisation' })
      .waitFor();
    await page.getByLabel('Organisation code').fill(dealer.code.toLowerCase());
    await page.getByTestId('signup-submit').click();

    // Back at the login, told the login name.
    await page.getByText(`Account made. Log in as ann@${dealer.code}`).waitFor();
    await logIn(page, 'ann@example.com', 'ann-password-1');
    await page.getByRole('link', { name: 'ann' }).click();
    await page
      .getByTestId('login-name')
      .filter({ hasText: `ann@${dealer.code}` })
      .waitFor();
    expect(await page.getByTestId('current-email').textContent()).toBe('ann@example.com');
    expect(await page.getByLabel('Time zone').inputValue()).toBe('Europe/Berlin');

    // Alarm e-mails: on, from faults, clears too.
    await page.getByTestId('notify-alarms-email').check();
    await page.getByTestId('notify-min-severity').selectOption('fault');
    await page.getByTestId('notify-alarm-cleared').check();
    await page.getByTestId('notify-save').click();
    await page.getByTestId('notify').getByText('Saved.').waitFor();
    const mine = await page.evaluate(() => fetch('/api/v1/auth/account').then((r) => r.json()));
    expect(mine.notify).toEqual({ alarms_email: true, min_severity: 'fault', alarm_cleared: true });

    // The profile: phone and language (the console switches to it).
    await page.getByLabel('Phone (optional)').fill('+49 30 1234567');
    await page.getByTestId('profile-language').selectOption('zh');
    await page.getByTestId('profile-save').click();
    await page.getByRole('heading', { name: '我的账户' }).waitFor();
    const account = await page.evaluate(() => fetch('/api/v1/auth/account').then((r) => r.json()));
    expect(account).toMatchObject({ phone: '+49 30 1234567', language: 'zh', role: 'viewer' });
    if (process.env.OPENBMS_E2E_SHOTS)
      await page.screenshot({
        path: `${process.env.OPENBMS_E2E_SHOTS}/account.png`,
        fullPage: true,
      });
    expect(errors).toEqual([]);
    await context.close();
  });

  it('resets the password by mailed code (on a phone)', async () => {
    const { page, context, errors } = await openPage(browser, url, {
      login: false,
      width: 390,
      height: 844,
    });
    page.setDefaultTimeout(10_000);
    await page.goto('/signup');
    await page.getByTestId('signup').waitFor();
    // Nothing wider than the phone's screen (the code button wraps under the address).
    const fits = () =>
      page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
    expect(await fits()).toBe(true);
    if (process.env.OPENBMS_E2E_SHOTS)
      await page.screenshot({
        path: `${process.env.OPENBMS_E2E_SHOTS}/signup-phone.png`,
        fullPage: true,
      });
    await page.getByRole('link', { name: 'Back to the login' }).click();
    await page.getByTestId('reset-link').click();
    expect(await fits()).toBe(true);
    await page.getByLabel('E-mail', { exact: true }).fill('ann@example.com');
    await page.getByTestId('send-code').click();
    const code = codeIn(await smtp.next('ann@example.com'));
    await page.getByLabel('Code from the e-mail').fill(code === '000000' ? '111111' : '000000');
    await page.getByLabel('New password').fill('ann-password-2');
    await page.getByLabel('Repeat the password').fill('ann-password-2');
    await page.getByTestId('reset-submit').click();
    await page.getByTestId('code-error').filter({ hasText: 'the code is wrong' }).waitFor();
    await page.getByLabel('Code from the e-mail').fill(code);
    await page.getByTestId('reset-submit').click();
    await page.getByText('Password set. Log in with it.').waitFor();
    await logIn(page, `ann@${dealer.code}`, 'ann-password-2');
    expect(errors).toEqual([]);
    await context.close();
  });

  it("a dealer's manager creates an organisation and changes a member's role", async () => {
    const { page, context, errors } = await openPage(browser, url, { login: false });
    page.setDefaultTimeout(10_000);
    await page.goto('/');
    await logIn(page, `mia@${dealer.code}`, 'mia-password-1');
    await page.getByRole('link', { name: 'Organisations' }).click();
    await page.getByTestId(`org-${dealer.code}`).waitFor();

    await page.getByTestId('create-org').getByLabel('Under').selectOption(dealer.id);
    await page.getByLabel('Name', { exact: true }).fill('Lakeside Installer');
    await page.getByLabel('Kind').selectOption('installer');
    await page.getByTestId('create-org-submit').click();
    const created = (await page.getByTestId('org-created').textContent()) ?? '';
    const code = /code ([0-9A-Z]{6})/.exec(created)?.[1] ?? '';
    expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{6}$/);
    const row = page.getByTestId(`org-${code}`);
    await row.waitFor();
    if (process.env.OPENBMS_E2E_SHOTS)
      await page.screenshot({ path: `${process.env.OPENBMS_E2E_SHOTS}/orgs.png`, fullPage: true });
    expect(await row.textContent()).toContain('Installer');
    const made = await storage.orgs.byCode(code);
    expect(made).toMatchObject({
      name: 'Lakeside Installer',
      kind: 'installer',
      parentId: dealer.id,
    });

    // A customer account in one step (seed 002 §7.5): the customer logs in with what is shown.
    const customer = page.getByTestId('create-customer');
    await customer.getByLabel('Under').selectOption(dealer.id);
    await customer.getByLabel('Customer name').fill('Quay Bakery');
    await customer.getByLabel('Login name').fill('quay');
    await customer.getByLabel('Password').fill('quay-password-1');
    await customer.getByLabel('Phone (optional)').fill('+44 1632 960000');
    await page.getByTestId('create-customer-submit').click();
    const shown = (await page.getByTestId('customer-created').textContent()) ?? '';
    const login = /log in as (quay@[0-9A-Z]{6})/.exec(shown)?.[1] ?? '';
    expect(login).not.toBe('');
    const bakery = await storage.orgs.byCode(login.slice(5));
    expect(bakery).toMatchObject({ name: 'Quay Bakery', kind: 'customer', parentId: dealer.id });
    const quay = await storage.orgs.members([bakery!.id], bakery!.id);
    expect(quay).toMatchObject([{ username: 'quay', role: 'end_user' }]);

    // The dealer's members: ann (signed up with its code) is an end user; mia makes her O&M.
    await page.getByRole('link', { name: 'North Dealer' }).click();
    await page.getByTestId('member-ann').waitFor();
    if (process.env.OPENBMS_E2E_SHOTS)
      await page.screenshot({
        path: `${process.env.OPENBMS_E2E_SHOTS}/members.png`,
        fullPage: true,
      });
    await page.getByTestId('role-ann').selectOption('om_user');
    await page.getByTestId('members-notice').filter({ hasText: 'ann is now O&M User' }).waitFor();
    const members = await storage.orgs.members([dealer.id], dealer.id);
    expect(members.find((m) => m.username === 'ann')?.role).toBe('om_user');
    // A member who does not exist: the server's refusal names the field.
    await page.getByLabel('User name, name@CODE or e-mail').fill(`nobody@${dealer.code}`);
    await page.getByTestId('add-member-submit').click();
    await page.getByRole('alert').first().waitFor();
    expect(errors).toEqual([]);
    await context.close();
  });
});
