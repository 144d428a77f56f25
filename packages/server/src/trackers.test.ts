/**
 * GPS trackers end to end (issue 17, docs/trackers.md): the real tracker servers (JT/T 808,
 * GT06, GB/T 32960 over TCP, OsmAnd over HTTP) on a real SQLite store and a real PostgreSQL
 * database (`trksrv_…`, dropped afterwards), real TCP clients (the codecs' terminal side and
 * the tracker simulator), and the positions/mileage routes of the real server.
 *
 * Proven: the replies byte for byte (after the server's serial); an unknown tracker registered
 * "not enabled" in the receiving (platform) organisation with its positions; an expired one
 * keeps reporting to its own entry; a simulated ride returned fix for fix and its mileage
 * within 1 % of the route's length; a duplicate frame stored once; a batch sent out of order
 * placed by device time; GB/T 32960 real-time data stored as a telemetry sample of the
 * tracker's pack; garbage skipped on a live connection; a flood of connections from one
 * address held at the limit (the rest refused) and the server still answering; a silent
 * connection closed by the idle timeout; another dealer's user gets 404.
 */
import { createConnection, type Socket } from 'node:net';
import { prng } from '@openbms/core';
import {
  startTrackerServers,
  TrackerIngest,
  trackerPackId,
  trackersConfigSchema,
  type TrackerServers,
} from '@openbms/gateway';
import { gb32960, gt06, jt808 } from '@openbms/protocols/trackers';
import { generateRoute, TrackerSim } from '@openbms/simulator';
import { type Org, type Origin, type User } from '@openbms/storage';
import { TEST_ORIGIN } from '@openbms/storage/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from './passwords.js';
import { startHarness, TEST_COST, type Harness } from './testing/harness.js';
import { storeAdapters, type Store } from './testing/adapters.js';

const ADAPTERS = storeAdapters('trksrv');

const HOST = '127.0.0.1';
const MAX_PER_IP = 12;

type FramerLike = { push(c: Uint8Array): { type: string; bytes: Uint8Array }[] };

/** A raw TCP client that hands out the frames a framer finds in what the server sends. */
class RawClient {
  private frames: Uint8Array[] = [];
  private wake: (() => void) | undefined;
  closed: Promise<void>;
  constructor(
    readonly socket: Socket,
    framer: FramerLike,
  ) {
    socket.on('data', (c: Buffer) => {
      for (const ev of framer.push(new Uint8Array(c)))
        if (ev.type === 'frame') this.frames.push(ev.bytes);
      this.wake?.();
    });
    socket.on('error', () => undefined);
    this.closed = new Promise((r) => socket.on('close', () => r()));
  }
  static async open(port: number, framer: FramerLike): Promise<RawClient> {
    const s = createConnection({ host: HOST, port });
    await new Promise<void>((res, rej) => {
      s.once('connect', res);
      s.once('error', rej);
    });
    return new RawClient(s, framer);
  }
  async next(): Promise<Uint8Array> {
    while (this.frames.length === 0) await new Promise<void>((r) => (this.wake = r));
    return this.frames.shift()!;
  }
  async ask(frame: Uint8Array): Promise<Uint8Array> {
    this.socket.write(frame);
    return this.next();
  }
  close(): void {
    this.socket.destroy();
  }
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

for (const [adapter, openStore] of ADAPTERS) {
  describe(`GPS trackers (${adapter})`, () => {
    let storage: Store;
    let done: () => Promise<void>;
    let h: Harness;
    let servers: TrackerServers;
    let ingest: TrackerIngest;
    let platform: Org;
    let dealerA: Org;
    let dealerB: Org;
    let origin: Origin;
    const tok: Record<string, string> = {};
    const T0 = Date.UTC(2030, 0, 1);

    async function account(org: Org, username: string, role: User['role']): Promise<void> {
      const hash = await hashPassword(`${username}-password`, TEST_COST);
      await storage.users.create(
        { orgId: org.id, gatewayId: TEST_ORIGIN.gatewayId },
        { username, role, createdAt: T0 },
        hash,
      );
      const r = await h.call('POST', '/api/v1/auth/login', {
        body: { username: `${username}@${org.code}`, password: `${username}-password` },
      });
      expect(r.status, r.text).toBe(200);
      tok[username] = r.body.token;
    }

    const get = (who: string, path: string) => h.call('GET', path, { token: tok[who] });
    const deviceOf = async (serial: string) => {
      const page = await storage.devices.list([platform.id], { q: serial, now: Date.now() });
      return page.devices.find((d) => d.serial === serial);
    };

    beforeAll(async () => {
      ({ storage, done } = await openStore());
      platform = await storage.orgs.createRoot({
        kind: 'platform',
        name: 'Platform',
        createdAt: T0,
      });
      dealerA = await storage.orgs.create([platform.id], {
        parentId: platform.id,
        kind: 'dealer',
        name: 'Dealer A',
        createdAt: T0,
      });
      dealerB = await storage.orgs.create([platform.id], {
        parentId: platform.id,
        kind: 'dealer',
        name: 'Dealer B',
        createdAt: T0,
      });
      h = await startHarness({ storage, identity: TEST_ORIGIN, captcha: { mode: 'off' } });
      await account(platform, 'root', 'admin');
      await account(dealerB, 'bert', 'admin');
      origin = { orgId: platform.id, gatewayId: TEST_ORIGIN.gatewayId };
      ingest = new TrackerIngest({ storage, identity: origin });
      const config = trackersConfigSchema.parse({
        jt808: { port: 0, host: HOST },
        gt06: { port: 0, host: HOST },
        osmand: { port: 0, host: HOST },
        gb32960: { port: 0, host: HOST },
        limits: { max_connections: 100, max_per_ip: MAX_PER_IP, idle_s: 1 },
      });
      servers = await startTrackerServers(config, { ingest });
    });

    afterAll(async () => {
      await servers?.close();
      await h?.close();
      await storage?.close();
      await done?.();
    });

    it('answers a JT/T 808 register, auth, heartbeat and location byte for byte and registers the unknown tracker as not enabled', async () => {
      const term: jt808.Jt808Terminal = { protocol_version: '2013', phone: '013912345678' };
      const c = await RawClient.open(servers.ports.jt808!, jt808.createJt808Framer());
      try {
        // 2013 register body: province 44, city 0300, maker, model (20), terminal id (7), plate colour 0, plate.
        const body = new Uint8Array(2 + 2 + 5 + 20 + 7 + 1 + 4);
        body.set([0, 44, 3, 0], 0);
        body.set(Buffer.from('OPBMS'), 4);
        body.set(Buffer.from('EB-200'), 9);
        body.set(Buffer.from('T000001'), 29);
        body.set(Buffer.from('TEST'), 37);
        const reg = await c.ask(jt808.encodeJt808Frame(term, jt808.MSG.register, 0, body));
        const d = await deviceOf('13912345678');
        expect(d).toMatchObject({
          type: 'tracker',
          activation: 'not_enabled',
          orgId: platform.id,
          createdBy: 'tracker:jt808',
          packId: trackerPackId('13912345678'),
        });
        // server serial 0, the auth code is the device's id
        expect(hex(reg)).toBe(
          hex(jt808.encodeRegisterResponse({ ...term, serial: 0 }, 0, 0, d!.id)),
        );
        const auth = await c.ask(jt808.encodeAuth(term, 1, d!.id));
        expect(hex(auth)).toBe(
          hex(jt808.encodeGeneralResponse({ ...term, serial: 1, msg_id: jt808.MSG.auth }, 1)),
        );
        const hb = await c.ask(jt808.encodeHeartbeat(term, 2));
        expect(hex(hb)).toBe(
          hex(jt808.encodeGeneralResponse({ ...term, serial: 2, msg_id: jt808.MSG.heartbeat }, 2)),
        );
        const fix = {
          valid: true,
          lat: 22.5431,
          lon: 114.0579,
          speed_kmh: 18.5,
          course_deg: 90,
          altitude_m: 15,
          time_ms: T0 + 3_600_000,
          satellites: 8,
        };
        const loc = await c.ask(jt808.encodeLocationReport(term, 3, fix));
        expect(hex(loc)).toBe(
          hex(jt808.encodeGeneralResponse({ ...term, serial: 3, msg_id: jt808.MSG.location }, 3)),
        );
        const r = await get(
          'root',
          `/api/v1/devices/${d!.id}/positions?from=${T0}&to=${T0 + 86_400_000}`,
        );
        expect(r.status, r.text).toBe(200);
        expect(r.body).toEqual([
          {
            t: T0 + 3_600_000,
            lat: 22.5431,
            lon: 114.0579,
            speed_kmh: 18.5,
            course: 90,
            alt_m: 15,
            satellites: 8,
          },
        ]);
        const list = await get('root', '/api/v1/devices?status=not_enabled&q=13912345678');
        expect(list.body.devices.map((x: { id: string }) => x.id)).toEqual([d!.id]);
      } finally {
        c.close();
      }
    });

    it('stores a simulated ride fix for fix; playback returns the route and the mileage is within 1 % of its length', async () => {
      const route = generateRoute({ seed: 7, t0: T0 + 2 * 86_400_000 + 6 * 3_600_000, legs: 8 });
      expect(route.points.some((p) => p.stopped)).toBe(true);
      const sim = new TrackerSim({
        protocol: 'jt808',
        host: HOST,
        port: servers.ports.jt808!,
        id: '13800000007',
      });
      await sim.connect();
      try {
        for (const p of route.points) await sim.report(p);
      } finally {
        sim.close();
      }
      const d = (await deviceOf('13800000007'))!;
      expect(sim.authCode).toBe(d.id);
      const from = route.points[0]!.t;
      const to = route.points[route.points.length - 1]!.t + 1;
      const r = await get('root', `/api/v1/devices/${d.id}/positions?from=${from}&to=${to}`);
      expect(r.status, r.text).toBe(200);
      expect(
        r.body.map((p: { t: number; lat: number; lon: number }) => [p.t, p.lat, p.lon]),
      ).toEqual(route.points.map((p) => [p.t, p.lat, p.lon]));
      const m = await get(
        'root',
        `/api/v1/devices/${d.id}/mileage?from=${T0}&to=${T0 + 5 * 86_400_000}&step=day`,
      );
      expect(m.status, m.text).toBe(200);
      const km = route.lengthM / 1000;
      expect(km).toBeGreaterThan(3);
      expect(Math.abs(m.body.total_km - km) / km).toBeLessThan(0.01);
      expect(m.body.periods).toHaveLength(5);
      expect(m.body.periods[2].km).toBeCloseTo(m.body.total_km, 2);
      expect(m.body.periods[0].km).toBe(0);
    });

    it('stores a duplicate frame once and places a batch sent out of order by device time', async () => {
      const term: jt808.Jt808Terminal = { protocol_version: '2013', phone: '013800000008' };
      const c = await RawClient.open(servers.ports.jt808!, jt808.createJt808Framer());
      try {
        const base = T0 + 3 * 86_400_000;
        const fix = (i: number) => ({
          valid: true,
          lat: 30 + i / 1000,
          lon: 120 + i / 1000,
          time_ms: base + i * 10_000,
        });
        // the same location twice (a retransmission: same serial, same bytes)
        const frame = jt808.encodeLocationReport(term, 0, fix(0));
        await c.ask(frame);
        await c.ask(frame);
        // a blind-area batch, newest first
        const ack = await c.ask(jt808.encodeLocationBatch(term, 1, 1, [fix(3), fix(1), fix(2)]));
        expect(hex(ack)).toBe(
          hex(
            jt808.encodeGeneralResponse(
              { ...term, serial: 1, msg_id: jt808.MSG.location_batch },
              2,
            ),
          ),
        );
        const d = (await deviceOf('13800000008'))!;
        const got = await storage.positions.list(d.id, { from: base, to: base + 86_400_000 });
        expect(got.map((p) => p.t)).toEqual([0, 1, 2, 3].map((i) => base + i * 10_000));
        expect(got.map((p) => p.lat)).toEqual([30, 30.001, 30.002, 30.003]);
      } finally {
        c.close();
      }
    });

    it('acks a GT06 login byte for byte and stores the locations of a simulated ride', async () => {
      const imei = '359339075123456';
      const c = await RawClient.open(servers.ports.gt06!, gt06.createGt06Framer());
      const ack = await c.ask(gt06.encodeLogin(imei, 7));
      expect(hex(ack)).toBe(hex(gt06.encodeAck(gt06.PROTOCOL.login, 7)));
      const hb = await c.ask(gt06.encodeHeartbeat({ voltage_level: 4, gsm_level: 3 }, 8));
      expect(hex(hb)).toBe(hex(gt06.encodeAck(gt06.PROTOCOL.heartbeat, 8)));
      c.close();
      const route = generateRoute({ seed: 3, legs: 2, t0: T0 + 86_400_000 });
      const sim = new TrackerSim({
        protocol: 'gt06',
        host: HOST,
        port: servers.ports.gt06!,
        id: imei,
      });
      await sim.connect();
      try {
        for (const p of route.points.slice(0, 20)) await sim.report(p);
      } finally {
        sim.close();
      }
      const d = (await deviceOf(imei))!;
      expect(d).toMatchObject({
        type: 'tracker',
        activation: 'not_enabled',
        createdBy: 'tracker:gt06',
      });
      const got = await storage.positions.list(d.id, { from: T0, to: T0 + 10 * 86_400_000 });
      expect(got.map((p) => p.t)).toEqual(route.points.slice(0, 20).map((p) => p.t));
      // GT06 carries 1/1,800,000 of a minute: within 1e-6 degrees
      got.forEach((p, i) => expect(Math.abs(p.lat - route.points[i]!.lat)).toBeLessThan(1e-6));
    });

    it('answers a GB/T 32960 login and stores its real-time battery data as a telemetry sample of the tracker’s pack', async () => {
      const vin = 'LOPENBMS000000042';
      const c = await RawClient.open(servers.ports.gb32960!, gb32960.createGb32960Framer());
      try {
        const login = gb32960.encodeLogin(vin, T0, 1, '89860000000000000001');
        const reply = await c.ask(login);
        // same command and VIN, success, the data unit with the platform's time (first 6 bytes)
        const expected = gb32960.encodeResponse(login, Date.now())!;
        expect(hex(reply.subarray(0, 24))).toBe(hex(expected.subarray(0, 24)));
        expect(hex(reply.subarray(30, reply.length - 1))).toBe(
          hex(expected.subarray(30, expected.length - 1)),
        );
        const t = T0 + 4 * 86_400_000;
        c.socket.write(
          gb32960.encodeBatteryReport(vin, {
            time_ms: t,
            pack_voltage_v: 52.8,
            current_a: -6.5,
            soc_pct: 77,
            cell_mv: Array.from({ length: 16 }, (_, i) => 3300 + i),
            temps_c: [21, 22],
            lat: 31.2304,
            lon: 121.4737,
          }),
        );
        // no reply to real-time data; a heartbeat after it is answered once it is handled
        const hb = gb32960.encodeGb32960Frame(
          {
            cmd: gb32960.CMD.heartbeat,
            response_flag: gb32960.RESPONSE.command,
            vin,
            encryption: 1,
          },
          new Uint8Array(0),
        );
        const hbReply = await c.ask(hb);
        expect(hex(hbReply)).toBe(hex(gb32960.encodeResponse(hb, Date.now())!));
        const d = (await deviceOf(vin))!;
        expect(d.type).toBe('tracker');
        const sample = await storage.telemetry.latest(
          { orgIds: [platform.id], gatewayId: origin.gatewayId },
          trackerPackId(vin),
        );
        expect(sample?.ts).toBe(t);
        expect(sample?.snapshot).toMatchObject({
          voltage_v: 52.8,
          current_a: -6.5,
          soc_pct: 77,
          temps_c: [21, 22],
        });
        expect(sample?.snapshot.cell_mv).toHaveLength(16);
        const ps = await storage.positions.list(d.id, { from: t, to: t + 1 });
        expect(ps).toMatchObject([{ lat: 31.2304, lon: 121.4737 }]);
      } finally {
        c.close();
      }
    });

    it('takes OsmAnd positions over HTTP (200) and refuses a malformed one (400)', async () => {
      const base = `http://${HOST}:${servers.ports.osmand!}`;
      const t = T0 + 5 * 86_400_000;
      const ok = await fetch(
        `${base}/?id=osm-phone-1&lat=48.8584&lon=2.2945&timestamp=${t / 1000}&speed=10&bearing=45&altitude=35`,
        { method: 'POST' },
      );
      expect(ok.status).toBe(200);
      const bad = await fetch(`${base}/?id=osm-phone-1&lat=north&lon=2`, { method: 'POST' });
      expect(bad.status).toBe(400);
      const big = await fetch(`${base}/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: 'x'.repeat(20_000),
      });
      expect(big.status).toBe(413);
      const d = (await deviceOf('osm-phone-1'))!;
      expect(d).toMatchObject({ activation: 'not_enabled', createdBy: 'tracker:osmand' });
      const ps = await storage.positions.list(d.id, { from: t, to: t + 1 });
      expect(ps).toMatchObject([{ lat: 48.8584, lon: 2.2945, course: 45, altM: 35 }]);
      expect(ps[0]!.speedKmh).toBeCloseTo(18.52, 1); // 10 knots
    });

    it('keeps an expired tracker reporting to its own entry', async () => {
      const d = await storage.devices.create([platform.id], {
        serial: '13800000009',
        type: 'tracker',
        joinedAt: T0,
        createdBy: 'root',
        orgId: dealerA.id,
        activation: 'enabled',
        expiresAt: T0 - 1,
      });
      const sim = new TrackerSim({
        protocol: 'jt808',
        host: HOST,
        port: servers.ports.jt808!,
        id: '13800000009',
      });
      await sim.connect();
      const route = generateRoute({ seed: 9, legs: 1, t0: T0 + 6 * 86_400_000 });
      try {
        for (const p of route.points.slice(0, 3)) await sim.report(p);
      } finally {
        sim.close();
      }
      expect(sim.authCode).toBe(d.id);
      const ps = await storage.positions.list(d.id, { from: T0, to: T0 + 10 * 86_400_000 });
      expect(ps).toHaveLength(3);
      const page = await storage.devices.list([platform.id], { q: '13800000009', now: Date.now() });
      expect(page.devices).toHaveLength(1);
      expect(page.devices[0]).toMatchObject({ orgId: dealerA.id, activation: 'enabled' });
    });

    it('skips garbage on a live connection, holds a flood of connections at the per-address limit, and closes silent ones', async () => {
      const term: jt808.Jt808Terminal = { protocol_version: '2013', phone: '013800000010' };
      const c = await RawClient.open(servers.ports.jt808!, jt808.createJt808Framer());
      const rand = prng(5);
      const noise = Uint8Array.from({ length: 20_000 }, () => {
        const b = Math.floor(rand() * 256);
        return b === 0x7e ? 0 : b;
      });
      const before = servers.counters.jt808.discarded;
      c.socket.write(noise);
      const hb = await c.ask(jt808.encodeHeartbeat(term, 1));
      expect(hex(hb)).toBe(
        hex(jt808.encodeGeneralResponse({ ...term, serial: 1, msg_id: jt808.MSG.heartbeat }, 0)),
      );
      expect(servers.counters.jt808.discarded).toBeGreaterThan(before);
      c.close();
      await c.closed;

      // a flood: twice the per-address limit from one address
      const l = servers.listeners.jt808!;
      const refusedBefore = l.refused();
      const flood = await Promise.all(
        Array.from({ length: 2 * MAX_PER_IP }, () =>
          RawClient.open(servers.ports.jt808!, jt808.createJt808Framer()),
        ),
      );
      // the refused ones are closed by the server straight away
      const closedEarly = await Promise.all(
        flood.map((f) =>
          Promise.race(
            [
              f.closed.then(() => true),
              new Promise<boolean>((r) => f.socket.once('data', () => r(false))),
            ].concat(
              // the admitted ones answer a heartbeat
              f.ask(jt808.encodeHeartbeat(term, 2)).then(() => false),
            ),
          ),
        ),
      );
      expect(closedEarly.filter((x) => x)).toHaveLength(MAX_PER_IP);
      expect(l.refused() - refusedBefore).toBe(MAX_PER_IP);
      expect(l.connections()).toBeLessThanOrEqual(MAX_PER_IP);
      for (const f of flood) f.close();
      await Promise.all(flood.map((f) => f.closed));

      // a silent connection is closed by the idle timeout (1 s here)
      const silent = await RawClient.open(servers.ports.jt808!, jt808.createJt808Framer());
      const opened = Date.now();
      await silent.closed;
      expect(Date.now() - opened).toBeGreaterThanOrEqual(900);

      // and the server still answers
      const after = await RawClient.open(servers.ports.jt808!, jt808.createJt808Framer());
      const again = await after.ask(jt808.encodeHeartbeat(term, 3));
      expect(again.length).toBeGreaterThan(0);
      after.close();
    });

    it('refuses a new unknown tracker once the Not enabled list is full; known ones keep reporting', async () => {
      const into = { orgId: dealerB.id, gatewayId: TEST_ORIGIN.gatewayId };
      const capped = new TrackerIngest({ storage, identity: into, maxNotEnabled: 2 });
      const first = await capped.device('CAP0000001', 'jt808');
      await capped.device('CAP0000002', 'jt808');
      await expect(capped.device('CAP0000003', 'jt808')).rejects.toMatchObject({
        code: 'LIMIT_REACHED',
        details: { limit: 'not_enabled' },
      });
      expect(capped.counts).toMatchObject({ registered: 2, refused: 1 });
      // Known ones: from the cache, and found in the store by a fresh ingest (another node).
      expect((await capped.device('CAP0000001', 'jt808')).id).toBe(first.id);
      const other = new TrackerIngest({ storage, identity: into, maxNotEnabled: 2 });
      expect((await other.device('cap0000001', 'jt808')).id).toBe(first.id);
      const page = await storage.devices.list([dealerB.id], { q: 'CAP', now: Date.now() });
      expect(page.devices.map((d) => d.serial).sort()).toEqual(['CAP0000001', 'CAP0000002']);
    });

    it('answers 404 for a tracker outside the caller’s subtree, and refuses a bad range naming the field', async () => {
      const d = (await deviceOf('13800000007'))!;
      const r = await get('bert', `/api/v1/devices/${d.id}/positions?from=${T0}&to=${T0 + 1000}`);
      expect(r.status).toBe(404);
      const m = await get('bert', `/api/v1/devices/${d.id}/mileage`);
      expect(m.status).toBe(404);
      const bad = await get('root', `/api/v1/devices/${d.id}/positions?from=${T0 + 1000}&to=${T0}`);
      expect(bad.status).toBe(400);
      expect(bad.body.field).toBe('to');
      const unknown = await get('root', `/api/v1/devices/${d.id}/positions?speed=1`);
      expect(unknown.status).toBe(400);
      expect(unknown.body.field).toBe('speed');
    });
  });
}
