/**
 * MQTT over TLS with a password, against a real Mosquitto started by the test on a free
 * port (certificates made with openssl in a temp dir): connects when the CA is given,
 * refuses an unknown certificate unless `insecure`, reports a wrong password in words, and
 * reconnects (availability back to `online`) after the broker restarts.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBus } from '../../types.js';
import { MqttIntegration } from './integration.js';
import { parseMqttConfig, type MqttConfigInput } from './schema.js';
import { namespace } from '../../testing/mqtt.js';

const MOSQUITTO = '/usr/sbin/mosquitto';
let dir: string;
let port: number;
let broker: ChildProcess | undefined;

function sh(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

/** Starts the broker and resolves once it accepts TLS connections. */
async function startBroker(): Promise<void> {
  broker = spawn(MOSQUITTO, ['-c', join(dir, 'mosquitto.conf')], { stdio: 'pipe' });
  let out = '';
  broker.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const deadline = Date.now() + 10_000;
    const attempt = (): void => {
      const c = mqtt.connect(`mqtts://127.0.0.1:${port}`, {
        ca: readFileSync(join(dir, 'ca.crt')),
        servername: 'localhost',
        username: 'obt',
        password: 'right-password',
        reconnectPeriod: 0,
        connectTimeout: 1000,
      });
      c.once('connect', () => {
        c.end(true);
        resolve();
      });
      c.once('error', () => {
        c.end(true);
        if (Date.now() > deadline) reject(new Error(`mosquitto did not start: ${out}`));
        else setImmediate(attempt);
      });
      c.once('close', () => undefined);
    };
    attempt();
  });
}

async function stopBroker(): Promise<void> {
  const b = broker;
  broker = undefined;
  if (!b || b.exitCode !== null) return;
  const done = new Promise((r) => b.once('exit', r));
  b.kill('SIGTERM');
  await done;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'obt-mqtt-tls-'));
  port = await freePort();
  sh(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2'].concat([
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-subj',
      '/CN=OpenBMS test CA',
    ]),
  );
  sh(
    'openssl',
    ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key'].concat([
      '-out',
      'server.csr',
      '-subj',
      '/CN=localhost',
    ]),
  );
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  sh(
    'openssl',
    ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key'].concat([
      '-CAcreateserial',
      '-out',
      'server.crt',
      '-days',
      '2',
      '-extfile',
      'san.ext',
    ]),
  );
  sh('mosquitto_passwd', ['-b', '-c', 'passwd', 'obt', 'right-password']);
  writeFileSync(
    join(dir, 'mosquitto.conf'),
    [
      'persistence false',
      'log_dest stderr',
      `listener ${port} 127.0.0.1`,
      `cafile ${join(dir, 'ca.crt')}`,
      `certfile ${join(dir, 'server.crt')}`,
      `keyfile ${join(dir, 'server.key')}`,
      'allow_anonymous false',
      `password_file ${join(dir, 'passwd')}`,
      '',
    ].join('\n'),
  );
  // mosquitto refuses to read files the broker user cannot; as root it drops to "mosquitto".
  spawnSync('chmod', ['-R', 'a+rX', dir]);
  await startBroker();
});

afterAll(async () => {
  await stopBroker();
  rmSync(dir, { recursive: true, force: true });
});

function integration(extra: Partial<MqttConfigInput>): MqttIntegration {
  const { base } = namespace();
  return new MqttIntegration({
    config: parseMqttConfig({
      url: `mqtts://127.0.0.1:${port}`,
      base_topic: base,
      interval_s: 1,
      homeassistant: { enabled: false },
      ...extra,
    }),
    events: new EventBus(),
    packs: () => [],
  });
}

/** Resolves when `cond()` holds; fails after `ms` with the integration's status. */
async function until(m: MqttIntegration, cond: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline)
      throw new Error(`condition not met; status ${JSON.stringify(m.status())}`);
    await new Promise((r) => setImmediate(r));
  }
}

describe('MQTT over TLS', () => {
  it('connects with the CA and the password', async () => {
    const m = integration({
      username: 'obt',
      password: 'right-password',
      tls: { ca: join(dir, 'ca.crt'), insecure: false },
    });
    m.start();
    try {
      await until(m, () => m.status().connected);
    } finally {
      await m.stop();
    }
  });

  it('refuses the self-signed broker without its CA, and accepts it when insecure', async () => {
    const strict = integration({ username: 'obt', password: 'right-password' });
    strict.start();
    try {
      await until(strict, () => strict.status().lastError !== undefined);
      expect(strict.status().connected).toBe(false);
      expect(strict.status().lastError).toMatch(/certificate/i);
    } finally {
      await strict.stop();
    }
    const lax = integration({
      username: 'obt',
      password: 'right-password',
      tls: { insecure: true },
    });
    lax.start();
    try {
      await until(lax, () => lax.status().connected);
    } finally {
      await lax.stop();
    }
  });

  it('says when the password is wrong', async () => {
    const m = integration({
      username: 'obt',
      password: 'wrong-password',
      tls: { ca: join(dir, 'ca.crt'), insecure: false },
    });
    m.start();
    try {
      await until(m, () => m.status().lastError !== undefined);
      expect(m.status().connected).toBe(false);
      expect(m.status().lastError).toMatch(/not authori[sz]ed|bad user name or password/i);
    } finally {
      await m.stop();
    }
  });

  it('reconnects after the broker restarts', async () => {
    const m = integration({
      username: 'obt',
      password: 'right-password',
      tls: { ca: join(dir, 'ca.crt'), insecure: false },
    });
    m.start();
    try {
      await until(m, () => m.status().connected);
      await stopBroker();
      await until(m, () => !m.status().connected);
      const before = m.status().reconnects;
      await startBroker();
      await until(m, () => m.status().connected, 20_000);
      expect(m.status().reconnects).toBeGreaterThan(before);
    } finally {
      await m.stop();
    }
  });
});
