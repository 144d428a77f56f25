/**
 * `openbms start` with `accounts.signup` and `accounts.email` (a separate process): the code
 * goes out through the configured SMTP server (a real one, smtp-server) and signs up an
 * account of the box's organisation, which then logs in as name@ORGCODE.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { SMTPServer } from 'smtp-server';
import { afterEach, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../bin/openbms.js', import.meta.url));
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

it('mails the sign-up code through accounts.email; the new account logs in as name@ORGCODE', async () => {
  let received: (raw: string) => void = () => undefined;
  const mail = new Promise<string>((r) => (received = r));
  const smtp = new SMTPServer({
    logger: false,
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    onData(stream, _session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received(Buffer.concat(chunks).toString('utf8'));
        cb();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
  cleanup.push(() => new Promise<void>((r) => smtp.close(() => r())));
  const addr = smtp.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;

  const dir = mkdtempSync(join(tmpdir(), 'openbms-start-signup-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const config = join(dir, 'openbms.yaml');
  writeFileSync(
    config,
    [
      'version: 1',
      'accounts:',
      '  signup: true',
      `  email: { host: 127.0.0.1, port: ${port}, starttls: false, from: "OpenBMS <bms@example.com>" }`,
      '  terms: { service: "Service terms", privacy: "Privacy terms" }',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(
    process.execPath,
    [BIN, 'start', '--port', '0', '--config', config, '--data-dir', join(dir, 'data')],
    {
      env: { ...process.env, OPENBMS_ADMIN_USER: 'admin', OPENBMS_ADMIN_PASSWORD: 'a-long-secret' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  cleanup.push(async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  let url: string | undefined;
  for await (const line of createInterface({ input: child.stdout! })) {
    const m = /^OpenBMS listening on (\S+) /.exec(line);
    if (m) {
      url = m[1]!;
      break;
    }
  }
  expect(url, err).toBeDefined();
  const post = async (path: string, body: unknown, token?: string) => {
    const r = await fetch(`${url}/api/v1${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify(body),
    });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };

  const terms = await (await fetch(`${url}/api/v1/auth/signup`)).json();
  expect(terms).toEqual({
    signup: true,
    reset: true,
    service: 'Service terms',
    privacy: 'Privacy terms',
  });
  const admin = await post('/auth/login', { username: 'admin', password: 'a-long-secret' });
  const orgs = (await (
    await fetch(`${url}/api/v1/orgs`, {
      headers: { authorization: `Bearer ${admin.body['token'] as string}` },
    })
  ).json()) as { code: string }[];
  const code = orgs[0]!.code;

  expect((await post('/auth/signup/code', { email: 'zoe@example.com' })).status).toBe(200);
  const digits = /code is (\d{6})/.exec(await mail)?.[1];
  expect(digits).toMatch(/^\d{6}$/);
  const made = await post('/auth/signup', {
    email: 'zoe@example.com',
    code: digits,
    name: 'zoe',
    password: 'zoe-password',
    timezone: 'Asia/Shanghai',
    org_code: code,
    agree: true,
  });
  expect(made.status, JSON.stringify(made.body)).toBe(200);
  expect(made.body['login']).toBe(`zoe@${code}`);
  const login = await post('/auth/login', { username: `zoe@${code}`, password: 'zoe-password' });
  expect(login.status).toBe(200);
}, 30_000);
