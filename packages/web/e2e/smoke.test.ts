import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { DEMO, launchBrowser, openPage, packUrl, startConsole, type Console } from './harness';

let server: Console;
let browser: Browser;

beforeAll(async () => {
  [server, browser] = await Promise.all([startConsole(), launchBrowser()]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('the console shell', () => {
  it('serves the app for client-side routes and keeps /api 404s as JSON', async () => {
    const page = await fetch(`${server.url}${packUrl(DEMO.jk, 'cells')}`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toContain('<div id="root">');
    // A missing bundle file is a 404, not the page (a stale tab must not get HTML as JS).
    expect((await fetch(`${server.url}/assets/missing-0000.js`)).status).toBe(404);
    const root = await fetch(`${server.url}/`);
    expect(root.headers.get('cache-control')).toBe('no-cache');
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(await root.text())![1]!;
    const js = await fetch(`${server.url}${asset}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('cache-control')).toContain('immutable');
    const api = await fetch(`${server.url}/api/v1/nope`);
    expect(api.status).toBe(404);
    expect(await api.json()).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('lists the demo packs live after login, with no console errors', async () => {
    const { page, context, errors } = await openPage(browser, server.url);
    await page.goto('/');
    await page.getByTestId('live-state').and(page.locator('[data-state="open"]')).waitFor();
    await page.getByRole('link', { name: 'JK pack' }).first().waitFor();
    expect(errors).toEqual([]);
    await context.close();
  });
});
