/** E-mail addresses and sign-up/reset codes in SQLite (the AccountStore port, storage accounts.ts). */
import { timingSafeEqual } from 'node:crypto';
import {
  emailAddress,
  emailTaken,
  newCode,
  CODE_PURPOSES,
  LANGUAGES,
  profileColumns,
  storedNotify,
  type NotifyRecipient,
  type Profile,
  type StoredProfile,
  type CodeCheck,
  type CodePurpose,
  type NewCode,
  type User,
} from '@openbms/storage';
import { storageError, type Db } from './db.js';
import { type Stmt, invalid, text, time } from './records-validate.js';

const SQL = {
  code: 'SELECT hash, tries, created_at, expires_at FROM account_codes WHERE purpose = ? AND email = ?',
  putCode:
    'INSERT OR REPLACE INTO account_codes (purpose, email, hash, tries, created_at, expires_at) VALUES (?, ?, ?, 0, ?, ?)',
  tried: 'UPDATE account_codes SET tries = tries + 1 WHERE purpose = ? AND email = ?',
  drop: 'DELETE FROM account_codes WHERE purpose = ? AND email = ?',
  purge: 'DELETE FROM account_codes WHERE expires_at <= ?',
  byEmail: 'SELECT id, org_id, gateway_id, username, role, created_at FROM users WHERE email = ?',
  profileOf: 'SELECT email, timezone, phone, language, notify FROM users WHERE id = ?',
  notifyUsers:
    'SELECT id, org_id, gateway_id, username, role, created_at, email, notify FROM users WHERE email IS NOT NULL AND notify IS NOT NULL ORDER BY created_at, id',
} as const;

interface CodeRow {
  hash: string;
  tries: number;
  created_at: number;
  expires_at: number;
}

/** Compares two hex hashes in constant time. */
export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function purpose(value: unknown): CodePurpose {
  if (!CODE_PURPOSES.includes(value as CodePurpose))
    throw invalid('purpose', `must be one of ${CODE_PURPOSES.join(', ')}`);
  return value as CodePurpose;
}

export function tries(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 100)
    throw invalid('maxTries', 'must be a whole number 1..100');
  return value;
}

export class SqliteAccounts {
  private readonly s: { [K in keyof typeof SQL]: Stmt };

  constructor(private readonly db: Db) {
    try {
      const prepared: Partial<Record<keyof typeof SQL, Stmt>> = {};
      for (const [k, sql] of Object.entries(SQL)) prepared[k as keyof typeof SQL] = db.prepare(sql);
      this.s = prepared as { [K in keyof typeof SQL]: Stmt };
    } catch (e) {
      throw storageError(e, 'accounts are not available (were the records migrations applied?)');
    }
  }

  private run<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw storageError(e, what);
    }
  }

  putCode(code: NewCode, minGapMs: number): boolean {
    const c = newCode(code);
    const gap = time(minGapMs, 'minGapMs');
    return this.run('cannot store the code', () =>
      this.db.transaction(() => {
        const old = this.s.code.get(c.purpose, c.email) as CodeRow | undefined;
        if (old && c.createdAt - old.created_at < gap) return false;
        // Codes nobody used are dropped once expired, so the table stays small.
        this.s.purge.run(c.createdAt);
        this.s.putCode.run(c.purpose, c.email, c.hash, c.createdAt, c.expiresAt);
        return true;
      })(),
    );
  }

  useCode(p: CodePurpose, email: string, hash: string, now: number, maxTries: number): CodeCheck {
    const what = purpose(p);
    const address = emailAddress(email);
    const h = text(hash, 'hash', 200);
    time(now, 'now');
    const max = tries(maxTries);
    return this.run('cannot check the code', () =>
      this.db.transaction((): CodeCheck => {
        const row = this.s.code.get(what, address) as CodeRow | undefined;
        if (!row) return 'none';
        if (row.expires_at <= now) {
          this.s.drop.run(what, address);
          return 'expired';
        }
        if (row.tries >= max) return 'exhausted';
        if (!sameHash(row.hash, h)) {
          this.s.tried.run(what, address);
          return 'wrong';
        }
        this.s.drop.run(what, address);
        return 'ok';
      })(),
    );
  }

  userByEmail(email: string): User | undefined {
    const address = emailAddress(email);
    const r = this.run(
      'cannot read users',
      () =>
        this.s.byEmail.get(address) as
          | {
              id: string;
              org_id: string;
              gateway_id: string;
              username: string;
              role: User['role'];
              created_at: number;
            }
          | undefined,
    );
    return (
      r && {
        id: r.id,
        orgId: r.org_id,
        gatewayId: r.gateway_id,
        username: r.username,
        role: r.role,
        createdAt: r.created_at,
      }
    );
  }

  setProfile(userId: string, p: Profile): void {
    const id = text(userId, 'userId', 64);
    const set = profileColumns(p);
    if (set.length === 0) return;
    try {
      // Column names come from `profile`'s fixed keys, never from the caller.
      this.db
        .prepare(`UPDATE users SET ${set.map(([k]) => `${k} = ?`).join(', ')} WHERE id = ?`)
        .run(...set.map(([, v]) => v), id);
    } catch (e) {
      if (/UNIQUE constraint failed: users\.email/.test((e as Error).message)) throw emailTaken();
      throw storageError(e, 'cannot change the account');
    }
  }

  profileOf(userId: string): StoredProfile | undefined {
    const id = text(userId, 'userId', 64);
    const r = this.run(
      'cannot read users',
      () =>
        this.s.profileOf.get(id) as
          (Omit<StoredProfile, 'notify'> & { notify: string | null }) | undefined,
    );
    if (!r) return undefined;
    const language = LANGUAGES.find((l) => l === r.language) ?? null;
    const notify = storedNotify(r.notify);
    return { email: r.email, timezone: r.timezone, phone: r.phone, language, notify };
  }

  notifyRecipients(): NotifyRecipient[] {
    const rows = this.run(
      'cannot read users',
      () =>
        this.s.notifyUsers.all() as {
          id: string;
          org_id: string;
          gateway_id: string;
          username: string;
          role: User['role'];
          created_at: number;
          email: string;
          notify: string;
        }[],
    );
    const out: NotifyRecipient[] = [];
    for (const r of rows) {
      const notify = storedNotify(r.notify);
      if (!notify?.alarmsEmail) continue;
      out.push({
        user: {
          id: r.id,
          orgId: r.org_id,
          gatewayId: r.gateway_id,
          username: r.username,
          role: r.role,
          createdAt: r.created_at,
        },
        email: r.email,
        notify,
      });
    }
    return out;
  }
}
