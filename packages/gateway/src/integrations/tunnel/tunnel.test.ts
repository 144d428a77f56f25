/** The tunnel against a simulated DALY bus on a real TCP port, polled by a real BusPoller. */
import { afterEach, describe, expect, it } from 'vitest';
import { nextEvents, polledBus, type PolledBus } from '../../testing/simbus.js';
import { UartTunnel, type TunnelLog } from './tunnel.js';
import { tunnelConfigSchema } from './schema.js';
import { rawClient } from '../../testing/tunnel.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

interface Setup {
  a: PolledBus;
  tunnel: UartTunnel;
  port: number;
  logs: string[];
  /** Snapshots emitted while the tunnel held the bus. */
  during: () => number;
}

async function setup(extra: Record<string, unknown> = {}): Promise<Setup> {
  const a = await polledBus({ protocol: 'daly', packs: 1, baud: 115200 }, { timeoutMs: 200 });
  const logs: string[] = [];
  const log: TunnelLog = (level, message) => logs.push(`${level} ${message}`);
  const config = tunnelConfigSchema.parse({ enabled: true, bus: 'site/bus', port: 0, ...extra });
  const tunnel = new UartTunnel({ config, poller: a.poller, log });
  cleanups.push(a.close, () => tunnel.stop());
  let during = 0;
  a.events.on((e) => {
    if (e.type === 'snapshot' && tunnel.status().client?.leased) during++;
  });
  const first = nextEvents(a.events, (e) => e.type === 'snapshot', 2);
  a.poller.start();
  await first;
  await tunnel.start();
  expect(tunnel.status().listening).toBe(true);
  return { a, tunnel, port: tunnel.status().port, logs, during: () => during };
}

const request = (s: Setup, command: string): Uint8Array =>
  s.a.poller.def.encode({ command, address: s.a.bus.refs[0]!.address });

describe('UartTunnel', () => {
  it('pipes a raw DALY request to the pack and its reply back; polling pauses, then resumes on disconnect', async () => {
    const s = await setup();
    const def = s.a.poller.def;
    const c = await rawClient(s.port, def);
    c.socket.write(request(s, 'pack_status'));
    const [reply] = await c.frames(1);
    const reading = def.decode(reply!);
    expect(reading.soc_pct).toBeCloseTo(s.a.bus.sim.packs[0]!.snapshot().soc_pct!, 0);

    // Holding the bus: only our own requests reach it.
    const before = s.a.bus.sim.bus.stats.requests;
    c.socket.write(request(s, 'mos_status'));
    c.socket.write(request(s, 'status_info'));
    const replies = await c.frames(2);
    expect(replies.map((f) => f[2])).toEqual([0x93, 0x94]);
    expect(s.a.bus.sim.bus.stats.requests - before).toBe(2);
    const st = s.tunnel.status();
    expect(st.client).toMatchObject({ address: '127.0.0.1', leased: true, bytesIn: 39 });
    expect(st.client!.bytesOut).toBe(39);
    expect(st.client!.expiresInS).toBeGreaterThan(119);

    const resumed = nextEvents(s.a.events, (e) => e.type === 'snapshot', 2);
    c.socket.end();
    await c.closed;
    await resumed;
    expect(s.during()).toBe(0);
    expect(s.tunnel.status()).toMatchObject({ sessions: 1, lastClose: 'client disconnected' });
    expect(s.tunnel.status().client).toBeUndefined();
  });

  it('closes a quiet session after timeout_s and polling resumes', async () => {
    const s = await setup({ timeout_s: 0.3 });
    const c = await rawClient(s.port, s.a.poller.def);
    c.socket.write(request(s, 'pack_status'));
    await c.frames(1);
    const resumed = nextEvents(s.a.events, (e) => e.type === 'snapshot', 2);
    await c.closed; // closed by the tunnel, not by us
    await resumed;
    expect(s.during()).toBe(0);
    expect(s.tunnel.status().lastClose).toBe('no bytes for 0.3 s');
    // A new client gets the bus again.
    const d = await rawClient(s.port, s.a.poller.def);
    d.socket.write(request(s, 'pack_status'));
    expect(await d.frames(1)).toHaveLength(1);
    d.socket.destroy();
  });

  it('closes a second client without a byte while the first keeps the bus', async () => {
    const s = await setup();
    const def = s.a.poller.def;
    const c = await rawClient(s.port, def);
    c.socket.write(request(s, 'pack_status'));
    await c.frames(1);
    const d = await rawClient(s.port, def);
    await d.closed;
    expect(d.received()).toBe(0);
    expect(s.tunnel.status().refused).toBe(1);
    expect(s.logs.some((l) => /refused 127\.0\.0\.1: 127\.0\.0\.1 is connected/.test(l))).toBe(
      true,
    );
    c.socket.write(request(s, 'pack_status'));
    expect(await c.frames(1)).toHaveLength(1);
    c.socket.destroy();
    await c.closed;
    await nextEvents(s.a.events, (e) => e.type === 'snapshot');
    expect(s.during()).toBe(0);
  });

  it('refuses an address outside the allow-list; polling never pauses', async () => {
    const s = await setup({ allow: ['10.0.0.0/8', '192.168.1.7'] });
    const c = await rawClient(s.port, s.a.poller.def);
    await c.closed;
    expect(c.received()).toBe(0);
    expect(s.tunnel.status()).toMatchObject({ refused: 1, sessions: 0 });
    expect(s.logs.some((l) => /refused 127\.0\.0\.1: not in the allow-list/.test(l))).toBe(true);
    await nextEvents(s.a.events, (e) => e.type === 'snapshot', 2);
  });

  it('stop() ends the session and releases the bus', async () => {
    const s = await setup();
    const c = await rawClient(s.port, s.a.poller.def);
    c.socket.write(request(s, 'pack_status'));
    await c.frames(1);
    const resumed = nextEvents(s.a.events, (e) => e.type === 'snapshot');
    await s.tunnel.stop();
    await c.closed;
    await resumed;
    expect(s.tunnel.status()).toMatchObject({ listening: false, lastClose: 'tunnel stopped' });
  });

  it('a port in use is retried with backoff and reported, not thrown', async () => {
    const s = await setup();
    const a = s.a;
    const logs: string[] = [];
    const config = tunnelConfigSchema.parse({ enabled: true, bus: 'site/bus', port: s.port });
    const t2 = new UartTunnel({
      config,
      poller: a.poller,
      log: (_l, m) => logs.push(m),
      backoff: { minMs: 10_000, maxMs: 10_000 },
    });
    cleanups.push(() => t2.stop());
    await t2.start();
    expect(t2.status().listening).toBe(false);
    expect(t2.status().lastError).toMatch(/cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
    expect(logs[0]).toMatch(/retrying in 10000 ms/);
  });

  it('does nothing when not enabled', async () => {
    const config = tunnelConfigSchema.parse({ bus: 'site/bus' });
    expect(config).toMatchObject({ enabled: false, port: 6790, host: '127.0.0.1', timeout_s: 120 });
    const t = new UartTunnel({
      config,
      poller: { bus: 'bus', exclusive: () => Promise.reject(new Error('unused')) },
    });
    await t.start();
    expect(t.status()).toMatchObject({ enabled: false, listening: false, sessions: 0 });
    await t.stop();
  });
});
