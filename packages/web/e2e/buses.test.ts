/**
 * The Buses page against a real `openbms start` and a simulated USB adapter: `openbms sim`
 * serving two Pylontech packs on a socat pseudo-terminal. The first visit after creating
 * the admin offers the demo or "Add my battery"; the page scans the pty (the packs that
 * answered, with 16 cells), a test read shows the cells, and saving starts polling them
 * without a restart.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, openPage, startConsole, type Console } from './harness';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '../../cli/bin/openbms.js');

let server: Console;
let browser: Browser;
let sim: ChildProcess;
let pty: string;

beforeAll(async () => {
  sim = spawn(process.execPath, [BIN, 'sim', '--protocol', 'pylontech', '--packs', '2', '--pty'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  for await (const line of createInterface({ input: sim.stdout! })) {
    const m = /^listening on (\S+)/.exec(line);
    if (m) {
      pty = m[1]!;
      break;
    }
  }
  [server, browser] = await Promise.all([startConsole({ admin: false }), launchBrowser()]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  if (sim && sim.exitCode === null) {
    sim.kill('SIGINT');
    await new Promise((r) => sim.once('exit', r));
  }
});

describe('the Buses page', () => {
  it('adds my battery: scan finds the packs, test read shows cells, save polls them at once', async () => {
    const { page, context, errors } = await openPage(browser, server.url, { login: false });
    await page.goto('/');
    await page.getByLabel('User name').fill('owner');
    await page.getByLabel('Password', { exact: true }).fill('owner-password-1');
    await page.getByLabel('Repeat the password').fill('owner-password-1');
    await page.getByRole('button', { name: 'Create administrator' }).click();
    await page.getByText('Administrator created').waitFor();
    await page.getByLabel('User name').fill('owner');
    await page.getByLabel('Password').fill('owner-password-1');
    await page.getByRole('button', { name: 'Log in' }).click();

    // The first visit offers the demo or my own battery.
    await page.getByTestId('welcome').waitFor();
    await page.getByTestId('welcome-mine').click();
    await page.getByTestId('buses-page').waitFor();
    expect(page.url()).toMatch(/\/buses$/);

    await page.getByTestId('bus-port').fill(pty);
    await page.getByTestId('bus-protocol').selectOption('pylontech');
    await page.getByTestId('bus-scan').click();
    const progress = page.getByTestId('scan-progress');
    await expect.poll(() => progress.getAttribute('data-state'), { timeout: 20_000 }).toBe('done');
    const found = page.getByTestId('found-pack');
    expect(await found.count()).toBe(2);
    expect(await found.first().getByTestId('found-cells').textContent()).toBe('16');

    await found.first().getByTestId('found-test').click();
    await expect.poll(() => page.getByTestId('test-cells').getAttribute('data-count')).toBe('16');

    await found.first().getByTestId('found-name').fill('Garage rack 1');
    await page.getByTestId('bus-save').click();
    await page.getByTestId('bus-notice').waitFor();

    // Polling without a restart: the new packs report snapshots through the API.
    const packs = async () =>
      (
        (await (await context.request.get('/api/v1/packs')).json()) as {
          id: string;
          name: string;
          snapshot: { cell_mv?: number[] } | null;
        }[]
      ).filter((p) => p.id.startsWith('home/rs485/'));
    await expect
      .poll(async () => (await packs()).filter((p) => p.snapshot?.cell_mv?.length === 16).length, {
        timeout: 20_000,
      })
      .toBe(2);
    expect((await packs()).map((p) => p.name)).toContain('Garage rack 1');
    await page.getByTestId('bus-row').first().waitFor();
    expect(errors).toEqual([]);
    await context.close();
  }, 90_000);
});
