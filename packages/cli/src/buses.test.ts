/**
 * The bus factory `openbms start` gives the gateway: `port: sim` buses served by the
 * simulator on a local TCP port (read back over it with the real reader), addresses the
 * simulator would not answer refused with its server closed, real ports passed through.
 */
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  packsOf,
  validateConfig,
  withSimulatedBuses,
  type BusRequest,
  type ServedSimulation,
} from '@openbms/gateway';
import { getProtocol } from '@openbms/protocols';
import { createTransport, readPack } from '@openbms/transport';
import { busFactory, serveSimulation } from './buses.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function request(port: string, addresses: number[]): BusRequest {
  const config = validateConfig({
    version: 1,
    sites: [
      {
        id: 's',
        buses: [
          {
            id: 'b',
            port,
            protocol: 'pylontech',
            ...(port === 'sim' ? { simulator: { speed: 0, soc_pct: 42 } } : {}),
            packs: addresses.map((address) => ({ address })),
          },
        ],
      },
    ],
  });
  return { site: 's', bus: config.sites[0]!.buses[0]!, packs: packsOf(config), now: Date.now() };
}

/** Whether something accepts TCP connections at `tcp://host:port`. */
function accepts(endpoint: string): Promise<boolean> {
  const url = new URL(endpoint);
  return new Promise((resolve) => {
    const s = connect(Number(url.port), url.hostname);
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

describe('openbms start bus factory', () => {
  it('serves a port: sim bus with the simulator configured in its simulator: section', async () => {
    const opened = await busFactory(request('sim', [2, 3]));
    cleanups.push(() => opened.close());
    expect(opened.endpoint).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    const def = getProtocol('pylontech');
    const transport = createTransport(opened.endpoint, { baud: def.link.baud });
    await transport.open();
    cleanups.push(() => transport.close());
    for (const address of [2, 3]) {
      const { reading } = await readPack(
        transport,
        def,
        { address },
        { timeoutMs: 1000, retries: 1 },
      );
      expect(reading.cell_mv, `address ${address}`).toHaveLength(16);
      // soc_pct: 42 from the config reaches the simulated packs (frozen clock: speed 0).
      expect(reading.soc_pct, `address ${address}`).toBeCloseTo(42, 0);
    }
    await opened.close();
    cleanups.pop();
    expect(await accepts(opened.endpoint)).toBe(false);
  });

  it('refuses addresses the simulated packs would not answer at, and stops serving', async () => {
    let served: ServedSimulation | undefined;
    const factory = withSimulatedBuses(async (plan) => (served = await serveSimulation(plan)));
    await expect(factory(request('sim', [9]))).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: "bus s/b: simulated pylontech packs answer at 2; set the packs' addresses to these",
    });
    expect(served?.answering).toEqual([2]);
    expect(await accepts(served!.endpoint)).toBe(false);
  });

  it('passes a real port through as the endpoint', async () => {
    const opened = await busFactory(request('tcp://192.0.2.10:8899', [2]));
    expect(opened.endpoint).toBe('tcp://192.0.2.10:8899');
    await opened.close();
  });
});
