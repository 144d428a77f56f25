/**
 * The Modbus TCP server on a real Gateway (simulated pylontech bus, two packs), read over
 * real TCP with modbus-serial's client and with mbpoll, compared with gateway.packs().
 */
import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import Modbus from 'modbus-serial';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../gateway.js';
import type { PackStatus } from '../../types.js';
import { EXCEPTION, ModbusTcpServer, modbusTcpConfigSchema } from './index.js';
import { SF, SF_STRING, SUNSPEC_BASE, SUNSPEC_SIZE } from './sunspec.js';
import { freePort, simGateway, until } from '../../testing/modbus.js';

const run = promisify(execFile);
const ModbusRTU = Modbus.default;
const hasMbpoll = await run('mbpoll', ['-V'])
  .then(() => true)
  .catch((e: { code?: unknown }) => e.code !== 'ENOENT');

let gw: Gateway;
let stopGw: () => Promise<void>;
let server: ModbusTcpServer;
let port: number;

beforeAll(async () => {
  ({ gw, stop: stopGw } = await simGateway('pylontech', [2, 3]));
  port = await freePort();
  server = new ModbusTcpServer({
    config: modbusTcpConfigSchema.parse({ port }),
    packs: () => gw.packs(),
    control: gw.control,
  });
  expect((await server.start()).state).toBe('listening');
});
afterAll(async () => {
  await server?.stop();
  await stopGw?.();
});

async function client(unit: number): Promise<InstanceType<typeof ModbusRTU>> {
  const c = new ModbusRTU();
  await c.connectTCP('127.0.0.1', { port });
  c.setID(unit);
  c.setTimeout(2000);
  return c;
}

/** Word order of docs/modbus.md: low word first, each word big-endian. */
const float = (lo: number, hi: number): number => {
  const b = Buffer.alloc(4);
  b.writeUInt16BE(hi, 0);
  b.writeUInt16BE(lo, 2);
  return b.readFloatBE(0);
};
const s16 = (w: number): number => (w >= 0x8000 ? w - 0x10000 : w);

/**
 * Reads right after a fresh snapshot of the pack, and again if a poll landed in between, so
 * the registers and gateway.packs() describe the same snapshot.
 */
async function stable<T>(packId: string, read: () => Promise<T>): Promise<[T, PackStatus]> {
  for (;;) {
    await until(gw, (e) => e.type === 'snapshot' && e.packId === packId);
    const before = gw.pack(packId)!.lastSeen;
    const r = await read();
    const p = gw.pack(packId)!;
    if (p.lastSeen === before) return [r, p];
  }
}

/** The checks shared by both readers: registers 0..59 against the API's snapshot. */
function compare(regs: number[], p: PackStatus): void {
  const s = p.snapshot!;
  const avgT = s.temps_c!.reduce((a, b) => a + b, 0) / s.temps_c!.length;
  expect(regs).toHaveLength(60);
  expect(regs[0]).toBe(Math.round(s.soc_pct!));
  expect(regs[1]).toBe(Math.round(s.voltage_v! * 100));
  expect(s16(regs[2]!)).toBe(Math.round(s.current_a! * 10));
  expect(s16(regs[3]!)).toBe(Math.round(s.power_w!));
  expect(regs.slice(4, 8)).toEqual(
    [s.delta_cell_mv!, s.avg_cell_mv!, s.max_cell_mv!, s.min_cell_mv!].map(Math.round),
  );
  expect(float(regs[8]!, regs[9]!)).toBeCloseTo(avgT, 4);
  expect(float(regs[10]!, regs[11]!)).toBeCloseTo(s.voltage_v!, 4);
  expect(float(regs[12]!, regs[13]!)).toBeCloseTo(s.current_a!, 4);
  expect(float(regs[14]!, regs[15]!)).toBeCloseTo(s.power_w!, 3);
  expect(regs[16]).toBe(s.discharge_mos ? 1 : 0);
  expect(regs[17]).toBe(s.charge_mos ? 1 : 0);
  expect(regs.slice(18, 34)).toEqual(s.cell_mv!.slice(0, 16));
  expect(regs[35]).toBe(s.cell_count ?? s.cell_mv!.length);
  expect(regs[36]).toBe(p.online ? 1 : 0);
  expect(regs[40]).toBeGreaterThanOrEqual(Math.round(s.soc_pct!));
  expect(regs[44]).toBe(Math.round(s.remaining_ah! * 100));
  expect(regs[45]).toBe((s.alarms ?? []).some((a) => a.severity !== 'warning') ? 1 : 0);
  expect(regs[50]).toBeGreaterThan(0);
  expect(regs[52]).toBe(0);
}

/** One raw Modbus TCP request (MBAP + PDU) over a plain socket; resolves with the reply PDU. */
function raw(unit: number, pdu: number[], transaction = 0x1234): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    const req = Buffer.alloc(7 + pdu.length);
    req.writeUInt16BE(transaction, 0);
    req.writeUInt16BE(0, 2);
    req.writeUInt16BE(pdu.length + 1, 4);
    req[6] = unit;
    Buffer.from(pdu).copy(req, 7);
    let got = Buffer.alloc(0);
    const timer = setTimeout(() => (s.destroy(), reject(new Error('no reply within 3 s'))), 3000);
    s.on('error', reject);
    s.on('connect', () => s.write(req));
    s.on('data', (d) => {
      got = Buffer.concat([got, d]);
      if (got.length >= 6 && got.length >= 6 + got.readUInt16BE(4)) {
        clearTimeout(timer);
        s.destroy();
        expect(got.readUInt16BE(0)).toBe(transaction);
        expect(got[6]).toBe(unit);
        resolve([...got.subarray(7, 6 + got.readUInt16BE(4))]);
      }
    });
  });
}

describe('modbus tcp exceptions (raw TCP client)', () => {
  it('answers every unsupported function code with exception 1, never silence', async () => {
    const requests: number[][] = [
      [0x01, 0, 0, 0, 1], // read coils
      [0x02, 0, 0, 0, 1], // read discrete inputs
      [0x05, 0, 0, 0xff, 0], // write single coil
      [0x0f, 0, 0, 0, 1, 1, 1], // write multiple coils
      [0x11], // report server id
      [0x41], // user-defined
      [0x2b, 0x0e, 1, 0], // read device identification
      [0x17, 0, 0, 0, 1, 0, 16, 0, 1, 2, 0, 0], // read/write multiple registers
    ];
    for (const pdu of requests) {
      expect(await raw(1, pdu), `function ${pdu[0]}`).toEqual([(pdu[0]! | 0x80) & 0xff, 1]);
    }
  });

  it('answers a bad register count with exception 3 and a bad range with 2', async () => {
    expect(await raw(1, [0x03, 0, 0, 0, 0])).toEqual([0x83, 3]); // 0 registers
    expect(await raw(1, [0x03, 0, 0, 0, 126])).toEqual([0x83, 3]); // 126 registers
    expect(await raw(1, [0x04, 0, 0, 0, 126])).toEqual([0x84, 3]);
    expect(await raw(1, [0x03, 0, 0, 0])).toEqual([0x83, 3]); // truncated PDU
    expect(await raw(1, [0x10, 0, 16, 0, 2, 2, 0, 0])).toEqual([0x90, 3]); // byte count 2 for 2 regs
    expect(await raw(1, [0x03, 0, 59, 0, 2])).toEqual([0x83, 2]);
    const ok = await raw(1, [0x03, 0, 0, 0, 2]);
    expect(ok.slice(0, 2)).toEqual([0x03, 4]);
    expect(ok).toHaveLength(6);
  });
});

/** A SunSpec client's walk: "SunS", then models (ID, L, L registers) up to the end model. */
function walk(regs: number[]): { id: number; len: number; at: number }[] {
  expect(
    Buffer.from(new Uint16Array([regs[0]!, regs[1]!]).buffer)
      .swap16()
      .toString('latin1'),
  ).toBe('SunS');
  const models: { id: number; len: number; at: number }[] = [];
  for (let at = 2; at < regs.length;) {
    const id = regs[at]!;
    const len = regs[at + 1]!;
    models.push({ id, len, at });
    if (id === 0xffff) break;
    at += 2 + len;
  }
  return models;
}

const text = (regs: number[]): string =>
  Buffer.from(regs.flatMap((w) => [w >> 8, w & 0xff]))
    .toString('latin1')
    .replace(/\0+$/, '');

/** Models 802's and 804's points checked against the API's snapshot. */
function compareSunSpec(regs: number[], p: PackStatus, unit: number): void {
  const models = walk(regs);
  expect(models.map((m) => [m.id, m.len])).toEqual([
    [1, 66],
    [802, 62],
    [804, 62], // 46 fixed + one module of 16
    [0xffff, 0],
  ]);
  expect(models.at(-1)!.at + 2).toBe(SUNSPEC_SIZE);
  const c = regs.slice(models[0]!.at + 2);
  const s = p.snapshot!;
  expect(text(c.slice(0, 16))).toBe(s.info?.manufacturer ?? 'PYLONTECH BMS');
  expect(text(c.slice(48, 64))).toBe(s.info?.serial ?? p.id);
  expect(c[64]).toBe(unit); // DA
  const b = regs.slice(models[1]!.at + 2);
  const sf = (i: number): number => s16(b[i]!);
  // Scale factors as declared, then each value = register x 10^sf.
  expect([sf(50), sf(54), sf(57), sf(58), sf(59), sf(61)]).toEqual([
    SF.AHRtg,
    SF.SoC,
    SF.V,
    SF.CellV,
    SF.A,
    SF.W,
  ]);
  // register = round(value / 10^sf)
  const reg = (v: number, f: number): number => Math.round(v / 10 ** f) + 0; // no -0
  expect(b[9]).toBe(reg(s.soc_pct!, sf(54))); // SoC
  expect(b[32]).toBe(reg(s.voltage_v!, sf(57))); // V
  expect(b[35]).toBe(reg(s.max_cell_mv! / 1000, sf(58))); // CellVMax
  expect(b[38]).toBe(reg(s.min_cell_mv! / 1000, sf(58))); // CellVMin
  // Current and power: + discharging (the storage models' view), canonical + charging.
  expect(s16(b[42]!)).toBe(reg(-s.current_a!, sf(59)));
  expect(s16(b[45]!)).toBe(reg(-s.power_w!, sf(61)));
  expect(b[19]).toBe(4); // Typ: lithium-ion
  expect(b[20]).toBe(p.online ? 3 : 1); // State: connected
  expect(b[12]! * 0x10000 + b[13]!).toBe(s.cycles ?? 0xffffffff); // NCyc
  expect([b[36], b[37], b[39], b[40]]).toEqual([1, 1, 1, 1]); // CellVMax/Min: string 1, module 1

  // Model 804, lithium-ion string: the pack is string 1 of one module holding every cell.
  const str = regs.slice(models[2]!.at + 2);
  const at = {
    Idx: 0,
    NMod: 1,
    St: 2,
    SoC: 6,
    NCyc: 8,
    A: 11,
    V: 12,
    CellVMax: 13,
    CellVMaxMod: 14,
    CellVMin: 15,
    CellVAvg: 17,
    ModTmpMax: 18,
    ModTmpMin: 20,
    ModTmpAvg: 22,
    ConSt: 24,
    Evt1: 26,
    SoC_SF: 36,
    SoH_SF: 37,
    DoD_SF: 38,
    A_SF: 39,
    V_SF: 40,
    CellV_SF: 41,
    ModTmp_SF: 42,
  } as const;
  const ssf = (k: keyof typeof at): number => s16(str[at[k]]!);
  expect([ssf('SoC_SF'), ssf('SoH_SF'), ssf('DoD_SF'), ssf('A_SF'), ssf('V_SF')]).toEqual([
    SF_STRING.SoC,
    SF_STRING.SoH,
    SF_STRING.DoD,
    SF_STRING.A,
    SF_STRING.V,
  ]);
  expect([ssf('CellV_SF'), ssf('ModTmp_SF')]).toEqual([SF_STRING.CellV, SF_STRING.ModTmp]);
  const u32 = (i: number): number => str[i]! * 0x10000 + str[i + 1]!;
  expect([str[at.Idx], str[at.NMod]]).toEqual([1, 1]);
  const closed = s.charge_mos === true && s.discharge_mos === true;
  expect(u32(at.St)).toBe((p.online ? 1 : 0) | (closed ? 2 : 0)); // enabled, contactors closed
  expect(u32(at.ConSt)).toBe((s.charge_mos ? 1 : 0) | (s.discharge_mos ? 2 : 0));
  expect(str[at.SoC]).toBe(reg(s.soc_pct!, ssf('SoC_SF')));
  expect(u32(at.NCyc)).toBe(s.cycles ?? 0xffffffff);
  expect(s16(str[at.A]!)).toBe(reg(-s.current_a!, ssf('A_SF')));
  expect(str[at.V]).toBe(reg(s.voltage_v!, ssf('V_SF')));
  expect(str[at.CellVMax]).toBe(reg(s.max_cell_mv! / 1000, ssf('CellV_SF')));
  expect(str[at.CellVMaxMod]).toBe(1);
  expect(str[at.CellVMin]).toBe(reg(s.min_cell_mv! / 1000, ssf('CellV_SF')));
  expect(str[at.CellVAvg]).toBe(reg(s.avg_cell_mv! / 1000, ssf('CellV_SF')));
  const temps = s.temps_c!;
  expect(s16(str[at.ModTmpMax]!)).toBe(reg(Math.max(...temps), ssf('ModTmp_SF')));
  expect(s16(str[at.ModTmpMin]!)).toBe(reg(Math.min(...temps), ssf('ModTmp_SF')));
  const mean = temps.reduce((x, y) => x + y, 0) / temps.length;
  expect(s16(str[at.ModTmpAvg]!)).toBe(reg(mean, ssf('ModTmp_SF')));
  expect(u32(at.Evt1)).toBe(b[24]! * 0x10000 + b[25]!); // the same events as 802's Evt1
  // The module: every cell, and which cell (from 1, as the API's cells are counted) holds
  // the highest and the lowest voltage.
  const m = str.slice(46);
  const cells = s.cell_mv!;
  expect(m[0]).toBe(cells.length); // ModNCell
  expect(m[1]).toBe(reg(s.soc_pct!, ssf('SoC_SF'))); // ModSoC
  expect(m[3]).toBe(reg(s.max_cell_mv! / 1000, ssf('CellV_SF'))); // ModCellVMax
  expect(m[4]).toBe(s.max_cell_index); // ModCellVMaxCell
  expect(cells[m[4]! - 1]).toBe(s.max_cell_mv); // ... holds the highest voltage
  expect(m[5]).toBe(reg(s.min_cell_mv! / 1000, ssf('CellV_SF'))); // ModCellVMin
  expect(m[6]).toBe(s.min_cell_index); // ModCellVMinCell
  expect(cells[m[6]! - 1]).toBe(s.min_cell_mv); // ... holds the lowest
  expect(m[7]).toBe(reg(s.avg_cell_mv! / 1000, ssf('CellV_SF'))); // ModCellVAvg
  expect(s16(m[8]!)).toBe(reg(Math.max(...temps), ssf('ModTmp_SF'))); // ModCellTmpMax
  expect(m[9]).toBe(0xffff); // ModCellTmpMaxCell: no sensor-to-cell mapping
}

describe('SunSpec map at 40000 (models 1, 802, 804, end)', () => {
  it('walks as a SunSpec client does, with the values of gateway.packs() (modbus-serial client)', async () => {
    for (const [unit, id] of [
      [1, 's/b/2'],
      [2, 's/b/3'],
    ] as const) {
      const c = await client(unit);
      try {
        const [regs, p] = await stable(id, async () => [
          ...(await c.readHoldingRegisters(SUNSPEC_BASE, 125)).data,
          ...(await c.readHoldingRegisters(SUNSPEC_BASE + 125, SUNSPEC_SIZE - 125)).data,
        ]);
        compareSunSpec(regs, p, unit);
      } finally {
        c.close(() => undefined);
      }
    }
    // Past the end model: exception 2, as past the seed block.
    expect(await raw(1, [0x03, 0x9c, 0x40, 0, 1])).toEqual([0x03, 2, 0x53, 0x75]); // 40000: "Su"
    expect(
      await raw(1, [
        0x03,
        (SUNSPEC_BASE + SUNSPEC_SIZE) >> 8,
        (SUNSPEC_BASE + SUNSPEC_SIZE) & 0xff,
        0,
        1,
      ]),
    ).toEqual([0x83, 2]);
  });

  it.skipIf(!hasMbpoll)('mbpoll reads the same map', async () => {
    const args = (start: number, count: number): string[] => [
      '-m',
      'tcp',
      '-p',
      String(port),
      '-a',
      '1',
      '-0',
      '-1',
      '-t',
      '4',
      '-r',
      String(start),
      '-c',
      String(count),
      '127.0.0.1',
    ];
    const values = (out: string): Map<number, number> =>
      new Map(
        [...out.matchAll(/^\[(\d+)\]:\s+(-?\d+)/gm)].map((m) => [Number(m[1]), Number(m[2])]),
      );
    const [[a, b], p] = await stable('s/b/2', () =>
      Promise.all([
        run('mbpoll', args(SUNSPEC_BASE, 100)),
        run('mbpoll', args(SUNSPEC_BASE + 100, SUNSPEC_SIZE - 100)),
      ]),
    );
    const got = new Map([...values(a.stdout), ...values(b.stdout)]);
    expect(got.size).toBe(SUNSPEC_SIZE);
    // mbpoll prints 16-bit registers as signed or unsigned depending on type 4: normalize.
    const regs = Array.from(
      { length: SUNSPEC_SIZE },
      (_, i) => got.get(SUNSPEC_BASE + i)! & 0xffff,
    );
    compareSunSpec(regs, p, 1);
  });
});

describe('modbus tcp server', () => {
  it('serves each pack at its unit id with the values of gateway.packs() (modbus-serial client)', async () => {
    expect(server.status().units).toEqual([
      { unit: 1, pack: 's/b/2' },
      { unit: 2, pack: 's/b/3' },
    ]);
    for (const [unit, id] of [
      [1, 's/b/2'],
      [2, 's/b/3'],
    ] as const) {
      const c = await client(unit);
      try {
        const [r, p] = await stable(id, () => c.readHoldingRegisters(0, 60));
        compare(r.data, p);
        // FC4 serves the same block.
        const [inp, p2] = await stable(id, () => c.readInputRegisters(0, 60));
        compare(inp.data, p2);
      } finally {
        c.close(() => undefined);
      }
    }
  });

  it.skipIf(!hasMbpoll)(
    hasMbpoll
      ? 'gives mbpoll the same values as the API for both packs'
      : 'SKIPPED, mbpoll is not installed (apt-get install mbpoll): mbpoll reads the API values',
    async () => {
      for (const [unit, id] of [
        [1, 's/b/2'],
        [2, 's/b/3'],
      ] as const) {
        const args = (extra: string[]): string[] => [
          '-m',
          'tcp',
          '-p',
          String(port),
          '-a',
          String(unit),
          '-0',
          '-1',
          ...extra,
          '127.0.0.1',
        ];
        const [[ints, floats], p] = await stable(id, () =>
          Promise.all([
            run('mbpoll', args(['-t', '4', '-r', '0', '-c', '60'])),
            run('mbpoll', args(['-t', '4:float', '-r', '8', '-c', '4'])),
          ]),
        );
        const values = (out: string): Map<number, number> =>
          new Map(
            [...out.matchAll(/^\[(\d+)\]:\s+(-?[\d.]+)/gm)].map((m) => [
              Number(m[1]),
              Number(m[2]),
            ]),
          );
        const regs = values(ints.stdout);
        expect(regs.size, ints.stdout).toBe(60);
        compare(
          Array.from({ length: 60 }, (_, i) => regs.get(i)!),
          p,
        );
        const f = values(floats.stdout);
        const s = p.snapshot!;
        expect(f.get(10)).toBeCloseTo(s.voltage_v!, 2);
        expect(f.get(12)).toBeCloseTo(s.current_a!, 2);
        expect(f.get(8)).toBeCloseTo(s.temps_c!.reduce((a, b) => a + b, 0) / s.temps_c!.length, 2);
      }
    },
  );

  it.skipIf(!hasMbpoll)(
    'mbpoll gets exception 1 for coils and inputs, not a time-out',
    async () => {
      const base = ['-m', 'tcp', '-p', String(port), '-a', '1', '-0', '-1', '-o', '2'];
      for (const extra of [
        ['-t', '0', '-r', '0', '-c', '1', '127.0.0.1'], // function 1
        ['-t', '1', '-r', '0', '-c', '1', '127.0.0.1'], // function 2
        ['-t', '0', '-r', '0', '127.0.0.1', '1'], // function 5
        ['-t', '0', '-r', '0', '127.0.0.1', '1', '0'], // function 15
      ]) {
        const r = await run('mbpoll', [...base, ...extra]).then(
          (o) => o.stdout + o.stderr,
          (e: { stdout: string; stderr: string }) => e.stdout + e.stderr,
        );
        expect(r, extra.join(' ')).toMatch(/Illegal function/i);
        expect(r).not.toMatch(/timed out/i);
      }
    },
  );

  it('refuses writes when read-only (exception 1), unknown units (0x0B) and reads past the block (2)', async () => {
    const c = await client(1);
    try {
      const before = gw.pack('s/b/2')!.snapshot!.charge_mos;
      await expect(c.writeRegister(17, 0)).rejects.toMatchObject({
        modbusCode: EXCEPTION.ILLEGAL_FUNCTION,
      });
      await expect(c.writeRegisters(16, [0, 0])).rejects.toMatchObject({
        modbusCode: EXCEPTION.ILLEGAL_FUNCTION,
      });
      expect(gw.control.commands()).toEqual([]);
      expect(gw.pack('s/b/2')!.snapshot!.charge_mos).toBe(before);
      await expect(c.readHoldingRegisters(50, 11)).rejects.toMatchObject({
        modbusCode: EXCEPTION.ILLEGAL_ADDRESS,
      });
      c.setID(7);
      await expect(c.readHoldingRegisters(0, 1)).rejects.toMatchObject({
        modbusCode: EXCEPTION.TARGET_FAILED,
      });
    } finally {
      c.close(() => undefined);
    }
    expect(server.status().exceptions).toBeGreaterThanOrEqual(4);
  });

  it('with writes on, a write of the charge MOS register goes through ControlService as "modbus"', async () => {
    const wport = await freePort();
    const w = new ModbusTcpServer({
      config: modbusTcpConfigSchema.parse({ port: wport, writes: true }),
      packs: () => gw.packs(),
      control: gw.control,
    });
    await w.start();
    const c = new ModbusRTU();
    try {
      await c.connectTCP('127.0.0.1', { port: wport });
      c.setID(2);
      c.setTimeout(5000);
      // Not a MOS register: illegal address; a MOS register with 2: illegal value.
      await expect(c.writeRegister(0, 1)).rejects.toMatchObject({ modbusCode: 2 });
      await expect(c.writeRegister(17, 2)).rejects.toMatchObject({ modbusCode: 3 });
      const r = await c.writeRegister(17, 0).then(
        () => 'done',
        (e: { modbusCode?: number }) => `exception ${e.modbusCode}`,
      );
      const cmd = gw.control.commands('s/b/3')[0];
      expect(cmd?.user).toBe('modbus');
      expect(cmd?.action).toBe('mos.charge');
      // Pylontech's simulator may not switch MOSFETs; either way the answer follows the command.
      expect(r).toBe(cmd?.status === 'done' ? 'done' : `exception ${EXCEPTION.DEVICE_FAILURE}`);
    } finally {
      c.close(() => undefined);
      await w.stop();
    }
  });

  it('a port already in use is an error in status, retried, never a crash', async () => {
    const logs: string[] = [];
    const busy = new ModbusTcpServer({
      config: modbusTcpConfigSchema.parse({ port }),
      packs: () => gw.packs(),
      log: (_l, m) => logs.push(m),
      backoff: { minMs: 50, maxMs: 100 },
    });
    const st = await busy.start();
    expect(st.state).toBe('error');
    expect(st.lastError).toMatch(/EADDRINUSE/);
    expect(st.nextAttemptAt).toBeDefined();
    await busy.stop();
    expect(busy.status().state).toBe('stopped');
    expect(logs.join('\n')).toMatch(/retrying/);
  });
});
