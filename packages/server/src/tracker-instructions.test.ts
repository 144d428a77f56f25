/**
 * Instructions to GPS trackers end to end (issue 17, docs/trackers.md "Instructions"): the real
 * server's routes, the real tracker servers of TWO nodes on one store (SQLite, and a real
 * PostgreSQL database `trkcmd_…`, dropped afterwards), each with its own instruction
 * dispatcher, and simulated batteries (JT/T 808 and GT06) over real TCP.
 *
 * Proven: an instruction to an online tracker is sent by the node holding its connection
 * (not the other) and its reply stored (locate: the fix stored as a position too; restart:
 * acknowledged); an offline tracker's instruction waits queued and is sent when it connects,
 * or expires; an unanswered one fails with no_reply; the armed state follows the arm/disarm
 * replies and the trackers' reports; armed, still for 3 minutes and shaken, the battery
 * reports vibration (JT/T 808 alarm bit 16, GT06 alarm code 0x03), disarmed it does not; a
 * viewer's restart is 403, another dealer's 404, a malformed body 400 naming the field,
 * air_upgrade 409 naming firmware updates; each accepted instruction is audited.
 */
import { createConnection } from 'node:net';
import {
  InstructionDispatcher,
  startTrackerServers,
  TrackerIngest,
  trackersConfigSchema,
  type TrackerServers,
} from '@openbms/gateway';
import { jt808 } from '@openbms/protocols/trackers';
import { TrackerSim, STILL_BEFORE_ALARM_MS } from '@openbms/simulator';
import { type Org, type Origin, type User } from '@openbms/storage';
import { TEST_ORIGIN } from '@openbms/storage/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from './passwords.js';
import { startHarness, TEST_COST, type Harness } from './testing/harness.js';
import { storeAdapters, type Store } from './testing/adapters.js';

const ADAPTERS = storeAdapters('trkcmd');
const HOST = '127.0.0.1';

interface Node {
  servers: TrackerServers;
  dispatcher: InstructionDispatcher;
}

/** Resolves once `probe` returns a value that is not undefined (checked every 20 ms, at most 10 s). */
async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + 10_000;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const DAY_MS = 86_400_000;
for (const [adapter, openStore] of ADAPTERS) {
  describe(`tracker instructions (${adapter})`, () => {
    let storage: Store;
    let done: () => Promise<void>;
    let h: Harness;
    let platform: Org;
    let dealerB: Org;
    const nodes: Node[] = [];
    const tok: Record<string, string> = {};
    const sims: TrackerSim[] = [];
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

    const deviceOf = async (serial: string) => {
      const page = await storage.devices.list([platform.id], { q: serial, now: h.clock.now() });
      return page.devices.find((d) => d.serial === serial)!;
    };
    const post = (who: string, id: string, body: unknown) =>
      h.call('POST', `/api/v1/devices/${id}/instructions`, { token: tok[who], body });
    const list = (who: string, id: string) =>
      h.call('GET', `/api/v1/devices/${id}/instructions`, { token: tok[who] });
    /** The battery's vibration alarms in its alarm list (docs/trackers.md "Alarms"). */
    const vibrations = async (id: string) => {
      // Around the simulated clock (the trackers' time), not the wall clock's last 7 days.
      const now = h.clock.now();
      const r = await h.call(
        'GET',
        `/api/v1/devices/${id}/alarms?all=true&from=${now - DAY_MS}&to=${now + DAY_MS}`,
        {
          token: tok['root'],
        },
      );
      expect(r.status, r.text).toBe(200);
      return (r.body as { code: string; raised_at: number; lat?: number; lon?: number }[]).filter(
        (a) => a.code === 'vibration',
      );
    };
    /** The instruction once it has left `queued`/`sent`. */
    const settled = (deviceId: string, id: string) =>
      until(`instruction ${id} to settle`, async () => {
        const r = await list('root', deviceId);
        const i = (r.body.instructions as { id: string; state: string }[]).find((x) => x.id === id);
        return i && !['queued', 'sent'].includes(i.state)
          ? (i as Record<string, unknown>)
          : undefined;
      });

    /** A simulated battery on node `n`, connected (JT/T 808 registered and authenticated). */
    async function sim(protocol: 'jt808' | 'gt06', id: string, n = 1): Promise<TrackerSim> {
      const s = new TrackerSim({
        protocol,
        host: HOST,
        port: nodes[n]!.servers.ports[protocol]!,
        id,
        clock: () => h.clock.now(),
      });
      sims.push(s);
      await s.connect();
      return s;
    }

    beforeAll(async () => {
      ({ storage, done } = await openStore());
      platform = await storage.orgs.createRoot({
        kind: 'platform',
        name: 'Platform',
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
      await account(platform, 'vera', 'viewer');
      await account(platform, 'otto', 'operator');
      await account(dealerB, 'bert', 'admin');
      const config = trackersConfigSchema.parse({
        jt808: { port: 0, host: HOST },
        gt06: { port: 0, host: HOST },
        limits: { max_connections: 100, max_per_ip: 100, idle_s: 60 },
      });
      // Two nodes of one cluster: each its own gateway id, servers and dispatcher, one store.
      for (const gatewayId of [TEST_ORIGIN.gatewayId, 'node-2']) {
        const origin: Origin = { orgId: platform.id, gatewayId };
        const dispatcher = new InstructionDispatcher({
          store: storage.instructions,
          node: gatewayId,
          clock: () => h.clock.now(),
          pollMs: 50,
        });
        const servers = await startTrackerServers(config, {
          ingest: new TrackerIngest({ storage, identity: origin, clock: () => h.clock.now() }),
          instructions: dispatcher,
          clock: () => h.clock.now(),
        });
        nodes.push({ servers, dispatcher });
      }
    });

    afterAll(async () => {
      for (const s of sims) s.close();
      for (const n of nodes) await n.servers.close();
      await h?.close();
      await storage?.close();
      await done?.();
    });

    it('sends a locate and a restart to an online JT/T 808 tracker from the node that holds it, and stores the replies', async () => {
      const s = await sim('jt808', '13900000001');
      const d = await deviceOf('13900000001');
      await s.report({
        t: h.clock.now(),
        lat: 22.55,
        lon: 114.06,
        speedKmh: 15,
        course: 90,
        stopped: false,
      });
      h.clock.advance(5000);
      const r = await post('root', d.id, { kind: 'locate' });
      expect(r.status, r.text).toBe(201);
      expect(r.body).toMatchObject({ kind: 'locate', state: 'queued', created_by: 'root' });
      const located = await settled(d.id, r.body.id);
      expect(located).toMatchObject({ state: 'replied', result: 'ok' });
      expect(located['reply']).toMatch(/^22\.55,114\.06 at /);
      // The located fix (at the battery's clock) is a position too.
      const ps = await storage.positions.list(d.id, { from: h.clock.now(), to: h.clock.now() + 1 });
      expect(ps).toMatchObject([{ lat: 22.55, lon: 114.06 }]);
      expect(s.commands).toEqual(['locate_now']);

      const rs = await post('otto', d.id, { kind: 'restart' });
      expect(rs.status, rs.text).toBe(201);
      expect(await settled(d.id, rs.body.id)).toMatchObject({
        state: 'replied',
        result: 'ok',
        reply: 'ok',
      });
      expect(s.commands).toEqual(['locate_now', 'terminal_control']);
      // Node 2 holds the connection: it sent both; node 1 none.
      expect(nodes[1]!.dispatcher.counts.sent).toBeGreaterThanOrEqual(2);
      expect(nodes[0]!.dispatcher.counts.sent).toBe(0);
      const stored = await storage.instructions.get(rs.body.id);
      expect(stored).toMatchObject({ sentBy: 'node-2', createdBy: expect.any(String) });
      // Audited, with the device and the kind.
      const audit = await h.call('GET', '/api/v1/audit?user=otto', { token: tok['root'] });
      expect(audit.status, audit.text).toBe(200);
      expect(audit.body).toContainEqual(
        expect.objectContaining({ action: 'tracker.instruction', result: 'ok' }),
      );
      expect(JSON.stringify(audit.body)).toContain(rs.body.id);
    });

    it('queues an offline tracker’s instruction and sends it when it connects, or lets it expire', async () => {
      const serial = '13900000002';
      (await sim('jt808', serial)).close();
      const d = await deviceOf(serial);
      await until('the session to close', async () =>
        nodes[1]!.dispatcher.sessions.get(d.id) ? undefined : true,
      );
      const arm = await post('root', d.id, { kind: 'arm' });
      const late = await post('root', d.id, { kind: 'locate', expires_in_s: 10 });
      expect([arm.status, late.status]).toEqual([201, 201]);
      h.clock.advance(10_000);
      // The view says expired at once; a poll stores it.
      const view = await list('root', d.id);
      expect(view.body.instructions.map((i: { state: string }) => i.state)).toEqual([
        'expired',
        'queued',
      ]);
      await nodes[0]!.dispatcher.poll();
      expect((await storage.instructions.get(late.body.id))!.state).toBe('expired');
      // Online again (on node 1 this time): the arm is sent on connect, the expired locate never.
      const s = await sim('jt808', serial, 0);
      expect(await settled(d.id, arm.body.id)).toMatchObject({ state: 'replied', result: 'ok' });
      expect(s.commands).toEqual(['terminal_control']);
      expect(s.armed).toBe(true);
      const after = await list('root', d.id);
      expect(after.body).toMatchObject({ armed: true, armed_source: 'instruction' });
      expect(after.body.instructions.map((i: { state: string }) => i.state)).toEqual([
        'expired',
        'replied',
      ]);
      // Power-cycled, the battery comes back disarmed (on node 2) and says so in its report
      // (item 0xF3 = 0): the state follows the report.
      s.close();
      const again = await sim('jt808', serial, 1);
      h.clock.advance(1000);
      await again.report({
        t: h.clock.now(),
        lat: 22.6,
        lon: 114.1,
        speedKmh: 0,
        course: 0,
        stopped: true,
      });
      expect((await list('root', d.id)).body).toMatchObject({
        armed: false,
        armed_source: 'report',
      });
    });

    /** A raw JT/T 808 terminal on node 2: registered and authenticated; answers only as told. */
    async function rawTerminal(phone: string) {
      const term: jt808.Jt808Terminal = { protocol_version: '2013', phone };
      const c = createConnection({ host: HOST, port: nodes[1]!.servers.ports.jt808! });
      await new Promise<void>((r) => c.once('connect', () => r()));
      const framer = jt808.createJt808Framer();
      const frames: jt808.Jt808Message[] = [];
      c.on('data', (b: Buffer) => {
        for (const ev of framer.push(new Uint8Array(b)))
          if (ev.type === 'frame') frames.push(jt808.decodeJt808(ev.bytes));
      });
      c.write(jt808.encodeJt808Frame(term, jt808.MSG.register, 0, new Uint8Array(41)));
      await until('the register reply', async () => (frames.length >= 1 ? true : undefined));
      const d = await deviceOf(phone.replace(/^0+/, ''));
      c.write(jt808.encodeAuth(term, 1, d.id));
      await until('the session', async () => nodes[1]!.dispatcher.sessions.get(d.id));
      /** The next downlink of this message id. */
      const downlink = (msgId: number) =>
        until(`downlink ${msgId.toString(16)}`, async () => {
          const i = frames.findIndex((f) => f.msg_id === msgId);
          return i < 0 ? undefined : frames.splice(i, 1)[0]!;
        });
      /** A 0x0001 general response. */
      const answer = (serial: number, to: jt808.Jt808Message, result: number) =>
        c.write(
          jt808.encodeJt808Frame(
            term,
            jt808.MSG.terminal_response,
            serial,
            Uint8Array.of(
              to.serial >> 8,
              to.serial & 0xff,
              to.msg_id >> 8,
              to.msg_id & 0xff,
              result,
            ),
          ),
        );
      return { c, d, downlink, answer };
    }

    it('fails an instruction the tracker never answers, or refuses; ignores answers to anything else', async () => {
      const t = await rawTerminal('013900000003');
      const r = await post('root', t.d.id, { kind: 'restart' });
      const sent = await t.downlink(jt808.MSG.terminal_control);
      h.clock.advance(61_000);
      await nodes[0]!.dispatcher.poll(); // any node times it out
      expect(await settled(t.d.id, r.body.id)).toMatchObject({
        state: 'failed',
        result: 'no_reply',
      });
      // A late answer changes nothing.
      t.answer(2, sent, 0);
      const arm = await post('root', t.d.id, { kind: 'arm' });
      const armSent = await t.downlink(jt808.MSG.terminal_control);
      expect(armSent.message === 'unknown' && armSent.body_hex).toBe('66'); // the G10LS arm word
      // An answer naming another serial is not this instruction's.
      t.answer(3, { ...armSent, serial: (armSent.serial + 100) & 0xffff }, 0);
      t.answer(4, armSent, 3); // "not supported"
      expect(await settled(t.d.id, arm.body.id)).toMatchObject({
        state: 'failed',
        result: 'not_supported',
      });
      expect((await storage.instructions.get(r.body.id))!.result).toBe('no_reply');
      // A refused arm leaves the armed state unknown.
      expect((await list('root', t.d.id)).body.armed).toBeNull();
      t.c.destroy();
    });

    it('checks roles, the subtree and the body', async () => {
      const s = await sim('jt808', '13900000004');
      const d = await deviceOf('13900000004');
      const viewer = await post('vera', d.id, { kind: 'restart' });
      expect(viewer.status, viewer.text).toBe(403);
      expect(viewer.body.error).toMatch(/operator/);
      // a viewer may locate (it changes nothing on the battery)
      expect((await post('vera', d.id, { kind: 'locate' })).status).toBe(201);
      expect((await post('bert', d.id, { kind: 'locate' })).status).toBe(404);
      expect((await list('bert', d.id)).status).toBe(404);
      expect((await list('vera', d.id)).status).toBe(200);
      for (const [body, field] of [
        [{ kind: 'explode' }, 'kind'],
        [{}, 'kind'],
        [{ kind: 'locate', expires_in_s: 5 }, 'expires_in_s'],
        [{ kind: 'locate', expires_in_s: 'soon' }, 'expires_in_s'],
        [{ kind: 'locate', extra: 1 }, 'extra'],
      ] as const) {
        const r = await post('root', d.id, body);
        expect(r.status, JSON.stringify(body)).toBe(400);
        expect(r.body.field, JSON.stringify(body)).toBe(field);
      }
      const ota = await post('root', d.id, { kind: 'air_upgrade' });
      expect(ota.status).toBe(409);
      expect(ota.body.error).toMatch(/firmware/);
      expect(ota.body.error).toMatch(/issue 16/);
      const none = await list('root', d.id);
      expect(none.body.instructions.map((i: { kind: string }) => i.kind)).toEqual(['locate']);
      s.close();
    });

    it('JT/T 808: armed, still for 3 minutes and shaken, the battery reports vibration (alarm bit 16); disarmed it does not', async () => {
      const s = await sim('jt808', '13900000005');
      const d = await deviceOf('13900000005');
      const fixAt = async (t: number) =>
        (await storage.positions.list(d.id, { from: t, to: t + 1 }))[0];
      const arm = await post('otto', d.id, { kind: 'arm' });
      expect(await settled(d.id, arm.body.id)).toMatchObject({ state: 'replied' });
      // Just armed: a shake is no alarm yet.
      h.clock.advance(1000);
      expect(await s.shake()).toBe(false);
      const early = await fixAt(h.clock.now());
      expect(early!.extras!['alarm_flags']).toBe(0);
      expect(early!.extras!['alarms']).toBeUndefined();
      h.clock.advance(STILL_BEFORE_ALARM_MS);
      expect(await s.shake()).toBe(true);
      const shaken = await fixAt(h.clock.now());
      expect(Number(shaken!.extras!['alarm_flags']) & (1 << 16)).toBe(1 << 16);
      expect((shaken!.extras!['alarms'] as string[]).length).toBe(1);
      // ...which is a vibration alarm in the battery's alarm list, at the shaken fix's place.
      expect(await vibrations(d.id)).toEqual([
        expect.objectContaining({ raised_at: shaken!.t, lat: shaken!.lat, lon: shaken!.lon }),
      ]);
      // The report's 0xF3 item says armed: the stored state follows the report.
      expect((await list('root', d.id)).body).toMatchObject({ armed: true });
      const disarm = await post('otto', d.id, { kind: 'disarm' });
      expect(await settled(d.id, disarm.body.id)).toMatchObject({ state: 'replied' });
      h.clock.advance(STILL_BEFORE_ALARM_MS + 1000);
      expect(await s.shake()).toBe(false);
      const calm = await fixAt(h.clock.now());
      expect(calm!.extras!['alarm_flags']).toBe(0);
      expect((await list('root', d.id)).body).toMatchObject({ armed: false });
      // Disarmed, the shake raised no new alarm.
      expect(await vibrations(d.id)).toHaveLength(1);
    });

    it('GT06: locate, arm and the vibration alarm (code 0x03) with the replies stored; disarmed no alarm', async () => {
      const imei = '350000000000007';
      const s = await sim('gt06', imei);
      const d = await deviceOf(imei);
      const fixAt = async (t: number) =>
        (await storage.positions.list(d.id, { from: t, to: t + 1 }))[0];
      h.clock.advance(1000);
      const loc = await post('root', d.id, { kind: 'locate' });
      expect(await settled(d.id, loc.body.id)).toMatchObject({
        state: 'replied',
        result: 'ok',
        reply: 'Lat:N22.543096,Lon:E114.057865',
      });
      // the fresh fix that follows the reply
      await until('the located fix', async () => fixAt(h.clock.now()));
      const arm = await post('root', d.id, { kind: 'arm' });
      expect(await settled(d.id, arm.body.id)).toMatchObject({
        state: 'replied',
        reply: 'Defense on OK',
      });
      expect(s.commands).toEqual(['DWXX#', 'DEFENSE,1#']);
      h.clock.advance(STILL_BEFORE_ALARM_MS);
      expect(await s.shake()).toBe(true);
      expect((await fixAt(h.clock.now()))!.extras).toMatchObject({
        alarm: 'vibration',
        alarm_code: '03',
        armed: true,
      });
      expect(await vibrations(d.id)).toHaveLength(1);
      const disarm = await post('root', d.id, { kind: 'disarm' });
      expect(await settled(d.id, disarm.body.id)).toMatchObject({
        state: 'replied',
        reply: 'Defense off OK',
      });
      h.clock.advance(STILL_BEFORE_ALARM_MS + 1000);
      expect(await s.shake()).toBe(false);
      const calm = await fixAt(h.clock.now());
      expect(calm).toBeDefined();
      expect(calm!.extras?.['alarm']).toBeUndefined();
      expect(await vibrations(d.id)).toHaveLength(1);
      // the heartbeat after the fix carries terminal-info bit 0 clear: the state says disarmed
      expect((await list('root', d.id)).body).toMatchObject({ armed: false });
    });
  });
}
