/**
 * The seam's wire messages: every event type, every command operation and every result
 * status goes through JSON.stringify/parse and the receiving side's schema check unchanged;
 * a new type or operation without an example here fails; malformed messages are refused with
 * the path of the field at fault. (packages/gateway/src/seam/seam.test.ts does the same with
 * the events, commands and results a real gateway produces.)
 */
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  COMMAND_OPS,
  GATEWAY_EVENT_TYPES,
  SEAM_VERSION,
  commandResultSchema,
  gatewayCommandSchema,
  gatewayEventSchema,
  type CommandOp,
  type CommandResult,
  type GatewayCommand,
  type GatewayEnvelope,
  type GatewayEventType,
} from './index.js';

const GW = '01JD0000000000000000000GW1';
const ORG = '01JD000000000000000000ORG1';
const RUN = '01JD000000000000000000RUN1';
const head = { v: SEAM_VERSION, gatewayId: GW, run: RUN, ts: 1_750_000_000_000 } as const;
const alarm = {
  id: '01JD000000000000000000ALM1',
  localId: 7,
  orgId: ORG,
  gatewayId: GW,
  packId: 'home/bus1/2',
  code: 'cell_ov',
  severity: 'protection' as const,
  level: 2,
  origin: 'bms' as const,
  raisedAt: 1_750_000_000_000,
  clearedAt: 1_750_000_060_000,
  acknowledgedAt: 1_750_000_030_000,
  acknowledgedBy: 'otto',
  value: 3651,
  message: 'cell over-voltage (level 2)',
};
const status = {
  id: 3,
  packId: 'home/bus1/2',
  action: 'mos.charge',
  user: 'otto',
  userId: '01JD0000000000000000USER01',
  at: 1_750_000_000_500,
  status: 'done' as const,
  detail: 'charge MOSFET switched off; read back off',
};

const EVENTS: Record<GatewayEventType, GatewayEnvelope> = {
  snapshot: {
    ...head,
    seq: 1,
    type: 'snapshot',
    packId: 'home/bus1/2',
    snapshot: { voltage_v: 53.1, cell_mv: [3312, 3315], charge_mos: true, raw: { x: 'y' } },
  },
  online: {
    ...head,
    seq: 2,
    type: 'online',
    packId: 'home/bus1/2',
    online: false,
    reason: 'timeout',
  },
  alarm: { ...head, seq: 3, type: 'alarm', state: 'acknowledged', alarm },
  command: { ...head, seq: 4, type: 'command', command: status },
};

const cmd = { v: SEAM_VERSION, gatewayId: GW, packId: 'home/bus1/2' } as const;
const principal = { userId: '01JD0000000000000000USER01', username: 'otto', orgId: ORG };
const COMMANDS: Record<CommandOp, GatewayCommand> = {
  'parameters.write': {
    ...cmd,
    txn: '01JD0000000000000000000TX1',
    principal,
    op: 'parameters.write',
    args: { values: { cell_ov_l1_mv: 3550, cell_uv_l1_mv: 2900 }, dry_run: true },
  },
  'mos.set': {
    ...cmd,
    txn: '01JD0000000000000000000TX2',
    principal,
    op: 'mos.set',
    args: { which: 'discharge', on: false },
  },
  'soc.set': {
    ...cmd,
    txn: '01JD0000000000000000000TX3',
    principal,
    op: 'soc.set',
    args: { pct: 55.5 },
  },
  'clock.set': {
    ...cmd,
    txn: '01JD0000000000000000000TX4',
    principal: { username: 'mqtt', orgId: ORG },
    op: 'clock.set',
    args: {},
  },
  'parameters.restore_defaults': {
    ...cmd,
    txn: '01JD0000000000000000000TX5',
    principal,
    op: 'parameters.restore_defaults',
    args: { confirm: 'Pack 2' },
  },
  'pack.restart': {
    ...cmd,
    txn: '01JD0000000000000000000TX6',
    principal,
    op: 'pack.restart',
    args: { confirm: 'home/bus1/2' },
  },
  'pack.factory_reset': {
    ...cmd,
    txn: '01JD0000000000000000000TX7',
    principal,
    op: 'pack.factory_reset',
    args: { confirm: 'Pack 2' },
  },
  'parameters.restore_profile': {
    ...cmd,
    txn: '01JD0000000000000000000TXA',
    principal,
    op: 'parameters.restore_profile',
    args: { confirm: 'Pack 2' },
  },
  'pack.shutdown': {
    ...cmd,
    txn: '01JD0000000000000000000TXB',
    principal,
    op: 'pack.shutdown',
    args: { confirm: 'Pack 2' },
  },
  'records.clear': {
    ...cmd,
    txn: '01JD0000000000000000000TXC',
    principal,
    op: 'records.clear',
    args: { kind: 'alarm', confirm: 'Pack 2' },
  },
  'inverter_protocol.set': {
    ...cmd,
    txn: '01JD0000000000000000000TXD',
    principal,
    op: 'inverter_protocol.set',
    args: { can: 3, mode: 'manual' },
  },
  calibrate: {
    ...cmd,
    txn: '01JD0000000000000000000TXE',
    principal,
    op: 'calibrate',
    args: { kind: 'total_voltage', value: 53.2 },
  },
  'alarm.ack': {
    ...cmd,
    txn: '01JD0000000000000000000TX8',
    principal,
    op: 'alarm.ack',
    args: { alarm: 7 },
  },
};

const RESULTS: CommandResult[] = [
  {
    v: SEAM_VERSION,
    txn: '01JD0000000000000000000TX2',
    gatewayId: GW,
    packId: 'home/bus1/2',
    op: 'mos.set',
    status: 'done',
    detail: status.detail,
    command: status,
    readback: { discharge_mos: false },
  },
  {
    v: SEAM_VERSION,
    txn: '01JD0000000000000000000TX1',
    gatewayId: GW,
    packId: 'home/bus1/2',
    op: 'parameters.write',
    status: 'done',
    detail: 'dry run',
    write: {
      dryRun: true,
      results: [{ id: 'cell_ov_l1_mv', old: 3600, requested: 3550, ok: true }],
      changed: ['cell_ov_l1_mv'],
    },
  },
  {
    v: SEAM_VERSION,
    txn: '01JD0000000000000000000TX9',
    gatewayId: GW,
    packId: 'home/bus1/2',
    op: 'parameters.write',
    status: 'refused',
    code: 'PARAM_INCONSISTENT',
    detail: 'cell_ov_rec_l1_mv must stay below cell_ov_l1_mv',
    details: { issues: [{ rule: 'recovery_side', ids: ['cell_ov_rec_l1_mv'] }] },
    command: { ...status, action: 'parameter.write', status: 'refused', detail: 'refused' },
  },
  {
    v: SEAM_VERSION,
    txn: '01JD000000000000000000TX10',
    gatewayId: GW,
    packId: 'home/bus1/2',
    op: 'soc.set',
    status: 'failed',
    code: 'TRANSPORT_TIMEOUT',
    detail: 'no answer',
    command: { ...status, action: 'soc.set', status: 'failed', detail: 'no answer' },
  },
];

/** What the receiving side does: text off the wire, parsed, checked. */
const overTheWire = <T>(schema: z.ZodType<T>, message: unknown): T =>
  schema.parse(JSON.parse(JSON.stringify(message)));

const issuePaths = (schema: z.ZodType, message: unknown): string[] => {
  const r = schema.safeParse(JSON.parse(JSON.stringify(message)));
  return r.success ? [] : r.error.issues.map((i) => i.path.join('.'));
};

describe('the gateway seam on the wire', () => {
  it('has an example of every event type, command operation and result status here', () => {
    expect(Object.keys(EVENTS).sort()).toEqual([...GATEWAY_EVENT_TYPES].sort());
    expect(Object.keys(COMMANDS).sort()).toEqual([...COMMAND_OPS].sort());
    expect(new Set(RESULTS.map((r) => r.status))).toEqual(new Set(['done', 'refused', 'failed']));
  });

  it('every event crosses JSON and the schema check unchanged', () => {
    for (const e of Object.values(EVENTS)) {
      expect(overTheWire(gatewayEventSchema, e), e.type).toStrictEqual(e);
    }
  });

  it('every command and result crosses JSON and the schema check unchanged', () => {
    for (const c of Object.values(COMMANDS)) {
      expect(overTheWire(gatewayCommandSchema, c), c.op).toStrictEqual(c);
    }
    for (const r of RESULTS) expect(overTheWire(commandResultSchema, r)).toStrictEqual(r);
  });

  it('refuses malformed messages, naming the field', () => {
    expect(issuePaths(gatewayEventSchema, { ...EVENTS.snapshot, v: 2 })).toEqual(['v']);
    expect(issuePaths(gatewayEventSchema, { ...EVENTS.online, seq: 0 })).toEqual(['seq']);
    expect(issuePaths(gatewayEventSchema, { ...EVENTS.snapshot, snapshot: [1, 2] })).toEqual([
      'snapshot',
    ]);
    expect(issuePaths(gatewayEventSchema, { ...EVENTS.online, type: 'rumour' })).toEqual(['type']);
    const { txn: _txn, ...noTxn } = COMMANDS['mos.set'];
    expect(issuePaths(gatewayCommandSchema, noTxn)).toEqual(['txn']);
    expect(
      issuePaths(gatewayCommandSchema, { ...COMMANDS['mos.set'], args: { which: 'both', on: 1 } }),
    ).toEqual(['args.which', 'args.on']);
    expect(issuePaths(gatewayCommandSchema, { ...COMMANDS['soc.set'], op: 'detonate' })).toEqual([
      'op',
    ]);
    expect(
      issuePaths(gatewayCommandSchema, {
        ...COMMANDS['alarm.ack'],
        principal: { username: 'otto' },
      }),
    ).toEqual(['principal.orgId']);
    expect(issuePaths(commandResultSchema, { ...RESULTS[0], status: 'maybe' })).toEqual(['status']);
  });

  it('a receiver ignores fields it does not know (optional fields may be added within a version)', () => {
    const later = { ...EVENTS.online, region: 'eu' };
    expect(overTheWire(gatewayEventSchema, later)).toStrictEqual(EVENTS.online);
  });
});
