/**
 * Organisations and memberships in PostgreSQL (docs/fleet.md, ADR 0016): the same tables and
 * rules as the SQLite adapter. `org_closure` holds every ancestor–descendant pair, so "within
 * these subtrees" is `id IN (SELECT descendant FROM org_closure WHERE ancestor = ANY($1))`.
 * Codes come from node's CSPRNG and are drawn again when the unique index says one is taken.
 */
import { randomBytes } from 'node:crypto';
import { BmsError } from '@openbms/core';
import {
  localRole,
  newId,
  newOrgCode,
  orgChecks as c,
  orgRoleOf,
  ORG_ROLES,
  withFreshCode,
  type Member,
  type Org,
  type OrgStore,
  membershipFromRow,
  orgFromRow,
  type MemberRow,
  type OrgRow,
} from '@openbms/storage';
import type { PgDb } from './db.js';

const WITHIN = (p: string): string =>
  `SELECT descendant FROM org_closure WHERE ancestor = ANY(${p}::text[])`;

/**
 * The single box's own organisation as a root (a `customer` named "Local organisation"), and
 * its accounts as members with their roles mapped, the oldest admin the manager: what the
 * SQLite adapter's records/006 does, run at every open (it does nothing once done), so a
 * database made before organisations and a fresh one both get it.
 */
const ROOT_LOCK = '7308604893346131826'; // any constant key: 'openorgs'-ish

export async function ensureRootOrg(
  db: PgDb,
  orgId: string,
  now: number,
  code: () => string = () => newOrgCode(randomBytes),
): Promise<void> {
  await db.tx('cannot make the organisation of the box', async (t) => {
    // Two processes opening one database: the second waits, then finds it done.
    await t.query('SELECT pg_advisory_xact_lock($1)', [ROOT_LOCK]);
    const users = (
      await t.query<{ id: string; role: 'admin' | 'operator' | 'viewer'; created_at: number }>(
        'SELECT id, role, created_at FROM users WHERE org_id = $1 ORDER BY created_at, username COLLATE "C"',
        [orgId],
      )
    ).rows;
    if ((await t.query('SELECT 1 FROM orgs WHERE id = $1', [orgId])).rows.length === 0) {
      await withFreshCode(code, async (k) => {
        const made = await t.query(
          `INSERT INTO orgs (id, parent_id, kind, name, code, depth, created_at)
           VALUES ($1, NULL, 'customer', 'Local organisation', $2, 0, $3) ON CONFLICT DO NOTHING RETURNING 1`,
          [orgId, k, users[0]?.created_at ?? now],
        );
        return made.rows.length === 1;
      });
      await t.query(
        'INSERT INTO org_closure (ancestor, descendant, depth) VALUES ($1, $1, 0) ON CONFLICT DO NOTHING',
        [orgId],
      );
    }
    for (const u of users)
      await t.query(HOME_SQL.join, [u.id, orgId, u.role, orgRoleOf(u.role), u.created_at]);
  });
}

/**
 * Statements keeping an account's single-box role and its membership of its own organisation
 * in step (users.ts runs them): as the SQLite adapter's HOME_SQL.
 */
export const HOME_SQL = {
  join: `INSERT INTO memberships (user_id, org_id, role, created_at)
    SELECT $1::text, o.id, CASE WHEN $3::text = 'admin' AND NOT EXISTS
      (SELECT 1 FROM memberships m WHERE m.org_id = o.id AND m.role = 'manager') THEN 'manager' ELSE $4::text END, $5::bigint
    FROM orgs o WHERE o.id = $2 ON CONFLICT DO NOTHING`,
  follow: `UPDATE memberships SET role = $1 WHERE user_id = $2 AND org_id = $3 AND role <> ALL($4::text[])`,
  ensureManager: `UPDATE memberships SET role = 'manager' WHERE org_id = $1 AND user_id = (
      SELECT user_id FROM memberships WHERE org_id = $1 AND role = 'administrator'
      ORDER BY created_at, user_id COLLATE "C" LIMIT 1)
    AND NOT EXISTS (SELECT 1 FROM memberships WHERE org_id = $1 AND role = 'manager')`,
} as const;

/**
 * Membership changes of one organisation one at a time (its row locked for the transaction):
 * two hand-overs of the manager role at once would otherwise both demote the old manager and
 * the second would break the one-manager index instead of waiting and handing over again.
 */
export const LOCK_ORG = 'SELECT 1 FROM orgs WHERE id = $1 FOR UPDATE';

export const sameRank = (local: 'admin' | 'operator' | 'viewer'): string[] =>
  ORG_ROLES.filter((r) => localRole(r) === local);

export { orgRoleOf };

export function pgOrgs(db: PgDb, code: () => string = () => newOrgCode(randomBytes)): OrgStore {
  const visible = async (within: string[], id: string): Promise<OrgRow | undefined> =>
    (
      await db.query<OrgRow>(
        'cannot read organisations',
        `SELECT * FROM orgs WHERE id = $1 AND id IN (${WITHIN('$2')})`,
        [id, within],
      )
    )[0];

  /** The row and its closure rows in one transaction; a drawn code that is taken is drawn again. */
  const insert = async (
    row: Omit<OrgRow, 'id' | 'code'> & { code: string | null },
  ): Promise<Org> => {
    const id = newId(row.created_at);
    const attempt = (k: string): Promise<OrgRow | undefined> =>
      db.tx(`cannot create organisation ${row.name}`, async (t) => {
        const made = await t.query<OrgRow>(
          `INSERT INTO orgs (id, parent_id, kind, name, code, depth, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (code) DO NOTHING RETURNING *`,
          [id, row.parent_id, row.kind, row.name, k, row.depth, row.created_at],
        );
        if (made.rows.length === 0) return undefined;
        await t.query(
          `INSERT INTO org_closure (ancestor, descendant, depth)
           SELECT ancestor, $1, depth + 1 FROM org_closure WHERE descendant = $2
           UNION ALL SELECT $1, $1, 0`,
          [id, row.parent_id],
        );
        return made.rows[0];
      });
    let stored: OrgRow | undefined;
    if (row.code !== null) {
      stored = await attempt(row.code);
      if (!stored) throw c.codeTaken(row.code);
    } else {
      await withFreshCode(code, async (k) => (stored = await attempt(k)) !== undefined);
    }
    return orgFromRow(stored!);
  };

  const checkedWithin = (w: unknown): string[] => c.within(w);

  const mustSee = async (within: string[], orgId: string): Promise<OrgRow> => {
    c.ident(orgId, 'orgId');
    const r = await visible(within, orgId);
    if (!r) throw c.orgNotFound(orgId);
    return r;
  };

  return {
    async createRoot(org) {
      const o = c.newRootOrg(org);
      return insert({
        parent_id: null,
        kind: o.kind,
        name: o.name,
        code: o.code,
        depth: 0,
        created_at: o.createdAt,
      });
    },

    async create(within, org) {
      const w = checkedWithin(within);
      const o = c.newOrg(org);
      const parent = await visible(w, o.parentId);
      if (!parent) throw c.orgNotFound(o.parentId);
      c.checkChild(parent);
      return insert({
        parent_id: parent.id,
        kind: o.kind,
        name: o.name,
        code: o.code,
        depth: parent.depth + 1,
        created_at: o.createdAt,
      });
    },

    async get(within, id) {
      const w = checkedWithin(within);
      c.ident(id, 'id');
      const r = await visible(w, id);
      return r && orgFromRow(r);
    },

    async subtree(within) {
      const w = checkedWithin(within);
      const rows = await db.query<OrgRow>(
        'cannot read organisations',
        `SELECT * FROM orgs WHERE id IN (${WITHIN('$1')}) ORDER BY depth, name COLLATE "C", id COLLATE "C"`,
        [w],
      );
      return rows.map(orgFromRow);
    },

    async byCode(k) {
      const code0 = c.orgCode(k);
      const rows = await db.query<OrgRow>(
        'cannot read organisations',
        'SELECT * FROM orgs WHERE code = $1',
        [code0],
      );
      return rows[0] && orgFromRow(rows[0]);
    },

    async addMember(within, m) {
      const v = c.membership(m);
      await mustSee(checkedWithin(within), v.orgId);
      return db.tx('cannot add the member', async (t) => {
        await t.query(LOCK_ORG, [v.orgId]);
        if ((await t.query('SELECT 1 FROM users WHERE id = $1', [v.userId])).rows.length === 0)
          throw new BmsError('NOT_FOUND', `no user ${JSON.stringify(v.userId)}`);
        if (v.role === 'manager')
          await t.query(
            "UPDATE memberships SET role = 'administrator' WHERE org_id = $1 AND role = 'manager' AND user_id <> $2",
            [v.orgId, v.userId],
          );
        const added = await t.query(
          `INSERT INTO memberships (user_id, org_id, role, created_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT DO NOTHING RETURNING 1`,
          [v.userId, v.orgId, v.role, v.createdAt],
        );
        if (added.rows.length === 0)
          throw c.invalid('userId', `is a member of ${v.orgId} already: change their role instead`);
        return v;
      });
    },

    async members(within, orgId) {
      await mustSee(checkedWithin(within), orgId);
      const rows = await db.query<MemberRow>(
        'cannot read members',
        `SELECT m.*, u.username FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.org_id = $1 ORDER BY m.created_at, u.username COLLATE "C", m.user_id COLLATE "C"`,
        [orgId],
      );
      return rows.map((r): Member => ({ ...membershipFromRow(r), username: r.username! }));
    },

    async setRole(within, orgId, userId, role) {
      await mustSee(checkedWithin(within), orgId);
      c.ident(userId, 'userId');
      const r = c.orgRole(role);
      return db.tx('cannot change the role', async (t) => {
        await t.query(LOCK_ORG, [orgId]);
        const m = (
          await t.query<MemberRow>(
            'SELECT * FROM memberships WHERE user_id = $1 AND org_id = $2 FOR UPDATE',
            [userId, orgId],
          )
        ).rows[0];
        if (!m) throw c.memberNotFound(userId, orgId);
        if (m.role === 'manager' && r !== 'manager') throw c.keepManager();
        if (r === 'manager')
          await t.query(
            "UPDATE memberships SET role = 'administrator' WHERE org_id = $1 AND role = 'manager' AND user_id <> $2",
            [orgId, userId],
          );
        await t.query('UPDATE memberships SET role = $1 WHERE user_id = $2 AND org_id = $3', [
          r,
          userId,
          orgId,
        ]);
        // The account's own organisation: its single-box role follows.
        await t.query('UPDATE users SET role = $1 WHERE id = $2 AND org_id = $3', [
          localRole(r),
          userId,
          orgId,
        ]);
        return { ...membershipFromRow(m), role: r };
      });
    },

    async removeMember(within, orgId, userId) {
      await mustSee(checkedWithin(within), orgId);
      c.ident(userId, 'userId');
      return db.tx('cannot remove the member', async (t) => {
        await t.query(LOCK_ORG, [orgId]);
        const m = (
          await t.query<MemberRow & { home: string | null }>(
            `SELECT m.*, u.org_id AS home FROM memberships m JOIN users u ON u.id = m.user_id
             WHERE m.user_id = $1 AND m.org_id = $2 FOR UPDATE OF m`,
            [userId, orgId],
          )
        ).rows[0];
        if (!m) throw c.memberNotFound(userId, orgId);
        if (m.role === 'manager') throw c.removeManager();
        if (m.home === orgId) throw c.removeHome();
        await t.query('DELETE FROM memberships WHERE user_id = $1 AND org_id = $2', [
          userId,
          orgId,
        ]);
        return membershipFromRow(m);
      });
    },

    async membershipsOf(userId) {
      c.ident(userId, 'userId');
      const rows = await db.query<MemberRow>(
        'cannot read memberships',
        'SELECT * FROM memberships WHERE user_id = $1 ORDER BY created_at, org_id COLLATE "C"',
        [userId],
      );
      return rows.map(membershipFromRow);
    },
  };
}
