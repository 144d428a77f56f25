/** Test helpers: a free TCP port, and a gateway on the simulator with two packs. */
import { createServer } from 'node:net';
import { openSqliteStorage } from '@openbms/storage-sqlite';
import { validateConfig } from '../config.js';
import { Gateway } from '../gateway.js';
import type { GatewayEvent } from '../types.js';
import { simulatedBuses, type SimulatedBuses } from './sim-buses.js';

/** A port the OS just handed out (modbus-serial treats port 0 as 502, so it needs one). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export function until(gw: Gateway, pred: (e: GatewayEvent) => boolean): Promise<GatewayEvent> {
  return new Promise((resolve) => {
    const off = gw.events.on((e) => {
      if (pred(e)) {
        off();
        resolve(e);
      }
    });
  });
}

/** A real Gateway on a simulated bus; resolves once every pack has a snapshot. */
export async function simGateway(
  protocol: 'pylontech' | 'daly' = 'pylontech',
  addresses: number[] = [2, 3],
): Promise<{ gw: Gateway; sims: SimulatedBuses; stop: () => Promise<void> }> {
  const storage = await openSqliteStorage({});
  const config = validateConfig({
    version: 1,
    sites: [
      {
        id: 's',
        buses: [
          {
            id: 'b',
            port: 'sim',
            protocol,
            poll_interval_s: 0.5,
            simulator: { speed: 1 },
            packs: addresses.map((address) => ({ address })),
          },
        ],
      },
    ],
  });
  const sims = simulatedBuses();
  const gw = new Gateway({ config, storage, busFactory: sims.busFactory });
  const seen = new Set<string>();
  const all = new Promise<void>((resolve) => {
    gw.events.on((e) => {
      if (e.type === 'snapshot') seen.add(e.packId);
      if (seen.size === addresses.length) resolve();
    });
  });
  await gw.start();
  await all;
  return {
    gw,
    sims,
    stop: async () => {
      await gw.stop();
      await storage.close();
    },
  };
}
