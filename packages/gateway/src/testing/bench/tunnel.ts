/**
 * Tunnel figures (the issue names none for the tunnel; these say what a PC program sees):
 * how long a client waits for the bus lease, and request/reply round trips through the
 * tunnel to a simulated DALY pack at 115200 baud over a real TCP link. Prints nothing.
 */
import { performance } from 'node:perf_hooks';
import { nextEvents, polledBus } from '../simbus.js';
import { tunnelConfigSchema } from '../../integrations/tunnel/schema.js';
import { rawClient } from '../tunnel.js';
import { UartTunnel } from '../../integrations/tunnel/tunnel.js';

export async function bench(): Promise<Record<string, number>> {
  const a = await polledBus({ protocol: 'daly', packs: 1, baud: 115200 }, { timeoutMs: 200 });
  const config = tunnelConfigSchema.parse({ enabled: true, bus: 'site/bus', port: 0 });
  const tunnel = new UartTunnel({ config, poller: a.poller });
  try {
    const first = nextEvents(a.events, (e) => e.type === 'snapshot');
    a.poller.start();
    await first;
    await tunnel.start();
    const def = a.poller.def;
    const req = def.encode({ command: 'pack_status', address: a.bus.refs[0]!.address });
    const t0 = performance.now();
    const c = await rawClient(tunnel.status().port, def);
    c.socket.write(req);
    await c.frames(1);
    const firstReplyMs = performance.now() - t0;
    const n = 200;
    const times: number[] = [];
    const start = performance.now();
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      c.socket.write(req);
      await c.frames(1);
      times.push(performance.now() - t);
    }
    const total = performance.now() - start;
    times.sort((x, y) => x - y);
    const resumed = nextEvents(a.events, (e) => e.type === 'snapshot');
    const tClose = performance.now();
    c.socket.end();
    await c.closed;
    await resumed;
    const resumeMs = performance.now() - tClose;
    const r = (v: number): number => Math.round(v * 100) / 100;
    return {
      tunnel_first_reply_ms: r(firstReplyMs),
      tunnel_roundtrip_p50_ms: r(times[Math.floor(n / 2)]!),
      tunnel_roundtrip_p95_ms: r(times[Math.floor(n * 0.95)]!),
      tunnel_requests_per_s: Math.round((n / total) * 1000),
      tunnel_polling_resume_ms: r(resumeMs),
    };
  } finally {
    await tunnel.stop();
    await a.close();
  }
}
