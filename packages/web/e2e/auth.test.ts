// Onboarding (first admin), login, logout, change password; language and theme remembered.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchBrowser, openPage, startConsole, type Console } from './harness';

let server: Console;
let browser: Browser;

beforeAll(async () => {
  [server, browser] = await Promise.all([startConsole({ admin: false }), launchBrowser()]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('first run, login and account', () => {
  it('creates the first admin in the browser, then logs in, changes the password, logs out', async () => {
    const { page, context, errors } = await openPage(browser, server.url, { login: false });
    await page.goto('/');
    await page.getByRole('heading', { name: 'Create the administrator' }).waitFor();

    // Too short and mismatched passwords are refused before anything is sent.
    await page.getByLabel('User name').fill('owner');
    await page.getByLabel('Password', { exact: true }).fill('short');
    await page.getByLabel('Repeat the password').fill('short');
    await page.getByRole('button', { name: 'Create administrator' }).click();
    await page.getByRole('alert').filter({ hasText: 'At least 8 characters' }).waitFor();
    expect((await (await fetch(`${server.url}/api/v1/setup`)).json()).needs_setup).toBe(true);

    await page.getByLabel('Password', { exact: true }).fill('first-password-1');
    await page.getByLabel('Repeat the password').fill('first-password-1');
    await page.getByRole('button', { name: 'Create administrator' }).click();
    await page.getByText('Administrator created').waitFor();
    expect((await (await fetch(`${server.url}/api/v1/setup`)).json()).needs_setup).toBe(false);

    // A wrong password shows the server's reason; the right one opens the overview.
    await page.getByLabel('User name').fill('owner');
    await page.getByLabel('Password').fill('wrong-password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').waitFor();
    await page.getByLabel('Password').fill('first-password-1');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByTestId('logout').waitFor();

    // Change the password from the account page; the new one works, the old one not.
    await page.getByRole('link', { name: 'owner' }).click();
    await page.getByLabel('Current password').fill('first-password-1');
    await page.getByLabel('New password').fill('second-password-2');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('Password changed.').waitFor();
    const login = (password: string) =>
      fetch(`${server.url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'owner', password }),
      }).then((r) => r.status);
    expect(await login('first-password-1')).toBe(401);
    expect(await login('second-password-2')).toBe(200);

    await page.getByTestId('logout').click();
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    const me = await context.request.get('/api/v1/auth/me');
    expect(me.status()).toBe(401);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('remembers the language and the theme across reloads', async () => {
    const { page, context, errors, http } = await openPage(browser, server.url, {
      login: false,
    });
    await page.goto('/');
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    await page.getByTestId('language').selectOption('zh');
    await page.getByRole('heading', { name: '登录' }).waitFor();
    await page.getByTestId('theme').selectOption('dark');
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    await page.reload();
    await page.getByRole('heading', { name: '登录' }).waitFor();
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('zh-CN');
    expect(errors).toEqual([]);
    expect(http).toEqual([]); // logged out is not an error: no 401 on the way to the login page
    await context.close();
  });
});
