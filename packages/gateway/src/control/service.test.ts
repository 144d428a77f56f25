/**
 * The control service's failure paths with a small fake family on a fake link, through the
 * real Exchanger: read-back mismatches, device refusals (sent once, never retried), writes
 * that fail half-way, interlocks without a snapshot, the command log and audit failures.
 */
import { describe, expect, it } from 'vitest';
import { BmsError, type Reading } from '@openbms/core';
import type {
  ControlOps,
  ControlStep,
  ProtocolDefinition,
  ReadSession,
  ReadStep,
} from '@openbms/protocols';
import { Exchanger, type Transport } from '@openbms/transport';
import { localScope, type AuditStore } from '@openbms/storage';
import { MemoryAudit, TEST_ORIGIN } from '@openbms/storage/testing';
import type { BusPoller } from '../scheduler/poller.js';
import type { PackRef } from '../types.js';
import { COMMANDS_KEPT } from './commands.js';
import { ControlService } from './service.js';

const S = localScope(TEST_ORIGIN);

const enc = (x: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(x));
const dec = (b: Uint8Array): Record<string, unknown> =>
  JSON.parse(new TextDecoder().decode(b)) as Record<string, unknown>;

/** The device behind the fake link: JSON requests in, JSON replies out. */
class Device {
  params: Record<string, number> = { cell_ov_l1_mv: 3550, cell_ov_l2_mv: 3650, pack_ov_l1_v: 56 };
  charge = true;
  current = 0;
  ignoreWrites = false;
  refuse = new Set<string>();
  silent = new Set<string>();
  received: string[] = [];

  handle(req: Record<string, unknown>): unknown {
    const op = String(req['op']);
    this.received.push(op === 'write' ? `write:${String(req['id'])}` : op);
    if (this.silent.has(op)) return undefined;
    switch (op) {
      case 'status':
        return { current_a: this.current, charge_mos: this.charge, cell_count: 16 };
      case 'params':
        return { params: this.params };
      case 'write': {
        const id = String(req['id']);
        if (this.refuse.has(id)) return { refused: `${id} is locked` };
        if (!this.ignoreWrites) this.params[id] = Number(req['value']);
        return { ok: true };
      }
      case 'mos':
        this.charge = req['on'] === true;
        return { ok: true };
      default:
        return { ok: true };
    }
  }
}

class FakeLink implements Transport {
  readonly endpoint = 'fake://bus';
  readonly isOpen = true;
  private data = new Set<(c: Uint8Array) => void>();
  constructor(private readonly device: Device) {}
  async open(): Promise<void> {}
  async close(): Promise<void> {}
  async write(bytes: Uint8Array): Promise<void> {
    const reply = this.device.handle(dec(bytes));
    if (reply !== undefined) setImmediate(() => this.data.forEach((l) => l(enc(reply))));
  }
  onData(l: (c: Uint8Array) => void): () => void {
    this.data.add(l);
    return () => this.data.delete(l);
  }
  onClose(): () => void {
    return () => undefined;
  }
}

function step(name: string, req: unknown, optional = false): ControlStep {
  return {
    name,
    request: enc(req),
    accepts: () => true,
    complete: (f) => f.length >= 1,
    ...(optional ? { optional } : {}),
    result(frames) {
      const r = dec(frames[0]!);
      if (typeof r['refused'] === 'string') throw new BmsError('COMMAND_REFUSED', r['refused']);
      return {};
    },
  };
}

function session(name: string, toReading: (r: Record<string, unknown>) => Reading): ReadSession {
  let done = false;
  let out: Reading = {};
  const s: ReadStep = {
    name,
    request: enc({ op: name }),
    accepts: () => true,
    complete: (f) => f.length >= 1,
  };
  return {
    next: () => (done ? undefined : s),
    accept(_s, frames) {
      out = toReading(dec(frames[0]!));
      done = true;
    },
    result: () => out,
  };
}

const ops: ControlOps = {
  setMos: (_t, which, on) => [step('mos', { op: 'mos', which, on })],
  readParameters: () => session('params', (r) => ({ raw: { parameters: r['params'] } })),
  writableParameters: ['cell_ov_l1_mv', 'cell_ov_l2_mv', 'pack_ov_l1_v'],
  writeParameters: (_t, values) =>
    Object.entries(values).map(([id, value]) => {
      if (value === 3456) throw new BmsError('INVALID_ARGUMENT', 'no wire encoding for 3456');
      return step(`write_${id}`, { op: 'write', id, value });
    }),
  setSoc: (_t, pct) => [step('soc', { op: 'soc', pct })],
  factoryReset: () => [step('reset', { op: 'reset' }, true)],
};

const def = {
  id: 'fake',
  control: ops,
  link: { defaultAddress: 1 },
  readSession: () => session('status', (r) => r as Reading),
} as unknown as ProtocolDefinition;

const REF: PackRef = {
  id: 's/b/1',
  name: 'Garage',
  site: 's',
  bus: 'b',
  address: 1,
  protocol: 'fake',
  chemistry: 'lfp',
};

function setup(o: { snapshot?: Reading; audit?: AuditStore } = {}) {
  const device = new Device();
  const link = new FakeLink(device);
  const ex = new Exchanger(link, {
    push: (c) => [{ type: 'frame', bytes: c }],
    end: () => [],
    pending: 0,
    reset: () => undefined,
  });
  const poller = {
    timing: { timeoutMs: 40, gapMs: 0, charMs: 1 },
    exclusive: <T>(fn: (t: Transport, e: Exchanger) => Promise<T>) => fn(link, ex),
    statusOf: () => undefined,
    readBack: () => undefined, // the live status a real poller keeps (writes.test.ts checks it)
  } as unknown as BusPoller;
  const audit = o.audit ?? new MemoryAudit();
  const errors: unknown[] = [];
  const snapshot = 'snapshot' in o ? o.snapshot : { current_a: 0, cell_count: 16 };
  const service = new ControlService({
    resolve: (id) =>
      id === REF.id ? { ref: REF, def, poller, ...(snapshot ? { snapshot } : {}) } : undefined,
    audit,
    origin: TEST_ORIGIN,
    clock: { now: () => 5000 },
    onError: (e) => errors.push(e),
  });
  return { device, service, audit, errors };
}

async function rejection(p: Promise<unknown>): Promise<BmsError> {
  try {
    await p;
  } catch (e) {
    return e as BmsError;
  }
  throw new Error('expected a rejection');
}

describe('ControlService failure paths', () => {
  it('a value that reads back differently is READBACK_MISMATCH, failed and audited', async () => {
    const { device, service, audit } = setup();
    device.ignoreWrites = true;
    const e = await rejection(service.writeParameters(REF.id, { cell_ov_l1_mv: 3500 }, 'otto'));
    expect(e.code).toBe('READBACK_MISMATCH');
    expect(e.message).toBe(
      'written but read back differently: cell_ov_l1_mv requested 3500, read 3550; ' +
        'sent before it stopped: cell_ov_l1_mv; restored to the old values: cell_ov_l1_mv; ' +
        'the pack now holds cell_ov_l1_mv=3550.',
    );
    expect((await audit.list(S, {}))[0]).toMatchObject({
      action: 'parameter.write',
      result: 'failed',
      old: { cell_ov_l1_mv: 3550 },
      new: { cell_ov_l1_mv: 3500 },
    });
    expect(service.commands()[0]?.status).toBe('failed');
  });

  it('a device refusal is sent once, never retried, and is "refused"', async () => {
    const { device, service } = setup();
    device.refuse.add('cell_ov_l1_mv');
    const e = await rejection(service.writeParameters(REF.id, { cell_ov_l1_mv: 3500 }, 'otto'));
    expect(e.code).toBe('COMMAND_REFUSED');
    expect(e.message).toBe('cell_ov_l1_mv is locked');
    expect(device.received).toEqual(['params', 'write:cell_ov_l1_mv']);
    expect(service.commands()[0]?.status).toBe('refused');
  });

  it('a write refused half-way restores what it sent and reports what the device now holds', async () => {
    const { device, service } = setup();
    device.refuse.add('cell_ov_l2_mv');
    const e = await rejection(
      service.writeParameters(REF.id, { cell_ov_l1_mv: 3500, cell_ov_l2_mv: 3600 }, 'otto'),
    );
    expect(e.code).toBe('COMMAND_REFUSED');
    expect(e.message).toMatch(/cell_ov_l2_mv is locked/);
    expect(e.message).toMatch(/restored to the old values: cell_ov_l1_mv/);
    expect(e.message).toMatch(/now holds cell_ov_l1_mv=3550, cell_ov_l2_mv=3650/);
    expect(e.details).toMatchObject({
      rolled_back: ['cell_ov_l1_mv'],
      not_restored: [],
      parameters: { cell_ov_l1_mv: 3550, cell_ov_l2_mv: 3650 },
    });
    // l1 went out, was refused nothing for l2, then l1 was put back.
    expect(device.received).toEqual([
      'params',
      'write:cell_ov_l1_mv',
      'write:cell_ov_l2_mv',
      'write:cell_ov_l1_mv',
      'params',
    ]);
    // Something was sent: "failed", not "refused".
    expect(service.commands()[0]?.status).toBe('failed');
  });

  it("an encoder's refusal is COMMAND_REFUSED and nothing is written", async () => {
    const { device, service } = setup();
    const e = await rejection(service.writeParameters(REF.id, { cell_ov_l1_mv: 3456 }, 'otto'));
    expect(e.code).toBe('COMMAND_REFUSED');
    expect(e.message).toMatch(/fake cannot encode this request.*no wire encoding for 3456/);
    expect(device.received).toEqual(['params']);
  });

  it('refuses pack-voltage writes while the cell count is unknown', async () => {
    const { device, service } = setup({ snapshot: undefined });
    const e = await rejection(service.writeParameters(REF.id, { pack_ov_l1_v: 57 }, 'otto'));
    expect(e.code).toBe('PARAM_UNSAFE_FOR_CHEMISTRY');
    expect(e.message).toMatch(/cell count is not known/);
    expect(device.received).toEqual([]);
  });

  it('without a snapshot, the interlock is checked on a fresh read before anything is sent', async () => {
    const { device, service } = setup({ snapshot: undefined });
    device.current = -10;
    const e = await rejection(service.setMos(REF.id, 'charge', false, 'otto'));
    expect(e.code).toBe('COMMAND_REFUSED');
    expect(e.message).toMatch(/^discharge current flows \(-10 A/);
    expect(device.received).toEqual(['status']);
    expect(device.charge).toBe(true);
    device.current = 0.3; // below the 0.5 A threshold: idle enough
    const ok = await service.setMos(REF.id, 'charge', false, 'otto');
    expect(ok.readback).toEqual({ charge_mos: false });
    expect(device.received).toEqual(['status', 'status', 'mos', 'status']);
  });

  it('a snapshot without current_a cannot prove the pack idle: refused', async () => {
    const { device, service } = setup({ snapshot: { soc_pct: 50 } });
    const e = await rejection(service.setMos(REF.id, 'charge', false, 'otto'));
    expect(e.message).toMatch(/current is unknown/);
    expect(device.received).toEqual([]);
  });

  it('a MOS command the pack does not carry out is READBACK_MISMATCH', async () => {
    const { device, service } = setup();
    device.handle = function (this: Device, req) {
      this.received.push(String(req['op']));
      return req['op'] === 'status'
        ? { current_a: 0, charge_mos: true }
        : req['op'] === 'mos'
          ? { ok: true }
          : undefined;
    };
    const e = await rejection(service.setMos(REF.id, 'charge', false, 'otto'));
    expect(e.code).toBe('READBACK_MISMATCH');
    expect(e.message).toBe('charge MOSFET command sent, but the pack still reports it on');
  });

  it('factory reset needs the name or id; an unacknowledged optional step counts as sent', async () => {
    const { device, service, audit } = setup();
    device.silent.add('reset');
    expect((await rejection(service.factoryReset(REF.id, 'garage', 'otto'))).code).toBe(
      'REQUEST_INVALID',
    );
    expect(device.received).toEqual([]);
    const out = await service.factoryReset(REF.id, REF.id, 'otto');
    expect(out.command).toMatchObject({ status: 'done', action: 'pack.factory_reset' });
    // Sent once: a factory reset is never retried.
    expect(device.received).toEqual(['reset']);
    expect((await audit.list(S, {})).map((e) => e.result)).toEqual(['ok', 'refused']);
  });

  it(`keeps the last ${COMMANDS_KEPT} commands, newest first, and tells listeners`, async () => {
    const { service } = setup();
    const seen: number[] = [];
    service.onCommand((c) => seen.push(c.id));
    for (let i = 0; i < COMMANDS_KEPT + 5; i++) {
      await service.setSoc(REF.id, 150, 'otto').catch(() => undefined);
    }
    const list = service.commands(REF.id);
    expect(list).toHaveLength(COMMANDS_KEPT);
    expect(list[0]?.id).toBe(COMMANDS_KEPT + 5);
    expect(list.at(-1)?.id).toBe(6);
    expect(seen).toHaveLength(COMMANDS_KEPT + 5);
    expect(service.commands('other')).toEqual([]);
  });

  it('an audit store failure does not change the command result; it goes to onError', async () => {
    const failing: AuditStore = {
      append: async () => {
        throw new BmsError('STORAGE_FULL', 'disk full');
      },
      list: async () => [],
    };
    const { service, errors } = setup({ audit: failing });
    const out = await service.setMos(REF.id, 'charge', false, 'otto');
    expect(out.command.status).toBe('done');
    expect(errors).toHaveLength(1);
  });
});
