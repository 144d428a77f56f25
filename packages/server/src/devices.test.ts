/**
 * The device list, bind, unbind with approval, import and export (docs/fleet.md "Devices") on
 * the real server over a real SQLite store and a real PostgreSQL database (`devsrv_…`,
 * dropped afterwards).
 *
 * The fleet: platform → maker → dealers A and B; customers cA1 and cA2 under A, cB under B.
 * alice is A's manager, anna an administrator of A, abe a general user of A, bert B's
 * manager, carl cA1's manager. Proven: the list's tabs, counts, search and pages; run status
 * from the box gateway's online pack; a sibling dealer gets 404 for A's devices on every
 * route; bind; unbind → pending → rejected (unchanged) / approved (moved to the approver's
 * organisation); nobody decides their own request; imports refused naming row and column;
 * CSV and XLSX exports that read back; every step audited.
 */
import { type Org, type User } from '@openbms/storage';
import { TEST_ORIGIN } from '@openbms/storage/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvRecords, xlsxRecords } from './device-files.js';
import { hashPassword } from './passwords.js';
import { startHarness, TEST_COST, type Harness } from './testing/harness.js';
import { storeAdapters, type Store } from './testing/adapters.js';

const ADAPTERS = storeAdapters('devsrv');

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

for (const [adapter, openStore] of ADAPTERS) {
  describe(`devices and approvals (${adapter})`, () => {
    let storage: Store;
    let done: () => Promise<void>;
    let h: Harness;
    const T0 = Date.UTC(2030, 0, 1);
    let f: Record<'platform' | 'maker' | 'dA' | 'dB' | 'cA1' | 'cA2' | 'cB', Org>;
    const users: Record<string, User> = {};
    const tok: Record<string, string> = {};
    let made = 0;

    const get = (who: string, path: string) => h.call('GET', path, { token: tok[who] });
    const post = (who: string, path: string, body: unknown = {}) =>
      h.call('POST', path, { token: tok[who], body });
    const patch = (who: string, path: string, body: unknown) =>
      h.call('PATCH', path, { token: tok[who], body });
    const upload = async (who: string, body: string | Uint8Array, type: string, query = '') => {
      const r = await fetch(`${h.url}/api/v1/devices/import${query}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tok[who]}`, 'content-type': type },
        body,
      });
      return { status: r.status, body: (await r.json()) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
    };
    const serials = (r: { body: { devices: { serial: string }[] } }) =>
      r.body.devices.map((d) => d.serial);

    async function account(org: Org, username: string, role: User['role']): Promise<void> {
      const hash = await hashPassword(`${username}-password`, TEST_COST);
      users[username] = await storage.users.create(
        { orgId: org.id, gatewayId: TEST_ORIGIN.gatewayId },
        { username, role, createdAt: T0 + made++ },
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
      const cA1 = await under(dA, 'customer', 'Customer A1');
      const cA2 = await under(dA, 'customer', 'Customer A2');
      const cB = await under(dB, 'customer', 'Customer B');
      f = { platform, maker, dA, dB, cA1, cA2, cB };
      h = await startHarness({ storage, identity: TEST_ORIGIN, captcha: { mode: 'off' } });
      await account(dA, 'alice', 'admin');
      await account(dA, 'anna', 'admin');
      await account(dA, 'abe', 'viewer');
      await account(dB, 'bert', 'admin');
      await account(cA1, 'carl', 'admin');
    });

    afterAll(async () => {
      await h?.close();
      await storage?.close();
      await done?.();
    });

    const register = (who: string, body: Record<string, unknown>) =>
      post(who, '/api/v1/devices', { type: 'bms', ...body });

    it('registers devices for managers and administrators only; bodies are strict', async () => {
      const r = await register('alice', {
        serial: 'F05E58383436190',
        nickname: 'Roof',
        barcode: '039394B4C',
        model: 'MPPT-001',
        manufacturer: 'HYDX',
        produced_on: '2021-01-18',
        org_id: f.dA.id,
        gateway_id: TEST_ORIGIN.gatewayId,
        pack_id: 'home/bus1/1',
      });
      expect(r.status, r.text).toBe(201);
      expect(r.body).toMatchObject({
        serial: 'F05E58383436190',
        org_id: f.dA.id,
        org_name: 'Dealer A',
        org_code: f.dA.code,
        created_by: 'alice',
        activation: 'enabled',
        expired: false,
      });
      const again = await register('anna', { serial: 'f05e58383436190' });
      expect(again.status).toBe(400);
      expect(again.body.field).toBe('serial');
      const extra = await register('alice', { serial: 'X1', colour: 'red' });
      expect(extra.status).toBe(400);
      expect(extra.body.field).toBe('colour');
      const wrongType = await register('alice', { serial: 'X1', expires_at: '2031-01-01' });
      expect(wrongType.status).toBe(400);
      expect(wrongType.body.field).toBe('expires_at');
      expect((await register('abe', { serial: 'X2' })).status).toBe(403);
      // B's manager cannot put a device into A's organisation: it does not exist for him.
      const b = await register('bert', { serial: 'X3', org_id: f.dA.id });
      expect(b.status).toBe(404);
      expect(b.body.field).toBe('org_id');
    });

    it('lists by tab with counts, searches by serial, bar code or nickname, and pages', async () => {
      const now = h.clock.now();
      for (let i = 0; i < 12; i++) {
        const r = await register('alice', {
          serial: `SN${String(i).padStart(3, '0')}`,
          barcode: `BC${i}`,
          org_id: i % 2 ? f.cA1.id : f.cA2.id,
          ...(i % 4 === 0 ? { activation: 'not_enabled' } : {}),
          ...(i % 3 === 0 ? { expires_at: now - 1 } : {}),
          ...(i === 5 ? { nickname: 'Garage' } : {}),
        });
        expect(r.status, r.text).toBe(201);
      }
      const all = await get('alice', '/api/v1/devices?limit=5');
      expect(all.status, all.text).toBe(200);
      // The box gateway reports home/bus1/1 online: the device linked to it is online.
      expect(all.body.counts).toEqual({
        all: 13,
        online: 1,
        offline: 12,
        expired: 4,
        expiring: 0,
        not_enabled: 3,
      });
      expect(serials(all)).toEqual(['SN011', 'SN010', 'SN009', 'SN008', 'SN007']);
      const next = await get('alice', `/api/v1/devices?limit=5&cursor=${all.body.next}`);
      expect(serials(next)).toEqual(['SN006', 'SN005', 'SN004', 'SN003', 'SN002']);
      const online = await get('alice', '/api/v1/devices?status=online');
      expect(online.body.devices.map((d: { serial: string; online: boolean }) => d)).toMatchObject([
        { serial: 'F05E58383436190', online: true },
      ]);
      expect(serials(await get('alice', '/api/v1/devices?status=expired'))).toEqual([
        'SN009',
        'SN006',
        'SN003',
        'SN000',
      ]);
      expect(serials(await get('alice', '/api/v1/devices?status=not_enabled'))).toEqual([
        'SN008',
        'SN004',
        'SN000',
      ]);
      expect(serials(await get('alice', '/api/v1/devices?q=sn01'))).toEqual(['SN011', 'SN010']);
      expect(serials(await get('alice', '/api/v1/devices?q=bc1'))).toEqual([
        'SN011',
        'SN010',
        'SN001',
      ]);
      expect(serials(await get('alice', '/api/v1/devices?q=GAR'))).toEqual(['SN005']);
      const cA1 = await get('alice', `/api/v1/devices?org=${f.cA1.id}&status=expired`);
      expect(serials(cA1)).toEqual(['SN009', 'SN003']);
      expect(cA1.body.counts.all).toBe(6);
      // Each row says whose it is, so the web folds lower levels under them.
      expect(cA1.body.devices[0]).toMatchObject({ org_name: 'Customer A1', org_code: f.cA1.code });
      expect((await get('alice', '/api/v1/devices?status=sleepy')).body.field).toBe('status');
      expect((await get('alice', '/api/v1/devices?limit=501')).status).toBe(400);
      // The customer's manager sees his customer's devices only.
      expect((await get('carl', '/api/v1/devices')).body.counts.all).toBe(6);
    });

    it("a sibling dealer gets 404 for A's devices on every route", async () => {
      const id = (await get('alice', '/api/v1/devices?q=SN001')).body.devices[0].id as string;
      const b = await get('bert', '/api/v1/devices');
      expect(b.status).toBe(200);
      expect(b.body.devices).toEqual([]);
      expect(b.body.counts.all).toBe(0);
      expect((await get('bert', `/api/v1/devices?org=${f.dA.id}`)).status).toBe(404);
      expect((await get('bert', `/api/v1/devices/${id}`)).status).toBe(404);
      expect((await patch('bert', `/api/v1/devices/${id}`, { nickname: 'x' })).status).toBe(404);
      expect((await post('bert', `/api/v1/devices/${id}/bind`, { org_id: f.dB.id })).status).toBe(
        404,
      );
      expect((await post('bert', `/api/v1/devices/${id}/unbind`)).status).toBe(404);
      expect((await get('bert', '/api/v1/devices/export.csv')).text.trim().split('\r\n')).toEqual([
        expect.stringMatching(/^serial,/),
      ]);
      // A viewer of A sees it but changes nothing.
      expect((await get('abe', `/api/v1/devices/${id}`)).status).toBe(200);
      expect((await patch('abe', `/api/v1/devices/${id}`, { nickname: 'x' })).status).toBe(403);
    });

    it('the routes are in the OpenAPI document', async () => {
      const doc = await h.call('GET', '/api/docs/openapi.json');
      expect(doc.status).toBe(200);
      for (const path of [
        '/api/v1/devices',
        '/api/v1/devices/{id}',
        '/api/v1/devices/{id}/bind',
        '/api/v1/devices/{id}/unbind',
        '/api/v1/devices/import',
        '/api/v1/devices/export.csv',
        '/api/v1/devices/export.xlsx',
        '/api/v1/approvals',
        '/api/v1/approvals/{id}/approve',
        '/api/v1/approvals/{id}/reject',
      ])
        expect(Object.keys(doc.body.paths)).toContain(path);
    });

    it('changes nickname, activation and expiry (admin rank)', async () => {
      const id = (await get('alice', '/api/v1/devices?q=SN002')).body.devices[0].id as string;
      const r = await patch('anna', `/api/v1/devices/${id}`, {
        nickname: 'Shed',
        activation: 'not_enabled',
        expires_at: null,
      });
      expect(r.status, r.text).toBe(200);
      expect(r.body).toMatchObject({ nickname: 'Shed', activation: 'not_enabled' });
      expect((await patch('anna', `/api/v1/devices/${id}`, {})).status).toBe(400);
      expect((await patch('anna', `/api/v1/devices/${id}`, { serial: 'Z' })).body.field).toBe(
        'serial',
      );
    });

    it('binds to an organisation of the subtree; unbind waits for the upper level', async () => {
      const id = (await get('alice', '/api/v1/devices?q=SN002')).body.devices[0].id as string;
      const bound = await post('alice', `/api/v1/devices/${id}/bind`, { org_id: f.cA1.id });
      expect(bound.status, bound.text).toBe(200);
      expect(bound.body.org_id).toBe(f.cA1.id);
      const outside = await post('alice', `/api/v1/devices/${id}/bind`, { org_id: f.cB.id });
      expect(outside.status).toBe(404);
      expect(outside.body.field).toBe('org_id');
      expect((await get('carl', `/api/v1/devices/${id}`)).body.org_id).toBe(f.cA1.id);

      // carl (cA1's manager) asks; the upper level (Dealer A) decides.
      const ask = await post('carl', `/api/v1/devices/${id}/unbind`, { reason: 'sold' });
      expect(ask.status, ask.text).toBe(201);
      expect(ask.body).toMatchObject({
        state: 'pending',
        from_org: f.cA1.id,
        to_org: f.dA.id,
        requested_by: 'carl',
        reason: 'sold',
        can_decide: false,
        mine: true,
      });
      const approval = ask.body.id as string;
      expect((await post('carl', `/api/v1/devices/${id}/unbind`)).body.field).toBe('id');
      // The requester cannot decide; the device stays bound while pending.
      expect((await post('carl', `/api/v1/approvals/${approval}/approve`)).status).toBe(403);
      expect((await get('carl', `/api/v1/devices/${id}`)).body.org_id).toBe(f.cA1.id);
      // The sibling dealer sees nothing of it.
      expect((await get('bert', '/api/v1/approvals')).body).toEqual([]);
      expect((await post('bert', `/api/v1/approvals/${approval}/approve`)).status).toBe(404);
      // Dealer A's inbox.
      const inbox = await get('alice', '/api/v1/approvals?state=pending');
      expect(inbox.body).toMatchObject([{ id: approval, can_decide: true, mine: false }]);
      expect((await get('carl', '/api/v1/approvals')).body).toMatchObject([{ id: approval }]);
      // Rejected: unchanged.
      const no = await post('alice', `/api/v1/approvals/${approval}/reject`, { reason: 'unpaid' });
      expect(no.status, no.text).toBe(200);
      expect(no.body).toMatchObject({ state: 'rejected', decided_by: 'alice' });
      expect((await get('carl', `/api/v1/devices/${id}`)).body.org_id).toBe(f.cA1.id);
      expect((await post('alice', `/api/v1/approvals/${approval}/approve`)).body.field).toBe('id');

      // Asked again and approved: moved up to Dealer A, out of carl's sight.
      const again = await post('carl', `/api/v1/devices/${id}/unbind`);
      const yes = await post('anna', `/api/v1/approvals/${again.body.id}/approve`);
      expect(yes.status, yes.text).toBe(200);
      expect(yes.body).toMatchObject({ state: 'approved', to_org: f.dA.id, decided_by: 'anna' });
      expect((await get('alice', `/api/v1/devices/${id}`)).body.org_id).toBe(f.dA.id);
      expect((await get('carl', `/api/v1/devices/${id}`)).status).toBe(404);

      // Alice asks to unbind one of cA2's: she may decide over A, but not her own request.
      const other = (await get('alice', '/api/v1/devices?q=SN000')).body.devices[0].id as string;
      const mine = await post('alice', `/api/v1/devices/${other}/unbind`);
      expect(mine.status, mine.text).toBe(201);
      expect(mine.body.can_decide).toBe(false);
      expect((await post('alice', `/api/v1/approvals/${mine.body.id}/approve`)).status).toBe(403);
      expect((await post('abe', `/api/v1/approvals/${mine.body.id}/approve`)).status).toBe(403);
      expect((await post('anna', `/api/v1/approvals/${mine.body.id}/approve`)).status).toBe(200);

      // Every step audited, with actor, device and organisations.
      const audit = await storage.audit.list({ orgIds: [f.cA1.id, f.cA2.id, f.dA.id] });
      const actions = audit.map((e) => `${e.user}:${e.action}`);
      for (const a of [
        'alice:device.bind',
        'carl:device.unbind.request',
        'alice:approval.reject',
        'anna:approval.approve',
        'alice:device.unbind.request',
      ])
        expect(actions).toContain(a);
      const approve = audit.find((e) => e.action === 'approval.approve' && e.user === 'anna')!;
      expect(approve.new).toMatchObject({ device: expect.any(String), to_org: f.dA.id });
    });

    it('imports all rows or none, naming row and column', async () => {
      const csv = (lines: string[]) => `${lines.join('\n')}\n`;
      const unknown = await upload('alice', csv(['serial,type,colour', 'I1,bms,red']), 'text/csv');
      expect(unknown.status).toBe(400);
      expect(unknown.body).toMatchObject({ field: 'colour' });
      expect(unknown.body.error).toMatch(/row 1, column C/);
      const badType = await upload(
        'alice',
        csv(['serial,type', 'I1,bms', 'I2,bms', 'I3,toaster']),
        'text/csv',
      );
      expect(badType.status).toBe(400);
      expect(badType.body.field).toBe('type');
      expect(badType.body.error).toMatch(/^row 4, column type/);
      const badDate = await upload(
        'alice',
        csv(['serial,type,produced_on', 'I1,bms,2021-02-30x']),
        'text/csv',
      );
      expect(badDate.body.error).toMatch(/^row 2, column produced_on/);
      const dup = await upload('alice', csv(['serial,type', 'I1,bms', 'SN001,bms']), 'text/csv');
      expect(dup.status).toBe(400);
      expect(dup.body.error).toMatch(/^row 3, column serial/);
      const foreign = await upload(
        'alice',
        csv(['serial,type,org_code', `I1,bms,${f.cB.code}`]),
        'text/csv',
      );
      expect(foreign.body.error).toMatch(/^row 2, column org_code/);
      expect((await get('alice', '/api/v1/devices?q=I')).body.devices).toEqual([]);
      expect((await upload('abe', csv(['serial,type', 'I1,bms']), 'text/csv')).status).toBe(403);
      const big = await upload('alice', 'x'.repeat(2 * 1024 * 1024 + 1), 'text/csv');
      expect(big.status).toBe(413);
    });

    it('exports CSV and XLSX that read back and import as they are', async () => {
      const lines = [
        'serial,type,nickname,barcode,model,produced_on,activation,expires_at,org_code',
        `RT1,bms,"Roof, east",B1,M-1,2022-03-04,enabled,2031-01-01T00:00:00.000Z,${f.cA1.code}`,
        `RT2,collector,=SUM(A1),B2,M-2,,not_enabled,,${f.cA2.code}`,
      ];
      const imp = await upload('alice', `${lines.join('\r\n')}\r\n`, 'text/csv');
      expect(imp.status, JSON.stringify(imp.body)).toBe(201);
      expect(imp.body).toEqual({ imported: 2 });
      const out = await get('alice', '/api/v1/devices/export.csv?q=rt');
      expect(out.status).toBe(200);
      expect(out.headers.get('content-type')).toMatch(/^text\/csv/);
      const records = csvRecords(out.text);
      const head = records[0]!;
      const rows = records.slice(1).map((r) => Object.fromEntries(head.map((h, i) => [h, r[i]])));
      expect(rows).toMatchObject([
        {
          serial: 'RT2',
          type: 'collector',
          nickname: "'=SUM(A1)",
          activation: 'not_enabled',
          org_code: f.cA2.code,
          org_name: 'Customer A2',
          created_by: 'alice',
        },
        {
          serial: 'RT1',
          nickname: 'Roof, east',
          barcode: 'B1',
          model: 'M-1',
          produced_on: '2022-03-04',
          expires_at: '2031-01-01T00:00:00.000Z',
          org_code: f.cA1.code,
        },
      ]);
      const x = await fetch(`${h.url}/api/v1/devices/export.xlsx?q=rt`, {
        headers: { authorization: `Bearer ${tok['alice']}` },
      });
      expect(x.headers.get('content-type')).toBe(XLSX);
      const book = new Uint8Array(await x.arrayBuffer());
      // The same cells; the workbook's are text, so no formula guard (the CSV's ') is needed.
      expect(xlsxRecords(book)).toEqual(
        records.map((r) => r.map((c) => c.replace(/^'(?=[=+\-@])/, ''))).map(trimEmpty),
      );
      // The exported workbook imports as it is: refused only because the serials are taken.
      const back = await upload('alice', book, XLSX);
      expect(back.status).toBe(400);
      expect(back.body.error).toMatch(/^row 2, column serial/);
      // ...and the CSV too.
      const backCsv = await upload('alice', out.text, 'text/csv');
      expect(backCsv.body.error).toMatch(/^row 2, column serial/);
      const audit = await storage.audit.list({ orgIds: [f.dA.id] });
      expect(audit.map((e) => e.action)).toEqual(
        expect.arrayContaining(['device.import', 'device.export']),
      );
    });
  });
}

/** A sheet row has no cells after its last value; a CSV record has empty fields there. */
function trimEmpty(r: string[]): string[] {
  const out = [...r];
  while (out.length > 0 && out.at(-1) === '') out.pop();
  return out;
}
