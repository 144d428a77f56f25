/** E-mail addresses and sign-up/reset codes in PostgreSQL (the AccountStore port, storage accounts.ts). */
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
  recordChecks as c,
  type CodePurpose,
  type StoredProfile,
  type AccountStore,
  type CodeCheck,
  type User,
} from '@openbms/storage';
import type { PgDb } from './db.js';

const sameHash = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

interface CodeRow {
  hash: string;
  tries: number;
  created_at: number | string;
  expires_at: number | string;
}

export function pgAccounts(db: PgDb): AccountStore {
  return {
    async putCode(code, minGapMs) {
      const k = newCode(code);
      const gap = c.time(minGapMs, 'minGapMs');
      return db.tx('cannot store the code', async (t) => {
        // Serialises two nodes sending a code to one address at the same moment.
        await t.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
          `code:${k.purpose}:${k.email}`,
        ]);
        const old = (
          await t.query<CodeRow>(
            'SELECT created_at FROM account_codes WHERE purpose = $1 AND email = $2',
            [k.purpose, k.email],
          )
        ).rows[0];
        if (old && k.createdAt - Number(old.created_at) < gap) return false;
        // Codes nobody used are dropped once expired, so the table stays small.
        await t.query('DELETE FROM account_codes WHERE expires_at <= $1', [k.createdAt]);
        await t.query(
          `INSERT INTO account_codes (purpose, email, hash, tries, created_at, expires_at)
           VALUES ($1, $2, $3, 0, $4, $5)
           ON CONFLICT (purpose, email) DO UPDATE
           SET hash = EXCLUDED.hash, tries = 0, created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at`,
          [k.purpose, k.email, k.hash, k.createdAt, k.expiresAt],
        );
        return true;
      });
    },

    async useCode(purpose, email, hash, now, maxTries) {
      if (!CODE_PURPOSES.includes(purpose as CodePurpose))
        throw c.invalid('purpose', `must be one of ${CODE_PURPOSES.join(', ')}`);
      const address = emailAddress(email);
      const h = c.text(hash, 'hash', 200);
      c.time(now, 'now');
      if (!Number.isInteger(maxTries) || maxTries < 1 || maxTries > 100)
        throw c.invalid('maxTries', 'must be a whole number 1..100');
      return db.tx('cannot check the code', async (t): Promise<CodeCheck> => {
        const row = (
          await t.query<CodeRow>(
            'SELECT hash, tries, expires_at FROM account_codes WHERE purpose = $1 AND email = $2 FOR UPDATE',
            [purpose, address],
          )
        ).rows[0];
        const drop = () =>
          t.query('DELETE FROM account_codes WHERE purpose = $1 AND email = $2', [
            purpose,
            address,
          ]);
        if (!row) return 'none';
        if (Number(row.expires_at) <= now) {
          await drop();
          return 'expired';
        }
        if (row.tries >= maxTries) return 'exhausted';
        if (!sameHash(row.hash, h)) {
          await t.query(
            'UPDATE account_codes SET tries = tries + 1 WHERE purpose = $1 AND email = $2',
            [purpose, address],
          );
          return 'wrong';
        }
        await drop();
        return 'ok';
      });
    },

    async userByEmail(email) {
      const address = emailAddress(email);
      const r = (
        await db.query<{
          id: string;
          org_id: string;
          gateway_id: string;
          username: string;
          role: User['role'];
          created_at: number | string;
        }>(
          'cannot read users',
          'SELECT id, org_id, gateway_id, username, role, created_at FROM users WHERE email = $1',
          [address],
        )
      )[0];
      return (
        r && {
          id: r.id,
          orgId: r.org_id,
          gatewayId: r.gateway_id,
          username: r.username,
          role: r.role,
          createdAt: Number(r.created_at),
        }
      );
    },

    async setProfile(userId, p) {
      const id = c.text(userId, 'userId', 64);
      const set = profileColumns(p);
      if (set.length === 0) return;
      try {
        // Column names come from `profile`'s fixed keys, never from the caller.
        await db.query(
          'cannot change the account',
          `UPDATE users SET ${set.map(([k], i) => `${k} = $${i + 1}`).join(', ')} WHERE id = $${set.length + 1}`,
          [...set.map(([, v]) => v), id],
        );
      } catch (e) {
        if (/users_email/.test((e as Error).message)) throw emailTaken();
        throw e;
      }
    },

    async profileOf(userId) {
      const id = c.text(userId, 'userId', 64);
      const r = (
        await db.query<Omit<StoredProfile, 'notify'> & { notify: string | null }>(
          'cannot read users',
          'SELECT email, timezone, phone, language, notify FROM users WHERE id = $1',
          [id],
        )
      )[0];
      if (!r) return undefined;
      const language = LANGUAGES.find((l) => l === r.language) ?? null;
      const notify = storedNotify(r.notify);
      return { email: r.email, timezone: r.timezone, phone: r.phone, language, notify };
    },

    async notifyRecipients() {
      const rows = await db.query<{
        id: string;
        org_id: string;
        gateway_id: string;
        username: string;
        role: User['role'];
        created_at: number | string;
        email: string;
        notify: string;
      }>(
        'cannot read users',
        'SELECT id, org_id, gateway_id, username, role, created_at, email, notify FROM users WHERE email IS NOT NULL AND notify IS NOT NULL ORDER BY created_at, id',
        [],
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
            createdAt: Number(r.created_at),
          },
          email: r.email,
          notify,
        });
      }
      return out;
    },
  };
}
