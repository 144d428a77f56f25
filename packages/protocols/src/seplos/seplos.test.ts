/**
 * Seplos codecs: frames built from named parts (so a reviewer sees each byte), the real
 * vectors where a behaviour needs a real frame, the V3 session fixture, the shared framer,
 * and the pure control builders against the captured 0xA1 write.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Reading } from '@openbms/core';
import { codeOf, frameAll, shapeProblems } from '../testing/checks.js';
import { lookupCanonical, matches } from '../testing/vectors.js';
import { bytesToHex, concatBytes, hexToBytes } from '../util/bytes.js';
import { crc16Modbus } from '../util/checksum.js';
import { buildFrame } from '../pylontech/frame.js';
import { controlOf } from '../types.js';
import { control, controlV3, scaDateMs, scaDateRegisters } from './control.js';
import { definition } from './index.js';

const here = dirname(fileURLToPath(import.meta.url));
const { vectors } = JSON.parse(readFileSync(join(here, 'fixtures', 'vectors.json'), 'utf8')) as {
  vectors: {
    id: string;
    request_hex: string | null;
    response_hex: string;
    expected: Record<string, unknown>;
    expected_request?: Record<string, unknown>;
  }[];
};
const vec = (id: string) => vectors.find((v) => v.id === id)!;
const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const text = (b: Uint8Array): string => String.fromCharCode(...b);
const u16 = (v: number): number[] => [(v >> 8) & 0xff, v & 0xff];
const dk = (c: number): number[] => u16(Math.round(c * 10) + 2731);
/** A V2 reply (RTN 0) from ADR 0 around INFO. */
const reply = (info: number[], rtn = 0, adr = 0): Uint8Array =>
  buildFrame(0x20, adr, 0x46, rtn, info);
const req = (cid2: number, group?: number): Uint8Array =>
  group === undefined ? Uint8Array.of(cid2) : Uint8Array.of(cid2, group);
const modbus = (body: number[]): Uint8Array => {
  const c = crc16Modbus(Uint8Array.from(body));
  return Uint8Array.from([...body, c & 0xff, c >> 8]);
};

describe('seplos v2 telemetry (0x42)', () => {
  // Two cells, six sensors (cells 1-4, ambient, power), P = 10 with 4 reserved words.
  const info = [
    0x00, // data flag
    0x00, // command group (= ADR)
    0x02, // M cells
    ...u16(3301), // cell 1, mV
    ...u16(3299), // cell 2, mV
    0x06, // N sensors
    ...dk(20.1), // cell sensor 1
    ...dk(20.2), // cell sensor 2
    ...dk(20.3), // cell sensor 3
    ...dk(20.4), // cell sensor 4
    ...dk(18.5), // ambient
    ...dk(31.0), // power (MOSFET)
    ...u16(-1234 & 0xffff), // current, int16 0.01 A: -12.34 A (discharging)
    ...u16(660), // pack voltage 0.01 V: 6.60 V
    ...u16(5000), // remaining 0.01 Ah: 50.00 Ah
    10, // P
    ...u16(10000), // full capacity 0.01 Ah: 100 Ah
    ...u16(500), // SOC 0.1 %: 50.0 %
    ...u16(10500), // rated capacity 0.01 Ah: 105 Ah
    ...u16(42), // cycles
    ...u16(987), // SOH 0.1 %: 98.7 %
    ...u16(661), // port voltage 0.01 V
    ...u16(0), // reserved
    ...u16(0),
    ...u16(0x0067), // reserved, non-zero on some firmware
    ...u16(0),
  ];

  it('decodes every field with its own scale (0.01 A, 0.01 V, 0.01 Ah, 0.1 %)', () => {
    const r = definition.decode(reply(info), { request: req(0x42, 0) });
    expect(r).toMatchObject({
      address: 0,
      cell_count: 2,
      cell_mv: [3301, 3299],
      temp_sensor_count: 6,
      temps_c: [20.1, 20.2, 20.3, 20.4, 18.5, 31],
      env_temp_c: 18.5,
      mos_temp_c: 31,
      current_a: -12.34,
      voltage_v: 6.6,
      remaining_ah: 50,
      full_ah: 100,
      design_ah: 105,
      soc_pct: 50,
      soh_pct: 98.7,
      cycles: 42,
      power_w: -81.44,
    });
    expect(r.raw).toMatchObject({
      user_defined_count: 10,
      port_voltage_v: 6.61,
      reserved_hex: '0000000000670000',
    });
    expect(shapeProblems(r)).toEqual([]);
  });

  it('flips the current with invertCurrent, and reports no ambient/MOSFET for other sensor counts', () => {
    const r = definition.decode(reply(info), { request: req(0x42), invertCurrent: true });
    expect(r.current_a).toBe(12.34);
    const fewer = [...info.slice(0, 7), 0x01, ...dk(20.1), ...info.slice(7 + 1 + 12)];
    const one = definition.decode(reply(fewer), { request: req(0x42) });
    expect(one.temps_c).toEqual([20.1]);
    expect(one.env_temp_c).toBeUndefined();
    expect(one.mos_temp_c).toBeUndefined();
  });

  it('rejects counts that do not fill INFO, and a P below the defined items', () => {
    expect(codeOf(() => definition.decode(reply([...info, 0]), { request: req(0x42) }))).toBe(
      'FRAME_MALFORMED',
    );
    expect(codeOf(() => definition.decode(reply(info.slice(0, -2)), { request: req(0x42) }))).toBe(
      'FRAME_TRUNCATED',
    );
    const p = info.slice();
    p[2 + 1 + 4 + 1 + 12 + 6] = 5;
    expect(codeOf(() => definition.decode(reply(p), { request: req(0x42) }))).toBe(
      'DECODE_UNSUPPORTED',
    );
  });

  it('needs the request: a reply does not say what it answers', () => {
    expect(codeOf(() => definition.decode(reply(info)))).toBe('DECODE_CONTEXT_MISSING');
    // ...unless it is an error reply, which decodes to its RTN
    const err = definition.decode(reply([], 0x04));
    expect(err.raw).toMatchObject({ rtn: 4, error_response: true, rtn_meaning: 'CID2 invalid' });
  });

  it('refuses a frame of the other generation when the variant is given', () => {
    expect(codeOf(() => definition.decode(reply(info), { variant: 'v3' }))).toBe('FRAME_MALFORMED');
    expect(codeOf(() => definition.decode(reply(info), { variant: 'v9' }))).toBe('VARIANT_UNKNOWN');
  });
});

describe('seplos v2 telesignalling (0x44)', () => {
  /** INFO with two cells and six sensors; `tail` = the 20 items after P. */
  const signals = (tail: Partial<Record<number, number>>): number[] => {
    const items = Array.from({ length: 20 }, (_, i) => tail[i] ?? 0);
    return [0x00, 0x00, 0x02, 0x00, 0x02, 0x06, 0, 0, 0, 0, 0x01, 0, 0x00, 0x00, 20, ...items];
  };

  it('maps each alarm event bit to the taxonomy with its level', () => {
    const r = definition.decode(
      reply(
        signals({
          1: 0b0000_0010, // event 2 bit 1: cell over-voltage protection
          3: 0b0011_0000, // event 4 bit 4 power OT protection, bit 5 power OT alarm
          4: 0b0001_0000, // event 5 bit 4: transient over-current protection (level 3)
          5: 0b0000_0100, // event 6 bit 2: low SOC alarm
          13: 0b0000_0011, // event 8: EEPROM and RTC faults
        }),
      ),
      { request: req(0x44) },
    );
    expect(r.alarms).toEqual([
      { code: 'cell_ov', severity: 'protection', level: 2, source: 'cell_ov_protect' },
      { code: 'mos_ot', severity: 'protection', level: 2, source: 'power_ot_protect' },
      { code: 'mos_ot', severity: 'warning', level: 1, source: 'power_ot_alarm' },
      { code: 'dsg_oc', severity: 'protection', level: 3, source: 'transient_oc_protect' },
      { code: 'soc_low', severity: 'warning', level: 1, source: 'soc_low_alarm' },
      { code: 'eeprom_fault', severity: 'fault', source: 'eeprom_fault' },
      { code: 'rtc_fault', severity: 'fault', source: 'rtc_fault' },
    ]);
    expect(r.raw?.alarms).toEqual([
      'cell_ov_protect',
      'power_ot_protect',
      'power_ot_alarm',
      'transient_oc_protect',
      'soc_low_alarm',
      'eeprom_fault',
      'rtc_fault',
    ]);
  });

  it('reads switches, balancing, system state; states are not alarms', () => {
    const r = definition.decode(
      reply(
        signals({
          3: 0b0100_0000, // event 4 bit 6: cell heating (a state)
          6: 0b0000_1010, // on/off: charge switch + heater
          7: 0b0000_0010, // balancing: cell 2
          9: 0b0000_0010, // system state: charging
          12: 0b0001_0000, // event 7 bit 4: auto charge wait (a state)
          13: 0b0010_0000, // event 8 bit 5: calendar not synced (a reminder)
        }),
      ),
      { request: req(0x44) },
    );
    expect(r).toMatchObject({
      charge_mos: true,
      discharge_mos: false,
      heater: true,
      balancing: true,
      cell_balancing: [false, true],
      state: 'charging',
      alarms: [],
    });
    expect(r.raw).toMatchObject({
      system_state: ['charging'],
      balancing_cells: [2],
      alarms: ['cell_heating', 'auto_charge_wait', 'calendar_not_synced'],
      cell_states: [0, 2],
    });
  });
});

describe('seplos v2 parameter block (0x47 / 0xA1)', () => {
  const read = vec('seplos2_47_16s_parameters_ichernev');
  const write = vec('seplos2_a1_write_parameters_ichernev');
  const reading = (): Reading =>
    definition.decode(hexToBytes(read.response_hex), { request: hexToBytes(read.request_hex!) });

  it('gives every mapped parameter in catalog units (mV, V, A magnitude, °C, Ah)', () => {
    const p = reading().raw!.parameters as Record<string, number>;
    expect(p).toMatchObject({
      cell_ov_l2_mv: 3650,
      cell_uv_l2_mv: 2700,
      pack_ov_l2_v: 57.6,
      chg_ut_l2_c: -10,
      dsg_oc_l1_a: 155,
      dsg_oc_l2_a: 160,
      dsg_oc_l3_a: 300,
      design_capacity_ah: 160,
      cell_diff_l2_mv: 500,
      balance_delta_mv: 30,
      dsg_oc_l3_delay_s: 0.03,
      soc_low_protect_pct: 5,
      cell_count: 16,
      // function switches FFFFFF3FBF9FAF1E: byte 3 = 3F (bit 6 off), byte 6 = AF (bit 0 on)
      heater_enabled: 0,
      balance_enabled: 1,
    });
    for (const id of Object.keys(p)) {
      expect(
        definition.parameters.some((x) => x.id === id),
        id,
      ).toBe(true);
    }
  });

  it('writes the block just read with the change put in: the captured 0xA1 request, byte for byte', () => {
    const snapshot = reading();
    const steps = control.writeParameters!({ address: 0, snapshot }, { design_capacity_ah: 170 });
    expect(steps).toHaveLength(1);
    expect(text(steps[0]!.request)).toBe(text(hexToBytes(write.request_hex!)));
    // The ack: an empty RTN 00 reply.
    const ack = hexToBytes(write.response_hex);
    expect(steps[0]!.accepts(ack)).toBe(true);
    expect(steps[0]!.result([ack]).reading?.raw).toMatchObject({ rtn: 0, info_len: 0 });
  });

  it('carries the values an earlier part of the write already sent (raw.parameters)', () => {
    const snapshot = reading();
    const held = { ...(snapshot.raw!.parameters as Record<string, number>), cell_ov_l1_mv: 3480 };
    const steps = control.writeParameters!(
      { address: 0, snapshot: { ...snapshot, raw: { ...snapshot.raw, parameters: held } } },
      { balance_start_mv: 3390 },
    );
    const back = definition.decode(
      buildFrame(
        0x20,
        0,
        0x46,
        0,
        definition.parseRequest(steps[0]!.request).args!.block as number[],
      ),
      { request: req(0x47) },
    ).raw!.parameters as Record<string, number>;
    expect(back.cell_ov_l1_mv).toBe(3480);
    expect(back.balance_start_mv).toBe(3390);
    expect(back.cell_ov_l2_mv).toBe(3650);
  });

  it('refuses what the wire cannot carry exactly, unknown ids and a write without the block', () => {
    const t = { address: 0, snapshot: reading() };
    expect(codeOf(() => control.writeParameters!(t, { cell_diff_l2_mv: 505 }))).toBe('PARAM_STEP');
    expect(codeOf(() => control.writeParameters!(t, { chg_oc_l2_delay_s: 300 }))).toBe(
      'PARAM_OUT_OF_RANGE',
    );
    expect(codeOf(() => control.writeParameters!(t, { cell_count: 15 }))).toBe('PARAM_UNKNOWN');
    expect(codeOf(() => control.writeParameters!(t, { short_circuit_a: 500 }))).toBe(
      'PARAM_UNKNOWN',
    );
    expect(codeOf(() => control.writeParameters!({ address: 0 }, { cell_ov_l2_mv: 3600 }))).toBe(
      'INVALID_ARGUMENT',
    );
  });

  it('turns a refusal (RTN 06) into COMMAND_REFUSED', () => {
    const [step] = control.writeParameters!(
      { address: 0, snapshot: reading() },
      { cell_ov_l2_mv: 3600 },
    );
    const no = reply([], 0x06);
    expect(step!.accepts(no)).toBe(true);
    expect(codeOf(() => step!.result([no]))).toBe('COMMAND_REFUSED');
    // A request echo on the bus is not the answer.
    expect(step!.accepts(step!.request)).toBe(false);
  });
});

describe('seplos v2 clock (0x4D / 0x4E)', () => {
  it("sets the wall time as the verified clone write does (2026-10-04 21:07:19 -> '07EA 0A 04 15 07 13')", () => {
    const [step] = control.setClock!({ address: 0 }, Date.UTC(2026, 9, 4, 21, 7, 19));
    expect(text(step!.request).startsWith('~2000464E200E07EA0A0415071')).toBe(true);
  });

  it('reads the clock as the wall time', () => {
    const session = control.readClock!({ address: 0 });
    const step = session.next()!;
    const answer = reply([...u16(2026), 2, 28, 23, 59, 58]);
    expect(step.accepts(answer)).toBe(true);
    session.accept(step, [answer]);
    expect(session.result().raw?.clock_wall_ms).toBe(Date.UTC(2026, 1, 28, 23, 59, 58));
    expect(
      codeOf(() =>
        definition.decode(reply([...u16(2026), 13, 1, 0, 0, 0]), { request: req(0x4d) }),
      ),
    ).toBe('FRAME_MALFORMED');
  });
});

describe('seplos v2 requests', () => {
  it('reads and reproduces the clone tool request with LENGTH in bytes (F001)', () => {
    const v = vec('seplos2_44_16s_discharging_galiy');
    const r = definition.parseRequest(hexToBytes(v.request_hex!));
    expect(r).toEqual({ command: 'telesignalling', address: 0, args: { length_in_bytes: true } });
    expect(bytesToHex(definition.encode(r))).toBe(v.request_hex);
  });

  it('probes any other CID2 with raw_request (RTN 04 for Pylontech 0x93)', () => {
    expect(definition.parseRequest(ascii('~200046930000FDA8\r'))).toEqual({
      command: 'raw_request',
      address: 0,
      args: { cid2: 0x93 },
    });
    expect(codeOf(() => definition.encode({ command: 'raw_request', args: { cid2: 0x42 } }))).toBe(
      'INVALID_ARGUMENT',
    );
  });
});

describe('seplos v3', () => {
  const session = JSON.parse(readFileSync(join(here, 'fixtures', 'session-v3.json'), 'utf8')) as {
    options: { address: number; variant: string };
    exchanges: { step: string; request_hex: string; response_hex: string }[];
    expected: Record<string, unknown>;
  };

  it('runs its read cycle over the scripted V3 session (real PIA, PIB, PIC)', () => {
    const rs = definition.readSession(session.options);
    for (let step = rs.next(); step; step = rs.next()) {
      const ex = session.exchanges.find((e) => e.request_hex === bytesToHex(step!.request));
      if (!ex) {
        expect(step.optional, step.name).toBe(true);
        continue;
      }
      const frames = frameAll(definition, hexToBytes(ex.response_hex), () => 7)
        .filter((e) => e.type === 'frame')
        .map((e) => e.bytes);
      expect(
        frames.every((f) => step!.accepts(f)),
        step.name,
      ).toBe(true);
      rs.accept(step, frames);
    }
    const r = rs.result();
    expect(shapeProblems(r)).toEqual([]);
    const bad = Object.entries(session.expected).filter(
      ([k, want]) => !matches(lookupCanonical(r, k)[1], want),
    );
    expect(bad).toEqual([]);
  });

  it('drops PIB cell slots after the last cell (0 mV), keeps a 0 mV cell inside the list', () => {
    const cells = [3300, 0, 3302, ...Array<number>(13).fill(0)];
    const regs = [...cells, 2931, 2931, 2931, 2931, 2731, 2731, 2731, 2731, 2951, 3031];
    const rep = modbus([0x01, 0x04, 52, ...regs.flatMap(u16)]);
    const r = definition.decode(rep, {
      request: definition.encode({ command: 'read_pib', address: 1 }),
    });
    expect(r.cell_mv).toEqual([3300, 0, 3302]);
    expect(r.cell_count).toBe(3);
    expect(r.temps_c).toEqual([20, 20, 20, 20]);
    expect(r.env_temp_c).toBe(22);
    expect(r.mos_temp_c).toBe(30);
  });

  it('decodes any SPA window with its parameters (the register a field sits at, not the block)', () => {
    // Two registers at 0x130D: cell OV protection 3650 mV, cell low recovery 3100 mV.
    const rep = modbus([0x01, 0x04, 4, ...u16(3650), ...u16(3100)]);
    const r = definition.decode(rep, {
      request: definition.encode({
        command: 'read_input',
        address: 1,
        args: { start: 0x130d, count: 2 },
      }),
    });
    expect(r.raw?.parameters).toEqual({ cell_ov_l2_mv: 3650, cell_uv_l1_recover_mv: 3100 });
  });

  it('needs the request, and checks the reply answers it', () => {
    const v = vec('seplos3_pia_pack1');
    expect(codeOf(() => definition.decode(hexToBytes(v.response_hex)))).toBe(
      'DECODE_CONTEXT_MISSING',
    );
    expect(
      codeOf(() =>
        definition.decode(hexToBytes(v.response_hex), {
          request: definition.encode({ command: 'read_pib', address: 1 }),
        }),
      ),
    ).toBe('FRAME_UNEXPECTED');
  });

  it('takes SCA dates little-endian in the year and round-trips them', () => {
    const ms = Date.UTC(2025, 5, 12, 8, 30, 5);
    const regs = scaDateRegisters(ms);
    expect(regs[0]).toBe(0xe907); // 2025 = 0x07E9, low byte first
    expect(scaDateMs(regs)).toBe(ms);
  });

  it('uses its own control operations, every write behind the unverified switch', () => {
    expect(controlOf(definition, 'v3')).toBe(controlV3);
    expect(controlOf(definition, 'v2')).toBe(control);
    for (const op of [
      'writeParameters',
      'setClock',
      'readClock',
      'restoreDefaults',
      'shutdown',
      'restart',
    ] as const) {
      expect(controlV3.unverified?.[op], op).toMatch(/XZH/);
    }
    const steps = controlV3.writeParameters!(
      { address: 1 },
      { cell_ov_l2_mv: 3600, dsg_oc_l2_a: 150 },
    );
    expect(steps.map((s) => bytesToHex(s.request))).toEqual([
      bytesToHex(
        definition.encode({
          command: 'write_registers',
          address: 1,
          args: { start: 0x130d, values: [3600] },
        }),
      ),
      bytesToHex(
        definition.encode({
          command: 'write_registers',
          address: 1,
          args: { start: 0x131d, values: [-150 & 0xffff] },
        }),
      ),
    ]);
    const refused = modbus([0x01, 0x90, 0x02]);
    expect(steps[0]!.accepts(refused)).toBe(true);
    expect(codeOf(() => steps[0]!.result([refused]))).toBe('COMMAND_REFUSED');
  });
});

describe('seplos framer', () => {
  it('finds V2 and V3 frames in one stream, whatever the chunking', () => {
    const v2 = hexToBytes(vec('seplos2_42_16s_discharging').response_hex);
    const v3 = hexToBytes(vec('seplos3_pia_pack1').response_hex);
    const stream = concatBytes([v3, Uint8Array.of(0x7e, 0x13), v2, v3]);
    for (const chunk of [1, 3, 64]) {
      const frames = frameAll(definition, stream, () => chunk)
        .filter((e) => e.type === 'frame')
        .map((e) => bytesToHex(e.bytes));
      expect(frames).toEqual([bytesToHex(v3), bytesToHex(v2), bytesToHex(v3)]);
    }
  });
});
