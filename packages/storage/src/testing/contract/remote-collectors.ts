/**
 * Contract suite of the remote collector store (issue 15, storage remote-collectors.ts): a
 * first hello records an unclaimed collector, a hello with another code changes nothing, a
 * gateway id belongs to one serial; a claim needs the right code (a wrong one is NOT_FOUND
 * exactly like an unknown serial: no oracle), happens once (a second, or two at once: CONFLICT);
 * credentials are verified by hash, rotated (the old secret stops working) and dropped by a
 * revocation; lists follow the organisation tree; bad input is refused naming the field.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Org, OrgStore, RemoteCollectorStore } from '../../index.js';
import { expectCode } from './records.js';

type Stores = { remoteCollectors: RemoteCollectorStore; orgs: OrgStore; close(): unknown };
type Opener = () => Stores | Promise<Stores>;

const T0 = Date.UTC(2026, 11, 8, 2, 0, 0);
const S1 = 'OB0000000001';
const S2 = 'OB0000000002';
const S3 = 'OB0000000003';
const CODE = 'ABCD2345';
const OTHER_CODE = 'ABCD2346';
const GW1 = '01JE0000000000000000GW0001';
const GW2 = '01JE0000000000000000GW0002';
const GW3 = '01JE0000000000000000GW0003';
const PLANT = '01JE0000000000000000PLANT1';
const USER = '01JE0000000000000000USER01';
const SECRET = 'q'.repeat(43);
const SECRET2 = 'r'.repeat(43);

export function remoteCollectorContract(name: string, open: Opener): void {
  describe(`${name}: RemoteCollectorStore contract`, () => {
    let s: Stores;
    let rc: RemoteCollectorStore;
    let root: Org;
    let child: Org;
    let other: Org;
    beforeEach(async () => {
      s = await open();
      rc = s.remoteCollectors;
      root = await s.orgs.createRoot({ kind: 'platform', name: 'Root', createdAt: T0 });
      child = await s.orgs.create([root.id], {
        parentId: root.id,
        kind: 'customer',
        name: 'Child',
        createdAt: T0,
      });
      other = await s.orgs.createRoot({ kind: 'dealer', name: 'Other', createdAt: T0 });
    });
    afterEach(async () => {
      await s.close();
    });

    const hello = (serial = S1, claimCode = CODE, gatewayId = GW1, at = T0, version?: string) =>
      rc.hello({ serial, claimCode, gatewayId, at, ...(version ? { version } : {}) });
    const claim = (serial = S1, claimCode = CODE, orgId = child.id, at = T0 + 1000) =>
      rc.claim({ serial, claimCode, orgId, plantId: PLANT, by: USER, at });

    it('a first hello records an unclaimed collector; a later one moves lastSeenAt and version', async () => {
      const first = await hello(S1, CODE, GW1, T0, '1.0.0');
      expect(first).toEqual({
        codeMatches: true,
        collector: {
          serial: S1,
          gatewayId: GW1,
          state: 'unclaimed',
          version: '1.0.0',
          firstSeenAt: T0,
          lastSeenAt: T0,
        },
      });
      const again = await hello(S1, CODE, GW1, T0 + 30_000, '1.1.0');
      expect(again.codeMatches).toBe(true);
      expect(again.collector).toMatchObject({ firstSeenAt: T0, lastSeenAt: T0 + 30_000 });
      expect(again.collector.version).toBe('1.1.0');
      // no version named: the last one stays; an older time does not move lastSeenAt back
      const old = await hello(S1, CODE, GW1, T0 + 1);
      expect(old.collector).toMatchObject({ version: '1.1.0', lastSeenAt: T0 + 30_000 });
      expect(await rc.get(S1)).toEqual(old.collector);
      expect(await rc.byGateway(GW1)).toEqual(old.collector);
      expect(await rc.get(S2)).toBeUndefined();
      expect(await rc.byGateway(GW2)).toBeUndefined();
    });

    it('a hello with another claim code changes nothing', async () => {
      await hello(S1, CODE, GW1, T0, '1.0.0');
      const wrong = await hello(S1, OTHER_CODE, GW2, T0 + 5000, '6.6.6');
      expect(wrong.codeMatches).toBe(false);
      expect(wrong.collector).toMatchObject({ gatewayId: GW1, version: '1.0.0', lastSeenAt: T0 });
      expect(await rc.get(S1)).toMatchObject({ gatewayId: GW1, version: '1.0.0', lastSeenAt: T0 });
      expect(await rc.byGateway(GW2)).toBeUndefined();
    });

    it('a gateway id belongs to one serial; an unclaimed collector may move to a new one', async () => {
      await hello(S1, CODE, GW1);
      await expectCode(() => hello(S2, CODE, GW1), 'REQUEST_INVALID', 'gateway_id');
      expect(await rc.get(S2)).toBeUndefined();
      // S1 (unclaimed) says hello from a new gateway id: moved
      expect((await hello(S1, CODE, GW2)).collector.gatewayId).toBe(GW2);
      expect(await rc.byGateway(GW1)).toBeUndefined();
      await hello(S2, CODE, GW1);
      await expectCode(() => hello(S1, CODE, GW1), 'REQUEST_INVALID', 'gateway_id');
      // claimed: its gateway id is fixed
      await claim(S1);
      await expectCode(() => hello(S1, CODE, GW3), 'REQUEST_INVALID', 'gateway_id');
      expect((await rc.get(S1))!.gatewayId).toBe(GW2);
    });

    it('claims with the right code only; a wrong code is NOT_FOUND exactly like an unknown serial', async () => {
      await hello();
      const unknown = await caught(() => claim(S2));
      const wrong = await caught(() => claim(S1, OTHER_CODE));
      expect(unknown.code).toBe('NOT_FOUND');
      expect(wrong.code).toBe('NOT_FOUND');
      expect(wrong.details).toEqual(unknown.details);
      expect(wrong.message.replace(S1, 'X')).toBe(unknown.message.replace(S2, 'X'));
      expect((await rc.get(S1))!.state).toBe('unclaimed');

      const made = await claim();
      expect(made).toMatchObject({
        serial: S1,
        state: 'claimed',
        orgId: child.id,
        plantId: PLANT,
        claimedAt: T0 + 1000,
        claimedBy: USER,
      });
      expect(made.credentialsAt).toBeUndefined();
      expect(await rc.get(S1)).toEqual(made);
      // claimed: a second claim is CONFLICT, a wrong code still NOT_FOUND (no oracle)
      await expectCode(() => claim(S1, CODE, other.id), 'CONFLICT', 'serial');
      await expectCode(() => claim(S1, OTHER_CODE, other.id), 'NOT_FOUND', 'serial');
      expect((await rc.get(S1))!.orgId).toBe(child.id);
      // a hello of the claimed collector reports it claimed
      expect((await hello()).collector.state).toBe('claimed');
    });

    it('of two claims at once one wins, the other gets CONFLICT', async () => {
      await hello();
      const both = await Promise.allSettled([claim(S1, CODE, child.id), claim(S1, CODE, other.id)]);
      const won = both.filter((r) => r.status === 'fulfilled');
      const lost = both.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect((lost[0]!.reason as { code: string }).code).toBe('CONFLICT');
      const winner = (won[0] as PromiseFulfilledResult<{ orgId: string }>).value.orgId;
      expect((await rc.get(S1))!.orgId).toBe(winner);
    });

    it('verifies credentials by hash; new credentials end the old; revocation ends both', async () => {
      await hello();
      // unclaimed: no credentials
      await expectCode(() => rc.setCredentials(S1, SECRET, T0), 'CONFLICT', 'serial');
      await expectCode(() => rc.setCredentials(S2, SECRET, T0), 'NOT_FOUND', 'serial');
      await claim();
      expect(await rc.verify(S1, SECRET)).toBeUndefined();
      await rc.setCredentials(S1, SECRET, T0 + 2000);
      expect(await rc.verify(S1, SECRET)).toMatchObject({
        serial: S1,
        state: 'claimed',
        credentialsAt: T0 + 2000,
      });
      expect(await rc.verify(S1, SECRET2)).toBeUndefined();
      expect(await rc.verify(S1, `${SECRET}x`)).toBeUndefined();
      expect(await rc.verify(S2, SECRET)).toBeUndefined();
      // whatever a client sends: undefined, never an error
      for (const [k, x] of [
        ['ob0000000001', SECRET],
        ['', SECRET],
        [S1, ''],
        [S1, 'q'.repeat(10_000)],
        [42, SECRET],
        [S1, null],
      ] as const)
        expect(await rc.verify(k as string, x as string)).toBeUndefined();

      await rc.setCredentials(S1, SECRET2, T0 + 3000);
      expect(await rc.verify(S1, SECRET)).toBeUndefined();
      expect((await rc.verify(S1, SECRET2))!.credentialsAt).toBe(T0 + 3000);

      const gone = await rc.revoke(S1, USER, T0 + 4000);
      expect(gone).toMatchObject({ state: 'revoked', revokedAt: T0 + 4000, revokedBy: USER });
      expect(await rc.verify(S1, SECRET2)).toBeUndefined();
      await expectCode(() => rc.setCredentials(S1, SECRET, T0 + 5000), 'CONFLICT', 'serial');
      expect(await rc.verify(S1, SECRET)).toBeUndefined();
      // revoked already: unchanged; a claim is CONFLICT; its hello says revoked
      expect(await rc.revoke(S1, 'someone-else', T0 + 6000)).toEqual(gone);
      await expectCode(() => claim(S1, CODE, other.id), 'CONFLICT', 'serial');
      const h = await hello();
      expect(h).toMatchObject({ codeMatches: true, collector: { state: 'revoked' } });
      await expectCode(() => rc.revoke(S2, USER, T0), 'NOT_FOUND', 'serial');
    });

    it('lists claimed and revoked collectors by the organisation tree, by serial', async () => {
      await hello(S3, CODE, GW3);
      await hello(S2, CODE, GW2);
      await hello(S1, CODE, GW1);
      await claim(S2, CODE, child.id);
      await claim(S1, CODE, other.id);
      // S3 stays unclaimed: in no list
      const serials = (l: { serial: string }[]) => l.map((k) => k.serial);
      expect(serials(await rc.list())).toEqual([S1, S2]);
      expect(serials(await rc.list([root.id]))).toEqual([S2]);
      expect(serials(await rc.list([child.id]))).toEqual([S2]);
      expect(serials(await rc.list([other.id]))).toEqual([S1]);
      expect(serials(await rc.list([root.id, other.id]))).toEqual([S1, S2]);
      expect(await rc.list([])).toEqual([]);
      await rc.revoke(S2, USER, T0 + 9000);
      expect((await rc.list([root.id]))[0]).toMatchObject({ serial: S2, state: 'revoked' });
      await expectCode(
        () => rc.list(Array.from({ length: 1001 }, (_, i) => `org${i}`)),
        'REQUEST_INVALID',
        'within',
      );
    });

    it('seen moves lastSeenAt forward only', async () => {
      await hello();
      await rc.seen(S1, T0 + 60_000);
      expect((await rc.get(S1))!.lastSeenAt).toBe(T0 + 60_000);
      await rc.seen(S1, T0 + 1);
      expect((await rc.get(S1))!.lastSeenAt).toBe(T0 + 60_000);
      await rc.seen(S2, T0 + 60_000); // unknown: nothing
      expect(await rc.get(S2)).toBeUndefined();
    });

    it('refuses malformed input naming the field', async () => {
      await expectCode(() => hello('OB00000000I1'), 'REQUEST_INVALID', 'serial');
      await expectCode(() => hello('ob0000000001'), 'REQUEST_INVALID', 'serial');
      await expectCode(() => hello(S1, 'abcd2345'), 'REQUEST_INVALID', 'claimCode');
      await expectCode(() => hello(S1, 'ABCD-2345'), 'REQUEST_INVALID', 'claimCode');
      await expectCode(() => hello(S1, CODE, ''), 'REQUEST_INVALID', 'gatewayId');
      await expectCode(() => hello(S1, CODE, GW1, Number.NaN), 'REQUEST_INVALID', 'at');
      await expectCode(
        () =>
          rc.hello({
            serial: S1,
            claimCode: CODE,
            gatewayId: GW1,
            at: T0,
            version: 'x'.repeat(65),
          }),
        'REQUEST_INVALID',
        'version',
      );
      await hello();
      await expectCode(
        () =>
          rc.claim({ serial: S1, claimCode: CODE, orgId: '', plantId: PLANT, by: USER, at: T0 }),
        'REQUEST_INVALID',
        'orgId',
      );
      await claim();
      await expectCode(() => rc.setCredentials(S1, 'short', T0), 'REQUEST_INVALID', 'secret');
      await expectCode(() => rc.get('nope'), 'REQUEST_INVALID', 'serial');
      await expectCode(() => rc.revoke(S1, '', T0), 'REQUEST_INVALID', 'by');
      await expectCode(() => rc.seen(S1, Number.POSITIVE_INFINITY), 'REQUEST_INVALID', 'at');
      expect((await rc.get(S1))!.state).toBe('claimed');
    });
  });
}

async function caught(
  fn: () => Promise<unknown>,
): Promise<{ code: string; message: string; details?: unknown }> {
  try {
    await fn();
  } catch (e) {
    return e as { code: string; message: string; details?: unknown };
  }
  throw new Error('expected an error');
}
