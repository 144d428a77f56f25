/**
 * End to end with real parts: a simulated DALY pack served on a real TCP port, read by the
 * real reader, its snapshots fed through the EventBus to the engine, events stored in a
 * real SQLite file; the engine is restarted on the same file mid-way.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { getProtocol } from '@openbms/protocols';
import { ManualClock, createSimulation, serveTcp } from '@openbms/simulator';
import { openSqliteStorage } from '@openbms/storage-sqlite';
import { createTransport, readPack } from '@openbms/transport';
import { EventBus } from '../types.js';
import { AlarmEngine } from './engine.js';
import { parseAlarmRules } from './rules.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

it('a real over-current protection is raised once across a restart and cleared on recovery', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'openbms-alarms-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const clock = new ManualClock(Date.UTC(2026, 5, 21, 10, 0, 0));
  const sim = createSimulation({
    protocol: 'daly',
    profile: 'constant:-12.3',
    initialSocPct: 60,
    seed: 3,
    turnaroundMs: 1,
    clock,
  });
  const listening = await serveTcp(sim.bus);
  cleanups.push(listening.close);
  const link = createTransport(listening.endpoint, { baud: sim.bus.opts.baud });
  await link.open();
  cleanups.push(() => link.close());
  const def = getProtocol('daly');
  const packId = 'home/daly/1';

  const start = async () => {
    const storage = await openSqliteStorage({ dataDir: dir });
    const bus = new EventBus();
    const engine = new AlarmEngine({
      bus,
      store: storage.alarms,
      origin: storage.identity,
      rules: parseAlarmRules([]),
    });
    await engine.start();
    const states: string[] = [];
    bus.on((e) => {
      if (e.type === 'alarm') states.push(`${e.state}:${e.event.code}`);
    });
    return { storage, bus, engine, states };
  };
  const poll = async (g: Awaited<ReturnType<typeof start>>, advanceS: number) => {
    clock.advance(advanceS * 1000);
    sim.bus.advance();
    const { reading } = await readPack(
      link,
      def,
      { address: sim.packs[0]!.address },
      {
        timeoutMs: 500,
        retries: 1,
        gapMs: 1,
      },
    );
    g.bus.emit({ type: 'snapshot', packId, ts: clock.now(), snapshot: reading });
    await g.engine.settled();
    return reading;
  };

  let g = await start();
  await poll(g, 60);
  expect(g.engine.active()).toEqual([]);

  sim.bus.addFault({ kind: 'overcurrent', arg: 100 });
  const tripped = await poll(g, 20);
  expect(tripped.alarms?.map((a) => a.code)).toContain('dsg_oc');
  expect(g.states).toContain('raised:dsg_oc');
  const raised = g.engine.active().filter((e) => e.code === 'dsg_oc');
  expect(raised.length).toBeGreaterThan(0);

  // Restart on the same database file while the protection is still on.
  g.engine.stop();
  await g.storage.close();
  g = await start();
  expect(g.engine.active().map((e) => e.id)).toEqual(
    expect.arrayContaining(raised.map((e) => e.id)),
  );
  await poll(g, 1);
  expect(g.states.filter((s) => s.startsWith('raised:dsg_oc'))).toEqual([]);

  // The cause goes away; the firmware releases after its recovery delay.
  sim.bus.clearFaults('overcurrent');
  await poll(g, 120);
  await poll(g, 1);
  expect(g.states).toContain('cleared:dsg_oc');
  expect(g.engine.active().filter((e) => e.code === 'dsg_oc')).toEqual([]);
  expect((await g.engine.counts(packId)).dsg_oc).toBeGreaterThan(0);
  g.engine.stop();
  await g.storage.close();
});
