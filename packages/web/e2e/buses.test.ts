/**
 * The Buses page against a real `openbms start` and a simulated USB adapter: `openbms sim`
 * serving two Pylontech packs on a socat pseudo-terminal. The first visit after creating
 * the admin offers the demo or "Add my battery"; the page scans the pty (the packs that
 * answered, with 16 cells), a test read shows the cells, and saving starts polling them
 * without a restart. The scan's progress comes pushed on the live socket (the page never
 * reads it over HTTP while the socket is up). Parity and stop bits are offered only for a
 * family that allows them (generic Modbus RTU), sent with the scan, saved and shown.
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
    const scanReads: string[] = [];
    page.on('request', (r) => {
      if (r.method() === 'GET' && r.url().includes('/api/v1/setup/scans/')) scanReads.push(r.url());
    });
    // Pylontech's line is fixed: no parity or stop bits to choose.
    expect(await page.getByTestId('bus-line-hint').textContent()).toBe(
      'Line: 8N1, fixed by this protocol.',
    );
    expect(await page.getByTestId('bus-parity').count()).toBe(0);
    await page.getByTestId('bus-scan').click();
    const progress = page.getByTestId('scan-progress');
    await expect.poll(() => progress.getAttribute('data-state'), { timeout: 20_000 }).toBe('done');
    const found = page.getByTestId('found-pack');
    expect(await found.count()).toBe(2);
    expect(await found.first().getByTestId('found-cells').textContent()).toBe('16');
    expect(scanReads).toEqual([]); // pushed, not polled

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

  it('offers parity and stop bits for Modbus RTU only, sends them with the scan, shows a saved bus line', async () => {
    const { page, context, errors } = await openPage(browser, server.url, { login: false });
    const login = await context.request.post('/api/v1/auth/login', {
      data: { username: 'owner', password: 'owner-password-1' },
    });
    expect(login.ok()).toBe(true);
    // A Modbus RTU meter bus saved through the API (nothing answers at this address).
    const put = await context.request.put('/api/v1/setup/sites/home/buses/meter', {
      data: {
        bus: {
          port: 'tcp://127.0.0.1:18439',
          protocol: 'modbus-rtu',
          baud: 19200,
          parity: 'even',
          stop_bits: 2,
          packs: [{ address: 1, name: 'Meter' }],
        },
      },
    });
    expect(put.status(), await put.text()).toBe(200);
    await page.goto('/buses');
    const row = page.locator('[data-testid="bus-row"][data-bus="home/meter"]');
    await row.waitFor();
    expect(await row.getByTestId('bus-line').textContent()).toBe('19200 8E2');
    expect(
      await page
        .locator('[data-testid="bus-row"][data-bus="home/rs485"]')
        .getByTestId('bus-line')
        .textContent(),
    ).toBe('115200 8N1');

    // Editing fills the form with the saved line.
    await row.getByRole('button', { name: 'Edit' }).click();
    expect(await page.getByTestId('bus-protocol').inputValue()).toBe('modbus-rtu');
    expect(await page.getByTestId('bus-parity').inputValue()).toBe('even');
    expect(await page.getByTestId('bus-stop-bits').inputValue()).toBe('2');
    expect(await page.getByTestId('bus-line-hint').textContent()).toContain('8E2');

    // Another family: its fixed line, no choice; back to Modbus RTU, choose 8O1 and scan.
    await page.getByTestId('bus-protocol').selectOption('pace');
    expect(await page.getByTestId('bus-parity').count()).toBe(0);
    expect(await page.getByTestId('bus-line-hint').textContent()).toBe(
      'Line: 8N1, fixed by this protocol.',
    );
    await page.getByTestId('bus-protocol').selectOption('modbus-rtu');
    expect(await page.getByTestId('bus-parity').inputValue()).toBe(''); // the protocol's own
    await page.getByTestId('bus-parity').selectOption('odd');
    await page.getByTestId('bus-stop-bits').selectOption('1');
    await page.getByTestId('bus-port').fill('tcp://127.0.0.1:18438');
    const [req] = await Promise.all([
      page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith('/api/v1/setup/scans')),
      page.getByTestId('bus-scan').click(),
    ]);
    expect(req.postDataJSON()).toEqual({
      port: 'tcp://127.0.0.1:18438',
      protocol: 'modbus-rtu',
      baud: 19200,
      parity: 'odd',
      stop_bits: 1,
    });
    await page.getByRole('alert').waitFor(); // nothing listens there: the scan cannot open it

    // In Chinese.
    await page.evaluate(() => localStorage.setItem('openbms.lang', 'zh'));
    await page.reload();
    await page.getByTestId('bus-protocol').selectOption('modbus-rtu');
    expect(await page.getByText('校验位', { exact: true }).count()).toBe(1);
    expect(await page.getByText('停止位', { exact: true }).count()).toBe(1);
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);
});
