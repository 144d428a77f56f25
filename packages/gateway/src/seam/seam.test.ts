/**
 * The gateway seam on a real gateway (a simulated daly-modbus pack served over TCP, polled,
 * stored in SQLite): every event type it emits and every command operation's result cross
 * JSON and the wire schemas unchanged; events are numbered 1, 2, 3... in one run; a
 * transaction runs at most once, also when its result is lost on the way back and the
 * sender sends it again; malformed commands are refused naming the field and reach no device;
 * every read answers plain JSON data.
 */
import {
  COMMAND_OPS,
  GATEWAY_EVENT_TYPES,
  SEAM_VERSION,
  commandResultSchema,
  gatewayEventSchema,
  type CommandOp,
  type CommandResult,
  type GatewayCommand,
  type GatewayEnvelope,
} from '@openbms/contract/gateway';
import { localScope, type Storage } from '@openbms/storage';
import { openSqliteStorage } from '@openbms/storage-sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../config.js';
import { Gateway } from '../gateway.js';
import { JsonWireLink } from '../testing/json-wire.js';
import { simulatedBuses, type SimulatedBuses } from '../testing/sim-buses.js';
import { StreamCursor } from './cursor.js';

const PACK = 's/b/210';
const OTTO = { userId: '01JD0000000000000000USER01', username: 'otto' };
/** How the command log and the audit log name otto. */
const BY_OTTO = { user: 'otto', userId: OTTO.userId };

let storage: Storage & { identity: { orgId: string; gatewayId: string } };
let sims: SimulatedBuses;
let gw: Gateway;
const seen: GatewayEnvelope[] = [];
let offSeen: () => void;
let txns = 0;

/** Resolves with the first envelope (from now on) that `pred` accepts. */
function next(pred: (e: GatewayEnvelope) => boolean): Promise<GatewayEnvelope> {
  return new Promise((resolve) => {
    const off = gw.link.subscribe((e) => {
      if (!pred(e)) return;
      off();
      resolve(e);
    });
  });
}

function command<O extends CommandOp>(
  op: O,
  args: Extract<GatewayCommand, { op: O }>['args'],
  over: Partial<GatewayCommand> = {},
): GatewayCommand {
  return {
    v: SEAM_VERSION,
    txn: `TXN-${++txns}`,
    gatewayId: gw.identity.gatewayId,
    packId: PACK,
    principal: { ...OTTO, orgId: gw.identity.orgId },
    op,
    args,
    ...over,
  } as GatewayCommand;
}

/** A result as the sender reads it off the wire. */
const received = (r: CommandResult): CommandResult =>
  commandResultSchema.parse(JSON.parse(JSON.stringify(r)));

beforeAll(async () => {
  storage = await openSqliteStorage({});
  sims = simulatedBuses();
  const config = validateConfig({
    version: 1,
    sites: [
      {
        id: 's',
        buses: [
          {
            id: 'b',
            port: 'sim',
            protocol: 'daly-modbus',
            poll_interval_s: 0.2,
            retries: 1,
            timeout_ms: 500,
            simulator: { speed: 0, profile: 'idle' },
            packs: [{ address: 210, name: 'Pack 1' }],
          },
        ],
      },
    ],
  });
  gw = new Gateway({ config, storage, busFactory: sims.busFactory });
  offSeen = gw.link.subscribe((e) => seen.push(e));
  const first = next((e) => e.type === 'snapshot');
  await gw.start();
  await first;
});

afterAll(async () => {
  offSeen?.();
  await gw?.stop();
  await storage?.close();
});

describe('events', () => {
  it('every type a real gateway emits crosses JSON and the schema unchanged, numbered in one run', async () => {
    // online + alarm raised: the pack stops answering.
    const offline = next((e) => e.type === 'online' && !e.online);
    const raised = next((e) => e.type === 'alarm' && e.state === 'raised');
    sims.simulations()[0]!.bus.addFault({ kind: 'offline', address: 210 });
    await offline;
    const alarm = await raised;
    const back = next((e) => e.type === 'online' && e.online);
    sims.simulations()[0]!.bus.clearFaults();
    await back;
    // alarm acknowledged, and a command status.
    const acked = next((e) => e.type === 'alarm' && e.state === 'acknowledged');
    const local = alarm.type === 'alarm' ? alarm.alarm.localId : 0;
    expect((await gw.link.send(command('alarm.ack', { alarm: local }))).status).toBe('done');
    await acked;
    const status = next((e) => e.type === 'command');
    await gw.link.send(command('mos.set', { which: 'charge', on: true }));
    await status;

    expect(new Set(seen.map((e) => e.type))).toEqual(new Set(GATEWAY_EVENT_TYPES));
    for (const e of seen) {
      expect(gatewayEventSchema.parse(JSON.parse(JSON.stringify(e))), e.type).toEqual(e);
      expect(e).toMatchObject({ v: 1, gatewayId: gw.identity.gatewayId, run: gw.link.run });
    }
    expect(seen.map((e) => e.seq)).toEqual(seen.map((_, i) => i + 1));
    const ack = seen.find((e) => e.type === 'alarm' && e.state === 'acknowledged');
    expect(ack?.type === 'alarm' && ack.ts).toBe(ack?.type === 'alarm' && ack.alarm.acknowledgedAt);
  });

  it('a consumer across a lossy wire sees the gap, and nothing twice', async () => {
    const wireLink = new JsonWireLink(gw.link);
    const cursor = new StreamCursor();
    const kinds: string[] = [];
    let taken = 0;
    const done = new Promise<void>((resolve) => {
      const off = wireLink.subscribe((e) => {
        const a = cursor.accept(e);
        kinds.push(a.kind === 'gap' ? `gap ${a.missed}` : a.kind);
        // The broker redelivers the first envelope once (QoS 1): a duplicate.
        if (taken++ === 0) kinds.push(cursor.accept(e).kind);
        if (kinds.length >= 4) {
          off();
          resolve();
        }
      });
    });
    // After the first envelope, two are lost on the wire.
    let armed = false;
    const off = gw.link.subscribe(() => {
      if (armed) return;
      armed = true;
      wireLink.loseEvents(2);
    });
    await done;
    off();
    expect(kinds.slice(0, 3)).toEqual(['next', 'duplicate', 'gap 2']);
  });
});

describe('commands', () => {
  it('every operation answers a typed result that crosses JSON unchanged, audited with the principal', async () => {
    const wrong = { confirm: 'not the pack' };
    const results: Record<CommandOp, CommandResult> = {
      'parameters.write': await gw.link.send(
        command('parameters.write', { values: { cell_ov_l1_mv: 3500 } }),
      ),
      'mos.set': await gw.link.send(command('mos.set', { which: 'charge', on: false })),
      'soc.set': await gw.link.send(command('soc.set', { pct: 50 })),
      'clock.set': await gw.link.send(command('clock.set', {})),
      'parameters.restore_defaults': await gw.link.send(
        command('parameters.restore_defaults', wrong),
      ),
      'pack.restart': await gw.link.send(command('pack.restart', { confirm: 'Pack 1' })),
      'pack.factory_reset': await gw.link.send(command('pack.factory_reset', wrong)),
      'alarm.ack': await gw.link.send(command('alarm.ack', { alarm: 999_999 })),
      'parameters.restore_profile': await gw.link.send(
        command('parameters.restore_profile', { confirm: 'Pack 1' }),
      ),
      'pack.shutdown': await gw.link.send(command('pack.shutdown', wrong)),
      'records.clear': await gw.link.send(command('records.clear', { kind: 'all', ...wrong })),
      'inverter_protocol.set': await gw.link.send(command('inverter_protocol.set', { can: 1 })),
      calibrate: await gw.link.send(command('calibrate', { kind: 'current_zero' })),
    };
    expect(Object.keys(results).sort()).toEqual([...COMMAND_OPS].sort());
    for (const [op, r] of Object.entries(results)) expect(received(r), op).toEqual(r);

    expect(results['parameters.write']).toMatchObject({
      v: 1,
      status: 'done',
      op: 'parameters.write',
      packId: PACK,
      write: { dryRun: false, changed: ['cell_ov_l1_mv'] },
      command: { action: 'parameter.write', status: 'done', ...BY_OTTO },
    });
    expect(results['parameters.write'].write?.results[0]).toMatchObject({
      id: 'cell_ov_l1_mv',
      requested: 3500,
      readback: 3500,
      ok: true,
    });
    expect(results['mos.set']).toMatchObject({
      status: 'done',
      readback: { charge_mos: false },
      command: { action: 'mos.charge', ...BY_OTTO },
    });
    expect(results['soc.set']).toMatchObject({ status: 'done', command: { action: 'soc.set' } });
    expect(results['soc.set'].readback?.['soc_pct']).toBeCloseTo(50, 0);
    expect(results['clock.set']).toMatchObject({ status: 'refused', code: 'CAPABILITY_MISSING' });
    expect(results['parameters.restore_defaults']).toMatchObject({
      status: 'refused',
      code: 'REQUEST_INVALID',
      details: { field: 'confirm' },
      command: { status: 'refused', action: 'parameters.restore_defaults' },
    });
    expect(results['pack.restart']).toMatchObject({ status: 'done', command: BY_OTTO });
    expect(results['pack.factory_reset']).toMatchObject({ status: 'refused' });
    expect(results['alarm.ack']).toMatchObject({
      status: 'refused',
      code: 'NOT_FOUND',
      detail: 'no unacknowledged alarm 999999',
    });

    // Whatever the family can do, each is a typed result with the code of what stopped it.
    for (const op of [
      'parameters.restore_profile',
      'pack.shutdown',
      'records.clear',
      'inverter_protocol.set',
      'calibrate',
    ] as const) {
      const r = results[op];
      expect(r.op, op).toBe(op);
      if (r.status !== 'done') expect(r.code, op).toMatch(/^[A-Z_]+$/);
    }
    const audit = await storage.audit.list(localScope(storage.identity), { packId: PACK });
    const write = audit.find((e) => e.action === 'parameter.write');
    expect(write).toMatchObject({ user: 'otto', userId: OTTO.userId, result: 'ok' });
  });

  it('a dry run is a done result with the plan and no command status', async () => {
    const r = await gw.link.send(
      command('parameters.write', { values: { cell_ov_l1_mv: 3450 }, dry_run: true }),
    );
    expect(r).toMatchObject({ status: 'done', write: { dryRun: true } });
    expect(r.command).toBeUndefined();
  });

  it('runs a transaction at most once: a repeat gets the first result', async () => {
    const before = (await storage.audit.list(localScope(storage.identity))).length;
    const c = command('mos.set', { which: 'charge', on: true });
    const [a, b] = await Promise.all([gw.link.send(c), gw.link.send({ ...c })]);
    const again = await gw.link.send(JSON.parse(JSON.stringify(c)) as GatewayCommand);
    // The same command with its keys written in another order is the same command.
    const reordered = Object.fromEntries(Object.entries(c).reverse()) as GatewayCommand;
    expect(a.status).toBe('done');
    expect(b).toEqual(a);
    expect(again).toEqual(a);
    expect(await gw.link.send(reordered)).toEqual(a);
    expect((await storage.audit.list(localScope(storage.identity))).length).toBe(before + 1);
    const reused = await gw.link.send({
      ...c,
      args: { which: 'charge', on: false },
    } as GatewayCommand);
    expect(reused).toMatchObject({
      status: 'refused',
      code: 'REQUEST_INVALID',
      details: { field: 'txn' },
    });
    expect((await storage.audit.list(localScope(storage.identity))).length).toBe(before + 1);
  });

  it('a result lost on the wire: GATEWAY_UNAVAILABLE, then the same txn again gives the outcome', async () => {
    const wireLink = new JsonWireLink(gw.link, { timeoutMs: 50 });
    const before = (await storage.audit.list(localScope(storage.identity))).length;
    const c = command('mos.set', { which: 'discharge', on: true });
    wireLink.loseResults(1);
    await expect(wireLink.send(c)).rejects.toMatchObject({
      code: 'GATEWAY_UNAVAILABLE',
      details: { txn: c.txn },
    });
    // The sender reconnects (a link with its usual patience) and sends the very same command.
    const retried = await new JsonWireLink(gw.link).send(c);
    expect(retried).toMatchObject({ txn: c.txn, status: 'done', command: BY_OTTO });
    expect((await storage.audit.list(localScope(storage.identity))).length).toBe(before + 1);
  });

  it('a malformed command is refused naming the field, and reaches no device', async () => {
    const before = gw.control.commands().length;
    const bad = await gw.link.send({
      ...command('mos.set', { which: 'charge', on: true }),
      args: { which: 'both', on: 'yes' },
    } as unknown as GatewayCommand);
    expect(bad).toMatchObject({
      status: 'refused',
      code: 'REQUEST_INVALID',
      details: { field: 'args.which' },
    });
    const elsewhere = await gw.link.send(
      command(
        'mos.set',
        { which: 'charge', on: true },
        { gatewayId: '01JD00000000000000000OTHER' },
      ),
    );
    expect(elsewhere).toMatchObject({ status: 'refused', code: 'NOT_FOUND' });
    const noPack = await gw.link.send(
      command('mos.set', { which: 'charge', on: true }, { packId: 's/b/9' }),
    );
    expect(noPack).toMatchObject({ status: 'refused', code: 'NOT_FOUND' });
    expect(gw.control.commands().length).toBe(before);
  });
});

describe('read model', () => {
  it('every read is a promise of plain JSON data', async () => {
    const reads = {
      packs: await gw.link.packs(),
      pack: await gw.link.pack(PACK),
      sites: await gw.link.sites(),
      buses: await gw.link.buses(),
      activeAlarms: await gw.link.activeAlarms(),
      alarmCounts: await gw.link.alarmCounts(),
      storageStatus: await gw.link.storageStatus(),
      commands: await gw.link.commands(PACK),
      capabilities: await gw.link.capabilities(PACK),
      readParameters: await gw.link.readParameters(PACK),
      exportParameters: await gw.link.exportParameters(PACK),
    };
    for (const [name, value] of Object.entries(reads)) {
      expect(value, name).toBeDefined();
      expect(JSON.parse(JSON.stringify(value)), name).toEqual(value);
    }
    expect(reads.pack?.id).toBe(PACK);
    expect(await gw.link.pack('s/b/9')).toBeUndefined();
    await expect(gw.link.readRecords(PACK, 0, 10)).rejects.toMatchObject({
      code: 'CAPABILITY_MISSING',
    });
    await expect(gw.link.capabilities('s/b/9')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
