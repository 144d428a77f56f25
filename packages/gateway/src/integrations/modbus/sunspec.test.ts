/** The SunSpec map's encodings on a charging pack with alarms (pure). */
import { describe, expect, it } from 'vitest';
import { completeSnapshot, makeAlarm } from '@openbms/core';
import type { PackStatus } from '../../types.js';
import { SUNSPEC_SIZE, evt1, sunspecBlock } from './sunspec.js';

const pack: PackStatus = {
  id: 'home/rack/1',
  name: 'Rack 1',
  site: 'home',
  bus: 'rack',
  address: 1,
  protocol: 'pace',
  chemistry: 'lfp',
  online: true,
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

const s16 = (w: number): number => (w >= 0x8000 ? w - 0x10000 : w);

describe('SunSpec model 802', () => {
  it('charging is a negative current and power (+ is discharging), nameplate from design Ah and cells', () => {
    const regs = sunspecBlock({
      status: pack,
      snap: {
        voltage_v: 53.2,
        current_a: 10,
        power_w: 532,
        soc_pct: 61.5,
        design_ah: 280,
        cell_count: 16,
        cycles: 70_000,
        charge_mos: true,
        discharge_mos: true,
      },
      unit: 3,
      uptimeS: 70_000,
      alarms: [],
    });
    expect(regs).toHaveLength(SUNSPEC_SIZE);
    const b = regs.slice(2 + 2 + 66 + 2);
    expect(b[0]).toBe(2800); // AHRtg 280 Ah at sf -1
    expect(b[1]).toBe(1434); // WHRtg 280 Ah x 16 x 3.2 V = 14336 Wh at sf 1
    expect(b[9]).toBe(615); // SoC 61.5 % at sf -1
    expect(b[12]! * 0x10000 + b[13]!).toBe(70_000); // NCyc, uint32 high word first
    expect(b[14]).toBe(4); // ChaSt: charging
    expect(b[16]).toBe(70_000 % 0x10000); // Hb
    expect(s16(b[42]!)).toBe(-100); // A: -10.0 A
    expect(s16(b[45]!)).toBe(-532); // W
    expect(b[4]).toBe(0xffff); // not implemented
    expect(regs[2 + 2 + 64]).toBe(3); // DA
  });

  it('maps alarms to Evt1 bits, protections apart from warnings', () => {
    expect(evt1([makeAlarm('cell_ov', { level: 2 })])).toBe(2 ** 9);
    expect(evt1([makeAlarm('cell_ov', { level: 1 })])).toBe(2 ** 10);
    expect(evt1([{ code: 'comm_lost', severity: 'fault' }])).toBe(1);
    expect(evt1([{ code: 'something_new', severity: 'warning' }])).toBe(2 ** 26);
  });
});

describe('SunSpec model 804 (lithium-ion string of one module)', () => {
  const string = (snap: Parameters<typeof sunspecBlock>[0]['snap'], online = true) => {
    const regs = sunspecBlock({
      status: { ...pack, online },
      snap,
      unit: 1,
      uptimeS: 0,
      alarms: [],
    });
    const at = 2 + 2 + 66 + 2 + 62;
    expect(regs.slice(at, at + 2)).toEqual([804, 62]);
    expect(regs.slice(-2)).toEqual([0xffff, 0]);
    return regs.slice(at + 2, -2);
  };

  it('states, contactors, balancing and the extreme cells counted from 1', () => {
    // As the gateway hands snapshots on: with the values that follow from the cells.
    const r = string(
      completeSnapshot({
        cell_mv: [3301, 3350, 3290, 3350],
        cell_balancing: [false, true, false, true],
        temps_c: [20.5, 22, -3.2],
        charge_mos: false,
        discharge_mos: true,
        state: 'fault',
      }),
    );
    expect(r[2]! * 0x10000 + r[3]!).toBe(1); // St: enabled, contactors not all closed
    expect(r[4]).toBe(8); // ConFail: string fault
    expect(r[5]).toBe(2); // NCellBal
    expect(r[24]! * 0x10000 + r[25]!).toBe(2); // ConSt: discharge MOSFET only
    expect(r[13]).toBe(3350); // CellVMax at sf -3 (derived max)
    expect(s16(r[20]!)).toBe(-32); // ModTmpMin -3.2 C at sf -1
    expect(s16(r[22]!)).toBe(131); // ModTmpAvg 13.1 C
    const m = r.slice(46);
    expect(m).toHaveLength(16);
    expect(m[0]).toBe(4); // ModNCell
    expect(m[4]).toBe(2); // ModCellVMaxCell: the first of the two highest
    expect(m[6]).toBe(3); // ModCellVMinCell
  });

  it('an unheard pack with nothing known reads as not implemented', () => {
    const r = string({}, false);
    expect([r[2], r[3]]).toEqual([0xffff, 0xffff]); // St
    expect([r[4], r[5], r[6]]).toEqual([0xffff, 0xffff, 0xffff]); // ConFail, NCellBal, SoC
    expect(r[11]).toBe(0x8000); // A
    expect([r[24], r[25]]).toEqual([0xffff, 0xffff]); // ConSt
    expect(r.slice(46, 47)).toEqual([0xffff]); // ModNCell
  });
});
