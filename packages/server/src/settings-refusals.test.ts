/**
 * Hostile settings input against a real Gateway, a real config file in a temp directory and
 * SQLite in memory: a YAML alias bomb and 20,000-deep nesting used to answer 500; they are
 * 400s with a code now, and the file stays as it was. Secrets sent in settings bodies (MQTT,
 * SMTP) never reach the log, whatever the answer, a failed save (500) included.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_NESTING } from '@openbms/core';
import { ConfigFile, Gateway } from '@openbms/gateway';
import { openSqliteStorage } from '@openbms/storage-sqlite';
import type { FastifyInstance } from 'fastify';
import { buildServer } from './app.js';
import { TEST_COST } from './testing/harness.js';

const SECRET = `mqtt-pass-${randomBytes(6).toString('hex')}`;
const CONFIG = `version: 1
# kept as is unless a save succeeds
mqtt:
  enabled: false
  url: mqtt://127.0.0.1:1
  username: bms
  password: ${SECRET}
`;

const lines: string[] = [];
let dir: string;
let file: ConfigFile;
let storage: Awaited<ReturnType<typeof openSqliteStorage>>;
let gw: Gateway;
let app: FastifyInstance;
let url: string;
let admin: string;

interface Res {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
}

async function call(
  method: string,
  path: string,
  body?: string,
  type = 'application/json',
): Promise<Res> {
  const r = await fetch(url + path, {
    method,
    headers: {
      authorization: `Bearer ${admin}`,
      ...(body !== undefined ? { 'content-type': type } : {}),
    },
    ...(body !== undefined ? { body } : {}),
  });
  const text = await r.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // the YAML backup
  }
  return { status: r.status, body: parsed, text };
}

/** A "billion laughs" document: 9 levels, each alias list repeating the one before 9 times. */
function aliasBomb(): string {
  const out = ['version: 1', 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  const names = 'abcdefghi';
  for (let i = 1; i < names.length; i++) {
    out.push(
      `${names[i]}: &${names[i]} [${Array(9)
        .fill(`*${names[i - 1]}`)
        .join(',')}]`,
    );
  }
  return out.join('\n') + '\n';
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'openbms-refusals-'));
  writeFileSync(join(dir, 'openbms.yaml'), CONFIG, { mode: 0o600 });
  file = new ConfigFile(join(dir, 'openbms.yaml'));
  storage = await openSqliteStorage({});
  gw = new Gateway({ config: file.read(), storage, configFile: file });
  await gw.start();
  app = await buildServer({
    storage,
    gateway: gw,
    passwordCost: TEST_COST,
    logger: { level: 'trace', stream: { write: (l: string) => void lines.push(l) } },
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const a = app.server.address();
  url = typeof a === 'object' && a ? `http://127.0.0.1:${a.port}` : '';
  const s = await fetch(`${url}/api/v1/setup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: 'correct horse' }),
  });
  admin = ((await s.json()) as { token: string }).token;
});

afterAll(async () => {
  await app?.close();
  await gw?.stop();
  storage?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('hostile settings input is a 400 with a code, and nothing is written', () => {
  it('POST /config/restore with a YAML alias bomb (it was a 500)', async () => {
    const bomb = aliasBomb();
    for (const r of [
      await call('POST', '/api/v1/config/restore', bomb, 'text/yaml'),
      await call('POST', '/api/v1/config/restore', JSON.stringify({ yaml: bomb })),
    ]) {
      expect(r.status).toBe(400);
      expect(r.body.code).toBe('CONFIG_INVALID');
      expect(r.body.error).toMatch(/is refused: its aliases \(\*name\) expand to too much data/);
      expect(r.body.issues).toEqual([
        { path: '(file)', message: expect.stringMatching(/aliases/) },
      ]);
    }
    expect(readFileSync(file.path, 'utf8')).toBe(CONFIG);
  });

  it('POST /config/restore with YAML nested 20,000 deep', async () => {
    const deep = `version: 1\nmqtt: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`;
    const r = await call('POST', '/api/v1/config/restore', deep, 'application/yaml');
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('CONFIG_INVALID');
    expect(r.body.error).toContain(`deeper than ${MAX_NESTING} levels`);
    expect(readFileSync(file.path, 'utf8')).toBe(CONFIG);
  });

  it('PUT /settings/mqtt with a 20,000-deep array or object (it was a 500)', async () => {
    for (const body of [
      '['.repeat(20_000) + ']'.repeat(20_000),
      '{"enabled":' + '{"a":'.repeat(20_000) + '1' + '}'.repeat(20_001),
    ]) {
      const r = await call('PUT', '/api/v1/settings/mqtt', body);
      expect(r.status).toBe(400);
      expect(r.body.code).toBe('REQUEST_INVALID');
      expect(r.body.error).toContain(`deeper than ${MAX_NESTING} levels`);
      expect(r.body.field).toMatch(/^(\[0\]){32}$|^enabled(\.a){31}$/);
    }
    expect(readFileSync(file.path, 'utf8')).toBe(CONFIG);
  });

  it('PUT /settings/mqtt {"values":{"__proto__":1}} names the refused key (it said "not valid JSON")', async () => {
    const r = await call('PUT', '/api/v1/settings/mqtt', '{"values":{"__proto__":1}}');
    expect(r.status).toBe(400);
    expect(r.body).toEqual({
      error:
        'body field "values.__proto__": the key "__proto__" is refused: it could change the prototype of every object (prototype poisoning)',
      code: 'REQUEST_INVALID',
      field: 'values.__proto__',
    });
    expect(readFileSync(file.path, 'utf8')).toBe(CONFIG);
  });
});

describe('settings secrets never reach the log', () => {
  it('saved, refused, downloaded or failing to save: no MQTT or SMTP password in any line', async () => {
    const mqttSecret = `new-mqtt-${randomBytes(6).toString('hex')}`;
    const smtpSecret = `smtp-${randomBytes(6).toString('hex')}`;
    const mqtt = (password: string, extra = {}): string =>
      JSON.stringify({
        enabled: false,
        url: 'mqtt://127.0.0.1:1',
        username: 'bms',
        password,
        ...extra,
      });
    expect((await call('PUT', '/api/v1/settings/mqtt', mqtt(mqttSecret))).status).toBe(200);
    const mail = JSON.stringify([
      {
        type: 'email',
        id: 'mail',
        enabled: false,
        host: '127.0.0.1',
        username: 'alerts',
        password: smtpSecret,
        from: 'bms@example.org',
        to: ['me@example.org'],
      },
    ]);
    expect((await call('PUT', '/api/v1/settings/notifications', mail)).status).toBe(200);
    expect(readFileSync(file.path, 'utf8')).toContain(smtpSecret); // really saved
    const refused = await call('PUT', '/api/v1/settings/mqtt', mqtt('x-secret-1', { colour: 1 }));
    expect(refused.status).toBe(422);
    const backup = await call('GET', '/api/v1/config/backup');
    expect(backup.text).toContain(mqttSecret);

    // A save that really fails: a non-empty directory where the .bak must go.
    rmSync(`${file.path}.bak`);
    mkdirSync(join(`${file.path}.bak`, 'occupied'), { recursive: true });
    const before = lines.length;
    const failed = await call('PUT', '/api/v1/settings/mqtt', mqtt('x-secret-2'));
    expect(failed.status).toBe(500);
    expect(failed.body.code).toBe('STORAGE_FAILED');
    const errorLine = lines
      .slice(before)
      .map((l) => JSON.parse(l) as Record<string, any>) // eslint-disable-line @typescript-eslint/no-explicit-any
      .find((l) => l['level'] === 50);
    expect(errorLine?.['err']?.stack).toMatch(/BmsError: cannot save .*\n\s+at /);
    expect(errorLine?.['reqId']).toMatch(/^req-/);

    const log = lines.join('');
    expect(lines.length).toBeGreaterThan(20);
    for (const secret of [SECRET, mqttSecret, smtpSecret, 'x-secret-1', 'x-secret-2', admin]) {
      expect(log).not.toContain(secret);
    }
    expect(log).not.toMatch(/authorization|bearer/i);
  });
});
