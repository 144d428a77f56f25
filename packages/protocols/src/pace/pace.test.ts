/**
 * The PACE codec on frames built from named parts (what no capture has: a two-pack status,
 * records, EG4 writes, refusals) and on the captured write requests, byte for byte.
 */
import { describe, expect, it } from 'vitest';
import { isBmsError, type BmsRecord, type Reading } from '@openbms/core';
import { buildFrame } from '../pylontech/frame.js';
import { bytesToHex, hexToBytes } from '../util/bytes.js';
import { definition } from './index.js';

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const hexOf = (b: Uint8Array): string => bytesToHex(b);
const u16 = (v: number): number[] => [(v >> 8) & 0xff, v & 0xff];
/** 0.1 K with PACE's 2730 offset. */
const dk = (c: number): number[] => u16(Math.round(c * 10) + 2730);

/** A v25 reply from the pack at `adr`: RTN 00 unless given. */
const reply = (adr: number, info: number[], rtn = 0): Uint8Array =>
  buildFrame(0x25, adr, 0x46, rtn, info);

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (isBmsError(e)) return e.code;
    throw e;
  }
  return 'no error';
}

describe('requests', () => {
  it('writes the captured PbmsTools frames from named arguments, byte for byte', () => {
    // ~25 00 46 D0 F010 | 01 0E10 0E74 0D34 0A | FA21: cell OV enable, 3.600 / 3.700 / 3.380 V, 1.0 s
    expect(
      hexOf(
        definition.encode({
          command: 'set_cell_ov',
          address: 0,
          args: {
            cell_ov_enabled: true,
            cell_ov_alarm_v: 3.6,
            cell_ov_protect_v: 3.7,
            cell_ov_release_v: 3.38,
            cell_ov_delay_s: 1,
          },
        }),
      ),
    ).toBe(hexOf(ascii('~250046D0F010010E100E740D340AFA21\r')));
    // DA: the discharge currents go out positive (0069 = 105 A, 006E = 110 A).
    expect(
      hexOf(
        definition.encode({
          command: 'set_discharge_oc1',
          address: 0,
          args: {
            discharge_oc1_enabled: true,
            discharge_oc1_alarm_a: 105,
            discharge_oc1_protect_a: 110,
            discharge_oc1_delay_s: 1,
          },
        }),
      ),
    ).toBe(hexOf(ascii('~250046DA400C010069006E0AFAF7\r')));
    // B2: 24 08 20 14:15:37 as binary fields 18 08 14 0E 0F 25.
    expect(
      hexOf(
        definition.encode({
          command: 'set_clock',
          address: 0,
          args: { time: '2024-08-20T14:15:37' },
        }),
      ),
    ).toBe(hexOf(ascii('~250046B2400C1808140E0F25FAFC\r')));
    // EC: CAN 0x13 Afore, RS485 0x14 Rongke, mode 00 auto.
    expect(
      hexOf(
        definition.encode({
          command: 'set_inverter_protocol',
          address: 0,
          args: { can_protocol: 0x13, rs485_protocol: 0x14, protocol_mode: 'auto' },
        }),
      ),
    ).toBe(hexOf(ascii('~250046ECA006131400FC47\r')));
  });

  it('parses the captured write requests into the expected_request of the vectors', () => {
    expect(definition.parseRequest(ascii('~250046DA400C010069006E0AFAF7\r'))).toEqual({
      command: 'set_discharge_oc1',
      address: 0,
      args: {
        discharge_oc1_enabled: true,
        discharge_oc1_alarm_a: 105,
        discharge_oc1_protect_a: 110,
        discharge_oc1_delay_s: 1,
      },
    });
    expect(definition.parseRequest(ascii('~250046A1C004018FFCA7\r'))).toEqual({
      command: 'read_history',
      address: 0,
      args: { index: 0x018f },
    });
  });

  it('gives EG4 requests the EG4 envelope: VER 20, CID1 4A, no INFO for 0x42, a 16-bit year', () => {
    expect(
      hexOf(definition.encode({ command: 'analog', address: 1, args: { variant: 'v20-eg4' } })),
    ).toBe(hexOf(ascii('~20014A420000FDA2\r')));
    const clock = definition.encode({
      command: 'eg4_set_clock',
      address: 1,
      args: { variant: 'v20-eg4', time: '2024-09-17T11:59:31' },
    });
    // INFO: 07E8 (2024) 09 11 0B 3B 1F
    expect(new TextDecoder().decode(clock.subarray(13, 13 + 14))).toBe('07E809110B3B1F');
    expect(definition.parseRequest(clock).args).toEqual({
      variant: 'v20-eg4',
      time: '2024-09-17T11:59:31',
    });
  });

  it('refuses arguments its fields cannot carry, and commands of the other variant', () => {
    const write = (args: Record<string, number | boolean>) => () =>
      definition.encode({ command: 'set_charge_oc', address: 0, args });
    const ok = {
      charge_oc_enabled: true,
      charge_oc_alarm_a: 104,
      charge_oc_protect_a: 110,
      charge_oc_delay_s: 1,
    };
    expect(codeOf(write(ok))).toBe('no error');
    expect(codeOf(write({ ...ok, charge_oc_protect_a: 110.5 }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(write({ ...ok, charge_oc_delay_s: 25.6 }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => definition.encode({ command: 'eg4_read_clock', address: 1 }))).toBe(
      'COMMAND_UNSUPPORTED',
    );
    expect(
      codeOf(() =>
        definition.encode({
          command: 'set_clock',
          address: 0,
          args: { time: '2024-02-30T00:00:00' },
        }),
      ),
    ).toBe('INVALID_ARGUMENT');
  });
});

describe('replies', () => {
  const req = (
    command: string,
    args: Record<string, number | boolean | string> = {},
    address = 1,
  ): Uint8Array =>
    definition.encode({ command, address, ...(Object.keys(args).length ? { args } : {}) });

  it('reads a two-pack 0x44 (INFO FF) block by block, with every flag byte in the taxonomy', () => {
    const block = (flags: {
      protect1?: number;
      protect2?: number;
      indication?: number;
      fault?: number;
      balance1?: number;
      warn2?: number;
    }): number[] => [
      4,
      0,
      0,
      0,
      0, // M = 4, cell states
      2,
      0,
      0, // N = 2, sensor states
      0,
      0,
      0, // charge current, pack voltage, discharge current states
      flags.protect1 ?? 0,
      flags.protect2 ?? 0,
      flags.indication ?? 0x06,
      0, // control
      flags.fault ?? 0,
      flags.balance1 ?? 0,
      0, // balance 2
      0, // warning 1
      flags.warn2 ?? 0,
    ];
    const info = [
      0x00,
      2, // INFOFLAG, pack count
      ...block({ protect1: 0x01, protect2: 0x80, balance1: 0b0101 }), // cell OV protection, "fully"
      ...block({ indication: 0x02, warn2: 0x80, fault: 0x04 }), // discharge FET off, low SOC, NTC
    ];
    const r = definition.decode(reply(1, info), { request: req('status', { all: true }) });
    expect(r.packs).toHaveLength(2);
    const [a, b] = r.packs! as [Reading, Reading];
    expect(a.alarms).toEqual([
      { code: 'cell_ov', severity: 'protection', level: 2, source: 'cell_ov_protect' },
    ]);
    expect(a.raw?.fully_charged).toBe(true);
    expect(a.cell_balancing).toEqual([true, false, true, false]);
    expect(a.raw?.balancing_cells).toEqual([1, 3]);
    expect(b.discharge_mos).toBe(false);
    expect(b.alarms?.map((x) => [x.code, x.severity, x.level])).toEqual([
      ['soc_low', 'warning', 1],
      ['temp_sensor_fault', 'fault', undefined],
    ]);
  });

  it('reads SOH and SOC from a P = 9 tail, and never trusts P for the tail length', () => {
    const pack = [
      2,
      ...u16(3300),
      ...u16(3301), // M = 2 cells
      2,
      ...dk(25),
      ...dk(26), // N = 2 sensors
      ...u16(-150 & 0xffff),
      ...u16(6601),
      ...u16(4000), // -1.50 A, 6.601 V, 40.00 Ah
      9, // P says 9
      ...u16(10000),
      ...u16(12),
      ...u16(10000), // full 100 Ah, 12 cycles, design 100 Ah
      40, // SOC %
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0, // cumulative charge / discharge (filler)
      97, // SOH %
    ];
    const r = definition.decode(reply(1, [0, 1, ...pack]), { request: req('analog') });
    expect(r).toMatchObject({
      current_a: -1.5,
      voltage_v: 6.601,
      soc_pct: 40,
      soh_pct: 97,
      full_ah: 100,
      cycles: 12,
    });
    expect(r.raw).toMatchObject({ user_defined_count: 9, pack_soh_pct: 97 });
    expect(r.raw?.independent_voltage_v).toBeUndefined();
  });

  it('leaves out a 0x8000 ("no sensor") temperature instead of reading 3000 degC', () => {
    const pack = [
      1,
      ...u16(3300),
      2,
      ...dk(25),
      0x80,
      0x00,
      ...u16(0),
      ...u16(3300),
      ...u16(100),
      3,
      ...u16(100),
      ...u16(0),
      ...u16(100),
    ];
    const r = definition.decode(reply(1, [0, 1, ...pack]), { request: req('analog') });
    expect(r.temps_c).toEqual([25]);
    expect(r.raw?.absent_sensors).toEqual([2]);
  });

  it('turns a history record into a BmsRecord: alarm kind from its flags, power-on event, index', () => {
    const record = (protect1: number, status: number): number[] => [
      24,
      8,
      21,
      5,
      29,
      31, // 2024-08-21 05:29:31
      2,
      ...u16(3650),
      ...u16(3600), // cells
      1,
      ...dk(30), // one sensor
      ...u16(500),
      ...u16(7250),
      ...u16(9000),
      ...u16(10000), // +5 A, 7.25 V, 90 / 100 Ah
      protect1,
      0,
      0,
      0,
      0,
      0x02, // protection 1, 2, fault, warning 1, 2, indication
      ...u16(7),
      0xff,
      0xff,
      ...u16(status),
    ];
    const r = definition.decode(reply(0, record(0x01, 0x0001)), {
      request: req('read_history', { index: 3 }, 0),
    });
    const rec = r.raw?.record as BmsRecord;
    expect(rec).toMatchObject({
      index: 3,
      kind: 'alarm',
      event: 'power_on',
      wall_ms: Date.UTC(2024, 7, 21, 5, 29, 31),
      voltage_v: 7.25,
      current_a: 5,
      soc_pct: 90,
      cycles: 7,
      cell_mv: [3650, 3600],
      max_cell_mv: 3650,
    });
    expect(rec.alarms?.map((a) => [a.code, a.level])).toEqual([['cell_ov', 2]]);
    const quiet = definition.decode(reply(0, record(0, 0xffff)), {
      request: req('read_history', { index: 4 }, 0),
    });
    expect(quiet.raw?.record).toMatchObject({ index: 4, kind: 'data' });
    expect((quiet.raw?.record as BmsRecord).event).toBeUndefined();
    const none = definition.decode(reply(0, []), {
      request: req('read_history', { index: 400 }, 0),
    });
    expect(none.raw?.record_empty).toBe(true);
  });

  it('keeps a record whose clock was never set, without a time', () => {
    const info = [
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      1,
      ...u16(3300),
      0,
      ...u16(0),
      ...u16(3300),
      ...u16(0),
      ...u16(0),
      0,
      0,
      0,
      0,
      0,
      0,
      ...u16(0),
    ];
    const r = definition.decode(reply(0, info), { request: req('read_history', { index: 0 }, 0) });
    const rec = r.raw?.record as BmsRecord;
    expect(rec.wall_ms).toBeUndefined();
    expect(r.raw?.record_time_hex).toBe('FFFFFFFFFFFF');
  });

  it('reports a refusal (RTN 09) with the INFO byte it still carries, and needs the request otherwise', () => {
    const refused = definition.decode(reply(0, [0x04], 0x09));
    expect(refused.raw).toMatchObject({ rtn: 9, error_response: true, info_hex: '04' });
    expect(codeOf(() => definition.decode(reply(0, [0x01])))).toBe('DECODE_CONTEXT_MISSING');
  });

  it('maps EG4 event bits (temperature word, current event, FET, system status)', () => {
    const info = [
      0x10,
      1, // data flag, pack group
      2,
      0,
      0, // M = 2, states
      0,
      0,
      0, // N field 0 (+2 values follow): 2 states
      0,
      0,
      9, // current, voltage state, user-defined count
      0x10, // balance event: cell difference alarm
      0x02, // voltage event: cell OV protect
      ...u16(1 << 12), // temperature event: MOSFET OT protect
      0x20, // current event: short circuit
      0, // SOC event
      0x01, // FET: discharge on, charge off
      0x01, // system: discharging
      0,
      0,
      0,
      0,
      0, // balance bitmap, reserved
    ];
    const r = definition.decode(buildFrame(0x20, 1, 0x4a, 0, info), {
      request: req('status', { variant: 'v20-eg4' }),
    });
    expect(r).toMatchObject({ charge_mos: false, discharge_mos: true, state: 'discharging' });
    expect(r.alarms?.map((a) => [a.code, a.level])).toEqual([
      ['cell_diff', 1],
      ['cell_ov', 2],
      ['mos_ot', 2],
      ['short_circuit', 2],
    ]);
  });

  it('decodes the inverter protocol with both names of each code', () => {
    const r = definition.decode(hexToBytes(bytesToHex(ascii('~25004600A006131400FC6F\r'))), {
      request: req('read_inverter_protocol', {}, 0),
    });
    expect(r.raw).toMatchObject({
      inverter_protocol: { can: 0x13, rs485: 0x14, mode: 'auto' },
      can_protocol_name: 'AFORE',
      rs485_protocol_name: 'RONGKE',
    });
  });
});
