/**
 * An integration that exists only in this test (`echo`: a TCP echo server) is registered in
 * the registry, and the gateway and the settings service take it like a built-in one, with
 * no change to gateway.ts, the settings service or the config schema: it starts with the
 * gateway, shows on the settings page with its declared secret hidden, is validated (its
 * schema and its check across sections), applied live, tested and restored. Real parts: a
 * config file in a temp directory, SQLite in memory, real sockets.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify as stringifyYaml } from 'yaml';
import { z } from 'zod';
import { isBmsError } from '@openbms/core';
import { openSqliteStorage } from '@openbms/storage-sqlite';
import { sitesOf } from '../config.js';
import { ConfigFile, SECRET_MARKER } from '../config-file.js';
import { Gateway } from '../gateway.js';
import { builtinRegistry } from '../integrations/builtin.js';
import type {
  Integration,
  IntegrationContext,
  IntegrationRuntime,
  RuntimeStatus,
} from '../integrations/integration.js';
import { nothingToTest, type ProbeResult } from '../integrations/probes.js';

const SECRET = `echo-pass-${randomBytes(4).toString('hex')}`;

const echoSchema = z
  .object({
    enabled: z.boolean().default(true),
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65_535).default(0),
    /** A secret only this integration's declaration names (no usual secret key matches it). */
    passphrase: z.string().min(1).optional(),
    /** Must name a configured site: a check across sections. */
    site: z.string().optional(),
  })
  .strict();
type EchoConfig = z.infer<typeof echoSchema>;

class EchoRuntime implements IntegrationRuntime {
  private server: Server | undefined;
  private bound: string | undefined;

  constructor(private readonly ctx: IntegrationContext<EchoConfig>) {}

  async start(): Promise<void> {
    const c = this.ctx.value();
    if (this.server || !c) return;
    const s = createServer((sock) => sock.pipe(sock));
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(c.port, c.host, () => resolve());
    });
    this.server = s;
    this.bound = `${c.host}:${(s.address() as AddressInfo).port}`;
    this.ctx.log('info', `listening on ${this.bound}`);
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    this.bound = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  status(): RuntimeStatus {
    return this.bound ? { running: true, listening: this.bound } : { running: false };
  }

  address(): string | undefined {
    return this.bound;
  }
}

/** Sends a line and expects it back. */
function echoProbe(address: string): Promise<ProbeResult> {
  const [host, port] = [address.replace(/:\d+$/, ''), Number(address.split(':').pop())];
  return new Promise((resolve) => {
    const sock = createConnection({ host, port });
    let got = '';
    sock.on('connect', () => sock.write('ping\n'));
    sock.on('data', (d) => {
      got += d.toString('utf8');
      if (got.endsWith('\n')) {
        sock.end();
        resolve({ ok: got === 'ping\n', message: `echoed "${got.trim()}"`, address });
      }
    });
    sock.on('error', (e) => resolve({ ok: false, message: e.message, address }));
  });
}

const ECHO: Integration<EchoConfig, EchoRuntime> = {
  section: 'echo',
  logName: 'echo',
  schema: echoSchema,
  apply: 'live',
  secrets: { keys: ['passphrase'] },
  enabled: (v) => v !== undefined && v.enabled,
  create: (ctx) => new EchoRuntime(ctx),
  check(config) {
    const e = (config as Record<string, unknown>)['echo'] as EchoConfig | undefined;
    if (e?.site === undefined || sitesOf(config).some((s) => s.id === e.site)) return [];
    return [{ path: 'echo.site', message: `no site "${e.site}"` }];
  },
  async test({ value }, runtime) {
    if (!value) return nothingToTest('echo');
    const a = runtime.address();
    return a ? echoProbe(a) : { ok: false, message: 'the echo server is not running' };
  },
};

const CONFIG = `version: 1
# an echo server, and no bus
echo:
  passphrase: ${SECRET}
`;

let dir: string;
let file: ConfigFile;
let storage: Awaited<ReturnType<typeof openSqliteStorage>>;
let gw: Gateway;
const logs: string[] = [];

function issuesOf(e: unknown): string[] {
  if (!isBmsError(e) || e.code !== 'CONFIG_INVALID') throw e;
  return (e.details?.['issues'] as { path: string }[]).map((i) => i.path);
}

async function refused(p: Promise<unknown>): Promise<string[]> {
  try {
    await p;
  } catch (e) {
    return issuesOf(e);
  }
  throw new Error('accepted');
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'openbms-echo-'));
  writeFileSync(join(dir, 'openbms.yaml'), CONFIG, { mode: 0o600 });
  const registry = builtinRegistry().with(ECHO);
  file = new ConfigFile(join(dir, 'openbms.yaml'), registry.configSchema);
  storage = await openSqliteStorage({});
  gw = new Gateway({
    config: file.read(),
    storage,
    configFile: file,
    integrations: registry,
    log: (_level, m) => logs.push(m),
  });
  await gw.start();
});

afterAll(async () => {
  await gw?.stop();
  storage?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('an integration registered only in the registry', () => {
  it('starts with the gateway and shows in the settings, its declared secret hidden', () => {
    const v = gw.settings!.view();
    expect(Object.keys(v.sections).at(-1)).toBe('echo');
    expect(v.sections['echo']).toEqual({
      enabled: true,
      host: '127.0.0.1',
      port: 0,
      passphrase: SECRET_MARKER,
    });
    expect(JSON.stringify(v)).not.toContain(SECRET);
    expect(v.status['echo']).toMatchObject({ configured: true, enabled: true, running: true });
    expect(v.status['echo']!.listening).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(v.editable).toContain('echo');
    expect(v.live).toContain('echo');
    expect(gw.integrationRunning('echo')).toBe(true);
    expect(logs.some((l) => /^echo: listening on 127\.0\.0\.1:\d+$/.test(l))).toBe(true);
  });

  it('is tested through its own probe', async () => {
    const r = await gw.settings!.test('echo');
    expect(r).toMatchObject({ section: 'echo', ok: true, message: 'echoed "ping"' });
    expect(r.address).toBe(gw.settings!.status('echo').listening);
  });

  it('is validated with its schema and its check across sections; nothing written', async () => {
    const before = readFileSync(file.path, 'utf8');
    expect(await refused(gw.settings!.update('echo', { port: 70_000, colour: 'blue' }))).toEqual(
      expect.arrayContaining(['echo.port', 'echo.colour']),
    );
    expect(await refused(gw.settings!.update('echo', { site: 'nowhere' }))).toEqual(['echo.site']);
    expect(readFileSync(file.path, 'utf8')).toBe(before);
    expect(gw.integrationRunning('echo')).toBe(true);
  });

  it('is applied live: off, a busy port reported, on again; the saved secret is kept', async () => {
    const form = gw.settings!.view().sections['echo'] as Record<string, unknown>;
    const off = await gw.settings!.update('echo', { ...form, enabled: false });
    expect(off).toMatchObject({ applied: true, restart_required: false });
    expect(off.status).toMatchObject({ configured: true, enabled: false, running: false });
    expect(file.raw()['echo']).toMatchObject({ enabled: false, passphrase: SECRET });
    expect(await gw.settings!.test('echo')).toMatchObject({ ok: false });

    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    try {
      const port = (busy.address() as AddressInfo).port;
      const r = await gw.settings!.update('echo', { ...form, port });
      expect(r).toMatchObject({ saved: true, applied: false });
      expect(r.error).toMatch(/EADDRINUSE/);
      expect(r.status).toMatchObject({ running: false, last_error: r.error });
      expect(file.read()['echo' as keyof ReturnType<ConfigFile['read']>]).toMatchObject({ port });
    } finally {
      await new Promise<void>((resolve) => busy.close(() => resolve()));
    }

    const on = await gw.settings!.update('echo', form);
    expect(on).toMatchObject({ applied: true, status: { running: true } });
    expect(on.status!.last_error).toBeUndefined();
    expect(on.value).toMatchObject({ passphrase: SECRET_MARKER });
    expect(file.raw()['echo']).toMatchObject({ passphrase: SECRET });
  });

  it('is applied by a restore that removes it, and refused when the restore breaks it', async () => {
    const raw = file.raw();
    const bad = stringifyYaml({ ...raw, echo: { port: 'x' } });
    await expect(gw.settings!.restore(bad)).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    expect(gw.integrationRunning('echo')).toBe(true);

    const { echo: _gone, ...rest } = raw;
    const r = await gw.settings!.restore(stringifyYaml(rest));
    expect(r).toMatchObject({ saved: true, applied: ['echo'], failed: [] });
    expect(gw.integrationRunning('echo')).toBe(false);
    expect(gw.settings!.view().sections['echo']).toBeNull();
    expect(gw.settings!.status('echo')).toMatchObject({ configured: false, running: false });
  });
});
