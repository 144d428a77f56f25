/**
 * Tracker alarms and geofences end to end (issue 17, docs/trackers.md "Alarms", "Geofences"):
 * the real tracker servers on a real SQLite store and a real PostgreSQL database
 * (`trkfence_…`), real TCP clients (the tracker simulator and the codecs' terminal side), the
 * real server over HTTP, and alarm e-mails through a real SMTP server.
 *
 * Proven: a simulated ride that leaves a circle fence raises exactly one exit alarm, at the
 * device time of the first fix outside and with that fix as its place; entering a circle and a
 * polygon raise one enter alarm each at the first fix inside; an old fix sent late (a
 * blind-area batch) and a duplicate frame flip nothing; a vibration bit raises one alarm per
 * episode (cleared when the bit clears); a user who turned vibration off does not see it in
 * the alarm lists (unless all=true) and gets no e-mail while another user gets both; GT06
 * alarm packets and GB/T 32960 alarm flags become the same catalogue codes; another dealer's
 * user gets 404 for a fence and its tracker's alarms; malformed fences are 400 naming the
 * field.
 *
 * Synchronisation: every fix is acknowledged by the server only after it was stored and its
 * alarms and fences evaluated; mails go out oldest account first (vera before ann), so ann's
 * mail proves vera's turn was over.
 */
import { createConnection, type Socket } from 'node:net';
import {
  haversineM,
  startTrackerServers,
  TrackerAlarmHub,
  TrackerIngest,
  trackerPackId,
  trackersConfigSchema,
  type TrackerServers,
} from '@openbms/gateway';
import { gb32960, gt06, jt808 } from '@openbms/protocols/trackers';
import { generateRoute, TrackerSim, type RoutePoint } from '@openbms/simulator';
import type { Org, Origin, User } from '@openbms/storage';
import { TEST_ORIGIN } from '@openbms/storage/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountMailer } from './mailer.js';
import { hashPassword } from './passwords.js';
import { startHarness, TEST_COST, type Harness } from './testing/harness.js';
import { storeAdapters, type Store } from './testing/adapters.js';
import { smtpServer } from './testing/smtp.js';

const ADAPTERS = storeAdapters('trkfence');
const HOST = '127.0.0.1';
const DAY = 86_400_000;
const T0 = Date.UTC(2030, 0, 1);

type FramerLike = { push(c: Uint8Array): { type: string; bytes: Uint8Array }[] };

/** A raw TCP client that hands out the frames a framer finds in what the server sends. */
class RawClient {
  private frames: Uint8Array[] = [];
  private wake: (() => void) | undefined;
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
  }
  static async open(port: number, framer: FramerLike): Promise<RawClient> {
    const s = createConnection({ host: HOST, port });
    await new Promise<void>((res, rej) => {
      s.once('connect', res);
      s.once('error', rej);
    });
    return new RawClient(s, framer);
  }
  async ask(frame: Uint8Array): Promise<Uint8Array> {
    this.socket.write(frame);
    while (this.frames.length === 0) await new Promise<void>((r) => (this.wake = r));
    return this.frames.shift()!;
  }
  close(): void {
    this.socket.destroy();
  }
}

interface AlarmRow {
  id: string;
  device_id: string;
  code: string;
  severity: string;
  raised_at: number;
  cleared_at?: number;
  fence_id?: string;
  lat?: number;
  lon?: number;
}

for (const [adapter, openStore] of ADAPTERS) {
  describe(`tracker alarms and geofences (${adapter})`, { timeout: 60_000 }, () => {
    let storage: Store;
    let done: () => Promise<void>;
    let h: Harness;
    let servers: TrackerServers;
    let smtp: Awaited<ReturnType<typeof smtpServer>>;
    let platform: Org;
    let dealerA: Org;
    let dealerB: Org;
    let origin: Origin;
    const tok: Record<string, string> = {};

    async function account(org: Org, username: string, role: User['role'], email?: string) {
      const hash = await hashPassword(`${username}-password`, TEST_COST);
      const u = await storage.users.create(
        { orgId: org.id, gatewayId: TEST_ORIGIN.gatewayId },
        { username, role, createdAt: T0 },
        hash,
      );
      if (email) await storage.accounts.setProfile(u.id, { email });
      const r = await h.call('POST', '/api/v1/auth/login', {
        body: { username: `${username}@${org.code}`, password: `${username}-password` },
      });
      expect(r.status, r.text).toBe(200);
      tok[username] = r.body.token;
    }
    const call = (who: string, method: string, path: string, body?: unknown) =>
      h.call(method, path, { token: tok[who], ...(body !== undefined ? { body } : {}) });
    /** A tracker of dealer A, linked to the node's gateway and its pack. */
    const tracker = (serial: string) =>
      storage.devices.create([platform.id], {
        serial,
        type: 'tracker',
        joinedAt: T0,
        createdBy: 'test',
        orgId: dealerA.id,
        activation: 'enabled',
        gatewayId: origin.gatewayId,
        packId: trackerPackId(serial),
      });
    const alarmsOf = async (who: string, deviceId: string, query = '') => {
      const r = await call(
        who,
        'GET',
        `/api/v1/devices/${deviceId}/alarms?from=${T0}&to=${T0 + 30 * DAY}${query}`,
      );
      expect(r.status, r.text).toBe(200);
      return r.body as AlarmRow[];
    };
    const circle = (p: { lat: number; lon: number }, radius_m: number) => ({
      kind: 'circle',
      lat: p.lat,
      lon: p.lon,
      radius_m,
    });
    const newFence = async (body: Record<string, unknown>) => {
      const r = await call('ann', 'POST', '/api/v1/geofences', body);
      expect(r.status, r.text).toBe(201);
      return r.body as { id: string };
    };
    const ride = async (id: string, points: readonly RoutePoint[]) => {
      const sim = new TrackerSim({ protocol: 'jt808', host: HOST, port: servers.ports.jt808!, id });
      await sim.connect();
      try {
        for (const p of points) await sim.report(p);
      } finally {
        sim.close();
      }
    };

    beforeAll(async () => {
      ({ storage, done } = await openStore());
      smtp = await smtpServer();
      const mailer = accountMailer({
        host: HOST,
        port: smtp.port,
        secure: false,
        starttls: false,
        from: 'OpenBMS <bms@example.com>',
        insecure: false,
        timeout_s: 10,
      });
      platform = await storage.orgs.createRoot({ kind: 'platform', name: 'P', createdAt: T0 });
      const under = (name: string) =>
        storage.orgs.create([platform.id], {
          parentId: platform.id,
          kind: 'dealer',
          name,
          createdAt: T0,
        });
      dealerA = await under('Dealer A');
      dealerB = await under('Dealer B');
      const hub = new TrackerAlarmHub();
      h = await startHarness({
        storage,
        identity: TEST_ORIGIN,
        captcha: { mode: 'off' },
        signup: { signup: false, send: mailer.send },
        trackerAlarms: hub,
      });
      // vera first: she is mailed before ann for any alarm.
      await account(dealerA, 'vera', 'viewer', 'vera@example.com');
      await account(dealerA, 'ann', 'admin', 'ann@example.com');
      await account(dealerB, 'bert', 'admin');
      origin = { orgId: platform.id, gatewayId: TEST_ORIGIN.gatewayId };
      // fenceTtlMs 0: a fence made through the API counts from the next fix on.
      const ingest = new TrackerIngest({
        storage,
        identity: origin,
        onAlarm: hub.emit,
        fenceTtlMs: 0,
      });
      const config = trackersConfigSchema.parse({
        jt808: { port: 0, host: HOST },
        gt06: { port: 0, host: HOST },
        gb32960: { port: 0, host: HOST },
      });
      servers = await startTrackerServers(config, { ingest });
    });

    afterAll(async () => {
      await servers?.close();
      await h?.close();
      await smtp?.close();
      await storage?.close();
      await done?.();
    });

    it('a simulated ride leaving a circle fence raises exactly one exit alarm, with the time and place of the first fix outside', async () => {
      const d = await tracker('13800000101');
      const route = generateRoute({ seed: 11, legs: 6, t0: T0 + DAY });
      const start = route.points[0]!;
      const R = 150; // shorter than any first leg (300 m at least): the ride leaves it
      const outside = route.points.map((p) => haversineM(start.lat, start.lon, p.lat, p.lon) > R);
      const firstOut = outside.indexOf(true);
      // the route leaves once and does not come back (else this seed would prove less)
      expect(firstOut).toBeGreaterThan(0);
      expect(outside.slice(firstOut).every(Boolean)).toBe(true);
      const fence = await newFence({
        name: 'Depot',
        shape: circle(start, R),
        alarm: 'exit',
        device_ids: [d.id],
      });
      await ride('13800000101', route.points);
      const list = await alarmsOf('ann', d.id);
      const at = route.points[firstOut]!;
      expect(list).toEqual([
        {
          id: expect.any(String),
          device_id: d.id,
          serial: '13800000101',
          code: 'geofence_exit',
          severity: 'warning',
          raised_at: at.t,
          fence_id: fence.id,
          message: 'Left a geofence: Depot',
          lat: at.lat,
          lon: at.lon,
        },
      ]);
      // the fleet list has it too; another dealer sees neither the tracker nor its alarms
      const fleet = await call(
        'ann',
        'GET',
        `/api/v1/tracker-alarms?from=${T0}&to=${T0 + 30 * DAY}`,
      );
      expect(fleet.body.map((a: AlarmRow) => a.id)).toContain(list[0]!.id);
      const other = await call(
        'bert',
        'GET',
        `/api/v1/tracker-alarms?from=${T0}&to=${T0 + 30 * DAY}`,
      );
      expect(other.status).toBe(200);
      expect(other.body).toEqual([]);
      expect((await call('bert', 'GET', `/api/v1/devices/${d.id}/alarms`)).status).toBe(404);
    });

    it('entering a circle and a polygon raises one enter alarm each at the first fix inside', async () => {
      const d = await tracker('13800000102');
      const route = generateRoute({ seed: 12, legs: 6, t0: T0 + 2 * DAY });
      const end = route.points[route.points.length - 1]!;
      // a square of ±0.002° around the end (the bounding box is the polygon: checked here by
      // comparisons, not by the server's ray test) and a 120 m circle around it
      const box = {
        s: end.lat - 0.002,
        n: end.lat + 0.002,
        w: end.lon - 0.002,
        e: end.lon + 0.002,
      };
      const inBox = (p: RoutePoint) =>
        p.lat >= box.s && p.lat <= box.n && p.lon >= box.w && p.lon <= box.e;
      const inCircle = (p: RoutePoint) => haversineM(end.lat, end.lon, p.lat, p.lon) <= 120;
      const firstIn = (f: (p: RoutePoint) => boolean) => route.points.findIndex(f);
      expect(inBox(route.points[0]!) || inCircle(route.points[0]!)).toBe(false);
      for (const f of [inBox, inCircle]) {
        const k = firstIn(f);
        expect(route.points.slice(k).every(f)).toBe(true); // enters once, stays
      }
      const poly = await newFence({
        name: 'Square',
        shape: {
          kind: 'polygon',
          vertices: [
            [box.s, box.w],
            [box.s, box.e],
            [box.n, box.e],
            [box.n, box.w],
          ],
        },
        alarm: 'enter',
        device_ids: [d.id],
      });
      const ring = await newFence({
        name: 'Home',
        shape: circle(end, 120),
        alarm: 'both',
        device_ids: [d.id],
      });
      await ride('13800000102', route.points);
      const list = await alarmsOf('ann', d.id);
      const byFence = (id: string) => list.filter((a) => a.fence_id === id);
      const kBox = route.points[firstIn(inBox)]!;
      const kCircle = route.points[firstIn(inCircle)]!;
      expect(byFence(poly.id)).toEqual([
        expect.objectContaining({
          code: 'geofence_enter',
          raised_at: kBox.t,
          lat: kBox.lat,
          lon: kBox.lon,
        }),
      ]);
      expect(byFence(ring.id)).toEqual([
        expect.objectContaining({
          code: 'geofence_enter',
          raised_at: kCircle.t,
          lat: kCircle.lat,
          lon: kCircle.lon,
        }),
      ]);
      expect(list).toHaveLength(2);
    });

    it('an old fix sent late and a duplicate frame flip nothing; the next real crossing does', async () => {
      const d = await tracker('13800000103');
      const term: jt808.Jt808Terminal = { protocol_version: '2013', phone: '013800000103' };
      const centre = { lat: 31.2, lon: 121.5 };
      const fence = await newFence({
        name: 'Yard',
        shape: circle(centre, 200),
        alarm: 'both',
        device_ids: [d.id],
      });
      const base = T0 + 3 * DAY;
      const inside = (i: number) => ({
        valid: true,
        lat: 31.2,
        lon: 121.5005,
        time_ms: base + i * 10_000,
      });
      const outside = (i: number) => ({
        valid: true,
        lat: 31.21,
        lon: 121.5,
        time_ms: base + i * 10_000,
      });
      const c = await RawClient.open(servers.ports.jt808!, jt808.createJt808Framer());
      let n = 0;
      const send = (p: ReturnType<typeof inside>) =>
        c.ask(jt808.encodeLocationReport(term, n++, p));
      try {
        await send(inside(1)); // sets the state: inside, no alarm
        const leave = jt808.encodeLocationReport(term, n++, outside(3));
        await c.ask(leave); // exit
        await c.ask(leave); // the same frame again
        await c.ask(jt808.encodeLocationBatch(term, n++, 1, [inside(2)])); // an old fix, late
        await send(outside(4));
        await send(inside(5)); // enter
      } finally {
        c.close();
      }
      const list = await alarmsOf('ann', d.id);
      expect(list.map((a) => [a.code, a.raised_at, a.cleared_at, a.fence_id])).toEqual([
        ['geofence_enter', base + 50_000, undefined, fence.id],
        ['geofence_exit', base + 30_000, base + 50_000, fence.id],
      ]);
      // the old fix is stored (the track has it), it only changed no state
      const track = await storage.positions.list(d.id, { from: base, to: base + DAY });
      expect(track.map((p) => p.t)).toEqual([1, 2, 3, 4, 5].map((i) => base + i * 10_000));

      // A new shape forgets the state: the next fix (outside the moved circle) sets it without
      // an alarm and ends the open enter event; entering the moved circle then raises one.
      const moved = await call('ann', 'PATCH', `/api/v1/geofences/${fence.id}`, {
        shape: circle({ lat: 31.21, lon: 121.5 }, 200),
      });
      expect(moved.status, moved.text).toBe(200);
      const c2 = await RawClient.open(servers.ports.jt808!, jt808.createJt808Framer());
      try {
        await c2.ask(jt808.encodeLocationReport(term, n++, inside(6))); // outside the new one
        await c2.ask(jt808.encodeLocationReport(term, n++, outside(7))); // inside the new one
      } finally {
        c2.close();
      }
      const after = await alarmsOf('ann', d.id);
      expect(after.map((a) => [a.code, a.raised_at, a.cleared_at])).toEqual([
        ['geofence_enter', base + 70_000, undefined],
        ['geofence_enter', base + 50_000, base + 60_000], // ended by the new shape's first fix
        ['geofence_exit', base + 30_000, base + 50_000],
      ]);
    });

    it('a vibration bit raises one alarm per episode; a user who turned vibration off neither sees nor gets it', async () => {
      const notify = { alarms_email: true, min_severity: 'warning', alarm_cleared: false };
      const off = await call('vera', 'PATCH', '/api/v1/auth/account', {
        notify: { ...notify, alarm_types: { vibration: false } },
      });
      expect(off.status, off.text).toBe(200);
      expect(off.body.notify.alarm_types).toEqual({ vibration: false });
      expect((await call('ann', 'PATCH', '/api/v1/auth/account', { notify })).status).toBe(200);
      // a later change without alarm_types keeps them
      const kept = await call('vera', 'PATCH', '/api/v1/auth/account', { notify });
      expect(kept.body.notify.alarm_types).toEqual({ vibration: false });
      const bad = await call('vera', 'PATCH', '/api/v1/auth/account', {
        notify: { ...notify, alarm_types: { shaking: false } },
      });
      expect(bad.status).toBe(400);
      expect(bad.body.field).toBe('notify.alarm_types.shaking');

      const d = await tracker('13800000104');
      const term: jt808.Jt808Terminal = { protocol_version: '2013', phone: '013800000104' };
      const base = T0 + 4 * DAY;
      const VIBRATION = 1 << 16; // G10LS: alarm bit 16
      const fix = (i: number, alarm_flags: number) => ({
        valid: true,
        lat: 22.6,
        lon: 114.0,
        time_ms: base + i * 10_000,
        alarm_flags,
      });
      const c = await RawClient.open(servers.ports.jt808!, jt808.createJt808Framer());
      try {
        const flags = [VIBRATION, VIBRATION, 0, VIBRATION, VIBRATION, 0];
        for (const [i, f] of flags.entries())
          await c.ask(jt808.encodeLocationReport(term, i, fix(i, f)));
      } finally {
        c.close();
      }
      const list = await alarmsOf('ann', d.id);
      expect(list.map((a) => [a.code, a.severity, a.raised_at, a.cleared_at, a.lat])).toEqual([
        ['vibration', 'warning', base + 30_000, base + 50_000, 22.6],
        ['vibration', 'warning', base, base + 20_000, 22.6],
      ]);
      expect(await alarmsOf('vera', d.id)).toEqual([]);
      expect(await alarmsOf('vera', d.id, '&all=true')).toHaveLength(2);
      const q = `from=${base}&to=${base + DAY}`;
      const fleetVera = await call('vera', 'GET', `/api/v1/tracker-alarms?${q}`);
      expect(fleetVera.body).toEqual([]);
      const fleetAnn = await call('ann', 'GET', `/api/v1/tracker-alarms?${q}&code=vibration`);
      expect(fleetAnn.body.map((a: AlarmRow) => a.raised_at)).toEqual([base + 30_000, base]);
      // ann is mailed both raises; vera (mailed before ann) got nothing
      for (let i = 0; i < 2; i++) {
        const m = await smtp.next('ann@example.com');
        expect(m.raw).toContain('Vibration raised on tracker 13800000104');
      }
      expect(smtp.pending('vera@example.com')).toBe(0);
      // turned back on: vera sees them again
      await call('vera', 'PATCH', '/api/v1/auth/account', {
        notify: { ...notify, alarm_types: {} },
      });
      expect(await alarmsOf('vera', d.id)).toHaveLength(2);
      await call('vera', 'PATCH', '/api/v1/auth/account', {
        notify: { ...notify, alarms_email: false },
      });
      await call('ann', 'PATCH', '/api/v1/auth/account', {
        notify: { ...notify, alarms_email: false },
      });
    });

    it('GT06 alarm packets and GB/T 32960 alarm flags become catalogue alarms, one per episode', async () => {
      const imei = '359339075100105';
      const d = await tracker(imei);
      const base = T0 + 5 * DAY;
      const c = await RawClient.open(servers.ports.gt06!, gt06.createGt06Framer());
      try {
        await c.ask(gt06.encodeLogin(imei, 1));
        const at = (i: number) => ({
          time_ms: base + i * 10_000,
          valid: true,
          lat: 22.7,
          lon: 114.1,
          speed_kmh: 0,
          course_deg: 0,
          satellites: 7,
          mcc: 460,
          mnc: 0,
          lac: 1,
          cell_id: 1,
        });
        const status = { voltage_level: 4, gsm_level: 3 };
        await c.ask(gt06.encodeAlarm(at(1), status, 0x03, 2)); // vibration
        await c.ask(gt06.encodeAlarm(at(2), status, 0x03, 3)); // still: the same episode
        await c.ask(gt06.encodeAlarm(at(3), status, 0x02, 4)); // power cut
        await c.ask(gt06.encodeHeartbeat(status, 5)); // normal status: both end
      } finally {
        c.close();
      }
      const list = await alarmsOf('ann', d.id);
      expect(
        list.map((a) => [a.code, a.severity, a.raised_at, a.cleared_at !== undefined]),
      ).toEqual([
        ['power_cut', 'fault', base + 30_000, true],
        ['vibration', 'warning', base + 10_000, true],
      ]);

      const vin = 'LOPENBMS000000105';
      const v = await tracker(vin);
      const g = await RawClient.open(servers.ports.gb32960!, gb32960.createGb32960Framer());
      try {
        const report = (i: number, flags: number) =>
          gb32960.encodeBatteryReport(vin, {
            time_ms: base + i * 10_000,
            pack_voltage_v: 52,
            current_a: -3,
            soc_pct: 20,
            cell_mv: [3300, 3301],
            temps_c: [25],
            lat: 22.8,
            lon: 114.2,
            alarm_flags: flags,
          });
        g.socket.write(report(1, (1 << 4) | (1 << 1))); // SOC low + high temperature
        g.socket.write(report(2, 1 << 1)); // SOC back up
        // no reply to real-time data: a heartbeat after them is answered once they are handled
        await g.ask(
          gb32960.encodeGb32960Frame(
            {
              cmd: gb32960.CMD.heartbeat,
              response_flag: gb32960.RESPONSE.command,
              vin,
              encryption: 1,
            },
            new Uint8Array(0),
          ),
        );
      } finally {
        g.close();
      }
      const gbList = await alarmsOf('ann', v.id);
      expect(gbList.map((a) => [a.code, a.raised_at, a.cleared_at])).toEqual(
        expect.arrayContaining([
          ['high_temperature', base + 10_000, undefined],
          ['low_capacity', base + 10_000, base + 20_000],
        ]),
      );
      expect(gbList).toHaveLength(2);
    });

    it('keeps fences to their dealer and refuses malformed ones naming the field', async () => {
      const d = await tracker('13800000106');
      const fence = await newFence({
        name: 'Shop',
        shape: circle({ lat: 22.5, lon: 113.9 }, 100),
        alarm: 'both',
        device_ids: [d.id],
      });
      const path = `/api/v1/geofences/${fence.id}`;
      expect((await call('ann', 'GET', path)).body).toMatchObject({
        id: fence.id,
        org_id: dealerA.id,
        shape: { kind: 'circle', lat: 22.5, lon: 113.9, radius_m: 100 },
        device_ids: [d.id],
        org_wide: false,
      });
      for (const [m, body] of [
        ['GET', undefined],
        ['PATCH', { name: 'Mine now' }],
        ['DELETE', undefined],
      ] as const)
        expect((await call('bert', m, path, body)).status, m).toBe(404);
      const bertList = await call('bert', 'GET', '/api/v1/geofences');
      expect(bertList.body).toEqual([]);
      // bert cannot aim a fence of his at A's tracker; vera (viewer) cannot write
      const sneaky = await call('bert', 'POST', '/api/v1/geofences', {
        name: 'Sneaky',
        shape: circle({ lat: 1, lon: 1 }, 100),
        alarm: 'both',
        device_ids: [d.id],
      });
      expect(sneaky.status).toBe(400);
      expect(sneaky.body.field).toBe('device_ids[0]');
      const viewer = await call('vera', 'POST', '/api/v1/geofences', {
        name: 'V',
        shape: circle({ lat: 1, lon: 1 }, 100),
        alarm: 'both',
      });
      expect(viewer.status).toBe(403);
      const refused = async (shape: unknown, field: string) => {
        const r = await call('ann', 'POST', '/api/v1/geofences', {
          name: 'X',
          shape,
          alarm: 'exit',
        });
        expect(r.status, JSON.stringify(shape)).toBe(400);
        expect(r.body.field, r.text).toBe(field);
      };
      await refused(circle({ lat: 1, lon: 1 }, 5), 'shape.radius_m');
      await refused({ kind: 'circle', lat: 1, lon: 1 }, 'shape.radius_m');
      await refused(circle({ lat: 95, lon: 1 }, 100), 'shape.lat');
      await refused(
        {
          kind: 'polygon',
          vertices: Array.from({ length: 201 }, (_, i) => [Math.sin(i), Math.cos(i)]),
        },
        'shape.vertices',
      );
      await refused(
        {
          kind: 'polygon',
          vertices: [
            [0, 0],
            [1, 1],
            [1, 0],
            [0, 1],
          ],
        },
        'shape.vertices',
      );
      await refused(
        {
          kind: 'polygon',
          vertices: [
            [0, 0],
            [0, 1],
            [1, 181],
          ],
        },
        'shape.vertices[2]',
      );
      // a change is checked alike; a good one is kept, and delete removes it
      const p = await call('ann', 'PATCH', path, { shape: circle({ lat: 22.5, lon: 113.9 }, 2) });
      expect(p.status).toBe(400);
      expect(p.body.field).toBe('shape.radius_m');
      const ok = await call('ann', 'PATCH', path, { name: 'Shop 2', alarm: 'enter' });
      expect(ok.body).toMatchObject({ name: 'Shop 2', alarm: 'enter' });
      expect((await call('ann', 'DELETE', path)).status).toBe(200);
      expect((await call('ann', 'GET', path)).status).toBe(404);
    });
  });
}
