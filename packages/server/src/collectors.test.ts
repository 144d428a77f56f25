/**
 * Remote collectors' hello, claim, list and revocation (routes/collectors.ts, docs/collectors.md
 * "Linking a collector to a cloud") on the real server over a real SQLite store and a real
 * PostgreSQL database (`collsrv_…`, dropped afterwards). The uplink is a small `UplinkPort`
 * object: a fixed broker URL, who is online, and the calls it got.
 *
 * The fleet: platform → maker → dealers A and B, customer cA under A with plant "Roof". alice
 * is A's manager, abe a general user (viewer) of A, bert B's manager. Proven: hello → 202
 * unclaimed → alice claims (code as typed, serial in lower case) → the plant's collector, a
 * `collector` device, an audit entry, the uplink told → hello gets credentials the store
 * verifies, and the next hello's replace them; a wrong code (hello 403, claim 404 like an
 * unknown serial); a second claim 409; bert gets 404 for the plant and for the collector; abe
 * 403; revoke → hello 403 `revoked`, credentials refused, the uplink told; malformed bodies
 * name the field; hellos are rate-limited per IP; no password or claim code in the server log;
 * without an uplink a hello is 503.
 */
import { randomInt } from 'node:crypto';
import { type Org, newId } from '@openbms/storage';
import { TEST_ORIGIN } from '@openbms/storage/testing';
import { CLAIM_CODE_PATTERN, SERIAL_PATTERN } from '@openbms/contract/gateway';
import { collectorClaimBody, collectorHelloBody } from '@openbms/contract/api';
import { remoteCollectorChecks } from '@openbms/storage';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { hashPassword } from './passwords.js';
import { startHarness, TEST_COST, type Harness } from './testing/harness.js';
import { storeAdapters, type Store } from './testing/adapters.js';
import type { UplinkPort } from './uplink.js';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const random = (n: number) =>
  Array.from({ length: n }, () => CROCKFORD[randomInt(CROCKFORD.length)]).join('');
const newSerial = () => `OB${random(10)}`;
const newCode = () => random(8);
const BROKER = 'mqtts://broker.test:8883';

/** A small real UplinkPort: a fixed URL, an online set, the calls it got. */
function uplinkStandIn() {
  const calls: string[] = [];
  const online = new Set<string>();
  const port: UplinkPort = {
    brokerUrl: () => BROKER,
    online: (serial) => online.has(serial),
    claimed: async (serial) => void calls.push(`claimed ${serial}`),
    revoked: async (serial) => void calls.push(`revoked ${serial}`),
  };
  return { port, calls, online };
}

it('the storage checks, the uplink contract and the API schemas agree on serials and codes', () => {
  expect(remoteCollectorChecks.SERIAL_PATTERN.source).toBe(SERIAL_PATTERN.source);
  expect(remoteCollectorChecks.CLAIM_CODE_PATTERN.source).toBe(CLAIM_CODE_PATTERN.source);
  expect(collectorHelloBody.properties.serial.pattern).toBe(SERIAL_PATTERN.source);
  expect(collectorHelloBody.properties.claim_code.pattern).toBe(CLAIM_CODE_PATTERN.source);
  expect(collectorClaimBody.properties.serial.minLength).toBe(12);
});

for (const [adapter, openStore] of storeAdapters('collsrv')) {
  describe(`remote collectors (${adapter})`, () => {
    let storage: Store;
    let done: () => Promise<void>;
    let h: Harness;
    const T0 = Date.UTC(2030, 0, 1);
    let f: Record<'dA' | 'dB' | 'cA', Org>;
    let plant: string;
    const tok: Record<string, string> = {};
    const log: string[] = [];
    const up = uplinkStandIn();

    const post = (who: string | undefined, path: string, body: unknown = {}) =>
      h.call('POST', path, { ...(who ? { token: tok[who] } : {}), body });
    const get = (who: string, path: string) => h.call('GET', path, { token: tok[who] });
    const hello = (serial: string, claim_code: string, gateway_id: string, version = '1.2.3') =>
      post(undefined, '/api/v1/collectors/hello', { serial, claim_code, gateway_id, version });
    const claim = (who: string, serial: string, claim_code: string, plant_id = plant) =>
      post(who, '/api/v1/collectors/claim', { serial, claim_code, plant_id });
    /** A collector that said hello, unclaimed. */
    const fresh = async () => {
      const k = { serial: newSerial(), code: newCode(), gw: newId() };
      const r = await hello(k.serial, k.code, k.gw);
      expect(r.status, r.text).toBe(202);
      return k;
    };

    async function account(org: Org, username: string, role: 'admin' | 'viewer') {
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

    beforeAll(async () => {
      ({ storage, done } = await openStore());
      const o = storage.orgs;
      const platform = await o.createRoot({ kind: 'platform', name: 'Platform', createdAt: T0 });
      const under = (p: Org, kind: Org['kind'], name: string) =>
        o.create([p.id], { parentId: p.id, kind, name, createdAt: T0 });
      const maker = await under(platform, 'battery_maker', 'Maker');
      const dA = await under(maker, 'dealer', 'Dealer A');
      const dB = await under(maker, 'dealer', 'Dealer B');
      const cA = await under(dA, 'customer', 'Customer A');
      f = { dA, dB, cA };
      h = await startHarness({
        storage,
        identity: TEST_ORIGIN,
        captcha: { mode: 'off' },
        uplink: up.port,
        collectorLimits: { helloLimit: { max: 40, windowMs: 60_000 } },
        logger: { level: 'trace', stream: { write: (l: string) => void log.push(l) } },
      });
      await account(dA, 'alice', 'admin');
      await account(dA, 'abe', 'viewer');
      await account(dB, 'bert', 'admin');
      const p = await post('alice', '/api/v1/plants', {
        org_id: cA.id,
        name: 'Roof',
        business_type: 'residential',
        plant_type: 'pv_storage',
        time_zone: 'UTC',
      });
      expect(p.status, p.text).toBe(201);
      plant = p.body.id;
    });

    // Each test starts with fresh rate-limit windows.
    beforeEach(() => h.clock.advance(16 * 60_000));

    afterAll(async () => {
      await h?.close();
      await storage?.close();
      await done?.();
    });

    it('hello → claim → hello gets credentials the store verifies; the next hello replaces them', async () => {
      const k = await fresh();
      // as people type it: lower case serial, dashed lower-case code with O for 0 and L for 1
      const typed = `${k.code.slice(0, 4)}-${k.code.slice(4)}`
        .toLowerCase()
        .replace(/0/g, 'o')
        .replace(/1/g, 'l');
      const c = await claim('alice', k.serial.toLowerCase(), typed);
      expect(c.status, c.text).toBe(201);
      expect(c.body).toEqual({
        serial: k.serial,
        gateway_id: k.gw,
        state: 'claimed',
        org_id: f.cA.id,
        plant_id: plant,
        version: '1.2.3',
        first_seen_at: expect.any(Number),
        last_seen_at: expect.any(Number),
        claimed_at: h.clock.now(),
        online: false,
      });
      expect(up.calls).toContain(`claimed ${k.serial}`);

      // the plant's collector, the device list, the audit log
      const ks = await get('alice', `/api/v1/plants/${plant}/collectors`);
      expect(ks.body.map((x: { gateway_id: string }) => x.gateway_id)).toContain(k.gw);
      const devs = await get('alice', `/api/v1/devices?q=${k.serial}`);
      expect(devs.body.devices).toMatchObject([
        { serial: k.serial, type: 'collector', org_id: f.cA.id },
      ]);
      const audit = await storage.audit.list({ orgIds: [f.cA.id] });
      const entry = audit.find((e) => e.action === 'collector.claim');
      expect(entry).toMatchObject({ user: 'alice', new: { serial: k.serial, plant_id: plant } });
      expect(JSON.stringify(audit)).not.toContain(k.code);

      const first = await hello(k.serial, k.code, k.gw, '1.2.4');
      expect(first.status, first.text).toBe(200);
      expect(first.headers.get('cache-control')).toBe('no-store');
      expect(first.body).toEqual({
        status: 'claimed',
        org_id: f.cA.id,
        plant_id: plant,
        broker: { url: BROKER },
        username: k.serial,
        password: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      });
      const rc = storage.remoteCollectors;
      expect(await rc.verify(k.serial, first.body.password)).toMatchObject({
        serial: k.serial,
        state: 'claimed',
        version: '1.2.4',
      });
      const second = await hello(k.serial, k.code, k.gw);
      expect(second.status).toBe(200);
      expect(second.body.password).not.toBe(first.body.password);
      expect(await rc.verify(k.serial, first.body.password)).toBeUndefined();
      expect(await rc.verify(k.serial, second.body.password)).toBeDefined();

      // seen by A's members, online as the uplink says
      up.online.add(k.serial);
      const one = await get('abe', `/api/v1/collectors/${k.serial}`);
      expect(one.status, one.text).toBe(200);
      expect(one.body).toMatchObject({ serial: k.serial, online: true, version: '1.2.3' });
      const list = await get('abe', `/api/v1/collectors?plant_id=${plant}`);
      expect(list.body.map((x: { serial: string }) => x.serial)).toContain(k.serial);
      expect((await get('abe', '/api/v1/collectors?plant_id=nope')).body).toEqual([]);

      // the passwords and the claim code never reach the log
      const text = log.join('\n');
      expect(text).toContain('/api/v1/collectors/hello');
      for (const secret of [first.body.password, second.body.password, k.code, typed])
        expect(text).not.toContain(secret);
    });

    it('a wrong code: hello 403, claim 404 exactly like an unknown serial; a second claim 409', async () => {
      const k = await fresh();
      const other = newCode();
      const h403 = await hello(k.serial, other, k.gw);
      expect(h403.status).toBe(403);
      expect(h403.body.code).toBe('FORBIDDEN');
      expect(h403.body.status).toBeUndefined();
      const wrong = await claim('alice', k.serial, other);
      const unknown = await claim('alice', newSerial(), other);
      expect(wrong.status, wrong.text).toBe(404);
      expect(unknown.status).toBe(404);
      expect({ ...wrong.body, error: undefined }).toEqual({ ...unknown.body, error: undefined });
      expect(wrong.body.field).toBe('serial');
      expect((await hello(k.serial, k.code, k.gw)).status).toBe(202);

      expect((await claim('alice', k.serial, k.code)).status).toBe(201);
      const again = await claim('alice', k.serial, k.code);
      expect(again.status, again.text).toBe(409);
      expect(again.body.code).toBe('CONFLICT');
      // a gateway id another serial has: 400 naming it
      const taken = await hello(newSerial(), newCode(), k.gw);
      expect(taken.status, taken.text).toBe(400);
      expect(taken.body.field).toBe('gateway_id');
    });

    it('another organisation’s admin: 404 for the plant and the collector; a viewer 403', async () => {
      const k = await fresh();
      const bert = await claim('bert', k.serial, k.code);
      expect(bert.status, bert.text).toBe(404);
      expect(bert.body.field).toBe('plant_id');
      const abe = await claim('abe', k.serial, k.code);
      expect(abe.status, abe.text).toBe(403);
      expect((await storage.remoteCollectors.get(k.serial))!.state).toBe('unclaimed');

      expect((await claim('alice', k.serial, k.code)).status).toBe(201);
      expect((await get('bert', `/api/v1/collectors/${k.serial}`)).status).toBe(404);
      const bertList = await get('bert', '/api/v1/collectors');
      expect(bertList.status).toBe(200);
      expect(bertList.text).not.toContain(k.serial);
      const bertRevoke = await post('bert', `/api/v1/collectors/${k.serial}/revoke`);
      expect(bertRevoke.status).toBe(404);
      // exactly as an unknown one
      const none = await post('bert', `/api/v1/collectors/${newSerial()}/revoke`);
      expect({ ...bertRevoke.body, error: undefined }).toEqual({ ...none.body, error: undefined });
      expect((await post('abe', `/api/v1/collectors/${k.serial}/revoke`)).status).toBe(403);
      expect((await storage.remoteCollectors.get(k.serial))!.state).toBe('claimed');
      expect(up.calls).not.toContain(`revoked ${k.serial}`);
    });

    it('revoke: the hello answers 403 revoked, the credentials stop working, the uplink is told', async () => {
      const k = await fresh();
      expect((await claim('alice', k.serial, k.code)).status).toBe(201);
      const creds = await hello(k.serial, k.code, k.gw);
      expect(creds.status).toBe(200);
      const r = await post('alice', `/api/v1/collectors/${k.serial.toLowerCase()}/revoke`);
      expect(r.status, r.text).toBe(200);
      expect(r.body).toMatchObject({
        serial: k.serial,
        state: 'revoked',
        revoked_at: h.clock.now(),
      });
      expect(up.calls).toContain(`revoked ${k.serial}`);
      expect(await storage.remoteCollectors.verify(k.serial, creds.body.password)).toBeUndefined();
      const after = await hello(k.serial, k.code, k.gw);
      expect(after.status).toBe(403);
      expect(after.body).toMatchObject({ code: 'FORBIDDEN', status: 'revoked' });
      expect(after.body.password).toBeUndefined();
      const audit = await storage.audit.list({ orgIds: [f.cA.id] });
      expect(audit.find((e) => e.action === 'collector.revoke')).toMatchObject({ user: 'alice' });
      // still listed, as revoked
      const one = await get('alice', `/api/v1/collectors/${k.serial}`);
      expect(one.body.state).toBe('revoked');
    });

    it('refuses malformed bodies naming the field', async () => {
      const bad = async (path: string, body: unknown, field: RegExp, who?: string) => {
        const r = await post(who, path, body);
        expect(r.status, `${JSON.stringify(body)}: ${r.text}`).toBe(400);
        expect(r.body.field).toMatch(field);
      };
      const hp = '/api/v1/collectors/hello';
      const ok = { serial: newSerial(), claim_code: newCode(), gateway_id: newId() };
      await bad(hp, { ...ok, serial: 'OB123' }, /^serial$/);
      await bad(hp, { ...ok, serial: ok.serial.toLowerCase() }, /^serial$/);
      await bad(hp, { ...ok, claim_code: 'ABCD-1234' }, /^claim_code$/);
      await bad(hp, { ...ok, gateway_id: '' }, /^gateway_id$/);
      await bad(hp, { ...ok, gateway_id: 'a b' }, /^gateway_id$/);
      await bad(hp, { ...ok, version: 'x'.repeat(65) }, /^version$/);
      await bad(hp, { ...ok, extra: 1 }, /^extra$/);
      await bad(hp, { serial: ok.serial, gateway_id: ok.gateway_id }, /^claim_code$/);
      const cp = '/api/v1/collectors/claim';
      const c = { serial: ok.serial, claim_code: ok.claim_code, plant_id: plant };
      await bad(cp, { ...c, serial: 'OB12345678U1' }, /^serial$/, 'alice');
      await bad(cp, { ...c, serial: 'short' }, /^serial$/, 'alice');
      await bad(cp, { ...c, claim_code: 'ABCD-U234' }, /^claim_code$/, 'alice');
      await bad(cp, { ...c, plant_id: '' }, /^plant_id$/, 'alice');
      await bad(cp, { serial: c.serial, claim_code: c.claim_code }, /^plant_id$/, 'alice');
      expect(await storage.remoteCollectors.get(ok.serial)).toBeUndefined();
    });

    it('hellos are rate-limited per IP; wrong codes much sooner', async () => {
      const k = await fresh();
      let refused = 0;
      for (let i = 0; i < 12 && refused === 0; i++) {
        const r = await hello(k.serial, newCode(), k.gw);
        if (r.status === 429) refused = i;
        else expect(r.status).toBe(403);
      }
      expect(refused).toBe(10);
      const r = await hello(k.serial, k.code, k.gw);
      expect(r.status).toBe(429);
      expect(r.body.retry_after_s).toBeGreaterThan(0);
      h.clock.advance(15 * 60_000);
      expect((await hello(k.serial, k.code, k.gw)).status).toBe(202);
      // every hello counts (40 a minute here)
      let n = 1;
      while ((await hello(k.serial, k.code, k.gw)).status === 202) n++;
      expect(n).toBe(40);
    });

    it('without an uplink this server takes no collectors: 503', async () => {
      const bare = await startHarness({ storage, identity: TEST_ORIGIN, captcha: { mode: 'off' } });
      try {
        const r = await bare.call('POST', '/api/v1/collectors/hello', {
          body: { serial: newSerial(), claim_code: newCode(), gateway_id: newId() },
        });
        expect(r.status, r.text).toBe(503);
        expect(r.body).toMatchObject({
          code: 'UPLINK_UNAVAILABLE',
          error: 'this server takes no collectors',
        });
      } finally {
        await bare.close();
      }
    });
  });
}
