/**
 * The MQTT test button against real brokers: a private Mosquitto with a password file and
 * a TLS listener (self-signed certificate made with openssl), started for this file on free
 * ports. Skipped where the mosquitto or openssl binaries are missing.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mqttConfigSchema } from './mqtt/index.js';
import { freePort } from '../testing/modbus.js';
import { probeListen, probeMqtt, probeTcp } from './probes.js';

const has = (cmd: string, args: string[]): boolean => {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch (e) {
    return (e as { code?: string }).code !== 'ENOENT';
  }
};
const MOSQUITTO = ['/usr/sbin/mosquitto', 'mosquitto'].find((c) => has(c, ['-h']));
const OPENSSL = has('openssl', ['version']);

let broker: ChildProcess | undefined;
let plain = 0;
let tls = 0;
let dir = '';

/** Resolves once `port` accepts connections (deadline 10 s). */
async function listening(port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const r = await probeTcp('127.0.0.1', port, 500);
    if (r.ok) return;
    if (broker?.exitCode !== null) throw new Error(`mosquitto exited (${broker?.exitCode})`);
    if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${port}`);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

beforeAll(async () => {
  if (!MOSQUITTO || !OPENSSL) return;
  dir = mkdtempSync(join(tmpdir(), 'openbms-probe-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  writeFileSync(join(dir, 'passwd'), '');
  execFileSync('mosquitto_passwd', ['-b', join(dir, 'passwd'), 'bms', 'right-password']);
  plain = await freePort();
  tls = await freePort();
  writeFileSync(
    join(dir, 'mosquitto.conf'),
    [
      // Started as root, mosquitto would switch to its own user and not read our files.
      `user ${userInfo().username}`,
      'per_listener_settings false',
      'allow_anonymous false',
      `password_file ${join(dir, 'passwd')}`,
      `listener ${plain} 127.0.0.1`,
      `listener ${tls} 127.0.0.1`,
      `certfile ${join(dir, 'cert.pem')}`,
      `keyfile ${join(dir, 'key.pem')}`,
      '',
    ].join('\n'),
  );
  broker = spawn(MOSQUITTO, ['-c', join(dir, 'mosquitto.conf')], { stdio: 'ignore' });
  await listening(plain);
  await listening(tls);
});

afterAll(async () => {
  if (!broker || broker.exitCode !== null) return;
  const exited = new Promise((resolve) => broker!.once('exit', resolve));
  broker.kill('SIGTERM');
  await exited;
});

const cfg = (over: Record<string, unknown>) =>
  mqttConfigSchema.parse({ base_topic: 'obt-probe', ...over });

describe('probeMqtt', () => {
  it('answers ok with the round trip when the credentials are right', async (ctx) => {
    if (!broker) ctx.skip();
    const r = await probeMqtt(
      cfg({ url: `mqtt://127.0.0.1:${plain}`, username: 'bms', password: 'right-password' }),
    );
    expect(r).toMatchObject({ ok: true, address: `127.0.0.1:${plain}` });
    expect(r.round_trip_ms).toBeGreaterThanOrEqual(0);
  });

  it('says "not authorised" for a wrong password or no credentials', async (ctx) => {
    if (!broker) ctx.skip();
    const wrong = await probeMqtt(
      cfg({ url: `mqtt://127.0.0.1:${plain}`, username: 'bms', password: 'wrong' }),
    );
    expect(wrong.ok).toBe(false);
    expect(wrong.message).toContain('not authorised');
    const anonymous = await probeMqtt(cfg({ url: `mqtt://127.0.0.1:${plain}` }));
    expect(anonymous.message).toContain('not authorised');
  });

  it('uses the TLS settings: trusted with tls.ca, a clear refusal without it', async (ctx) => {
    if (!broker) ctx.skip();
    const creds = { username: 'bms', password: 'right-password' };
    const url = `mqtts://127.0.0.1:${tls}`;
    const ok = await probeMqtt(cfg({ url, ...creds, tls: { ca: join(dir, 'cert.pem') } }));
    expect(ok).toMatchObject({ ok: true });
    const untrusted = await probeMqtt(cfg({ url, ...creds }));
    expect(untrusted.ok).toBe(false);
    expect(untrusted.message).toContain(`certificate of 127.0.0.1:${tls} is not trusted`);
    const insecure = await probeMqtt(cfg({ url, ...creds, tls: { insecure: true } }));
    expect(insecure.ok).toBe(true);
    const missing = await probeMqtt(cfg({ url, ...creds, tls: { ca: join(dir, 'nope.pem') } }));
    expect(missing).toMatchObject({ ok: false });
    expect(missing.message).toContain('cannot read tls.ca');
  });

  it('names a refused connection, a missing user name and a timeout', async () => {
    const closed = await freePort();
    const refused = await probeMqtt(cfg({ url: `mqtt://127.0.0.1:${closed}` }));
    expect(refused.message).toBe(
      `connection refused at 127.0.0.1:${closed} (nothing listens there)`,
    );
    // mqtt.js would drop a password sent without a user name silently: the schema refuses it.
    expect(() => cfg({ url: `mqtt://127.0.0.1:${closed}`, password: 'x' })).toThrow(
      /needs a username/,
    );
    // A TCP server that accepts and never answers: the CONNECT is never acknowledged.
    const silent = (await import('node:net')).createServer((s) => s.resume());
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    try {
      const r = await probeMqtt(cfg({ url: `mqtt://127.0.0.1:${port}` }), 300);
      expect(r).toMatchObject({ ok: false });
      expect(r.message).toContain('timeout');
    } finally {
      silent.close();
    }
  });
});

describe('probeListen', () => {
  it('tells a free port from one in use', async () => {
    const port = await freePort();
    expect(await probeListen('127.0.0.1', port)).toMatchObject({ ok: true });
    const busy = (await import('node:net')).createServer();
    await new Promise<void>((r) => busy.listen(port, '127.0.0.1', r));
    try {
      const r = await probeListen('127.0.0.1', port);
      expect(r).toMatchObject({ ok: false });
      expect(r.message).toContain('in use');
    } finally {
      busy.close();
    }
  });
});
