/** Discovery (seed 002's automatic addressing) against the simulator. */
import { afterEach, describe, expect, it } from 'vitest';
import { getProtocol } from '@openbms/protocols';
import { createTransport } from '@openbms/transport';
import { defaultScanAddresses, scanBus, scanPort, type ProbeOutcome } from './discovery.js';
import { nextEvents, polledBus, simulatedBus } from '../testing/simbus.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('default scan ranges', () => {
  it('cover the usual addresses of each family', () => {
    const of = (id: string) => defaultScanAddresses(getProtocol(id));
    expect(of('pylontech')).toEqual([...Array(16).keys()].map((i) => i + 2));
    expect(of('jk')).toEqual([...Array(15).keys()].map((i) => i + 1));
    expect(of('daly')).toEqual([...Array(16).keys()].map((i) => 0x40 + i));
    expect(of('daly-modbus')).toEqual([...[...Array(15).keys()].map((i) => 0x81 + i), 0xd2]);
    expect(of('jbd')).toEqual([getProtocol('jbd').link.defaultAddress]);
  });
});

describe('scanBus', () => {
  it.each([
    ['pylontech', 5, 4],
    ['daly-modbus', 4, 0x82],
    ['jk', 4, 3],
    ['daly', 3, 0x41],
  ] as const)('%s: finds exactly the packs on the bus', async (protocol, packs, missing) => {
    const bus = await simulatedBus({ protocol, packs, baud: 115200 });
    cleanups.push(bus.close);
    // One simulated pack is switched off: it must not be found.
    bus.sim.bus.addFault({ kind: 'offline', address: missing });
    const t = createTransport(bus.endpoint, { baud: 115200 });
    await t.open();
    cleanups.push(() => t.close());
    const def = getProtocol(protocol);
    const outcomes = new Map<number, ProbeOutcome>();
    const hits = await scanBus(t, def, defaultScanAddresses(def), {
      timeoutMs: 60,
      link: { baud: 115200 },
      onProbe: (a, o) => outcomes.set(a, o),
    });
    const expected = bus.sim.packs.map((p) => p.address).filter((a) => a !== missing);
    expect(hits.map((h) => h.address)).toEqual(expected);
    expect(outcomes.size).toBe(defaultScanAddresses(def).length);
    expect([...outcomes].filter(([, o]) => o === 'found').map(([a]) => a)).toEqual(expected);
    for (const h of hits) {
      const truth = bus.sim.packs.find((p) => p.address === h.address)!.snapshot();
      expect(h.reading.address).toBe(h.address);
      expect(h.reading.protocol).toBe(def.id);
      // The short read is the first required step: it carries the pack's own values.
      if (h.reading.soc_pct !== undefined) expect(h.reading.soc_pct).toBeCloseTo(truth.soc_pct!, 0);
      if (h.reading.voltage_v !== undefined)
        expect(h.reading.voltage_v).toBeCloseTo(truth.voltage_v!, 1);
    }
    expect(
      hits.some((h) => h.reading.soc_pct !== undefined || h.reading.voltage_v !== undefined),
    ).toBe(
      protocol !== 'jk', // JK's first required record is the settings one
    );
  });

  it('refuses addresses the family cannot have before sending anything', async () => {
    const bus = await simulatedBus({ protocol: 'pylontech', packs: 1, baud: 115200 });
    cleanups.push(bus.close);
    const t = createTransport(bus.endpoint, { baud: 115200 });
    await t.open();
    cleanups.push(() => t.close());
    await expect(scanBus(t, getProtocol('pylontech'), [2, 999])).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringMatching(/address 999/),
    });
    expect(bus.sim.bus.stats.requests).toBe(0);
  });

  it('scanPort opens the port, scans the default range and closes it', async () => {
    const bus = await simulatedBus({ protocol: 'pylontech', packs: 3, baud: 115200, serve: 'pty' });
    cleanups.push(bus.close);
    const hits = await scanPort({
      endpoint: bus.endpoint,
      protocol: 'pylontech',
      link: { baud: 115200 },
      timeoutMs: 60,
    });
    expect(hits.map((h) => h.address)).toEqual([2, 3, 4]);
  });

  it("runs inside a poller's exclusive slot with its link", async () => {
    const p = await polledBus(
      { protocol: 'pylontech', packs: 2, baud: 115200 },
      { timeoutMs: 200 },
    );
    cleanups.push(p.close);
    p.poller.start();
    await nextEvents(p.events, (e) => e.type === 'snapshot', 2);
    const hits = await p.poller.exclusive((t, ex) =>
      scanBus(t, p.poller.def, [2, 3, 4, 5], { timeoutMs: 60, exchanger: ex }),
    );
    expect(hits.map((h) => h.address)).toEqual([2, 3]);
    await nextEvents(p.events, (e) => e.type === 'snapshot', 2);
  });
});
