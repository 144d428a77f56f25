/**
 * The Modbus TCP client writing pack values to a real modbus-serial ServerTCP acting as
 * the remote, over real TCP; the remote restarts and the client reconnects.
 */
import Modbus from 'modbus-serial';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../gateway.js';
import { ModbusTcpClient, modbusClientConfigSchema } from './index.js';
import { freePort, simGateway } from '../../testing/modbus.js';

const { ServerTCP } = Modbus;

let gw: Gateway;
let stopGw: () => Promise<void>;
beforeAll(async () => {
  ({ gw, stop: stopGw } = await simGateway('pylontech', [2, 3]));
});
afterAll(async () => {
  await stopGw?.();
});

/** A remote server that records every register written, per unit. */
function remote(port: number): Promise<{
  regs: Map<number, number>;
  written: (reg: number) => Promise<void>;
  close: () => Promise<void>;
}> {
  const regs = new Map<number, number>();
  const waiters: { reg: number; resolve: () => void }[] = [];
  const set = (addr: number, value: number): void => {
    regs.set(addr, value);
    for (const w of waiters.filter((x) => x.reg === addr)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  };
  return new Promise((resolve, reject) => {
    const s = new ServerTCP(
      {
        setRegister: (addr: number, value: number) => set(addr, value),
        getHoldingRegister: (addr: number) => regs.get(addr) ?? 0,
      },
      { host: '127.0.0.1', port, unitID: 9 },
    );
    s.on('serverError', reject);
    s.on('socketError', () => undefined);
    s.on('initialized', () =>
      resolve({
        regs,
        written: (reg) => new Promise((r) => waiters.push({ reg, resolve: r })),
        close: () => new Promise((r) => s.close(() => r())),
      }),
    );
  });
}

describe('modbus tcp client', () => {
  it('writes the chosen values, scaled and typed, and reconnects after the remote restarts', async () => {
    const port = await freePort();
    let r = await remote(port);
    const config = modbusClientConfigSchema.parse({
      host: '127.0.0.1',
      port,
      unit_id: 9,
      interval_s: 0.1,
      timeout_ms: 500,
      writes: [
        // An unknown pack first: skipped, never written.
        { pack: 's/b/9', field: 'soc_pct', register: 107, type: 'u16' },
        { pack: 's/b/2', field: 'soc_pct', register: 100, type: 'u16' },
        { pack: 's/b/3', field: 'voltage_v', register: 101, type: 'u16', scale: 100 },
        { pack: 's/b/2', field: 'current_a', register: 102, type: 's16', scale: 10 },
        { pack: 's/b/3', field: 'cell_mv[15]', register: 103, type: 'u16' },
        { pack: 's/b/2', field: 'voltage_v', register: 104, type: 'float' },
        { pack: 's/b/2', field: 'charge_mos', register: 106, type: 'u16' },
      ],
    });
    const logs: string[] = [];
    const c = new ModbusTcpClient({
      config,
      packs: () => gw.packs(),
      log: (_l, m) => logs.push(m),
      backoff: { minMs: 20, maxMs: 100 },
    });
    try {
      const first = r.written(106);
      c.start();
      await first;
      const p2 = gw.pack('s/b/2')!.snapshot!;
      const p3 = gw.pack('s/b/3')!.snapshot!;
      // The pack may have been polled between the write and now: allow one step of change.
      expect(r.regs.get(100)).toBeCloseTo(Math.round(p2.soc_pct!), -1);
      expect(Math.abs(r.regs.get(101)! - Math.round(p3.voltage_v! * 100))).toBeLessThan(50);
      const i = r.regs.get(102)!;
      expect(
        Math.abs((i >= 0x8000 ? i - 0x10000 : i) - Math.round(p2.current_a! * 10)),
      ).toBeLessThan(50);
      expect(Math.abs(r.regs.get(103)! - p3.cell_mv![15]!)).toBeLessThan(20);
      const b = Buffer.alloc(4);
      b.writeUInt16BE(r.regs.get(105)!, 0);
      b.writeUInt16BE(r.regs.get(104)!, 2);
      expect(b.readFloatBE(0)).toBeCloseTo(p2.voltage_v!, 0);
      expect(r.regs.get(106)).toBe(p2.charge_mos ? 1 : 0);
      expect(r.regs.has(107)).toBe(false);
      const st = c.status();
      expect(st.state).toBe('connected');
      expect(st.skipped).toBeGreaterThan(0);
      expect(st.connects).toBe(1);

      await r.close();
      // The remote comes back on the same port: the client reconnects and writes again.
      r = await remote(port);
      await r.written(100);
      expect(c.status().connects).toBeGreaterThanOrEqual(2);
      expect(c.status().state).toBe('connected');
    } finally {
      await c.stop();
      await r.close();
    }
    expect(c.status().state).toBe('stopped');
  });

  it('keeps retrying with backoff while nothing listens, visible in status', async () => {
    const port = await freePort();
    const logs: string[] = [];
    const c = new ModbusTcpClient({
      config: modbusClientConfigSchema.parse({
        host: '127.0.0.1',
        port,
        writes: [{ pack: 's/b/2', field: 'soc_pct', register: 0, type: 'u16' }],
      }),
      packs: () => gw.packs(),
      log: (_l, m) => logs.push(m),
      backoff: { minMs: 10, maxMs: 40 },
    });
    const failedTwice = new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (c.status().failures >= 2) {
          clearInterval(t);
          resolve();
        }
      }, 5);
    });
    c.start();
    await failedTwice;
    const st = c.status();
    expect(st.state).toBe('backoff');
    expect(st.lastError).toMatch(/ECONNREFUSED/);
    expect(st.nextAttemptAt).toBeDefined();
    await c.stop();
    expect(logs[0]).toMatch(/retrying in/);
  });

  it('rejects bad config with clear messages', () => {
    const bad = modbusClientConfigSchema.safeParse({
      host: 'x',
      writes: [{ pack: 'a', field: 'cell_mv', register: 1, type: 'u32' }],
      extra: 1,
    });
    expect(bad.success).toBe(false);
    const text = bad.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
    expect(text).toMatch(/cell_mv\[0\]/);
    expect(text).toMatch(/u16, s16, float/);
    expect(text).toMatch(/extra/);
  });
});
