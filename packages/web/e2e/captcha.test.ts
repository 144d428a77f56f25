/**
 * The login's captcha in the browser (accounts.captcha: after_failures, 3): the login page
 * shows no image at first; after three wrong passwords it shows the image, an answer field
 * and a refresh button; a wrong answer is refused and replaced by a new image; the right
 * answer of the image shown (any case) with the right password logs in.
 *
 * The server runs in this process (the real Fastify app over a real SQLite store, serving the
 * built console), not as `openbms start`: the test reads each challenge's answer through the
 * server's `revealAnswerForTests` option, an in-process hook of buildServer that only a test
 * can pass (no config key, environment variable or request reaches it; see captcha.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Gateway, validateConfig } from '@openbms/gateway';
import { buildServer } from '@openbms/server';
import { openSqliteStorage } from '@openbms/storage-sqlite';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, openPage } from './harness';

/** The store's and the server's identity (fixed ids: failures read the same every run). */
const ORIGIN = { orgId: '01JD00000000000000000000RG', gatewayId: '01JD000000000000000000GW01' };
/** A cheap scrypt cost: the test is about the captcha, not the hash. */
const COST = { N: 1024, r: 8, p: 1 };
const WEB_ROOT = fileURLToPath(new URL('../dist', import.meta.url));
/** This file's port (the e2e tests of this slice use 18451-18459). */
const PORT = Number(process.env.OPENBMS_E2E_CAPTCHA_PORT ?? 18451);

let app: Awaited<ReturnType<typeof buildServer>>;
let gateway: Gateway;
let storage: Awaited<ReturnType<typeof openSqliteStorage>>;
let dir: string;
let browser: Browser;
let url: string;
/** Every challenge issued, in order: [id, answer]. */
const issued: [string, string][] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'openbms-e2e-captcha-'));
  storage = await openSqliteStorage({ dataDir: dir, identity: ORIGIN });
  // The real gateway with no buses: the login is the subject, not the packs.
  gateway = new Gateway({ config: validateConfig({ version: 1 }), storage });
  app = await buildServer({
    storage,
    identity: ORIGIN,
    gateway,
    passwordCost: COST,
    webRoot: WEB_ROOT,
    captcha: {
      mode: 'after_failures',
      after: 3,
      revealAnswerForTests: (id, answer) => void issued.push([id, answer]),
    },
  });
  await gateway.start();
  await app.listen({ host: '127.0.0.1', port: PORT });
  url = `http://127.0.0.1:${PORT}`;
  const setup = await fetch(`${url}/api/v1/setup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'owner', password: 'right-password-1' }),
  });
  expect(setup.status).toBe(201);
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await gateway?.stop();
  await storage?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Submits the form and waits for the login's answer; returns its status. */
async function submit(page: Page): Promise<number> {
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/login')),
    page.getByRole('button', { name: 'Log in' }).click(),
  ]);
  return res.status();
}

/** Waits for the image of challenge number `n` (1-based) and returns its answer. */
async function shownAnswer(page: Page, n: number): Promise<string> {
  const img = page.getByRole('img', { name: 'Captcha: type the characters shown' });
  await img.waitFor();
  await expect.poll(() => issued.length).toBe(n);
  const [, answer] = issued[n - 1] ?? ['', ''];
  // The image on the page is that challenge's (its SVG is in the data URL).
  const src = (await img.getAttribute('src')) ?? '';
  expect(src.startsWith('data:image/svg+xml')).toBe(true);
  return answer;
}

describe('login captcha (after 3 failures)', () => {
  it('shows the image after three wrong passwords; a wrong answer is refused, the right one logs in', async () => {
    const { page, context, errors } = await openPage(browser, url, { login: false });
    await page.goto('/');
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    const image = page.getByRole('img', { name: 'Captcha: type the characters shown' });
    expect(await image.count()).toBe(0);

    await page.getByLabel('User name').fill('owner');
    for (let i = 1; i <= 3; i++) {
      await page.getByLabel('Password').fill(`wrong-password-${i}`);
      expect(await submit(page)).toBe(401);
      await page.getByRole('alert').first().waitFor();
      if (i < 3) expect(await image.count()).toBe(0);
    }
    const first = await shownAnswer(page, 1);

    // Another image: a new challenge replaces the shown one.
    await page.getByRole('button', { name: 'Another image' }).click();
    const second = await shownAnswer(page, 2);
    expect(issued[1]?.[0]).not.toBe(issued[0]?.[0]);

    // A wrong answer with the right password is refused and a new image is shown.
    await page.getByLabel('Password').fill('right-password-1');
    await page.getByLabel('Characters in the image').fill(second === 'AAAA' ? 'CCCC' : 'AAAA');
    expect(await submit(page)).toBe(401);
    await page.getByRole('alert').filter({ hasText: 'captcha: wrong answer' }).waitFor();
    const third = await shownAnswer(page, 3);
    expect(first.length).toBe(4);

    // The right answer, typed in lower case, logs in.
    await page.getByLabel('Characters in the image').fill(third.toLowerCase());
    expect(await submit(page)).toBe(200);
    await page.getByTestId('logout').waitFor();
    expect(errors).toEqual([]);
    await context.close();
  });
});
