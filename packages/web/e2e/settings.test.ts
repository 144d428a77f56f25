// The settings pages against a real `openbms start`, the real Mosquitto on 127.0.0.1:1883
// and a real HTTP receiver: MQTT test / save / refusal, users and roles, API tokens, and
// a webhook channel whose test message arrives and shows in the delivery log.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mqttConfigSchema } from '@openbms/contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext } from 'playwright-core';
import { ADMIN, launchBrowser, openPage, startConsole, type Console } from './harness';

let server: Console;
let browser: Browser;

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}
let receiver: Server;
let receiverPort = 0;
const received: Received[] = [];
let waiters: (() => void)[] = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      for (const w of waiters) w();
      waiters = [];
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverPort = (receiver.address() as AddressInfo).port;
  [server, browser] = await Promise.all([startConsole(), launchBrowser()]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await new Promise((r) => receiver?.close(r));
});

/** Resolves with the first request the receiver got that matches, within a deadline. */
function receivedMatching(f: (r: Received) => boolean, ms = 10_000): Promise<Received> {
  return new Promise((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error('the receiver got no such request')), ms);
    const check = (): void => {
      const hit = received.find(f);
      if (hit) {
        clearTimeout(deadline);
        resolve(hit);
      } else waiters.push(check);
    };
    check();
  });
}

async function settings(context: BrowserContext): Promise<Record<string, unknown>> {
  const r = await context.request.get('/api/v1/settings');
  expect(r.status()).toBe(200);
  return (await r.json()) as Record<string, unknown>;
}

/** A page on the console; locators give up after 10 s so a failure names its step. */
async function open(opts: { login?: boolean } = {}) {
  const o = await openPage(browser, server.url, opts);
  o.page.setDefaultTimeout(10_000);
  return o;
}

const sectionsOf = (s: Record<string, unknown>) => s.sections as Record<string, unknown>;

describe('MQTT settings', () => {
  it('tests the broker with the form values: ok with a round trip, a closed port in words', async () => {
    const { page, context, errors } = await open();
    await page.goto('/settings/mqtt');
    const url = page.getByLabel('Broker URL');
    await url.fill('mqtt://127.0.0.1:1883');
    await page.getByTestId('test').click();
    const result = page.getByTestId('test-result');
    await expect.poll(() => result.getAttribute('data-ok')).toBe('true');
    await expect(result.getByTestId('test-message').textContent()).resolves.toContain(
      '127.0.0.1:1883',
    );
    expect(await result.getByTestId('test-rtt').textContent()).toMatch(/round trip \d+(\.\d)? ms/);

    // The server/port inputs follow the URL and rebuild it.
    expect(await page.getByTestId('mqtt-host').inputValue()).toBe('127.0.0.1');
    await page.getByTestId('mqtt-port').fill('1');
    expect(await url.inputValue()).toBe('mqtt://127.0.0.1:1');
    await page.getByTestId('test').click();
    await expect.poll(() => result.getAttribute('data-ok')).toBe('false');
    expect(await result.getByTestId('test-message').textContent()).toContain(
      'connection refused at 127.0.0.1:1',
    );
    // Testing saves nothing.
    expect(sectionsOf(await settings(context)).mqtt).toBeNull();
    expect(errors).toEqual([]);
    await context.close();
  });

  it('refuses bad values at their fields and leaves the saved settings unchanged', async () => {
    const { page, context, errors, http } = await open();
    const before = await settings(context);
    await page.goto('/settings/mqtt');
    await page.getByLabel('Broker URL').fill('mqtt://127.0.0.1:1883');

    // Checked in the page: nothing is sent.
    const interval = page.getByLabel('Publish interval (s)');
    await interval.fill('-1');
    await page.getByTestId('save').click();
    const err = page.getByTestId('error-mqtt.interval_s');
    expect(await err.textContent()).toBe('Must be between 0.2 and 86400.');
    expect(await interval.getAttribute('aria-invalid')).toBe('true');
    expect(await interval.evaluate((el) => el === document.activeElement)).toBe(true);
    expect(await page.getByTestId('save-result').count()).toBe(0);
    expect(await settings(context)).toEqual(before);

    // Checked by the server (422): its issue shows at the TLS group it names.
    await interval.fill('2');
    await expect.poll(() => err.count()).toBe(0);
    await page.getByLabel('Client certificate').fill('/etc/openbms/client.crt');
    await page.getByTestId('save').click();
    const tls = page.getByTestId('error-mqtt.tls');
    expect(await tls.textContent()).toContain('cert and key go together');
    expect(await page.getByTestId('save-result').getAttribute('data-state')).toBe('error');
    expect(await settings(context)).toEqual(before);
    expect(http.some((m) => m.includes('status of 422'))).toBe(true);
    expect(errors).toEqual([]);
    await context.close();
  });

  it("takes its limits from the contract: the interval and client id refused exactly where the gateway's schema refuses them", async () => {
    const { page, context, errors } = await open();
    await page.goto('/settings/mqtt');
    // The bounds of the zod schema the gateway checks the saved file with.
    const interval = mqttConfigSchema.shape.interval_s.unwrap();
    const { minValue: min, maxValue: max } = interval;
    const maxLen = mqttConfigSchema.shape.client_id.unwrap().maxLength;
    expect(min).not.toBeNull();
    expect(max).not.toBeNull();
    expect(maxLen).not.toBeNull();
    const schemaTakes = (v: Record<string, unknown>) => mqttConfigSchema.safeParse(v).success;

    const field = page.getByLabel('Publish interval (s)');
    const err = page.getByTestId('error-mqtt.interval_s');
    for (const v of [min! - 0.01, min!, (min! + max!) / 2, max!, max! + 1]) {
      await field.fill(String(v));
      await field.blur();
      const formTakes = (await field.getAttribute('data-invalid')) !== 'true';
      expect(formTakes, `interval ${v}`).toBe(schemaTakes({ interval_s: v }));
      if (!formTakes) expect(await err.textContent()).toBe(`Must be between ${min} and ${max}.`);
      else expect(await err.count()).toBe(0);
    }

    const clientId = page.getByLabel('Client ID');
    for (const v of ['x'.repeat(maxLen!), 'x'.repeat(maxLen! + 1)]) {
      await clientId.fill(v);
      await clientId.blur();
      const formTakes = (await clientId.getAttribute('data-invalid')) !== 'true';
      expect(formTakes, `client_id of ${v.length}`).toBe(schemaTakes({ client_id: v }));
    }
    expect(await page.getByTestId('error-mqtt.client_id').textContent()).toBe(
      `At most ${maxLen} characters.`,
    );
    expect(errors).toEqual([]);
    await context.close();
  });

  it('saves good values: the page says so, the API returns them, the secret stays hidden', async () => {
    const { page, context, errors } = await open();
    await page.goto('/settings/mqtt');
    const topic = `e2e-${Date.now().toString(36)}`;
    await page.getByLabel('Broker URL').fill('mqtt://127.0.0.1:1883');
    await page.getByLabel('User name').fill('bms');
    await page.getByLabel('Password').fill('broker-secret-1');
    await page.getByLabel('Base topic').fill(topic);
    await page.getByLabel('Publish interval (s)').fill('2');
    await page.getByLabel('QoS').selectOption({ label: '1 — at least once' });
    await page.getByLabel('Heartbeat message (Status, ts, cnt, mem)').check();
    await page.getByLabel('Only the chosen values').check();
    await page.getByLabel('Publish the points of').selectOption({ label: 'End User' });
    await page.getByTestId('save').click();
    const saved = page.getByTestId('save-result');
    await expect.poll(() => saved.getAttribute('data-state')).toBe('applied');
    expect(await saved.textContent()).toBe('Saved and applied.');

    const mqtt = sectionsOf(await settings(context)).mqtt as Record<string, unknown>;
    expect(mqtt).toMatchObject({
      url: 'mqtt://127.0.0.1:1883',
      username: 'bms',
      password: '********',
      base_topic: topic,
      interval_s: 2,
      qos: 1,
      compat: { heartbeat: true },
      fields: ['voltage_v', 'current_a', 'power_w', 'soc_pct', 'cell_mv', 'alarms'],
      points_as: 'end_user',
    });
    // The file holds the secret; the page shows only that it is set.
    expect(readFileSync(join(server.dataDir, 'openbms.yaml'), 'utf8')).toContain('broker-secret-1');
    expect(await page.getByTestId('field-mqtt.password').getAttribute('data-secret')).toBe('set');
    expect(await page.content()).not.toContain('broker-secret-1');

    // Connected to the real broker (the status follows without a reload).
    await page
      .getByTestId('status-word')
      .filter({ hasText: /^Connected$/ })
      .waitFor({ timeout: 15_000 });

    // Saving again (Enter in a field) with the secret untouched keeps it.
    await page.getByLabel('Publish interval (s)').fill('3');
    await page.getByLabel('Publish interval (s)').press('Enter');
    await expect
      .poll(
        async () => (sectionsOf(await settings(context)).mqtt as { interval_s: number }).interval_s,
      )
      .toBe(3);
    expect(readFileSync(join(server.dataDir, 'openbms.yaml'), 'utf8')).toContain('broker-secret-1');
    expect(errors).toEqual([]);
    await context.close();
  });
});

describe('users, roles and tokens', () => {
  it('adds a viewer who is refused the admin sections with the reason, and whose token works until revoked', async () => {
    const admin = await open();
    await admin.page.goto('/settings/users');
    const form = admin.page.getByTestId('add-user');
    await form.getByLabel('User name').fill('viewer1');
    await form.getByLabel('Password').fill('short');
    await form.getByTestId('add-user-submit').click();
    expect(await form.getByTestId('error-password').textContent()).toBe('At least 8 characters.');
    await form.getByLabel('Password').fill('viewer-pass-1');
    await form.getByLabel('Role').selectOption('viewer');
    await form.getByTestId('add-user-submit').click();
    await admin.page.getByTestId('users-notice').filter({ hasText: 'viewer1' }).waitFor();
    await admin.page.getByTestId('user-viewer1').waitFor();
    const users = (await (await admin.context.request.get('/api/v1/users')).json()) as {
      username: string;
      role: string;
    }[];
    expect(users.find((u) => u.username === 'viewer1')?.role).toBe('viewer');
    expect(await admin.page.getByTestId('role-viewer1').inputValue()).toBe('viewer');

    const viewer = await open({ login: false });
    const login = await viewer.context.request.post('/api/v1/auth/login', {
      data: { username: 'viewer1', password: 'viewer-pass-1' },
    });
    expect(login.status()).toBe(200);
    const { page } = viewer;
    await page.goto('/settings');
    // The first section a viewer may open: their own API tokens.
    await page.getByTestId('section-tokens').waitFor();
    for (const s of ['users', 'mqtt', 'modbus', 'tunnel', 'metrics', 'audit']) {
      expect(await page.getByTestId(`nav-${s}`).getAttribute('data-locked')).toBe('true');
      await page.getByTestId(`nav-${s}`).click();
      expect(await page.getByTestId('refused-reason').textContent()).toBe(
        'This section needs the Administrator role; you are logged in as Viewer.',
      );
    }
    await page.getByTestId('nav-notifications').click();
    expect(await page.getByTestId('refused-reason').textContent()).toBe(
      'This section needs the Operator role; you are logged in as Viewer.',
    );
    // The server refuses the same for real.
    expect((await viewer.context.request.get('/api/v1/settings')).status()).toBe(403);

    // A token for themselves: shown once, works as a Bearer token, revoked by id.
    await page.getByTestId('nav-tokens').click();
    await page.getByTestId('token-name').fill('e2e script');
    await page.getByTestId('token-create').click();
    const secret = await page.getByTestId('token-secret').inputValue();
    expect(secret.length).toBeGreaterThan(20);
    const me = await fetch(`${server.url}/api/v1/auth/me`, {
      headers: { authorization: `Bearer ${secret}` },
    });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ username: 'viewer1', role: 'viewer' });
    const id = await page
      .getByTestId('tokens-table')
      .locator('td.mono')
      .first()
      .getAttribute('title');
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    await page.getByTestId('revoke-id').fill('not-an-id');
    await page.getByTestId('revoke-submit').click();
    await page.getByText('A token id is 64 hexadecimal characters.').waitFor();
    await page.getByTestId('revoke-id').fill(id!);
    await page.getByTestId('revoke-submit').click();
    await page.getByTestId('tokens-notice').waitFor();
    const after = await fetch(`${server.url}/api/v1/auth/me`, {
      headers: { authorization: `Bearer ${secret}` },
    });
    expect(after.status).toBe(401);
    expect(viewer.errors).toEqual([]);
    await viewer.context.close();

    // The admin deletes the viewer after a confirmation naming them.
    await admin.page.getByTestId('delete-viewer1').click();
    const dialog = admin.page.getByRole('dialog', { name: 'Delete the user viewer1?' });
    await dialog.getByRole('button', { name: 'Delete viewer1' }).click();
    await admin.page
      .getByTestId('users-notice')
      .filter({ hasText: 'User viewer1 deleted.' })
      .waitFor();
    const left = (await (await admin.context.request.get('/api/v1/users')).json()) as {
      username: string;
    }[];
    expect(left.map((u) => u.username)).toEqual([ADMIN.username]);

    // The audit log lists what happened, newest first.
    await admin.page.getByTestId('nav-audit').click();
    const rows = admin.page.getByTestId('audit-row');
    await rows.first().waitFor();
    expect(await rows.first().getAttribute('data-action')).toBe('user.delete');
    expect(await admin.page.locator('[data-action="user.add"]').first().textContent()).toContain(
      'viewer1',
    );
    expect(admin.errors).toEqual([]);
    await admin.context.close();
  });
});

describe('notifications', () => {
  it('adds a webhook channel, sends a real test message to it, and lists the delivery', async () => {
    const { page, context, errors } = await open();
    await page.goto('/settings/notifications');
    await page.getByTestId('add-channel-type').selectOption('webhook');
    await page.getByTestId('add-channel').click();
    const editor = page.getByTestId('channel-editor');
    await editor.getByLabel('Channel id').fill('e2e-hook');
    await editor.getByLabel('URL', { exact: true }).fill('ftp://nope');
    await editor.getByTestId('channel-save').click();
    await editor.getByText('An http:// or https:// URL.').waitFor();
    await editor.getByLabel('URL', { exact: true }).fill(`http://127.0.0.1:${receiverPort}/hook`);
    await editor.getByRole('button', { name: 'Add a header' }).click();
    await editor.getByLabel('Header', { exact: true }).fill('X-Token');
    await editor.getByLabel('Value', { exact: true }).fill('hook-secret-1');
    await editor.getByTestId('channel-save').click();
    await page
      .getByTestId('channels-notice')
      .filter({ hasText: 'Channel e2e-hook saved.' })
      .waitFor();
    const channel = page.getByTestId('channel-e2e-hook');
    await channel.waitFor();

    await channel.getByTestId('test-e2e-hook').click();
    const req = await receivedMatching((r) => r.url === '/hook');
    expect(req.method).toBe('POST');
    expect(req.headers['x-token']).toBe('hook-secret-1');
    expect(JSON.parse(req.body)).toMatchObject({ event: 'test', data: { channel: 'e2e-hook' } });
    const result = page.getByTestId('test-result-e2e-hook');
    await expect.poll(() => result.getAttribute('data-status')).toBe('sent');
    expect(await result.textContent()).toContain('Test message sent.');

    // The delivery log shows it as the API does.
    const row = page.locator('[data-testid="delivery-row"][data-channel="e2e-hook"]').first();
    await expect.poll(() => row.getAttribute('data-status')).toBe('sent');
    const api = (await (
      await context.request.get('/api/v1/integrations/notifications')
    ).json()) as {
      log: { channel: string; status: string; attempts: number; event: string }[];
      channels: { id: string; target: Record<string, unknown> }[];
    };
    const entry = api.log.find((e) => e.channel === 'e2e-hook')!;
    expect(entry).toMatchObject({ status: 'sent', event: 'test', attempts: 1 });
    expect(await row.getAttribute('data-event')).toBe('test');
    expect(await row.locator('td.num').textContent()).toBe(String(entry.attempts));
    // The header value is a secret: set, never shown.
    expect(await page.content()).not.toContain('hook-secret-1');
    expect(api.channels.find((c) => c.id === 'e2e-hook')?.target.headers).toEqual(['X-Token']);

    // A channel whose receiver is gone: the test fails in words and the log says failed.
    await page.getByTestId('add-channel-type').selectOption('webhook');
    await page.getByTestId('add-channel').click();
    await editor.getByLabel('Channel id').fill('e2e-dead');
    await editor.getByLabel('URL', { exact: true }).fill('http://127.0.0.1:1/dead');
    await editor.getByTestId('channel-save').click();
    await page.getByTestId('channel-e2e-dead').waitFor();
    await page.getByTestId('test-e2e-dead').click();
    const dead = page.getByTestId('test-result-e2e-dead');
    await expect.poll(() => dead.getAttribute('data-status')).toBe('failed');
    expect(await dead.textContent()).toMatch(/Test message not delivered: .+/);
    const failedRow = page.locator('[data-testid="delivery-row"][data-channel="e2e-dead"]').first();
    await expect.poll(() => failedRow.getAttribute('data-status')).toBe('failed');
    expect(await failedRow.locator('.status-error').textContent()).not.toBe('');

    // The saved channels, as the settings API returns them (secret redacted).
    const list = sectionsOf(await settings(context)).notifications as Record<string, unknown>[];
    expect(list.map((c) => c.id)).toEqual(['e2e-hook', 'e2e-dead']);
    expect(list[0]).toMatchObject({
      type: 'webhook',
      url: `http://127.0.0.1:${receiverPort}/hook`,
      headers: { 'X-Token': '********' },
    });
    expect(errors).toEqual([]);
    await context.close();
  });
});

describe('Telegram channel', () => {
  it('adds a Telegram channel, its test message reaches the Bot API, the token stays hidden', async () => {
    const { page, context, errors } = await open();
    await page.goto('/settings/notifications');
    await page.getByTestId('add-channel-type').selectOption('telegram');
    await page.getByTestId('add-channel').click();
    const editor = page.getByTestId('channel-editor');
    await editor.getByLabel('Channel id').fill('e2e-tg');
    await editor.getByLabel('Bot token').fill('123456789:AAE-e2e_tg_secret_0123456789');
    await editor.getByLabel('Chat id').fill('@no');
    await editor.getByTestId('channel-save').click();
    await editor.getByText('A numeric chat id (e.g. 123456789, groups -100…)').waitFor();
    await editor.getByLabel('Chat id').fill('-1001234567890');
    await editor.getByLabel('Bot API server').fill(`http://127.0.0.1:${receiverPort}`);
    await editor.getByTestId('channel-save').click();
    await page.getByTestId('channel-e2e-tg').waitFor();

    await page.getByTestId('test-e2e-tg').click();
    const req = await receivedMatching((r) => r.url.endsWith('/sendMessage'));
    expect(req.url).toBe('/bot123456789:AAE-e2e_tg_secret_0123456789/sendMessage');
    const body = JSON.parse(req.body) as { chat_id: unknown; text: string };
    expect(body.chat_id).toBe('-1001234567890');
    expect(body.text).toMatch(/^OpenBMS test message/);
    const result = page.getByTestId('test-result-e2e-tg');
    await expect.poll(() => result.getAttribute('data-status')).toBe('sent');
    expect(await page.content()).not.toContain('e2e_tg_secret');

    // "Send the daily report now" to it: this console has no location yet, the page says so.
    const report = page.getByTestId('report-now');
    await report.getByTestId('report-now-e2e-tg').check();
    await report.getByTestId('report-now-send').click();
    await report.getByRole('alert').filter({ hasText: 'location' }).waitFor();
    const list = sectionsOf(await settings(context)).notifications as Record<string, unknown>[];
    expect(list.find((c) => c.id === 'e2e-tg')).toMatchObject({
      type: 'telegram',
      token: '********',
      chat_id: '-1001234567890',
    });
    expect(errors).toEqual([]);
    await context.close();
  });
});

describe('UART tunnel', () => {
  it('enables the tunnel on a bus and shows the connected client and its bytes live', async () => {
    const { page, context, errors } = await open();
    await page.goto('/settings/tunnel');
    await page.getByLabel('Bus').selectOption('demo/jk');
    await page.getByLabel('Enable the tunnel').check();
    await page.getByLabel('Port').fill('0');
    await page.getByLabel('Allowed clients').fill('10.0.0.300');
    await page.getByTestId('save').click();
    await page.getByText('“10.0.0.300” is not an IPv4 address or CIDR block').waitFor();
    await page.getByLabel('Allowed clients').fill('127.0.0.1');
    await page.getByTestId('save').click();
    await expect
      .poll(() => page.getByTestId('save-result').getAttribute('data-state'))
      .toBe('applied');
    const st = (await (await context.request.get('/api/v1/integrations/tunnel')).json()) as {
      listening: boolean;
      port: number;
      bus: string;
    };
    expect(st).toMatchObject({ listening: true, bus: 'demo/jk' });
    expect(await page.getByTestId('status-word').textContent()).toBe(
      `Listening on 127.0.0.1:${st.port}`,
    );
    await page.getByTestId('tunnel-no-client').waitFor();

    // A client connects and sends 5 bytes: the page follows without a reload.
    const socket = connect(st.port, '127.0.0.1');
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.on('data', () => undefined);
    socket.write(Buffer.from([1, 2, 3, 4, 5]));
    const client = page.getByTestId('tunnel-client');
    await client.waitFor({ timeout: 15_000 });
    expect(await client.textContent()).toContain('127.0.0.1');
    await expect.poll(() => client.textContent(), { timeout: 15_000 }).toContain('5 B');
    socket.destroy();
    await page.getByTestId('tunnel-no-client').waitFor({ timeout: 15_000 });

    // Switched off again, so the bus is polled as before.
    await page.getByLabel('Enable the tunnel').uncheck();
    await page.getByTestId('save').click();
    await expect
      .poll(
        async () => (sectionsOf(await settings(context)).tunnel as { enabled: boolean }).enabled,
      )
      .toBe(false);
    expect(errors).toEqual([]);
    await context.close();
  });
});

describe('web server', () => {
  it('changes the listen address for the next start: every device on the network', async () => {
    const { page, context, errors } = await open();
    await page.goto('/settings/web');
    await page.getByTestId('section-web').waitFor();
    expect(await page.getByTestId('http-host-local').isChecked()).toBe(true);
    await page.getByTestId('http-port').fill('99999');
    await page.getByTestId('save').click();
    await page.getByText('A port is a whole number from 1 to 65535.').waitFor();
    await page.getByTestId('http-port').fill('8080');
    await page.getByTestId('http-host-all').check();
    await page.getByTestId('save').click();
    await expect
      .poll(() => page.getByTestId('save-result').getAttribute('data-state'))
      .toBe('restart');
    const s = await settings(context);
    expect(s.http).toMatchObject({ host: '0.0.0.0', port: 8080 });
    expect(s.pending_restart).toContain('http');
    // The file is in the data directory (no ./openbms.yaml written to the working directory).
    expect(String(s.path)).toMatch(/openbms\.yaml$/);
    expect(String(s.path)).toContain(server.dataDir);
    expect(errors).toEqual([]);
    await context.close();
  });
});
