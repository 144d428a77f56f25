/**
 * The BMS of tracker batteries through the tracker's link (issue 17, seed 003; docs/trackers.md
 * "BMS through the tracker"): the real JT/T 808 server, real tracker simulators on TCP each
 * carrying a simulated JBD BMS behind its serial pass-through (0x8900 / 0x0900 type 0x41), a
 * real Gateway polling `tracker://<serial>` buses, the real server over HTTP, on SQLite and
 * PostgreSQL.
 *
 * Proven: an enabled tracker's pack snapshot (cells, SOC) arrives through pass-through under the
 * device list's pack id; a parameter write is validated (out of range: 422 naming the field,
 * nothing sent), written, read back and audited; switching the discharge MOSFET off while
 * charge current flows is refused by the interlock; the tracker leaving makes the pack offline
 * with a comm_lost alarm, its return resumes polling; Distribute to 3 tracker packs gives 3
 * results (refused by all for a bad value, nothing written); a viewer gets 403.
 */
import {
  Gateway,
  startTrackerServers,
  TrackerBms,
  TrackerIngest,
  trackerEndpoint,
  trackerPackId,
  trackersConfigSchema,
  validateConfig,
  virtualLinks,
  type GatewayEvent,
  type TrackerServers,
} from '@openbms/gateway';
import { createSimulation, TrackerSim, type Simulation } from '@openbms/simulator';
import { jt808 } from '@openbms/protocols/trackers';

import { createConnection } from 'node:net';
import { localScope, type Org, type Origin, type User } from '@openbms/storage';
import { TEST_ORIGIN } from '@openbms/storage/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from './passwords.js';
import { startHarness, TEST_COST, type Harness } from './testing/harness.js';
import { storeAdapters, type Store } from './testing/adapters.js';

const HOST = '127.0.0.1';
const T0 = Date.UTC(2030, 0, 1);

for (const [adapter, openStore] of storeAdapters('trkbms')) {
  describe(`tracker BMS through JT/T 808 pass-through (${adapter})`, () => {
    let storage: Store;
    let done: () => Promise<void>;
    let h: Harness;
    let gw: Gateway;
    let servers: TrackerServers;
    let bms: TrackerBms;
    let platform: Org;
    let origin: Origin;
    const tok: Record<string, string> = {};
    // Phones differ per adapter: the link registry is the process's.
    const base = adapter === 'sqlite' ? 13_900_000_000 : 13_900_000_100;
    const phones = [0, 1, 2].map((i) => String(base + i));
    const packOf = (phone: string): string => trackerPackId(phone);
    const P = (phone: string): string => encodeURIComponent(packOf(phone));
    const sims: Simulation[] = [];
    const trackers: TrackerSim[] = [];

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

    /** Resolves when `pred` holds, checked now and after every gateway event (no sleeps). */
    function until<T>(pred: () => T | undefined, what: string, ms = 20_000): Promise<T> {
      return new Promise((resolve, reject) => {
        const now = pred();
        if (now !== undefined) return resolve(now);
        const timer = setTimeout(() => {
          off();
          reject(new Error(`timed out waiting for ${what}`));
        }, ms);
        const off = gw.events.on((_e: GatewayEvent) => {
          const v = pred();
          if (v === undefined) return;
          clearTimeout(timer);
          off();
          resolve(v);
        });
      });
    }

    function tracker(i: number): TrackerSim {
      const sim = new TrackerSim({
        protocol: 'jt808',
        host: HOST,
        port: servers.ports.jt808!,
        id: phones[i]!,
        bms: sims[i]!.bus,
      });
      trackers.push(sim);
      return sim;
    }

    beforeAll(async () => {
      ({ storage, done } = await openStore());
      platform = await storage.orgs.createRoot({
        kind: 'platform',
        name: 'Platform',
        createdAt: T0,
      });
      origin = { orgId: platform.id, gatewayId: TEST_ORIGIN.gatewayId };
      gw = new Gateway({ config: validateConfig({ version: 1 }), storage, identity: origin });
      await gw.start();
      h = await startHarness({
        storage,
        identity: origin,
        gateway: gw,
        clock: () => Date.now(),
        captcha: { mode: 'off' },
      });
      await account(platform, 'root', 'admin');
      await account(platform, 'vera', 'viewer');
      const config = trackersConfigSchema.parse({
        jt808: { port: 0, host: HOST },
        bms: { protocol: 'jbd', chemistry: 'lfp', poll_interval_s: 1, timeout_ms: 2000 },
      });
      servers = await startTrackerServers(config, {
        ingest: new TrackerIngest({ storage, identity: origin }),
      });
      bms = new TrackerBms({
        gateway: gw,
        devices: storage.devices,
        config: config.bms!,
        refreshMs: 3_600_000,
      });
      await bms.start();
      // Each battery: a JBD BMS (16 LFP cells) charging at 5 A, behind its tracker.
      for (let i = 0; i < 3; i++)
        sims.push(
          createSimulation({
            protocol: 'jbd',
            chemistry: 'lfp',
            cells: 16,
            capacityAh: 40,
            profile: 'constant:5',
            initialSocPct: 50 + i,
            seed: i + 1,
            speed: 1,
          }),
        );
    });

    afterAll(async () => {
      for (const t of trackers) t.close();
      bms?.stop();
      await servers?.close();
      await h?.close();
      await gw?.stop();
      await storage?.close();
      await done?.();
    });

    it('polls an enabled tracker battery through pass-through: cells and SOC under the device list pack id', async () => {
      const t = tracker(0);
      await t.connect();
      // Unknown until now: registered not enabled, so not polled.
      const page = await storage.devices.list([platform.id], { q: phones[0]!, now: Date.now() });
      const d = page.devices.find((x) => x.serial === phones[0]);
      expect(d).toMatchObject({ activation: 'not_enabled', packId: packOf(phones[0]!) });
      await bms.refresh();
      expect(bms.packs()).toEqual([]);
      await storage.devices.update([platform.id], d!.id, { activation: 'enabled' });
      await bms.refresh();
      expect(bms.packs()).toEqual([packOf(phones[0]!)]);
      const snap = await until(() => gw.pack(packOf(phones[0]!))?.snapshot, 'the first snapshot');
      const device = sims[0]!.packs[0]!.snapshot();
      expect(snap.cell_mv).toHaveLength(16);
      expect(snap.soc_pct).toBeCloseTo(device.soc_pct!, 0);
      const r = await h.call('GET', `/api/v1/packs/${P(phones[0]!)}`, { token: tok['root'] });
      expect(r.status, r.text).toBe(200);
      expect(r.body.snapshot.cell_mv).toHaveLength(16);
      expect(r.body.online).toBe(true);
      // The samples are stored as the pack's telemetry (history), in the gateway's organisation.
      await until(() => (gw.writerStatus().written > 0 ? true : undefined), 'a stored sample');
      const latest = await storage.telemetry.latest(localScope(origin), packOf(phones[0]!));
      expect(latest?.snapshot.cell_mv).toHaveLength(16);
    });

    it('writes a parameter through the tracker: validated, written, read back, audited', async () => {
      const p = P(phones[0]!);
      const caps = await h.call('GET', `/api/v1/packs/${p}/capabilities`, { token: tok['root'] });
      expect(caps.status, caps.text).toBe(200);
      const info = caps.body.parameters.find((x: { id: string }) => x.id === 'cell_ov_l2_mv');
      expect(info).toBeDefined();
      const before = await h.call('GET', `/api/v1/packs/${p}/parameters`, { token: tok['root'] });
      expect(before.status, before.text).toBe(200);
      const old = before.body.values['cell_ov_l2_mv'] as number;

      const bad = await h.call('PUT', `/api/v1/packs/${p}/parameters`, {
        token: tok['root'],
        body: { values: { cell_ov_l2_mv: info.max + 1000 } },
      });
      expect(bad.status, bad.text).toBe(422);
      expect(bad.body.code).toMatch(/^PARAM_/);
      expect(bad.body.error).toContain(info.label);
      expect(sims[0]!.packs[0]!.parameters()['cell_ov_l2_mv']).toBe(old);

      const want = old - 10 * (info.step ?? 1);
      const ok = await h.call('PUT', `/api/v1/packs/${p}/parameters`, {
        token: tok['root'],
        body: { values: { cell_ov_l2_mv: want } },
      });
      expect(ok.status, ok.text).toBe(200);
      expect(ok.body.results).toEqual([
        { id: 'cell_ov_l2_mv', old, requested: want, readback: want, ok: true },
      ]);
      expect(sims[0]!.packs[0]!.parameters()['cell_ov_l2_mv']).toBe(want);
      const audit = await h.call('GET', '/api/v1/audit', { token: tok['root'] });
      expect(audit.status, audit.text).toBe(200);
      expect(JSON.stringify(audit.body)).toContain(packOf(phones[0]!));

      const viewer = await h.call('PUT', `/api/v1/packs/${p}/parameters`, {
        token: tok['vera'],
        body: { values: { cell_ov_l2_mv: old } },
      });
      expect(viewer.status).toBe(403);
    });

    it('refuses the discharge MOSFET off while charge current flows (interlock)', async () => {
      const snap = await until(() => {
        const s = gw.pack(packOf(phones[0]!))?.snapshot;
        return s && (s.current_a ?? 0) > 0.5 ? s : undefined;
      }, 'a snapshot with charge current');
      expect(snap.current_a).toBeGreaterThan(0.5);
      const r = await h.call('POST', `/api/v1/packs/${P(phones[0]!)}/commands/mos`, {
        token: tok['root'],
        body: { which: 'discharge', on: false },
      });
      expect(r.status, r.text).toBe(409);
      expect(r.body.error).toMatch(/charge current flows/);
      expect(sims[0]!.packs[0]!.snapshot().discharge_mos).toBe(true);
    });

    it('raises comm_lost when the tracker leaves and polls again when it is back', async () => {
      const id = packOf(phones[0]!);
      trackers[0]!.close();
      const alarm = await until(
        () => gw.activeAlarms(id).find((a) => a.code === 'comm_lost'),
        'comm_lost',
      );
      expect(alarm.packId).toBe(id);
      expect(gw.pack(id)?.online).toBe(false);
      const back = tracker(0);
      await back.connect();
      await until(() => (gw.pack(id)?.online ? true : undefined), 'the pack online again');
      await until(
        () => (gw.activeAlarms(id).some((a) => a.code === 'comm_lost') ? undefined : true),
        'comm_lost cleared',
      );
    });

    it('opens the link only for an auth with the code the server handed out', async () => {
      const phone = String(base + 50);
      const term: jt808.Jt808Terminal = {
        protocol_version: '2013',
        phone: phone.padStart(12, '0'),
      };
      const socket = createConnection({ host: HOST, port: servers.ports.jt808! });
      await new Promise<void>((res, rej) => socket.once('connect', res).once('error', rej));
      const framer = jt808.createJt808Framer();
      const acks: jt808.Jt808Message[] = [];
      let wake: (() => void) | undefined;
      socket.on('data', (c: Buffer) => {
        for (const ev of framer.push(new Uint8Array(c)))
          if (ev.type === 'frame') acks.push(jt808.decodeJt808(ev.bytes));
        wake?.();
      });
      const ask = async (frame: Uint8Array): Promise<jt808.Jt808Message> => {
        const n = acks.length;
        socket.write(frame);
        while (acks.length === n) await new Promise<void>((r) => (wake = r));
        return acks[n]!;
      };
      try {
        expect(await ask(jt808.encodeAuth(term, 1, 'guessed-code'))).toMatchObject({
          msg_id: jt808.MSG.platform_response,
        });
        expect(virtualLinks.has(trackerEndpoint(phone))).toBe(false);
        const page = await storage.devices.list([platform.id], { q: phone, now: Date.now() });
        const d = page.devices.find((x) => x.serial === phone)!;
        await ask(jt808.encodeAuth(term, 2, d.id));
        expect(virtualLinks.has(trackerEndpoint(phone))).toBe(true);
      } finally {
        socket.destroy();
      }
    });

    it('distributes parameter values to 3 tracker packs with a result each; a viewer gets 403', async () => {
      for (const i of [1, 2]) {
        await tracker(i).connect();
        const page = await storage.devices.list([platform.id], { q: phones[i]!, now: Date.now() });
        const d = page.devices.find((x) => x.serial === phones[i]);
        await storage.devices.update([platform.id], d!.id, { activation: 'enabled' });
      }
      await bms.refresh();
      for (const ph of phones)
        await until(() => (gw.pack(packOf(ph))?.online ? true : undefined), `pack ${ph} online`);
      const pack_ids = phones.map(packOf);
      const before = sims.map((s) => s.packs[0]!.parameters()['cell_ov_l2_mv']);

      const viewer = await h.call('POST', '/api/v1/parameters/distribute', {
        token: tok['vera'],
        body: { pack_ids, values: { cell_ov_l2_mv: 3600 } },
      });
      expect(viewer.status).toBe(403);
      const unknown = await h.call('POST', '/api/v1/parameters/distribute', {
        token: tok['root'],
        body: { pack_ids: [...pack_ids, 'tracker/nobody'], values: { cell_ov_l2_mv: 3600 } },
      });
      expect(unknown.status, unknown.text).toBe(404);

      const bad = await h.call('POST', '/api/v1/parameters/distribute', {
        token: tok['root'],
        body: { pack_ids, values: { cell_ov_l2_mv: 99_999 } },
      });
      expect(bad.status, bad.text).toBe(200);
      expect(bad.body.results.map((r: { pack_id: string; status: string }) => r.pack_id)).toEqual(
        pack_ids,
      );
      for (const r of bad.body.results) {
        expect(r).toMatchObject({ status: 'refused', field: 'cell_ov_l2_mv' });
        expect(r.code).toMatch(/^PARAM_/);
      }
      expect(sims.map((s) => s.packs[0]!.parameters()['cell_ov_l2_mv'])).toEqual(before);

      const value = 3600;
      const r = await h.call('POST', '/api/v1/parameters/distribute', {
        token: tok['root'],
        body: { pack_ids, values: { cell_ov_l2_mv: value } },
      });
      expect(r.status, r.text).toBe(200);
      expect(r.body.results).toHaveLength(3);
      for (const [i, x] of r.body.results.entries()) {
        expect(x).toMatchObject({ pack_id: pack_ids[i], status: 'done' });
        expect(x.write.results[0]).toMatchObject({ requested: value, readback: value, ok: true });
      }
      expect(sims.map((s) => s.packs[0]!.parameters()['cell_ov_l2_mv'])).toEqual([
        value,
        value,
        value,
      ]);
    });

    it("serves a dealer its own tracker battery's BMS (device-linked pack); another dealer gets 404", async () => {
      const under = (name: string) =>
        storage.orgs.create([platform.id], {
          parentId: platform.id,
          kind: 'dealer',
          name,
          createdAt: T0,
        });
      const [mine, other] = [await under('Dealer M'), await under('Dealer O')];
      await account(mine, 'dan', 'operator');
      await account(mine, 'dora', 'viewer');
      await account(other, 'otto', 'admin');
      const phone = phones[1]!;
      const page = await storage.devices.list([platform.id], { q: phone, now: Date.now() });
      const d = page.devices.find((x) => x.serial === phone)!;
      await storage.devices.bind([platform.id], d.id, mine.id);
      const p = P(phone);

      // The pack is on the node's gateway (the platform's), found through the dealer's device.
      const live = await h.call('GET', `/api/v1/packs/${p}`, { token: tok['dan'] });
      expect(live.status, live.text).toBe(200);
      expect(live.body.snapshot.cell_mv).toHaveLength(16);
      const seen = await h.call('GET', `/api/v1/packs/${p}/parameters`, { token: tok['dora'] });
      expect(seen.status, seen.text).toBe(200);
      const old = seen.body.values['cell_ov_l2_mv'] as number;
      // Their organisation's roles decide: a viewer may not write, an operator may.
      const viewer = await h.call('PUT', `/api/v1/packs/${p}/parameters`, {
        token: tok['dora'],
        body: { values: { cell_ov_l2_mv: old - 10 } },
      });
      expect(viewer.status, viewer.text).toBe(403);
      const ok = await h.call('PUT', `/api/v1/packs/${p}/parameters`, {
        token: tok['dan'],
        body: { values: { cell_ov_l2_mv: old - 10 } },
      });
      expect(ok.status, ok.text).toBe(200);
      expect(sims[1]!.packs[0]!.parameters()['cell_ov_l2_mv']).toBe(old - 10);
      // Another dealer's battery does not exist for them; nor does a battery not bound to them.
      for (const path of [`/api/v1/packs/${p}`, `/api/v1/packs/${p}/parameters`]) {
        const r = await h.call('GET', path, { token: tok['otto'] });
        expect(r.status, r.text).toBe(404);
      }
      const unbound = await h.call('GET', `/api/v1/packs/${P(phones[2]!)}`, { token: tok['dan'] });
      expect(unbound.status, unbound.text).toBe(404);
      // Nor can another dealer's administrator make it theirs by registering a device linked
      // to that pack: only a tracker's own pack (tracker/<its serial>) is found through it.
      for (const type of ['bms', 'tracker']) {
        const grab = await h.call('POST', '/api/v1/devices', {
          token: tok['otto'],
          body: {
            serial: `GRAB-${type}`,
            type,
            gateway_id: origin.gatewayId,
            pack_id: packOf(phone),
          },
        });
        expect(grab.status, grab.text).toBe(201);
        expect((await h.call('GET', `/api/v1/packs/${p}`, { token: tok['otto'] })).status).toBe(
          404,
        );
      }
    });
  });
}
