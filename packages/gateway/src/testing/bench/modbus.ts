/**
 * `modbus_requests_per_s`: read requests the Modbus TCP server answers per second. One
 * modbus-serial client on loopback reads a pack's whole 60-register block (function 3)
 * back to back for about a second; each request rebuilds the block from the pack's status,
 * as in service. Sixteen simulated-looking packs are configured so unit ids are looked up
 * as on a full bus. Prints nothing; scripts/bench.mjs reports the figure.
 */
import { createServer } from 'node:net';
import Modbus from 'modbus-serial';
import type { PackStatus } from '../../types.js';
import { BLOCK_SIZE } from '../../integrations/modbus/registers.js';
import { ModbusTcpServer } from '../../integrations/modbus/server.js';
import { modbusTcpConfigSchema } from '../../integrations/modbus/schema.js';

const ModbusRTU = Modbus.default;

function pack(i: number): PackStatus {
  const cell_mv = Array.from({ length: 16 }, (_, c) => 3300 + ((c * 7 + i) % 20));
  return {
    id: `bench/bus/${i + 1}`,
    name: `Pack ${i + 1}`,
    site: 'bench',
    bus: 'bus',
    address: i + 1,
    protocol: 'pylontech',
    chemistry: 'lfp',
    online: true,
    lastSeen: Date.now(),
    link: {
      polls: 1,
      failures: 0,
      requests: 1,
      replies: 1,
      retries: 0,
      timeouts: 0,
      checksum_errors: 0,
    },
    snapshot: {
      voltage_v: 52.81,
      current_a: -12.3,
      power_w: -649.6,
      soc_pct: 71,
      remaining_ah: 71,
      full_ah: 100,
      cell_count: 16,
      cell_mv,
      max_cell_mv: Math.max(...cell_mv),
      min_cell_mv: Math.min(...cell_mv),
      delta_cell_mv: Math.max(...cell_mv) - Math.min(...cell_mv),
      avg_cell_mv: cell_mv.reduce((a, b) => a + b, 0) / 16,
      temps_c: [24.5, 25, 25.5],
      charge_mos: true,
      discharge_mos: true,
      alarms: [],
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

export async function bench(durationMs = 1000): Promise<Record<string, number>> {
  const packs = Array.from({ length: 16 }, (_, i) => pack(i));
  const port = await freePort();
  const server = new ModbusTcpServer({
    config: modbusTcpConfigSchema.parse({ port }),
    packs: () => packs,
  });
  const st = await server.start();
  if (st.state !== 'listening') throw new Error(`bench: server not listening: ${st.lastError}`);
  const client = new ModbusRTU();
  try {
    await client.connectTCP('127.0.0.1', { port });
    client.setTimeout(2000);
    let n = 0;
    const t0 = performance.now();
    let t = t0;
    while (t - t0 < durationMs) {
      client.setID((n % 16) + 1);
      const r = await client.readHoldingRegisters(0, BLOCK_SIZE);
      if (r.data.length !== BLOCK_SIZE) throw new Error('bench: short read');
      n++;
      t = performance.now();
    }
    return { modbus_requests_per_s: Math.round((n * 1000) / (t - t0)) };
  } finally {
    await new Promise<void>((resolve) => client.close(() => resolve()));
    await server.stop();
  }
}
