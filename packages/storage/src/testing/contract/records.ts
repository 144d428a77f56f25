/**
 * Contract suites of the records stores (alarm events, audit log, users and tokens). Every
 * adapter's test calls them with an `open()` that gives fresh, empty stores and a `close`;
 * the in-memory stores of `../memory.ts` pass the same suites. Records are written for
 * TEST_ORIGIN and read in its local scope; the identity tests add a second gateway of the
 * same organisation and a gateway of another organisation.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  isId,
  localScope,
  type AlarmEvent,
  type AlarmStore,
  type AuditStore,
  type FoundToken,
  type NewAlarm,
  type NewAuditEntry,
  type Origin,
  type Role,
  type UserStore,
} from '../../index.js';
import { TEST_ORIGIN } from '../memory.js';

type Closer = { close(): unknown };
type Opener<T> = () => (T & Closer) | Promise<T & Closer>;

type Kind = 'session' | 'api';

/** The single box's own records. */
const O1 = TEST_ORIGIN;
const S1 = localScope(O1);
/** Another gateway of the same organisation, and a gateway of another organisation. */
const O2: Origin = { orgId: O1.orgId, gatewayId: '01JD000000000000000000GW02' };
const O3: Origin = { orgId: '01JD0000000000000000000RG2', gatewayId: '01JD000000000000000000GW03' };

/**
 * The UserStore with what the adapters add beyond the port: a `now` for findToken (the
 * gateway's clock) and purging expired tokens.
 */
export interface RecordsUserStore extends UserStore {
  findToken(hash: string, now?: number): Promise<FoundToken | undefined>;
  purgeExpiredTokens(now: number): Promise<number>;
}

/** Runs `fn` and expects a BmsError with `code` (and `details.field`, when given). */
export async function expectCode(fn: () => unknown, code: string, field?: string): Promise<void> {
  let caught: unknown;
  try {
    await fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected a ${code} error`).toBeInstanceOf(Error);
  const err = caught as { code?: string; message: string; details?: { field?: string } };
  expect(err.code, err.message).toBe(code);
  if (field !== undefined) {
    expect(err.details?.field).toBe(field);
    expect(err.message).toContain(field);
  }
}

/** Opens before each test, closes after; `get()` gives the open stores. */
function useStores<T>(open: Opener<T>): () => T {
  let current: (T & Closer) | undefined;
  beforeEach(async () => {
    current = await open();
  });
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
  return () => {
    if (!current) throw new Error('stores not open');
    return current;
  };
}

// ---------------------------------------------------------------- alarms

const T0 = Date.UTC(2025, 5, 1, 12);
const MIN = 60_000;

const ev = (over: Partial<NewAlarm> = {}): NewAlarm => ({
  packId: 'home/bus1/1',
  code: 'cell_ov',
  severity: 'protection',
  origin: 'bms',
  raisedAt: T0,
  message: 'Cell over-voltage',
  ...over,
});

export function alarmContract(name: string, open: Opener<{ alarms: AlarmStore }>): void {
  describe(`${name}: AlarmStore contract`, () => {
    const stores = useStores(open);
    const alarms = (): AlarmStore => stores().alarms;
    const raise = async (over: Partial<NewAlarm> = {}, o: Origin = O1): Promise<string> =>
      (await alarms().raise(o, ev(over))).id;

    it('stores a raised event with every field it was given, and nothing more', async () => {
      const a = alarms();
      const e1 = await a.raise(O1, ev({ level: 2, value: 3.65, message: 'cell 4 at 3.65 V' }));
      const e2 = await a.raise(
        O1,
        ev({
          code: 'soc_low',
          severity: 'warning',
          origin: 'rule',
          ruleId: 'r1',
          raisedAt: T0 + MIN,
        }),
      );
      expect(e2.id).not.toBe(e1.id);
      const [second, first] = await a.list(S1);
      const ids = { orgId: O1.orgId, gatewayId: O1.gatewayId };
      expect(first).toEqual({
        id: e1.id,
        localId: e1.localId,
        ...ids,
        packId: 'home/bus1/1',
        code: 'cell_ov',
        severity: 'protection',
        level: 2,
        origin: 'bms',
        raisedAt: T0,
        value: 3.65,
        message: 'cell 4 at 3.65 V',
      } satisfies AlarmEvent);
      expect(second).toEqual({
        id: e2.id,
        localId: e2.localId,
        ...ids,
        packId: 'home/bus1/1',
        code: 'soc_low',
        severity: 'warning',
        origin: 'rule',
        ruleId: 'r1',
        raisedAt: T0 + MIN,
        message: 'Cell over-voltage',
      } satisfies AlarmEvent);
      expect([first, second]).toEqual([e1, e2]); // raise returns the event as stored
    });

    it('lists newest first, filtered by pack, activity and an inclusive raise-time range, limited', async () => {
      const a = alarms();
      const ids: string[] = [];
      for (const i of [0, 1, 2, 3, 4])
        ids.push(await raise({ packId: i % 2 ? 'p/b/2' : 'p/b/1', raisedAt: T0 + i * MIN }));
      await a.clear(S1, ids[1]!, T0 + 10 * MIN);
      const listed = async (q: Parameters<AlarmStore['list']>[1]) =>
        (await a.list(S1, q)).map((e) => e.id);
      expect(await listed({})).toEqual([...ids].reverse());
      expect(await listed({ packId: 'p/b/2' })).toEqual([ids[3], ids[1]]);
      expect(await listed({ active: true })).toEqual([ids[4], ids[3], ids[2], ids[0]]);
      expect(await listed({ active: false })).toEqual([ids[1]]);
      expect(await listed({ from: T0 + MIN, to: T0 + 3 * MIN })).toEqual([ids[3], ids[2], ids[1]]);
      expect(await listed({ limit: 2 })).toEqual([ids[4], ids[3]]);
      expect(await a.list(S1, { limit: 0 })).toEqual([]);
      expect(await listed({ packId: 'p/b/1', active: true, from: T0 + 2 * MIN, limit: 1 })).toEqual(
        [ids[4]],
      );
      expect(await a.list(S1, { packId: 'nobody' })).toEqual([]);
    });

    it('lists by pack-id prefix, by code, and without the codes a user turned off', async () => {
      const a = alarms();
      const t1 = await raise({ packId: 'tracker/861', code: 'vibration', raisedAt: T0 + MIN });
      const t2 = await raise({ packId: 'tracker/862', code: 'power_cut', raisedAt: T0 + 2 * MIN });
      const b = await raise({ packId: 'tracker_x/1/1', code: 'vibration', raisedAt: T0 + 3 * MIN });
      const listed = async (q: Parameters<AlarmStore['list']>[1]) =>
        (await a.list(S1, q)).map((e) => e.id);
      expect(await listed({ packPrefix: 'tracker/' })).toEqual([t2, t1]);
      expect(await listed({ code: 'vibration' })).toEqual([b, t1]);
      expect(await listed({ packPrefix: 'tracker/', notCodes: ['vibration'] })).toEqual([t2]);
      expect(await listed({ notCodes: ['vibration', 'power_cut'] })).toEqual([]);
      expect(await listed({ notCodes: [] })).toEqual([b, t2, t1]);
    });

    it('orders events raised at the same instant by id, newest first', async () => {
      const a = alarms();
      const x = await raise();
      const y = await raise({ code: 'pack_ov' });
      expect((await a.list(S1)).map((e) => e.id)).toEqual([y, x]);
    });

    it('clears once: a second clear keeps the first time; an unknown id is NOT_FOUND', async () => {
      const a = alarms();
      const id = await raise();
      await a.clear(S1, id, T0 + MIN);
      await a.clear(S1, id, T0 + 2 * MIN);
      expect((await a.list(S1))[0]?.clearedAt).toBe(T0 + MIN);
      await expectCode(() => a.clear(S1, '01JD00000000000000000NOPE0', T0), 'NOT_FOUND');
    });

    it('acknowledges once: false for an unknown id or an event already acknowledged', async () => {
      const a = alarms();
      const id = await raise();
      await a.clear(S1, id, T0 + MIN);
      expect(await a.acknowledge(S1, id, 'alice', T0 + 2 * MIN)).toBe(true);
      expect(await a.acknowledge(S1, id, 'bob', T0 + 3 * MIN)).toBe(false);
      expect(await a.acknowledge(S1, '01JD00000000000000000NOPE0', 'bob', T0)).toBe(false);
      const [e] = await a.list(S1);
      expect(e).toMatchObject({
        acknowledgedAt: T0 + 2 * MIN,
        acknowledgedBy: 'alice',
        clearedAt: T0 + MIN,
      });
    });

    it('counts protection events per code (level >= 2, protection or fault; cleared ones too), per pack', async () => {
      const a = alarms();
      await raise({ code: 'cell_ov', severity: 'protection' });
      await a.clear(
        S1,
        await raise({ code: 'cell_ov', severity: 'protection', level: 2 }),
        T0 + MIN,
      );
      await raise({ code: 'cell_ov', severity: 'warning', level: 1 });
      await raise({ code: 'chg_oc', severity: 'warning', level: 3, packId: 'p/b/2' });
      await raise({ code: 'afe_fault', severity: 'fault', level: 1, packId: 'p/b/2' });
      await raise({ code: 'soc_low', severity: 'warning', origin: 'rule' });
      expect(await a.counts(S1)).toEqual({ afe_fault: 1, cell_ov: 2, chg_oc: 1 });
      expect(await a.counts(S1, 'p/b/2')).toEqual({ afe_fault: 1, chg_oc: 1 });
      expect(await a.counts(S1, 'nobody')).toEqual({});
    });

    it('refuses malformed events with REQUEST_INVALID naming the field, and stores nothing', async () => {
      const a = alarms();
      await expectCode(() => raise({ severity: 'bad' as never }), 'REQUEST_INVALID', 'severity');
      await expectCode(() => raise({ origin: 'user' as never }), 'REQUEST_INVALID', 'origin');
      await expectCode(() => raise({ packId: '' }), 'REQUEST_INVALID', 'packId');
      await expectCode(() => raise({ code: undefined as never }), 'REQUEST_INVALID', 'code');
      await expectCode(() => raise({ raisedAt: Number.NaN }), 'REQUEST_INVALID', 'raisedAt');
      await expectCode(() => raise({ level: 1.5 }), 'REQUEST_INVALID', 'level');
      await expectCode(() => a.list(S1, { limit: -1 }), 'REQUEST_INVALID', 'limit');
      await expectCode(
        () => a.list(S1, { from: Number.POSITIVE_INFINITY }),
        'REQUEST_INVALID',
        'from',
      );
      expect(await a.list(S1)).toEqual([]);
    });

    it('drops a non-finite measured value instead of losing the event', async () => {
      const a = alarms();
      await raise({ value: Number.NaN });
      const [e] = await a.list(S1);
      expect(e?.code).toBe('cell_ov');
      expect(e && 'value' in e).toBe(false);
    });

    it('hands out copies: changing a listed event changes nothing stored', async () => {
      const a = alarms();
      await raise();
      const [e] = await a.list(S1);
      if (e) e.code = 'changed';
      expect((await a.list(S1))[0]?.code).toBe('cell_ov');
    });

    it('gives every event a ULID and a local number unique within its gateway', async () => {
      const a = alarms();
      const made = [
        await a.raise(O1, ev()),
        await a.raise(O1, ev({ code: 'pack_ov' })),
        await a.raise(O2, ev()),
        await a.raise(O3, ev()),
      ];
      for (const e of made) expect(isId(e.id), e.id).toBe(true);
      expect(new Set(made.map((e) => e.id)).size).toBe(made.length);
      const o1 = made.slice(0, 2).map((e) => e.localId);
      expect(o1[0]).not.toBe(o1[1]);
      for (const n of made.map((e) => e.localId)) expect(Number.isInteger(n) && n > 0).toBe(true);
      expect(made.map((e) => [e.orgId, e.gatewayId])).toEqual([
        [O1.orgId, O1.gatewayId],
        [O1.orgId, O1.gatewayId],
        [O2.orgId, O2.gatewayId],
        [O3.orgId, O3.gatewayId],
      ]);
      // Found again by either id.
      expect(await a.get(S1, { id: made[1]!.id })).toEqual(made[1]);
      expect(await a.get(S1, { localId: made[1]!.localId })).toEqual(made[1]);
      expect(await a.get(S1, { id: made[3]!.id })).toBeUndefined(); // another organisation
    });

    it('sees only the events of its scope: lists, counts, clears and acknowledgements', async () => {
      const a = alarms();
      const mine = await raise({ packId: 'p/b/1' });
      const sibling = await raise({ packId: 'p/b/1' }, O2);
      const foreign = await raise({ packId: 'p/b/1' }, O3);
      const ids = async (s: Parameters<AlarmStore['list']>[0]) =>
        (await a.list(s)).map((e) => e.id).sort();
      expect(await ids(S1)).toEqual([mine]);
      expect(await ids({ orgIds: [O1.orgId] })).toEqual([mine, sibling].sort());
      expect(await ids({ orgIds: [O1.orgId, O3.orgId] })).toEqual([mine, sibling, foreign].sort());
      expect(await ids({ orgIds: [O3.orgId], gatewayId: O1.gatewayId })).toEqual([]);
      expect(await a.counts(S1)).toEqual({ cell_ov: 1 });
      expect(await a.counts({ orgIds: [O1.orgId] }, 'p/b/1')).toEqual({ cell_ov: 2 });
      // Out of scope: as if it did not exist.
      await expectCode(() => a.clear(S1, foreign, T0 + MIN), 'NOT_FOUND');
      expect(await a.acknowledge(S1, sibling, 'ann', T0 + MIN)).toBe(false);
      expect((await a.list(localScope(O2)))[0]).not.toHaveProperty('acknowledgedAt');
      expect((await a.list(localScope(O3)))[0]).not.toHaveProperty('clearedAt');
    });

    it('refuses a malformed scope or origin with REQUEST_INVALID naming the field', async () => {
      const a = alarms();
      await expectCode(() => a.list({ orgIds: [] }), 'REQUEST_INVALID', 'scope.orgIds');
      await expectCode(() => a.list(undefined as never), 'REQUEST_INVALID', 'scope');
      await expectCode(
        () => a.raise({ orgId: O1.orgId } as Origin, ev()),
        'REQUEST_INVALID',
        'origin.gatewayId',
      );
      await expectCode(
        () => a.get({ orgIds: [O1.orgId] }, { localId: 1 }),
        'REQUEST_INVALID',
        'scope.gatewayId',
      );
      expect(await a.list(S1)).toEqual([]);
    });
  });
}

// ---------------------------------------------------------------- audit

const entry = (over: Partial<NewAuditEntry> = {}): NewAuditEntry => ({
  at: T0,
  user: 'alice',
  action: 'parameter.write',
  result: 'ok',
  ...over,
});

export function auditContract(name: string, open: Opener<{ audit: AuditStore }>): void {
  describe(`${name}: AuditStore contract`, () => {
    const stores = useStores(open);
    const audit = (): AuditStore => stores().audit;
    const append = async (over: Partial<NewAuditEntry> = {}, o: Origin = O1): Promise<string> =>
      (await audit().append(o, entry(over))).id;
    const ids = { orgId: O1.orgId, gatewayId: O1.gatewayId };

    it('keeps old and new values as JSON, and absent fields absent', async () => {
      const a = audit();
      const old = { id: 'cell_ov_l1', value: 3.6, unit: 'V', nested: [1, null, { ok: true }] };
      const e1 = await a.append(
        O1,
        entry({ packId: 'p/b/1', old, new: 3.55, detail: 'read back 3.55' }),
      );
      const e2 = await a.append(O1, entry({ at: T0 + 1, action: 'login', old: null, new: 'text' }));
      const e3 = await a.append(O1, entry({ at: T0 + 2, action: 'user.add', result: 'refused' }));
      const listed = await a.list(S1);
      expect(listed).toEqual([
        {
          id: e3.id,
          localId: e3.localId,
          ...ids,
          at: T0 + 2,
          user: 'alice',
          action: 'user.add',
          result: 'refused',
        },
        {
          id: e2.id,
          localId: e2.localId,
          ...ids,
          at: T0 + 1,
          user: 'alice',
          action: 'login',
          result: 'ok',
          old: null,
          new: 'text',
        },
        {
          id: e1.id,
          localId: e1.localId,
          ...ids,
          at: T0,
          user: 'alice',
          packId: 'p/b/1',
          action: 'parameter.write',
          result: 'ok',
          old,
          new: 3.55,
          detail: 'read back 3.55',
        },
      ]);
      expect(listed).toEqual([e3, e2, e1]);
    });

    it("keeps the acting principal's user id beside the name, absent when none acted", async () => {
      const a = audit();
      const userId = '01JD000000000000000000USER';
      const by = await a.append(O1, entry({ userId, action: 'mos.charge' }));
      const anon = await a.append(O1, entry({ at: T0 + 1, user: 'mqtt', action: 'soc.set' }));
      expect(by.userId).toBe(userId);
      expect('userId' in anon).toBe(false);
      const listed = await a.list(S1);
      expect(listed.find((e) => e.id === by.id)).toMatchObject({ user: 'alice', userId });
      expect(listed.find((e) => e.id === anon.id)).not.toHaveProperty('userId');
      await expectCode(() => append({ userId: '' }), 'REQUEST_INVALID', 'userId');
    });

    it('lists newest first (ties by id), filtered by pack and user, limited', async () => {
      const a = audit();
      const made = [
        await append({ at: T0, packId: 'p/b/1' }),
        await append({ at: T0 + 5, user: 'bob', packId: 'p/b/2' }),
        await append({ at: T0 + 5, packId: 'p/b/2' }),
        await append({ at: T0 + 9, user: 'bob' }),
      ];
      const listed = async (q: Parameters<AuditStore['list']>[1]) =>
        (await a.list(S1, q)).map((e) => e.id);
      expect(await listed({})).toEqual([made[3], made[2], made[1], made[0]]);
      expect(await listed({ packId: 'p/b/2' })).toEqual([made[2], made[1]]);
      expect(await listed({ user: 'bob' })).toEqual([made[3], made[1]]);
      expect(await listed({ user: 'bob', packId: 'p/b/2' })).toEqual([made[1]]);
      expect(await listed({ limit: 1 })).toEqual([made[3]]);
    });

    it('refuses what cannot be stored with REQUEST_INVALID naming the field', async () => {
      const a = audit();
      const circular: Record<string, unknown> = {};
      circular.self = circular;
      await expectCode(() => append({ result: 'maybe' as never }), 'REQUEST_INVALID', 'result');
      await expectCode(() => append({ old: 10n }), 'REQUEST_INVALID', 'old');
      await expectCode(() => append({ new: circular }), 'REQUEST_INVALID', 'new');
      await expectCode(() => append({ new: () => 1 }), 'REQUEST_INVALID', 'new');
      await expectCode(() => append({ user: '' }), 'REQUEST_INVALID', 'user');
      await expectCode(() => append({ at: Number.NaN }), 'REQUEST_INVALID', 'at');
      expect(await a.list(S1)).toEqual([]);
    });

    it('gives entries ULIDs and local numbers, and lists only those of the scope', async () => {
      const a = audit();
      const e1 = await a.append(O1, entry());
      const e2 = await a.append(O2, entry());
      const e3 = await a.append(O3, entry());
      for (const e of [e1, e2, e3]) expect(isId(e.id)).toBe(true);
      expect(new Set([e1.id, e2.id, e3.id]).size).toBe(3);
      expect((await a.list(S1)).map((e) => e.id)).toEqual([e1.id]);
      expect((await a.list({ orgIds: [O1.orgId] })).map((e) => e.id).sort()).toEqual(
        [e1.id, e2.id].sort(),
      );
      expect((await a.list(localScope(O3))).map((e) => e.id)).toEqual([e3.id]);
    });
  });
}

// ---------------------------------------------------------------- users and tokens

const user = (
  username: string,
  role: Role = 'viewer',
  createdAt = T0,
): { username: string; role: Role; createdAt: number } => ({
  username,
  role,
  createdAt,
});

export function userContract(name: string, open: Opener<{ users: RecordsUserStore }>): void {
  describe(`${name}: UserStore contract`, () => {
    const stores = useStores(open);
    const users = (): RecordsUserStore => stores().users;
    const create = (u: ReturnType<typeof user>, hash: string, o: Origin = O1) =>
      users().create(o, u, hash);
    const token = (t: Parameters<UserStore['createToken']>[1]) => users().createToken(S1, t);
    const names = (list: { username: string }[]) => list.map((u) => u.username);

    it('creates, reads, lists and counts users', async () => {
      const u = users();
      expect(await u.count(S1)).toBe(0);
      expect(await u.get(S1, 'admin')).toBeUndefined();
      const admin = await create(user('admin', 'admin', T0), 'scrypt$hash1');
      const op = await create(user('op', 'operator', T0 + 1), 'scrypt$hash2');
      const ids = { orgId: O1.orgId, gatewayId: O1.gatewayId };
      expect(admin).toEqual({ id: admin.id, ...ids, ...user('admin', 'admin', T0) });
      expect(await u.count(S1)).toBe(2);
      expect(await u.get(S1, 'admin')).toEqual({
        id: admin.id,
        ...ids,
        username: 'admin',
        role: 'admin',
        createdAt: T0,
        passwordHash: 'scrypt$hash1',
      });
      expect(await u.list(S1)).toEqual([admin, op]);
      expect(names(await u.list(S1))).toEqual(['admin', 'op']);
    });

    it('refuses a duplicate name, also in another letter case, with REQUEST_INVALID; lookups ignore case', async () => {
      const u = users();
      await create(user('Alice'), 'h');
      await expectCode(() => create(user('Alice', 'admin'), 'h2'), 'REQUEST_INVALID', 'username');
      await expectCode(() => create(user('alice', 'admin'), 'h2'), 'REQUEST_INVALID', 'username');
      expect(await u.count(S1)).toBe(1);
      expect(await u.get(S1, 'ALICE')).toMatchObject({
        username: 'Alice',
        role: 'viewer',
        passwordHash: 'h',
      });
    });

    it('refuses malformed users with REQUEST_INVALID naming the field', async () => {
      const u = users();
      await expectCode(() => create(user(''), 'h'), 'REQUEST_INVALID', 'username');
      await expectCode(() => create(user(' bob'), 'h'), 'REQUEST_INVALID', 'username');
      await expectCode(() => create(user('bo\nb'), 'h'), 'REQUEST_INVALID', 'username');
      await expectCode(() => create(user('x'.repeat(65)), 'h'), 'REQUEST_INVALID', 'username');
      await expectCode(() => create(user('bob', 'root' as Role), 'h'), 'REQUEST_INVALID', 'role');
      await expectCode(() => create(user('bob'), ''), 'REQUEST_INVALID', 'passwordHash');
      expect(await u.count(S1)).toBe(0);
    });

    it('changes password and role; an unknown user is NOT_FOUND', async () => {
      const u = users();
      await create(user('bob'), 'old');
      await u.setPassword(S1, 'bob', 'new');
      await u.setRole(S1, 'BOB', 'operator');
      expect(await u.get(S1, 'bob')).toMatchObject({ role: 'operator', passwordHash: 'new' });
      await expectCode(() => u.setPassword(S1, 'carol', 'x'), 'NOT_FOUND');
      await expectCode(() => u.setRole(S1, 'carol', 'admin'), 'NOT_FOUND');
      await expectCode(() => u.setRole(S1, 'bob', 'god' as Role), 'REQUEST_INVALID', 'role');
      await expectCode(() => u.delete(S1, 'carol'), 'NOT_FOUND');
    });

    it('finds tokens by hash until they expire (now is injectable); deletes them', async () => {
      const u = users();
      const bob = await create(user('bob'), 'h');
      await token({
        hash: 's1',
        username: 'bob',
        kind: 'session',
        createdAt: T0,
        expiresAt: T0 + MIN,
      });
      await token({ hash: 'a1', username: 'BOB', kind: 'api', name: 'grafana', createdAt: T0 });
      const who = { userId: bob.id, orgId: O1.orgId, username: 'bob' };
      expect(await u.findToken('s1', T0)).toEqual({
        ...who,
        kind: 'session',
        expiresAt: T0 + MIN,
      });
      expect(await u.findToken('s1', T0 + MIN - 1)).toBeDefined();
      expect(await u.findToken('s1', T0 + MIN)).toBeUndefined();
      expect(await u.findToken('a1', T0 + 1e12)).toEqual({ ...who, kind: 'api' });
      expect(await u.findToken('nope', T0)).toBeUndefined();
      expect(await u.findToken('', T0)).toBeUndefined();
      await u.deleteToken('a1');
      await u.deleteToken('a1');
      expect(await u.findToken('a1', T0)).toBeUndefined();
    });

    it('ignores tokens that expired before the wall clock when no now is given', async () => {
      const u = users();
      await create(user('bob'), 'h');
      const now = Date.now();
      await token({
        hash: 'old',
        username: 'bob',
        kind: 'session',
        createdAt: now - 2 * MIN,
        expiresAt: now - MIN,
      });
      await token({
        hash: 'new',
        username: 'bob',
        kind: 'session',
        createdAt: now,
        expiresAt: now + 3_600_000,
      });
      expect(await u.findToken('old')).toBeUndefined();
      expect((await u.findToken('new'))?.username).toBe('bob');
    });

    it('refuses tokens of unknown users (NOT_FOUND), stored twice or malformed (REQUEST_INVALID)', async () => {
      const u = users();
      await create(user('bob'), 'h');
      await expectCode(
        () => token({ hash: 'x', username: 'carol', kind: 'api', createdAt: T0 }),
        'NOT_FOUND',
      );
      await token({ hash: 'x', username: 'bob', kind: 'api', createdAt: T0 });
      await expectCode(
        () => token({ hash: 'x', username: 'bob', kind: 'api', createdAt: T0 }),
        'REQUEST_INVALID',
        'hash',
      );
      await expectCode(
        () => token({ hash: 'y', username: 'bob', kind: 'cookie' as Kind, createdAt: T0 }),
        'REQUEST_INVALID',
        'kind',
      );
      await expectCode(
        () =>
          token({
            hash: 'y',
            username: 'bob',
            kind: 'api',
            createdAt: T0,
            expiresAt: Number.NaN,
          }),
        'REQUEST_INVALID',
        'expiresAt',
      );
      expect((await u.listTokens(S1, 'bob')).map((t) => t.hash)).toEqual(['x']);
    });

    it("deleting a user deletes the user's tokens", async () => {
      const u = users();
      await create(user('bob'), 'h');
      await create(user('eve'), 'h');
      await token({ hash: 'b', username: 'bob', kind: 'session', createdAt: T0 });
      await token({ hash: 'e', username: 'eve', kind: 'session', createdAt: T0 });
      await u.delete(S1, 'Bob');
      expect(await u.get(S1, 'bob')).toBeUndefined();
      expect(await u.findToken('b', T0)).toBeUndefined();
      expect((await u.findToken('e', T0))?.username).toBe('eve');
      expect(await u.count(S1)).toBe(1);
      // The name is free again, and old tokens do not come back with it.
      await create(user('bob'), 'h');
      expect(await u.listTokens(S1, 'bob')).toEqual([]);
    });

    it("lists a user's tokens, deletes them by kind and purges expired ones", async () => {
      const u = users();
      await create(user('bob'), 'h');
      await token({
        hash: 's1',
        username: 'bob',
        kind: 'session',
        createdAt: T0,
        expiresAt: T0 + MIN,
      });
      await token({
        hash: 's2',
        username: 'bob',
        kind: 'session',
        createdAt: T0 + 1,
        expiresAt: T0 + 10 * MIN,
      });
      await token({
        hash: 'a1',
        username: 'bob',
        kind: 'api',
        name: 'grafana',
        createdAt: T0 + 2,
      });
      expect(await u.listTokens(S1, 'BOB')).toEqual([
        { hash: 's1', username: 'bob', kind: 'session', createdAt: T0, expiresAt: T0 + MIN },
        {
          hash: 's2',
          username: 'bob',
          kind: 'session',
          createdAt: T0 + 1,
          expiresAt: T0 + 10 * MIN,
        },
        { hash: 'a1', username: 'bob', kind: 'api', name: 'grafana', createdAt: T0 + 2 },
      ]);
      expect(await u.purgeExpiredTokens(T0 + MIN)).toBe(1);
      expect(await u.deleteUserTokens(S1, 'bob', { kind: 'session' })).toEqual(['s2']);
      expect((await u.listTokens(S1, 'bob')).map((t) => t.hash)).toEqual(['a1']);
      expect(await u.deleteUserTokens(S1, 'bob')).toEqual(['a1']);
      expect(await u.listTokens(S1, 'bob')).toEqual([]);
    });

    it("ends a user's other sessions: deletes all but the one in use, of a kind or all, and says which", async () => {
      const u = users();
      await create(user('bob'), 'h');
      await create(user('eve'), 'h');
      const t = (hash: string, username: string, kind: Kind, at: number) =>
        token({ hash, username, kind, createdAt: T0 + at });
      await t('s1', 'bob', 'session', 1);
      await t('s2', 'bob', 'session', 2);
      await t('s3', 'bob', 'session', 3);
      await t('a1', 'bob', 'api', 4);
      await t('e1', 'eve', 'session', 5);
      // A password change from session s2: the other sessions end, API tokens stay.
      expect(
        (await u.deleteUserTokens(S1, 'BOB', { kind: 'session', except: 's2' })).sort(),
      ).toEqual(['s1', 's3']);
      expect((await u.listTokens(S1, 'bob')).map((x) => x.hash)).toEqual(['s2', 'a1']);
      // An admin reset: everything of bob's goes, whatever its kind.
      expect((await u.deleteUserTokens(S1, 'bob', { except: 'not-a-token' })).sort()).toEqual([
        'a1',
        's2',
      ]);
      expect(await u.listTokens(S1, 'bob')).toEqual([]);
      expect((await u.findToken('e1', T0))?.username).toBe('eve');
      expect(await u.deleteUserTokens(S1, 'bob')).toEqual([]);
      expect(await u.deleteUserTokens(S1, 'nobody')).toEqual([]);
    });

    it('refuses a malformed token filter with REQUEST_INVALID naming the field, deleting nothing', async () => {
      const u = users();
      await create(user('bob'), 'h');
      await token({ hash: 's1', username: 'bob', kind: 'session', createdAt: T0 });
      await expectCode(
        () => u.deleteUserTokens(S1, 'bob', { kind: 'cookie' as Kind }),
        'REQUEST_INVALID',
        'kind',
      );
      await expectCode(
        () => u.deleteUserTokens(S1, 'bob', { except: '' }),
        'REQUEST_INVALID',
        'except',
      );
      await expectCode(
        () => u.deleteUserTokens(S1, 'bob', { kinds: 'api' } as never),
        'REQUEST_INVALID',
        'filter.kinds',
      );
      expect((await u.listTokens(S1, 'bob')).map((t) => t.hash)).toEqual(['s1']);
    });

    it('gives users ULIDs; names are unique within an organisation, not across organisations', async () => {
      const u = users();
      const a1 = await create(user('ann', 'admin'), 'h1');
      const a2 = await create(user('ANN', 'viewer'), 'h2', O3); // another organisation
      await expectCode(() => create(user('Ann'), 'h3', O2), 'REQUEST_INVALID', 'username');
      expect(isId(a1.id) && isId(a2.id) && a1.id !== a2.id).toBe(true);
      expect((await u.get(S1, 'ann'))?.passwordHash).toBe('h1');
      expect((await u.get(localScope(O3), 'ann'))?.passwordHash).toBe('h2');
      expect(names(await u.list(S1))).toEqual(['ann']);
      expect(await u.count(localScope(O3))).toBe(1);
      expect(await u.count({ orgIds: [O1.orgId, O3.orgId] })).toBe(2);
      // A token says whose it is, organisation included.
      await u.createToken(localScope(O3), {
        hash: 't3',
        username: 'ann',
        kind: 'api',
        createdAt: T0,
      });
      expect(await u.findToken('t3', T0)).toEqual({
        userId: a2.id,
        orgId: O3.orgId,
        username: 'ANN',
        kind: 'api',
      });
      // Deleting one organisation's ann leaves the other's.
      await u.delete(localScope(O3), 'ann');
      expect(await u.findToken('t3', T0)).toBeUndefined();
      expect((await u.get(S1, 'ann'))?.id).toBe(a1.id);
    });

    it('refuses a lookup by name whose scope does not name exactly one organisation', async () => {
      const u = users();
      await create(user('ann'), 'h');
      const two = { orgIds: [O1.orgId, O3.orgId] };
      await expectCode(() => u.get(two, 'ann'), 'REQUEST_INVALID', 'scope.orgIds');
      await expectCode(() => u.setRole(two, 'ann', 'admin'), 'REQUEST_INVALID', 'scope.orgIds');
      expect((await u.get(S1, 'ann'))?.role).toBe('viewer');
    });
  });
}
