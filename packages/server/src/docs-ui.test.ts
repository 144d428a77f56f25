/**
 * The API documentation page in a real browser (Debian's chromium through playwright-core):
 * Swagger UI loads from this server alone (no request leaves the origin: no CDN, no public
 * validator), renders every operation of the document under the server's CSP (no violation,
 * no script error).
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startHarness, type Harness } from './testing/harness.js';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);

let h: Harness;
let browser: Browser | undefined;
beforeAll(async () => {
  h = await startHarness();
  if (hasChromium) {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  }
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await h?.close();
});

it.skipIf(!hasChromium)(
  hasChromium
    ? 'Swagger UI renders every operation from this server only, with no CSP violation or script error'
    : 'SKIPPED, chromium is not installed (apt-get install chromium)',
  async () => {
    const doc = (await h.call('GET', '/api/docs/openapi.json')).body as {
      paths: Record<string, Record<string, unknown>>;
    };
    const operations = Object.values(doc.paths).reduce((n, ops) => n + Object.keys(ops).length, 0);
    const page = await browser!.newPage();
    const problems: string[] = [];
    const foreign: string[] = [];
    const origin = new URL(h.url).origin;
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('request', (r) => {
      const u = r.url();
      if (!u.startsWith(origin) && !u.startsWith('data:')) foreign.push(u);
    });
    await page.goto(`${h.url}/api/docs/`);
    await expect.poll(() => page.locator('.opblock').count(), { timeout: 30_000 }).toBe(operations);
    const shown = await page.locator('.opblock').count();
    expect(shown).toBe(operations);
    await expect(page.locator('.info .title').first().textContent()).resolves.toContain(
      'OpenBMS API',
    );
    expect(foreign).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  },
  60_000,
);
