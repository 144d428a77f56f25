/**
 * Contract suites of the records stores (alarm events, audit log, users and tokens). Every
 * adapter's test calls them with an `open()` that gives fresh, empty stores and a `close`;
 * the in-memory stores of `../memory.ts` pass the same suites.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AlarmEvent, AlarmStore, AuditStore, Role, UserStore } from '../../index.js';

type Closer = { close(): unknown };
type Opener<T> = () => (T & Closer) | Promise<T & Closer>;

type Kind = 'session' | 'api';

/**
 * The UserStore with what the adapters add beyond the port: a `now` for findToken (the
 * gateway's clock) and purging expired tokens.
 */
export interface RecordsUserStore extends UserStore {
  findToken(
    hash: string,
    now?: number,
  ): { username: string; kind: Kind; expiresAt?: number } | undefined;
  purgeExpiredTokens(now: number): number;
}

/** Runs `fn` and expects a BmsError with `code` (and `details.field`, when given). */
export function expectCode(fn: () => unknown, code: string, field?: string): void {
  let caught: unknown;
  try {
    fn();
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

type Raise = Parameters<AlarmStore['raise']>[0];
const ev = (over: Partial<Raise> = {}): Raise => ({
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

    it('stores a raised event with every field it was given, and nothing more', () => {
      const a = alarms();
      const id1 = a.raise(ev({ level: 2, value: 3.65, message: 'cell 4 at 3.65 V' }));
      const id2 = a.raise(
        ev({
          code: 'soc_low',
          severity: 'warning',
          origin: 'rule',
          ruleId: 'r1',
          raisedAt: T0 + MIN,
        }),
      );
      expect(id2).not.toBe(id1);
      const [second, first] = a.list();
      expect(first).toEqual({
        id: id1,
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
        id: id2,
        packId: 'home/bus1/1',
        code: 'soc_low',
        severity: 'warning',
        origin: 'rule',
        ruleId: 'r1',
        raisedAt: T0 + MIN,
        message: 'Cell over-voltage',
      } satisfies AlarmEvent);
    });

    it('lists newest first, filtered by pack, activity and an inclusive raise-time range, limited', () => {
      const a = alarms();
      const ids = [0, 1, 2, 3, 4].map((i) =>
        a.raise(ev({ packId: i % 2 ? 'p/b/2' : 'p/b/1', raisedAt: T0 + i * MIN })),
      );
      a.clear(ids[1] as number, T0 + 10 * MIN);
      expect(a.list().map((e) => e.id)).toEqual([...ids].reverse());
      expect(a.list({ packId: 'p/b/2' }).map((e) => e.id)).toEqual([ids[3], ids[1]]);
      expect(a.list({ active: true }).map((e) => e.id)).toEqual([ids[4], ids[3], ids[2], ids[0]]);
      expect(a.list({ active: false }).map((e) => e.id)).toEqual([ids[1]]);
      expect(a.list({ from: T0 + MIN, to: T0 + 3 * MIN }).map((e) => e.id)).toEqual([
        ids[3],
        ids[2],
        ids[1],
      ]);
      expect(a.list({ limit: 2 }).map((e) => e.id)).toEqual([ids[4], ids[3]]);
      expect(a.list({ limit: 0 })).toEqual([]);
      expect(
        a.list({ packId: 'p/b/1', active: true, from: T0 + 2 * MIN, limit: 1 }).map((e) => e.id),
      ).toEqual([ids[4]]);
      expect(a.list({ packId: 'nobody' })).toEqual([]);
    });

    it('orders events raised at the same instant by id, newest first', () => {
      const a = alarms();
      const x = a.raise(ev());
      const y = a.raise(ev({ code: 'pack_ov' }));
      expect(a.list().map((e) => e.id)).toEqual([y, x]);
    });

    it('clears once: a second clear keeps the first time; an unknown id is NOT_FOUND', () => {
      const a = alarms();
      const id = a.raise(ev());
      a.clear(id, T0 + MIN);
      a.clear(id, T0 + 2 * MIN);
      expect(a.list()[0]?.clearedAt).toBe(T0 + MIN);
      expectCode(() => a.clear(id + 1000, T0), 'NOT_FOUND');
    });

    it('acknowledges once: false for an unknown id or an event already acknowledged', () => {
      const a = alarms();
      const id = a.raise(ev());
      a.clear(id, T0 + MIN);
      expect(a.acknowledge(id, 'alice', T0 + 2 * MIN)).toBe(true);
      expect(a.acknowledge(id, 'bob', T0 + 3 * MIN)).toBe(false);
      expect(a.acknowledge(id + 1000, 'bob', T0)).toBe(false);
      const [e] = a.list();
      expect(e).toMatchObject({
        acknowledgedAt: T0 + 2 * MIN,
        acknowledgedBy: 'alice',
        clearedAt: T0 + MIN,
      });
    });

    it('counts protection events per code (level >= 2, protection or fault; cleared ones too), per pack', () => {
      const a = alarms();
      a.raise(ev({ code: 'cell_ov', severity: 'protection' }));
      a.clear(a.raise(ev({ code: 'cell_ov', severity: 'protection', level: 2 })), T0 + MIN);
      a.raise(ev({ code: 'cell_ov', severity: 'warning', level: 1 }));
      a.raise(ev({ code: 'chg_oc', severity: 'warning', level: 3, packId: 'p/b/2' }));
      a.raise(ev({ code: 'afe_fault', severity: 'fault', level: 1, packId: 'p/b/2' }));
      a.raise(ev({ code: 'soc_low', severity: 'warning', origin: 'rule' }));
      expect(a.counts()).toEqual({ afe_fault: 1, cell_ov: 2, chg_oc: 1 });
      expect(a.counts('p/b/2')).toEqual({ afe_fault: 1, chg_oc: 1 });
      expect(a.counts('nobody')).toEqual({});
    });

    it('refuses malformed events with REQUEST_INVALID naming the field, and stores nothing', () => {
      const a = alarms();
      expectCode(() => a.raise(ev({ severity: 'bad' as never })), 'REQUEST_INVALID', 'severity');
      expectCode(() => a.raise(ev({ origin: 'user' as never })), 'REQUEST_INVALID', 'origin');
      expectCode(() => a.raise(ev({ packId: '' })), 'REQUEST_INVALID', 'packId');
      expectCode(() => a.raise(ev({ code: undefined as never })), 'REQUEST_INVALID', 'code');
      expectCode(() => a.raise(ev({ raisedAt: Number.NaN })), 'REQUEST_INVALID', 'raisedAt');
      expectCode(() => a.raise(ev({ level: 1.5 })), 'REQUEST_INVALID', 'level');
      expectCode(() => a.list({ limit: -1 }), 'REQUEST_INVALID', 'limit');
      expectCode(() => a.list({ from: Number.POSITIVE_INFINITY }), 'REQUEST_INVALID', 'from');
      expect(a.list()).toEqual([]);
    });

    it('drops a non-finite measured value instead of losing the event', () => {
      const a = alarms();
      a.raise(ev({ value: Number.NaN }));
      const [e] = a.list();
      expect(e?.code).toBe('cell_ov');
      expect(e && 'value' in e).toBe(false);
    });

    it('hands out copies: changing a listed event changes nothing stored', () => {
      const a = alarms();
      a.raise(ev());
      const [e] = a.list();
      if (e) e.code = 'changed';
      expect(a.list()[0]?.code).toBe('cell_ov');
    });
  });
}

// ---------------------------------------------------------------- audit

type Append = Parameters<AuditStore['append']>[0];
const entry = (over: Partial<Append> = {}): Append => ({
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

    it('keeps old and new values as JSON, and absent fields absent', () => {
      const a = audit();
      const old = { id: 'cell_ov_l1', value: 3.6, unit: 'V', nested: [1, null, { ok: true }] };
      const id = a.append(entry({ packId: 'p/b/1', old, new: 3.55, detail: 'read back 3.55' }));
      const id2 = a.append(entry({ at: T0 + 1, action: 'login', old: null, new: 'text' }));
      const id3 = a.append(entry({ at: T0 + 2, action: 'user.add', result: 'refused' }));
      expect(a.list()).toEqual([
        { id: id3, at: T0 + 2, user: 'alice', action: 'user.add', result: 'refused' },
        {
          id: id2,
          at: T0 + 1,
          user: 'alice',
          action: 'login',
          result: 'ok',
          old: null,
          new: 'text',
        },
        {
          id,
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
    });

    it('lists newest first (ties by id), filtered by pack and user, limited', () => {
      const a = audit();
      const ids = [
        a.append(entry({ at: T0, packId: 'p/b/1' })),
        a.append(entry({ at: T0 + 5, user: 'bob', packId: 'p/b/2' })),
        a.append(entry({ at: T0 + 5, packId: 'p/b/2' })),
        a.append(entry({ at: T0 + 9, user: 'bob' })),
      ];
      expect(a.list().map((e) => e.id)).toEqual([ids[3], ids[2], ids[1], ids[0]]);
      expect(a.list({ packId: 'p/b/2' }).map((e) => e.id)).toEqual([ids[2], ids[1]]);
      expect(a.list({ user: 'bob' }).map((e) => e.id)).toEqual([ids[3], ids[1]]);
      expect(a.list({ user: 'bob', packId: 'p/b/2' }).map((e) => e.id)).toEqual([ids[1]]);
      expect(a.list({ limit: 1 }).map((e) => e.id)).toEqual([ids[3]]);
    });

    it('refuses what cannot be stored with REQUEST_INVALID naming the field', () => {
      const a = audit();
      const circular: Record<string, unknown> = {};
      circular.self = circular;
      expectCode(() => a.append(entry({ result: 'maybe' as never })), 'REQUEST_INVALID', 'result');
      expectCode(() => a.append(entry({ old: 10n })), 'REQUEST_INVALID', 'old');
      expectCode(() => a.append(entry({ new: circular })), 'REQUEST_INVALID', 'new');
      expectCode(() => a.append(entry({ new: () => 1 })), 'REQUEST_INVALID', 'new');
      expectCode(() => a.append(entry({ user: '' })), 'REQUEST_INVALID', 'user');
      expectCode(() => a.append(entry({ at: Number.NaN })), 'REQUEST_INVALID', 'at');
      expect(a.list()).toEqual([]);
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

    it('creates, reads, lists and counts users', () => {
      const u = users();
      expect(u.count()).toBe(0);
      expect(u.get('admin')).toBeUndefined();
      u.create(user('admin', 'admin', T0), 'scrypt$hash1');
      u.create(user('op', 'operator', T0 + 1), 'scrypt$hash2');
      expect(u.count()).toBe(2);
      expect(u.get('admin')).toEqual({
        username: 'admin',
        role: 'admin',
        createdAt: T0,
        passwordHash: 'scrypt$hash1',
      });
      expect(u.list()).toEqual([user('admin', 'admin', T0), user('op', 'operator', T0 + 1)]);
    });

    it('refuses a duplicate name, also in another letter case, with REQUEST_INVALID; lookups ignore case', () => {
      const u = users();
      u.create(user('Alice'), 'h');
      expectCode(() => u.create(user('Alice', 'admin'), 'h2'), 'REQUEST_INVALID', 'username');
      expectCode(() => u.create(user('alice', 'admin'), 'h2'), 'REQUEST_INVALID', 'username');
      expect(u.count()).toBe(1);
      expect(u.get('ALICE')).toMatchObject({
        username: 'Alice',
        role: 'viewer',
        passwordHash: 'h',
      });
    });

    it('refuses malformed users with REQUEST_INVALID naming the field', () => {
      const u = users();
      expectCode(() => u.create(user(''), 'h'), 'REQUEST_INVALID', 'username');
      expectCode(() => u.create(user(' bob'), 'h'), 'REQUEST_INVALID', 'username');
      expectCode(() => u.create(user('bo\nb'), 'h'), 'REQUEST_INVALID', 'username');
      expectCode(() => u.create(user('x'.repeat(65)), 'h'), 'REQUEST_INVALID', 'username');
      expectCode(() => u.create(user('bob', 'root' as Role), 'h'), 'REQUEST_INVALID', 'role');
      expectCode(() => u.create(user('bob'), ''), 'REQUEST_INVALID', 'passwordHash');
      expect(u.count()).toBe(0);
    });

    it('changes password and role; an unknown user is NOT_FOUND', () => {
      const u = users();
      u.create(user('bob'), 'old');
      u.setPassword('bob', 'new');
      u.setRole('BOB', 'operator');
      expect(u.get('bob')).toMatchObject({ role: 'operator', passwordHash: 'new' });
      expectCode(() => u.setPassword('carol', 'x'), 'NOT_FOUND');
      expectCode(() => u.setRole('carol', 'admin'), 'NOT_FOUND');
      expectCode(() => u.setRole('bob', 'god' as Role), 'REQUEST_INVALID', 'role');
      expectCode(() => u.delete('carol'), 'NOT_FOUND');
    });

    it('finds tokens by hash until they expire (now is injectable); deletes them', () => {
      const u = users();
      u.create(user('bob'), 'h');
      u.createToken({
        hash: 's1',
        username: 'bob',
        kind: 'session',
        createdAt: T0,
        expiresAt: T0 + MIN,
      });
      u.createToken({ hash: 'a1', username: 'BOB', kind: 'api', name: 'grafana', createdAt: T0 });
      expect(u.findToken('s1', T0)).toEqual({
        username: 'bob',
        kind: 'session',
        expiresAt: T0 + MIN,
      });
      expect(u.findToken('s1', T0 + MIN - 1)).toBeDefined();
      expect(u.findToken('s1', T0 + MIN)).toBeUndefined();
      expect(u.findToken('a1', T0 + 1e12)).toEqual({ username: 'bob', kind: 'api' });
      expect(u.findToken('nope', T0)).toBeUndefined();
      expect(u.findToken('', T0)).toBeUndefined();
      u.deleteToken('a1');
      u.deleteToken('a1');
      expect(u.findToken('a1', T0)).toBeUndefined();
    });

    it('ignores tokens that expired before the wall clock when no now is given', () => {
      const u = users();
      u.create(user('bob'), 'h');
      const now = Date.now();
      u.createToken({
        hash: 'old',
        username: 'bob',
        kind: 'session',
        createdAt: now - 2 * MIN,
        expiresAt: now - MIN,
      });
      u.createToken({
        hash: 'new',
        username: 'bob',
        kind: 'session',
        createdAt: now,
        expiresAt: now + 3_600_000,
      });
      expect(u.findToken('old')).toBeUndefined();
      expect(u.findToken('new')?.username).toBe('bob');
    });

    it('refuses tokens of unknown users (NOT_FOUND), stored twice or malformed (REQUEST_INVALID)', () => {
      const u = users();
      u.create(user('bob'), 'h');
      expectCode(
        () => u.createToken({ hash: 'x', username: 'carol', kind: 'api', createdAt: T0 }),
        'NOT_FOUND',
      );
      u.createToken({ hash: 'x', username: 'bob', kind: 'api', createdAt: T0 });
      expectCode(
        () => u.createToken({ hash: 'x', username: 'bob', kind: 'api', createdAt: T0 }),
        'REQUEST_INVALID',
        'hash',
      );
      expectCode(
        () => u.createToken({ hash: 'y', username: 'bob', kind: 'cookie' as Kind, createdAt: T0 }),
        'REQUEST_INVALID',
        'kind',
      );
      expectCode(
        () =>
          u.createToken({
            hash: 'y',
            username: 'bob',
            kind: 'api',
            createdAt: T0,
            expiresAt: Number.NaN,
          }),
        'REQUEST_INVALID',
        'expiresAt',
      );
      expect(u.listTokens('bob').map((t) => t.hash)).toEqual(['x']);
    });

    it("deleting a user deletes the user's tokens", () => {
      const u = users();
      u.create(user('bob'), 'h');
      u.create(user('eve'), 'h');
      u.createToken({ hash: 'b', username: 'bob', kind: 'session', createdAt: T0 });
      u.createToken({ hash: 'e', username: 'eve', kind: 'session', createdAt: T0 });
      u.delete('Bob');
      expect(u.get('bob')).toBeUndefined();
      expect(u.findToken('b', T0)).toBeUndefined();
      expect(u.findToken('e', T0)?.username).toBe('eve');
      expect(u.count()).toBe(1);
      // The name is free again, and old tokens do not come back with it.
      u.create(user('bob'), 'h');
      expect(u.listTokens('bob')).toEqual([]);
    });

    it("lists a user's tokens, deletes them by kind and purges expired ones", () => {
      const u = users();
      u.create(user('bob'), 'h');
      u.createToken({
        hash: 's1',
        username: 'bob',
        kind: 'session',
        createdAt: T0,
        expiresAt: T0 + MIN,
      });
      u.createToken({
        hash: 's2',
        username: 'bob',
        kind: 'session',
        createdAt: T0 + 1,
        expiresAt: T0 + 10 * MIN,
      });
      u.createToken({
        hash: 'a1',
        username: 'bob',
        kind: 'api',
        name: 'grafana',
        createdAt: T0 + 2,
      });
      expect(u.listTokens('BOB')).toEqual([
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
      expect(u.purgeExpiredTokens(T0 + MIN)).toBe(1);
      expect(u.deleteUserTokens('bob', { kind: 'session' })).toEqual(['s2']);
      expect(u.listTokens('bob').map((t) => t.hash)).toEqual(['a1']);
      expect(u.deleteUserTokens('bob')).toEqual(['a1']);
      expect(u.listTokens('bob')).toEqual([]);
    });

    it("ends a user's other sessions: deletes all but the one in use, of a kind or all, and says which", () => {
      const u = users();
      u.create(user('bob'), 'h');
      u.create(user('eve'), 'h');
      const token = (hash: string, username: string, kind: Kind, at: number) =>
        u.createToken({ hash, username, kind, createdAt: T0 + at });
      token('s1', 'bob', 'session', 1);
      token('s2', 'bob', 'session', 2);
      token('s3', 'bob', 'session', 3);
      token('a1', 'bob', 'api', 4);
      token('e1', 'eve', 'session', 5);
      // A password change from session s2: the other sessions end, API tokens stay.
      expect(u.deleteUserTokens('BOB', { kind: 'session', except: 's2' }).sort()).toEqual([
        's1',
        's3',
      ]);
      expect(u.listTokens('bob').map((t) => t.hash)).toEqual(['s2', 'a1']);
      // An admin reset: everything of bob's goes, whatever its kind.
      expect(u.deleteUserTokens('bob', { except: 'not-a-token' }).sort()).toEqual(['a1', 's2']);
      expect(u.listTokens('bob')).toEqual([]);
      expect(u.findToken('e1', T0)?.username).toBe('eve');
      expect(u.deleteUserTokens('bob')).toEqual([]);
      expect(u.deleteUserTokens('nobody')).toEqual([]);
    });

    it('refuses a malformed token filter with REQUEST_INVALID naming the field, deleting nothing', () => {
      const u = users();
      u.create(user('bob'), 'h');
      u.createToken({ hash: 's1', username: 'bob', kind: 'session', createdAt: T0 });
      expectCode(
        () => u.deleteUserTokens('bob', { kind: 'cookie' as Kind }),
        'REQUEST_INVALID',
        'kind',
      );
      expectCode(() => u.deleteUserTokens('bob', { except: '' }), 'REQUEST_INVALID', 'except');
      expectCode(
        () => u.deleteUserTokens('bob', { kinds: 'api' } as never),
        'REQUEST_INVALID',
        'filter.kinds',
      );
      expect(u.listTokens('bob').map((t) => t.hash)).toEqual(['s1']);
    });
  });
}
