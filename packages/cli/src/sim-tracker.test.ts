/**
 * `openbms sim --tracker` (docs/trackers.md "Simulator"): the real CLI (the built binary, a
 * child process) against real tracker servers (started as `openbms cloud` starts them, with
 * the instruction dispatcher) on a real SQLite store. Proven for JT/T 808 and GT06: every simulated battery registers and its
 * positions are stored as it rides; instructions queued for them (locate, arm, restart) are
 * sent and answered, and the arm's reply sets the armed state; Ctrl-C (SIGINT) ends
 * it with status 0. Bad arguments are refused naming the option.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { trackersConfigSchema, type TrackerServers } from '@openbms/gateway';
import type { Instruction, Org } from '@openbms/storage';
import { openSqliteStorage, type SqliteStorage } from '@openbms/storage-sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from './main.js';
import { startTrackers } from './trackers.js';

const BIN = fileURLToPath(new URL('../bin/openbms.js', import.meta.url));
const HOST = '127.0.0.1';

/** Resolves once `probe` gives a value (checked every 50 ms, at most 20 s). */
async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + 20_000;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('openbms sim --tracker', () => {
  let dir: string;
  let storage: SqliteStorage;
  let servers: TrackerServers;
  let platform: Org;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'openbms-simtrk-'));
    storage = await openSqliteStorage({ dataDir: dir });
    platform = await storage.orgs.createRoot({
      kind: 'platform',
      name: 'P',
      createdAt: Date.now(),
    });
    const identity = { orgId: platform.id, gatewayId: storage.identity.gatewayId };
    // The tracker servers exactly as `openbms cloud` / `openbms start` start them.
    const trackers = trackersConfigSchema.parse({
      jt808: { port: 0, host: HOST },
      gt06: { port: 0, host: HOST },
    });
    const io = { out: () => undefined, err: () => undefined, stdin: () => Promise.resolve('') };
    servers = (await startTrackers({ trackers }, storage, identity, io, () => undefined))!;
  });

  afterAll(async () => {
    await servers?.close();
    await storage?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const deviceOf = async (serial: string) => {
    const page = await storage.devices.list([platform.id], { q: serial, now: Date.now() });
    return page.devices.find((d) => d.serial === serial);
  };

  for (const [protocol, serials] of [
    ['jt808', ['13800000000', '13800000001']],
    ['gt06', ['350000000000000', '350000000000001']],
  ] as const) {
    it(`${protocol}: batteries report their rides and answer instructions`, async () => {
      const child: ChildProcess = spawn(
        process.execPath,
        [
          BIN,
          'sim',
          '--tracker',
          protocol,
          '--server',
          `tcp://${HOST}:${servers.ports[protocol]}`,
        ].concat(['--count', '2', '--interval', '1', '--seed', '7']),
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      let err = '';
      child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
      child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      try {
        await until('the connected line', async () =>
          out.includes(`2 ${protocol} trackers connected`) ? true : undefined,
        );
        // Both batteries are in the device list and their fixes arrive, one a second.
        const devices = await Promise.all(
          serials.map((s) => until(`device ${s}`, () => deviceOf(s))),
        );
        for (const d of devices) {
          const fixes = await until(`3 fixes of ${d.serial}`, async () => {
            const ps = await storage.positions.list(d.id, { from: 0, to: Date.now() + 86_400_000 });
            return ps.length >= 3 ? ps : undefined;
          });
          expect(fixes[0]!.lat).toBeGreaterThan(22);
          expect(fixes[0]!.lon).toBeGreaterThan(113);
        }
        // Instructions queued in the store (as the API does) are sent and answered.
        const d = devices[0]!;
        const now = Date.now();
        const asked: Instruction[] = [];
        for (const kind of ['locate', 'arm', 'restart'] as const)
          asked.push(
            await storage.instructions.create({
              deviceId: d.id,
              orgId: d.orgId,
              kind,
              createdAt: now,
              createdBy: 'test',
              createdByName: 'test',
              expiresAt: now + 60_000,
            }),
          );
        for (const i of asked) {
          const done = await until(`${i.kind} answered`, async () => {
            const x = await storage.instructions.get(i.id);
            return x && !['queued', 'sent'].includes(x.state) ? x : undefined;
          });
          expect(done, i.kind).toMatchObject({ state: 'replied', result: 'ok' });
        }
        // The arm's reply set the tracker's anti-theft state.
        expect(await storage.instructions.trackerState(d.id)).toMatchObject({
          armed: true,
          armedSource: 'instruction',
        });
      } finally {
        child.kill('SIGINT');
      }
      expect(await exited, err).toBe(0);
    });
  }

  it('--still keeps the batteries standing and --shake-every shakes them (no alarm unarmed)', async () => {
    const child = spawn(
      process.execPath,
      [BIN, 'sim', '--tracker', 'jt808', '--server', `tcp://${HOST}:${servers.ports.jt808}`].concat(
        ['--count', '1', '--interval', '1', '--seed', '9', '--still', '--shake-every', '1'],
      ),
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    try {
      // The first battery of the earlier run: a new serial would be the same 13800000000.
      const d = await until('the device', () => deviceOf('13800000000'));
      const since = Date.now();
      const fixes = await until('4 standing fixes', async () => {
        const ps = await storage.positions.list(d.id, { from: since, to: since + 86_400_000 });
        return ps.length >= 4 ? ps : undefined;
      });
      expect(new Set(fixes.map((p) => `${p.lat},${p.lon}`)).size).toBe(1);
      expect(fixes.every((p) => p.extras!['alarm_flags'] === 0)).toBe(true);
      expect(out).not.toContain('vibration alarm sent');
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  });

  it('refuses bad arguments naming the option', async () => {
    let err = '';
    const io = {
      out: () => undefined,
      err: (t: string) => (err += t),
      stdin: () => Promise.resolve(''),
    };
    expect(await run(['sim', '--tracker', 'nmea', '--server', 'tcp://127.0.0.1:1'], io)).not.toBe(
      0,
    );
    expect(err).toMatch(/--tracker/);
    err = '';
    expect(await run(['sim', '--tracker', 'jt808', '--server', 'http://x'], io)).not.toBe(0);
    expect(err).toMatch(/--server/);
    err = '';
    expect(
      await run(['sim', '--tracker', 'jt808', '--server', 'tcp://127.0.0.1:1', '--count', '0'], io),
    ).not.toBe(0);
    expect(err).toMatch(/--count/);
    err = '';
    expect(
      await run(
        ['sim', '--tracker', 'jt808', '--server', 'tcp://127.0.0.1:1', '--shake-every', '5'],
        io,
      ),
    ).not.toBe(0);
    expect(err).toMatch(/--shake-every needs --still/);
  });
});
