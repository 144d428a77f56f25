/**
 * A gateway across a network needs no change in the server: a collector's real Gateway
 * (simulated DALY Modbus pack over TCP, SQLite) reaches the server only through a JSON wire
 * (`JsonWireLink`: every envelope, command, result and read answer serialised and checked with
 * the seam's schemas on arrival), registered beside the box's own gateway. Lists, single
 * reads, history, the live WebSocket and control work through it as through the in-process
 * link; a result lost on the way back is a 504 GATEWAY_UNAVAILABLE, and the command ran once.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Gateway, validateConfig } from '@openbms/gateway';
import { JsonWireLink, simulatedBuses } from '@openbms/gateway/testing';
import { newId } from '@openbms/storage';
import { openSqliteStorage } from '@openbms/storage-sqlite';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from './app.js';
import { FakeGateway } from './testing/fake-gateway.js';
import { TEST_COST } from './testing/harness.js';
import { LiveClient } from './testing/ws-client.js';

const PACK = 'yard/rs/210';
const P = encodeURIComponent(PACK);

let storage: Awaited<ReturnType<typeof openSqliteStorage>>;
let collector: Gateway;
let wire: JsonWireLink;
let app: FastifyInstance;
let url: string;
let token: string;

async function call(method: string, path: string, body?: unknown) {
  const r = await fetch(url + path, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await r.text();
  return { status: r.status, body: JSON.parse(text) as any }; // eslint-disable-line @typescript-eslint/no-explicit-any
}

beforeAll(async () => {
  storage = await openSqliteStorage({ dataDir: mkdtempSync(join(tmpdir(), 'obt-remote-')) });
  // The collector: the same organisation as the box, a gateway of its own.
  const origin = { orgId: storage.identity.orgId, gatewayId: newId() };
  const sims = simulatedBuses();
  collector = new Gateway({
    config: validateConfig({
      version: 1,
      sites: [
        {
          id: 'yard',
          buses: [
            {
              id: 'rs',
              port: 'sim',
              protocol: 'daly-modbus',
              poll_interval_s: 0.2,
              simulator: { speed: 0, profile: 'idle', soc_pct: 42 },
              packs: [{ address: 210, name: 'Yard pack' }],
            },
          ],
        },
      ],
    }),
    storage,
    identity: origin,
    busFactory: sims.busFactory,
  });
  const read = new Promise<void>((resolve) => {
    const off = collector.link.subscribe((e) => {
      if (e.type !== 'snapshot') return;
      off();
      resolve();
    });
  });
  await collector.start();
  await read;
  await collector.writer.flush();
  wire = new JsonWireLink(collector.link);
  // The box itself serves no pack here.
  const box = new FakeGateway([], storage.alarms, Date.now, storage.identity);
  app = await buildServer({ storage, gateway: box, gateways: [wire], passwordCost: TEST_COST });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const a = app.server.address();
  url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  const r = await fetch(`${url}/api/v1/setup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'ada', password: 'ada-password' }),
  });
  token = ((await r.json()) as { token: string }).token;
});

afterAll(async () => {
  await app?.close();
  await collector?.stop();
  await storage?.close();
});

describe('a gateway across a JSON wire', () => {
  it('lists, reads and history go through it', async () => {
    const packs = await call('GET', '/api/v1/packs');
    expect(packs.body.map((p: { id: string }) => p.id)).toEqual([PACK]);
    const one = await call('GET', `/api/v1/packs/${P}`);
    expect(one.body).toMatchObject({ name: 'Yard pack', online: true });
    expect(one.body.snapshot.soc_pct).toBeCloseTo(42, 0);
    const h = await call('GET', `/api/v1/packs/${P}/history?fields=soc_pct&resolution=raw`);
    expect(h.body.series.soc_pct.avg.length).toBeGreaterThan(0);
    const caps = await call('GET', `/api/v1/packs/${P}/capabilities`);
    expect(caps.body).toMatchObject({ pack_id: PACK, protocol: 'daly-modbus' });
  });

  it('the live WebSocket streams its envelopes', async () => {
    const c = await LiveClient.connect(`${url.replace('http', 'ws')}/api/v1/live?token=${token}`);
    expect((await c.next())['type']).toBe('hello');
    c.send({ subscribe: [PACK] });
    expect(await c.next()).toEqual({ type: 'subscribed', packs: [PACK], unknown: [] });
    expect(await c.next()).toMatchObject({ type: 'snapshot', pack_id: PACK }); // the current one
    expect(await c.next()).toMatchObject({ type: 'snapshot', pack_id: PACK }); // a polled one
    c.close();
    await c.closed;
  });

  it('control: a command crosses and its status comes back; a lost result is 504, and it ran once', async () => {
    const ok = await call('POST', `/api/v1/packs/${P}/commands/mos`, {
      which: 'charge',
      on: false,
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({
      command: { pack_id: PACK, action: 'mos.charge', user: 'ada', status: 'done' },
      readback: { charge_mos: false },
    });
    const refused = await call('POST', `/api/v1/packs/${P}/commands/restart`, { confirm: 'no' });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ code: 'REQUEST_INVALID', field: 'confirm' });

    const before = collector.control.commands().length;
    wire.timeoutMs = 50;
    wire.loseResults(1);
    const lost = await call('POST', `/api/v1/packs/${P}/commands/mos`, {
      which: 'charge',
      on: true,
    });
    wire.timeoutMs = 60_000;
    expect(lost.status).toBe(504);
    expect(lost.body.code).toBe('GATEWAY_UNAVAILABLE');
    expect(lost.body.error).toMatch(/outcome is unknown/);
    // The command still ran at the collector, once.
    await new Promise<void>((resolve) => {
      const check = (): void => {
        if (collector.control.commands().length > before) return resolve();
        const off = collector.control.onCommand(() => {
          off();
          resolve();
        });
      };
      check();
    });
    expect(collector.control.commands().length).toBe(before + 1);
    expect(collector.control.commands()[0]).toMatchObject({ action: 'mos.charge', user: 'ada' });
  });
});
