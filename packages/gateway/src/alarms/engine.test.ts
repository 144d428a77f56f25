import { beforeEach, describe, expect, it } from 'vitest';
import { makeAlarm, type Alarm, type Reading } from '@openbms/core';
import { localScope, type AlarmEvent } from '@openbms/storage';
import { TEST_ORIGIN } from '@openbms/storage/testing';
import { EventBus, type GatewayEvent } from '../types.js';
import { AlarmEngine } from './engine.js';
import { parseAlarmRules } from './rules.js';
import { FakeAlarmStore } from '../testing/alarms.js';

const P = 'home/bus1/1';
const Q = 'home/bus1/2';
const T0 = Date.UTC(2026, 5, 21, 12, 0, 0);
const s = (n: number): number => T0 + n * 1000;
const S = localScope(TEST_ORIGIN);

interface Rig {
  bus: EventBus;
  store: FakeAlarmStore;
  engine: AlarmEngine;
  seen: { state: string; event: AlarmEvent }[];
  /** Emits a snapshot and waits until the engine has handled it. */
  snap(ts: number, r: Reading, packId?: string): Promise<void>;
  online(ts: number, online: boolean, packId?: string): Promise<void>;
  raised(): AlarmEvent[];
  cleared(): AlarmEvent[];
}

async function rig(
  rulesRaw: unknown[] = [],
  store = new FakeAlarmStore(),
  errors: unknown[] = [],
): Promise<Rig> {
  const bus = new EventBus((e) => {
    throw e;
  });
  const engine = await new AlarmEngine({
    bus,
    store,
    origin: TEST_ORIGIN,
    rules: parseAlarmRules(rulesRaw),
    now: () => T0 + 999_000,
    onError: (e) => errors.push(e),
  }).start();
  const seen: Rig['seen'] = [];
  bus.on((e: GatewayEvent) => {
    if (e.type === 'alarm') seen.push({ state: e.state, event: e.event });
  });
  return {
    bus,
    store,
    engine,
    seen,
    snap: async (ts, snapshot, packId = P) => {
      bus.emit({ type: 'snapshot', packId, ts, snapshot });
      await engine.settled();
    },
    online: async (ts, online, packId = P) => {
      bus.emit({ type: 'online', packId, ts, online, ...(online ? {} : { reason: 'timeout' }) });
      await engine.settled();
    },
    raised: () => seen.filter((x) => x.state === 'raised').map((x) => x.event),
    cleared: () => seen.filter((x) => x.state === 'cleared').map((x) => x.event),
  };
}

const alarms = (...a: Alarm[]): Reading => ({ soc_pct: 50, alarms: a });

describe('BMS alarms', () => {
  it('raises a new code, keeps it while reported, clears it when gone', async () => {
    const r = await rig();
    await r.snap(s(0), alarms());
    await r.snap(s(1), alarms(makeAlarm('cell_ov', { level: 1, source: 'cell_ov_l1' })));
    await r.snap(s(2), alarms(makeAlarm('cell_ov', { level: 1, source: 'cell_ov_l1' })));
    expect(r.raised()).toHaveLength(1);
    expect(r.raised()[0]).toMatchObject({
      packId: P,
      code: 'cell_ov',
      severity: 'warning',
      level: 1,
      origin: 'bms',
      raisedAt: s(1),
      message: 'Cell over-voltage (level 1)',
    });
    expect(r.engine.active(P).map((e) => e.code)).toEqual(['cell_ov']);
    await r.snap(s(3), alarms());
    expect(r.cleared()).toEqual([expect.objectContaining({ code: 'cell_ov', clearedAt: s(3) })]);
    expect(r.engine.active()).toEqual([]);
    expect(await r.store.list(S, { active: true })).toEqual([]);
  });

  it('eight cells under voltage are one event naming the cells, not the brand ids ("cell4_voltage_low")', async () => {
    const r = await rig();
    const uv = (cell: number) =>
      makeAlarm('cell_uv', { level: 1, source: `cell${cell}_voltage_low`, cell });
    await r.snap(s(0), alarms(...[4, 1, 2, 3, 5, 6, 7, 8].map(uv)));
    expect(r.raised()).toHaveLength(1);
    expect(r.raised()[0]!.message).toBe(
      'Cell under-voltage, cells 1, 2, 3, 4, 5, 6, 7, 8 (level 1)',
    );
    expect(r.raised()[0]!.message).not.toContain('voltage_low');
  });

  it('a level change clears the old event and raises the new level', async () => {
    const r = await rig();
    await r.snap(s(0), alarms(makeAlarm('cell_ov', { level: 1 })));
    await r.snap(s(5), alarms(makeAlarm('cell_ov', { level: 2 })));
    expect(r.seen.map((x) => `${x.state}:${x.event.level}`)).toEqual([
      'raised:1',
      'cleared:1',
      'raised:2',
    ]);
    expect(r.engine.active()).toEqual([
      expect.objectContaining({ code: 'cell_ov', level: 2, severity: 'protection' }),
    ]);
  });

  it('a code listed twice is one event at its highest level; a snapshot without alarms changes nothing', async () => {
    const r = await rig();
    await r.snap(
      s(0),
      alarms(makeAlarm('chg_ot', { level: 1 }), makeAlarm('chg_ot', { level: 2 })),
    );
    expect(r.raised()).toEqual([expect.objectContaining({ code: 'chg_ot', level: 2 })]);
    await r.snap(s(1), { soc_pct: 50 }); // alarms not reported in this read: keep
    expect(r.cleared()).toEqual([]);
  });

  it('keeps packs apart', async () => {
    const r = await rig();
    await r.snap(s(0), alarms(makeAlarm('cell_uv')), P);
    await r.snap(s(0), alarms(), Q);
    expect(r.engine.active(P)).toHaveLength(1);
    expect(r.engine.active(Q)).toHaveLength(0);
  });
});

describe('comm_lost', () => {
  it('raises once when the pack goes offline and clears when it is back', async () => {
    const r = await rig();
    await r.online(s(0), false);
    await r.online(s(10), false);
    expect(r.raised()).toEqual([
      expect.objectContaining({
        code: 'comm_lost',
        origin: 'gateway',
        severity: 'fault',
        raisedAt: s(0),
        message: 'Communication lost: timeout',
      }),
    ]);
    await r.online(s(20), true);
    expect(r.cleared()).toEqual([expect.objectContaining({ code: 'comm_lost', clearedAt: s(20) })]);
  });

  it('a snapshot also ends comm_lost', async () => {
    const r = await rig();
    await r.online(s(0), false);
    await r.snap(s(3), alarms());
    expect(r.engine.active()).toEqual([]);
  });
});

describe('user rules', () => {
  const spread = {
    id: 'spread',
    name: 'Cell spread',
    metric: 'delta_cell_mv',
    op: '>',
    threshold: 80,
    clear: 60,
    severity: 'protection',
  };

  it('hysteresis: raises above the threshold, does not flap between clear and threshold', async () => {
    const r = await rig([spread]);
    const values = [50, 81, 79, 85, 70, 61, 90, 60, 75, 81];
    for (const [i, v] of values.entries()) await r.snap(s(i), { delta_cell_mv: v });
    expect(r.seen.map((x) => `${x.state}@${(x.event.clearedAt ?? x.event.raisedAt) - T0}`)).toEqual(
      ['raised@1000', 'cleared@7000', 'raised@9000'],
    );
    expect(r.raised()[0]).toMatchObject({
      origin: 'rule',
      ruleId: 'spread',
      code: 'cell_diff',
      severity: 'protection',
      value: 81,
      message: 'Cell spread: delta_cell_mv 81 > 80',
    });
  });

  it('reads derived metrics from the cells when the snapshot lacks them', async () => {
    const r = await rig([spread]);
    await r.snap(s(0), { cell_mv: [3300, 3390, 3310] });
    expect(r.raised()).toEqual([expect.objectContaining({ value: 90 })]);
  });

  it('for_s: raises only after the condition held that long, restarts when it lapses', async () => {
    const r = await rig([{ ...spread, for_s: 30 }]);
    await r.snap(s(0), { delta_cell_mv: 90 });
    await r.snap(s(20), { delta_cell_mv: 90 });
    await r.snap(s(25), { delta_cell_mv: 50 }); // lapses: starts again
    await r.snap(s(30), { delta_cell_mv: 90 });
    await r.snap(s(59), { delta_cell_mv: 90 });
    expect(r.raised()).toEqual([]);
    await r.snap(s(60), { delta_cell_mv: 91 });
    expect(r.raised()).toEqual([expect.objectContaining({ raisedAt: s(60), value: 91 })]);
  });

  it('for_s: going offline interrupts the measured duration', async () => {
    const r = await rig([{ ...spread, for_s: 30 }]);
    await r.snap(s(0), { delta_cell_mv: 90 });
    await r.online(s(5), false);
    await r.snap(s(40), { delta_cell_mv: 90 });
    expect(r.raised().filter((e) => e.origin === 'rule')).toEqual([]);
    await r.snap(s(70), { delta_cell_mv: 90 });
    expect(r.raised().filter((e) => e.origin === 'rule')).toHaveLength(1);
  });

  it('clear_for_s: clears only after the value stayed on the safe side that long', async () => {
    const r = await rig([{ ...spread, clear_for_s: 60 }]);
    await r.snap(s(0), { delta_cell_mv: 90 });
    await r.snap(s(10), { delta_cell_mv: 40 });
    await r.snap(s(40), { delta_cell_mv: 70 }); // back above clear: the clear timer restarts
    await r.snap(s(50), { delta_cell_mv: 40 });
    await r.snap(s(100), { delta_cell_mv: 40 });
    expect(r.cleared()).toEqual([]);
    await r.snap(s(110), { delta_cell_mv: 40 });
    expect(r.cleared()).toEqual([expect.objectContaining({ clearedAt: s(110) })]);
  });

  it('a rule for some packs ignores the others; a missing metric changes nothing', async () => {
    const r = await rig([{ ...spread, packs: [Q] }]);
    await r.snap(s(0), { delta_cell_mv: 90 }, P);
    expect(r.raised()).toEqual([]);
    await r.snap(s(0), { delta_cell_mv: 90 }, Q);
    await r.snap(s(1), { soc_pct: 40 }, Q);
    expect(r.engine.active(Q)).toHaveLength(1);
  });

  it('low-side rule: SOC < 15 % clears at 20 %', async () => {
    const r = await rig([
      { id: 'low', name: 'SOC low', metric: 'soc_pct', op: '<', threshold: 15, clear: 20 },
    ]);
    for (const [t, v] of [
      [0, 16],
      [1, 14],
      [2, 18],
      [3, 14.5],
      [4, 20],
    ] as const)
      await r.snap(s(t), { soc_pct: v });
    expect(r.seen.map((x) => `${x.state}:${x.event.code}`)).toEqual([
      'raised:soc_low',
      'cleared:soc_low',
    ]);
    expect(r.cleared()[0]?.clearedAt).toBe(s(4));
  });

  it('soc_full built-in: a warning notice at 100 %, no flapping while held near full', async () => {
    const r = await rig();
    for (const [t, v] of [
      [0, 98],
      [1, 100],
      [2, 99],
      [3, 100],
      [4, 96],
      [5, 95],
    ] as const)
      await r.snap(s(t), { soc_pct: v });
    expect(r.seen.map((x) => `${x.state}@${(x.event.clearedAt ?? x.event.raisedAt) - T0}`)).toEqual(
      ['raised@1000', 'cleared@5000'],
    );
    expect(r.raised()[0]).toMatchObject({
      code: 'soc_high',
      severity: 'warning',
      ruleId: 'soc_full',
      message: 'SOC reached 100 %',
    });
  });

  it('a rule removed from the config clears its event at the next snapshot', async () => {
    const r = await rig([spread]);
    await r.snap(s(0), { delta_cell_mv: 90 });
    r.engine.setRules(parseAlarmRules([]));
    await r.snap(s(1), { delta_cell_mv: 90 });
    expect(r.cleared()).toEqual([expect.objectContaining({ ruleId: 'spread', clearedAt: s(1) })]);
  });
});

describe('acknowledge, counts, history', () => {
  let r: Rig;
  beforeEach(async () => {
    r = await rig();
    await r.snap(s(0), alarms(makeAlarm('dsg_oc', { level: 2 })));
    await r.snap(s(1), alarms());
    await r.snap(
      s(2),
      alarms(makeAlarm('dsg_oc', { level: 2 }), makeAlarm('cell_uv', { level: 1 })),
    );
  });

  it('acknowledges an active event, stores who and when, and emits it', async () => {
    const id = r.engine.active().find((e) => e.code === 'cell_uv')?.localId ?? 0;
    const ev = await r.engine.acknowledge(id, 'alice');
    expect(ev).toMatchObject({
      localId: id,
      acknowledgedBy: 'alice',
      acknowledgedAt: T0 + 999_000,
    });
    expect(r.seen.at(-1)).toMatchObject({
      state: 'acknowledged',
      event: { localId: id, acknowledgedBy: 'alice' },
    });
    expect(r.engine.active().find((e) => e.localId === id)?.acknowledgedBy).toBe('alice');
    expect(r.store.events.find((e) => e.localId === id)?.acknowledgedBy).toBe('alice');
    // Twice: the first acknowledgement stands, nothing is emitted again.
    const n = r.seen.length;
    expect((await r.engine.acknowledge(id, 'bob')).acknowledgedBy).toBe('alice');
    expect(r.seen).toHaveLength(n);
  });

  it('acknowledges a cleared event too; unknown ids and blank users are clear errors', async () => {
    const cleared = (await r.store.list(S, { active: false }))[0];
    expect(await r.engine.acknowledge(cleared?.localId ?? 0, 'alice')).toMatchObject({
      acknowledgedBy: 'alice',
    });
    expect(await r.engine.acknowledge(cleared?.localId ?? 0, 'bob')).toMatchObject({
      acknowledgedBy: 'alice',
    });
    await expect(r.engine.acknowledge(999, 'alice')).rejects.toThrow(
      expect.objectContaining({ code: 'NOT_FOUND' }),
    );
    await expect(r.engine.acknowledge(1.5, 'alice')).rejects.toThrow(
      expect.objectContaining({ code: 'REQUEST_INVALID' }),
    );
    await expect(r.engine.acknowledge(1, ' ')).rejects.toThrow(
      expect.objectContaining({ code: 'REQUEST_INVALID' }),
    );
  });

  it('counts events per code from the store, per pack or all', async () => {
    await r.snap(s(3), alarms(makeAlarm('dsg_oc', { level: 2 })), Q);
    // Protection events only: cell_uv at level 1 is a warning and does not count.
    expect(await r.engine.counts(P)).toEqual({ dsg_oc: 2 });
    expect(await r.engine.counts()).toEqual({ dsg_oc: 3 });
    expect(await r.engine.history({ packId: Q })).toHaveLength(1);
  });
});

describe('restart', () => {
  it('loads active events: no duplicates, and clears what is gone at the next snapshot', async () => {
    const store = new FakeAlarmStore();
    const rules = [
      { id: 'spread', name: 'Spread', metric: 'delta_cell_mv', op: '>', threshold: 80, clear: 60 },
    ];
    const first = await rig(rules, store);
    await first.snap(s(0), { ...alarms(makeAlarm('cell_ov', { level: 2 })), delta_cell_mv: 90 });
    await first.online(s(0), false, Q);
    await first.snap(s(0), alarms(makeAlarm('chg_ot', { level: 1 })), 'home/bus1/3');
    expect(store.events).toHaveLength(4);
    first.engine.stop();

    const second = await rig(rules, store);
    expect(
      second.engine
        .active()
        .map((e) => e.code)
        .sort(),
    ).toEqual(['cell_diff', 'cell_ov', 'chg_ot', 'comm_lost']);
    // Same conditions: nothing new raised.
    await second.snap(s(10), { ...alarms(makeAlarm('cell_ov', { level: 2 })), delta_cell_mv: 70 });
    await second.online(s(10), false, Q);
    expect(second.raised()).toEqual([]);
    expect(store.events).toHaveLength(4);
    // Conditions gone: cleared at the next snapshot.
    await second.snap(s(20), { ...alarms(), delta_cell_mv: 50 });
    await second.snap(s(20), alarms(), Q);
    await second.snap(s(20), alarms(), 'home/bus1/3');
    expect(
      second
        .cleared()
        .map((e) => e.code)
        .sort(),
    ).toEqual(['cell_diff', 'cell_ov', 'chg_ot', 'comm_lost']);
    expect(await store.list(S, { active: true })).toEqual([]);
  });

  it('clears duplicates and events of unknown kinds left in the store', async () => {
    const store = new FakeAlarmStore();
    const base = { packId: P, severity: 'protection' as const, raisedAt: s(0), message: 'x' };
    await store.raise(TEST_ORIGIN, { ...base, code: 'cell_ov', origin: 'bms' });
    await store.raise(TEST_ORIGIN, { ...base, code: 'cell_ov', origin: 'bms' });
    await store.raise(TEST_ORIGIN, { ...base, code: 'soc_low', origin: 'gateway' });
    const r = await rig([], store);
    expect(r.engine.active()).toHaveLength(3);
    await r.snap(s(1), alarms(makeAlarm('cell_ov')));
    expect(r.engine.active()).toHaveLength(1);
    expect(await store.list(S, { active: true })).toHaveLength(1);
    expect(r.raised()).toEqual([]);
  });
});

describe('store failures', () => {
  it('a failed write is reported, not fatal, and retried at the next event', async () => {
    const store = new FakeAlarmStore();
    const errors: unknown[] = [];
    const r = await rig([], store, errors);
    store.failWrites = true;
    await r.snap(s(0), alarms(makeAlarm('cell_ov')));
    await r.online(s(1), false, Q);
    expect(errors.map((e) => (e as { code?: string }).code)).toEqual([
      'STORAGE_FULL',
      'STORAGE_FULL',
    ]);
    expect(r.engine.active()).toEqual([]);
    store.failWrites = false;
    await r.snap(s(2), alarms(makeAlarm('cell_ov')));
    expect(
      r.engine
        .active()
        .map((e) => `${e.packId}:${e.code}`)
        .sort(),
    ).toEqual([`${P}:cell_ov`, `${Q}:comm_lost`]);
    store.failWrites = true;
    await r.snap(s(3), alarms());
    expect(r.engine.active(P)).toHaveLength(1); // clear failed: still active, retried
    store.failWrites = false;
    await r.snap(s(4), alarms());
    expect(r.engine.active(P)).toHaveLength(0);
    expect((await store.list(S, { active: true })).map((e) => e.code)).toEqual(['comm_lost']);
  });
});

describe('gateway alarms (scope "gateway": the storage)', () => {
  it('raises one event per code in the gateway scope, listed with the rest, cleared once', async () => {
    const r = await rig();
    await r.engine.setGatewayAlarm('storage_full', true, { at: s(0), message: 'disk full' });
    await r.engine.setGatewayAlarm('storage_full', true, { at: s(1), message: 'disk full' });
    await r.snap(s(2), alarms(makeAlarm('cell_ov')));
    expect(r.raised().map((e) => `${e.packId}:${e.code}`)).toEqual([
      'gateway:storage_full',
      `${P}:cell_ov`,
    ]);
    expect(r.raised()[0]).toMatchObject({ origin: 'gateway', severity: 'fault', raisedAt: s(0) });
    expect(r.engine.active().map((e) => e.code)).toEqual(['cell_ov', 'storage_full']);
    expect(r.engine.active('gateway').map((e) => e.code)).toEqual(['storage_full']);
    expect(r.engine.active(P).map((e) => e.code)).toEqual(['cell_ov']);
    await r.engine.setGatewayAlarm('storage_full', false, { at: s(3), message: '' });
    await r.engine.setGatewayAlarm('storage_full', false, { at: s(4), message: '' });
    expect(r.cleared().map((e) => [e.code, e.clearedAt])).toEqual([['storage_full', s(3)]]);
    expect((await r.store.list(S, { packId: 'gateway' }))[0]).toMatchObject({ clearedAt: s(3) });
  });

  it('a raise the store refuses is tried again at the next event; an unknown code is refused', async () => {
    const store = new FakeAlarmStore();
    const errors: unknown[] = [];
    const r = await rig([], store, errors);
    store.failWrites = true;
    await r.engine.setGatewayAlarm('storage_corrupt', true, { at: s(0), message: 'damaged' });
    expect(r.engine.active()).toEqual([]);
    store.failWrites = false;
    await r.snap(s(1), alarms());
    expect(r.engine.active().map((e) => [e.code, e.raisedAt])).toEqual([['storage_corrupt', s(0)]]);
    await expect(
      r.engine.setGatewayAlarm('disk_on_fire', true, { at: s(2), message: '' }),
    ).rejects.toThrow(/unknown alarm code/);
  });

  it('after a restart adopts an active gateway alarm (cleared by whoever judges it again) and clears a duplicate', async () => {
    const store = new FakeAlarmStore();
    const ev = {
      packId: 'gateway',
      code: 'storage_full',
      severity: 'fault',
      origin: 'gateway',
      message: 'x',
    } as const;
    await store.raise(TEST_ORIGIN, { ...ev, raisedAt: s(0) });
    await store.raise(TEST_ORIGIN, { ...ev, raisedAt: s(1) });
    const r = await rig([], store);
    expect(r.engine.active('gateway')).toHaveLength(1);
    expect(await store.list(S, { active: true })).toHaveLength(1);
    await r.engine.setGatewayAlarm('storage_full', false, { at: s(5), message: '' });
    expect(await store.list(S, { active: true })).toEqual([]);
  });

  it('starts with nothing adopted, and reports it, when the store cannot be read', async () => {
    const store = new FakeAlarmStore();
    store.list = async () => {
      throw new Error('unreadable');
    };
    const errors: unknown[] = [];
    const r = await rig([], store, errors);
    expect(errors.map(String)).toEqual(['Error: unreadable']);
    await r.engine.setGatewayAlarm('storage_corrupt', true, { at: s(0), message: 'damaged' });
    expect(r.engine.active().map((e) => e.code)).toEqual(['storage_corrupt']);
  });
});
