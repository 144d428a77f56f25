// The overview's arithmetic: capacity-weighted SOC, state from current, filters, search,
// sorting, parallel systems and their master.
import { describe, expect, it } from 'vitest';
import type { AlarmView, BusView, PackView, Snapshot } from '@openbms/contract/api';
import {
  capacityAh,
  combinedSoc,
  filterCounts,
  identityOf,
  matchesSearch,
  packRows,
  parallelSystems,
  parseAddress,
  runState,
  sortRows,
  systemState,
  tempRange,
  totals,
} from './model';

function pack(id: string, address: number, snapshot: Snapshot | null, online = true): PackView {
  const [site, bus] = id.split('/') as [string, string];
  return {
    id,
    name: `Pack ${address}`,
    site,
    bus,
    address,
    protocol: 'pylontech',
    chemistry: 'lfp',
    online,
    last_seen: snapshot ? 1_000 + address : null,
    snapshot,
    link: {
      requests: 0,
      replies: 0,
      retries: 0,
      timeouts: 0,
      checksum_errors: 0,
      polls: 0,
      failures: 0,
    },
  };
}

function alarm(id: number, packId: string, severity: AlarmView['severity']): AlarmView {
  return {
    id,
    pack_id: packId,
    code: 'cell_ov',
    severity,
    origin: 'bms',
    raised_at: 1,
    message: 'x',
  };
}

describe('combined SOC', () => {
  it('weights each pack by its full capacity', () => {
    // 200 Ah at 50 % and 100 Ah at 80 %: (100 + 80) / 300 = 60 %.
    expect(
      combinedSoc([
        { soc_pct: 50, full_ah: 200 },
        { soc_pct: 80, full_ah: 100 },
      ]),
    ).toBeCloseTo(60, 10);
  });

  it('falls back to design capacity, then remaining / SOC', () => {
    expect(capacityAh({ design_ah: 150 })).toBe(150);
    expect(capacityAh({ remaining_ah: 40, soc_pct: 40 })).toBeCloseTo(100, 10);
    expect(capacityAh({ soc_pct: 0, remaining_ah: 0 })).toBeUndefined();
  });

  it('counts a pack of unknown capacity with the mean of the known ones', () => {
    // Known: 300 Ah. The unknown one counts as 300 Ah: (30*300 + 90*300) / 600 = 60.
    expect(combinedSoc([{ soc_pct: 30, full_ah: 300 }, { soc_pct: 90 }])).toBeCloseTo(60, 10);
  });

  it('is a plain mean when no capacity is known, undefined without any SOC', () => {
    expect(combinedSoc([{ soc_pct: 20 }, { soc_pct: 40 }])).toBeCloseTo(30, 10);
    expect(combinedSoc([{ voltage_v: 52 }, null])).toBeUndefined();
  });
});

describe('pack values', () => {
  it('does not say "Charging" at -0.5 A: a reported direction the current contradicts gives way', () => {
    expect(runState({ state: 'charging', current_a: -0.5 })).toBe('discharging');
    expect(runState({ state: 'discharging', current_a: 3 })).toBe('charging');
    expect(runState({ state: 'charging', current_a: 0.01 })).toBe('charging');
    expect(runState({ state: 'fault', current_a: -20 })).toBe('fault');
  });

  it('a system of idle packs is idle, whatever their small currents add up to', () => {
    // The parallel page said "System state: Charging" while all 4 packs were Idle.
    const rows = packRows(
      [1, 2, 3, 4].map((a) => pack(`d/rack/${a}`, a, { state: 'idle', current_a: 0.04 })),
      [],
    );
    const t = totals(rows);
    expect(t.current).toBeCloseTo(0.16, 10);
    expect(t.state).toBe('idle');
    expect(systemState(['idle', 'charging', 'idle'], 3)).toBe('charging');
    expect(systemState(['charging', 'discharging'], -4)).toBe('discharging');
    expect(systemState(['idle', 'fault'], 0)).toBe('fault');
    expect(systemState([undefined, undefined], 0.08)).toBe('idle');
  });

  it('keeps the reported state and derives one from the current only when absent', () => {
    expect(runState({ state: 'idle', current_a: 10 })).toBe('idle');
    expect(runState({ current_a: 3.2 })).toBe('charging');
    expect(runState({ current_a: -0.4 })).toBe('discharging');
    expect(runState({ current_a: 0.01 })).toBe('idle');
    expect(runState({ voltage_v: 52 })).toBeUndefined();
  });

  it('takes the temperature range from the extremes or the sensors', () => {
    expect(tempRange({ min_temp_c: 20, max_temp_c: 25 })).toEqual({ min: 20, max: 25 });
    expect(tempRange({ temps_c: [22, 19.5, 24] })).toEqual({ min: 19.5, max: 24 });
    expect(tempRange({})).toEqual({});
  });

  it('finds serial and bar code in info or raw fields', () => {
    expect(identityOf({ info: { serial: 'S1', barcode: 'B1' } })).toEqual({
      serial: 'S1',
      barcode: 'B1',
    });
    expect(identityOf({ raw: { serial_number: 'S2', barcode: 'B2' } })).toEqual({
      serial: 'S2',
      barcode: 'B2',
    });
  });

  it('remembers a serial seen earlier when a later snapshot lacks it', () => {
    packRows([pack('m/b/9', 9, { info: { serial: 'REMEMBER-9' } })], []);
    const [row] = packRows([pack('m/b/9', 9, { soc_pct: 50 })], []);
    expect(row!.identity.serial).toBe('REMEMBER-9');
  });
});

describe('filters, search and sort', () => {
  const packs = [
    pack('s/a/2', 2, { soc_pct: 70, power_w: -300, delta_cell_mv: 4, max_temp_c: 30 }),
    pack('s/a/3', 3, { soc_pct: 40, power_w: 200, delta_cell_mv: 9, info: { serial: 'SN-0003' } }),
    pack('s/b/64', 64, null, false),
  ];
  packs[2]!.name = 'Shed pack';
  const rows = packRows(packs, [alarm(1, 's/a/3', 'warning'), alarm(2, 's/a/3', 'fault')]);

  it('counts each filter', () => {
    expect(filterCounts(rows)).toEqual({ all: 3, online: 2, offline: 1, alarm: 1 });
    expect(rows[1]!.alarms).toEqual({ count: 2, worst: 'fault' });
  });

  it('searches name, serial and address (decimal or 0x-hex, whole number)', () => {
    const ids = (q: string) => rows.filter((r) => matchesSearch(r, q)).map((r) => r.pack.id);
    expect(ids('shed')).toEqual(['s/b/64']);
    expect(ids('sn-0003')).toEqual(['s/a/3']);
    expect(ids('0x40')).toEqual(['s/b/64']);
    expect(ids('64')).toEqual(['s/b/64']);
    expect(ids('6')).toEqual([]);
    expect(ids('  ')).toHaveLength(3);
    expect(parseAddress('0x1G')).toBeUndefined();
  });

  it('sorts by a value with the packs lacking it last, either way', () => {
    const order = (k: Parameters<typeof sortRows>[1], d: 'asc' | 'desc') =>
      sortRows(rows, k, d).map((r) => r.pack.id);
    expect(order('soc', 'desc')).toEqual(['s/a/2', 's/a/3', 's/b/64']);
    expect(order('soc', 'asc')).toEqual(['s/a/3', 's/a/2', 's/b/64']);
    expect(order('power', 'desc')).toEqual(['s/a/3', 's/a/2', 's/b/64']);
    expect(order('delta', 'desc')).toEqual(['s/a/3', 's/a/2', 's/b/64']);
    expect(order('temp', 'asc')).toEqual(['s/a/2', 's/a/3', 's/b/64']);
    expect(order('name', 'asc')).toEqual(['s/a/2', 's/a/3', 's/b/64']);
    expect(order('name', 'desc')).toEqual(['s/b/64', 's/a/3', 's/a/2']);
  });

  it('orders names with numbers naturally', () => {
    const r = packRows([pack('x/y/10', 10, null), pack('x/y/9', 9, null)], []);
    expect(sortRows(r, 'name', 'asc').map((x) => x.pack.name)).toEqual(['Pack 9', 'Pack 10']);
  });
});

describe('parallel systems', () => {
  const buses: BusView[] = [
    { id: 'rack', site: 'd', port: 'sim', protocol: 'pylontech', packs: ['d/rack/5', 'd/rack/2'] },
    { id: 'solo', site: 'd', port: 'sim', protocol: 'jk', packs: ['d/solo/1'] },
  ];
  const rows = packRows(
    [
      pack('d/rack/5', 5, { current_a: -4.5, power_w: -234, soc_pct: 60, full_ah: 100 }),
      pack('d/rack/2', 2, { current_a: -5.5, power_w: -286, soc_pct: 30, full_ah: 200 }),
      pack('d/solo/1', 1, { current_a: 2 }),
    ],
    [alarm(7, 'd/rack/5', 'protection')],
  );

  it('makes a system of every bus with more than one pack, packs by address', () => {
    const systems = parallelSystems(buses, [{ id: 'd', name: 'Demo' }], rows);
    expect(systems).toHaveLength(1);
    const s = systems[0]!;
    expect(s.siteName).toBe('Demo');
    expect(s.rows.map((r) => r.pack.address)).toEqual([2, 5]);
    expect(s.totals.current).toBeCloseTo(-10, 10);
    expect(s.totals.power).toBeCloseTo(-520, 10);
    expect(s.totals.state).toBe('discharging');
    // (30*200 + 60*100) / 300 = 40.
    expect(s.totals.soc).toBeCloseTo(40, 10);
    expect(s.totals.alarms).toEqual({ count: 1, worst: 'protection' });
    expect(s.master).toBe('d/rack/2');
  });

  it('passes the master to the next address when the lowest is offline', () => {
    const r = packRows(
      [pack('d/rack/5', 5, { current_a: 1 }), pack('d/rack/2', 2, { current_a: 1 }, false)],
      [],
    );
    const [s] = parallelSystems(buses, [], r);
    expect(s!.master).toBe('d/rack/5');
    // Offline packs do not count in the bus current.
    expect(s!.totals.current).toBe(1);
    expect(s!.totals.online).toBe(1);
  });

  it('elects the lowest address of a PACE rack as its master (the pack addressed 1)', () => {
    const pace = packRows(
      [pack('d/rack/3', 3, { current_a: 1 }), pack('d/rack/1', 1, { current_a: 1 })],
      [],
    );
    const [s] = parallelSystems(
      [{ ...buses[0]!, protocol: 'pace', packs: ['d/rack/3', 'd/rack/1'] }],
      [],
      pace,
    );
    expect(s!.master).toBe('d/rack/1');
  });

  it('elects no master for protocols without address-based election', () => {
    const [s] = parallelSystems([{ ...buses[0]!, protocol: 'jk' }], [], rows);
    expect(s!.master).toBeUndefined();
  });

  it('sums charge and discharge power separately for the site', () => {
    const t = totals(rows);
    expect(t.charging).toBe(0);
    expect(t.discharging).toBeCloseTo(520, 10);
    expect(t.packs).toBe(3);
  });
});
