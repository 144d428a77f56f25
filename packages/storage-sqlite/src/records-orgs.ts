/**
 * Organisations and memberships in SQLite (docs/fleet.md, ADR 0016). The tree is kept twice:
 * `orgs.parent_id` (the edge) and `org_closure` (every ancestor–descendant pair with its
 * distance, the organisation itself at distance 0), so "within the subtrees of these roots"
 * is one indexed semi-join: `id IN (SELECT descendant FROM org_closure WHERE ancestor IN
 * (...))`. Codes come from node's CSPRNG, retried on a collision with a stored one.
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
  type Member,
  type Membership,
  type NewOrg,
  type NewRootOrg,
  type Org,
  type OrgRole,
  membershipFromRow,
  orgFromRow,
  type MemberRow,
  type OrgRow,
} from '@openbms/storage';
import { storageError, type Db } from './db.js';
import type { Stmt } from './records-validate.js';

const WITHIN =
  'SELECT descendant FROM org_closure WHERE ancestor IN (SELECT value FROM json_each(@within))';

const SQL = {
  insert: `INSERT INTO orgs (id, parent_id, kind, name, code, depth, created_at)
    VALUES (@id, @parent, @kind, @name, @code, @depth, @createdAt) ON CONFLICT (code) DO NOTHING`,
  // The new organisation under every ancestor of its parent (the parent's own row at 0 included), and itself.
  closure: `INSERT INTO org_closure (ancestor, descendant, depth)
    SELECT ancestor, @id, depth + 1 FROM org_closure WHERE descendant = @parent
    UNION ALL SELECT @id, @id, 0`,
  codeTaken: 'SELECT 1 FROM orgs WHERE code = ?',
  get: `SELECT * FROM orgs WHERE id = @id AND id IN (${WITHIN})`,
  byId: 'SELECT * FROM orgs WHERE id = ?',
  subtree: `SELECT * FROM orgs WHERE id IN (${WITHIN}) ORDER BY depth, name, id`,
  byCode: 'SELECT * FROM orgs WHERE code = ?',
  userExists: 'SELECT org_id FROM users WHERE id = ?',
  member: 'SELECT * FROM memberships WHERE user_id = ? AND org_id = ?',
  addMember:
    'INSERT INTO memberships (user_id, org_id, role, created_at) VALUES (@userId, @orgId, @role, @createdAt) ON CONFLICT DO NOTHING',
  members: `SELECT m.*, u.username FROM memberships m JOIN users u ON u.id = m.user_id
    WHERE m.org_id = ? ORDER BY m.created_at, u.username, m.user_id`,
  setRole: 'UPDATE memberships SET role = ? WHERE user_id = ? AND org_id = ?',
  demoteManager:
    "UPDATE memberships SET role = 'administrator' WHERE org_id = ? AND role = 'manager' AND user_id <> ?",
  setLocalRole: 'UPDATE users SET role = ? WHERE id = ? AND org_id = ?',
  removeMember: 'DELETE FROM memberships WHERE user_id = ? AND org_id = ?',
  membershipsOf: 'SELECT * FROM memberships WHERE user_id = ? ORDER BY created_at, org_id',
} as const;

/**
 * Statements that keep an account's single-box role and its membership of its own
 * organisation in step (records-users.ts runs them inside its own transactions).
 */
export const HOME_SQL = {
  // A new account is a member of its organisation (when that is one of ours); its first admin is the manager.
  join: `INSERT INTO memberships (user_id, org_id, role, created_at)
    SELECT @userId, o.id, CASE WHEN @local = 'admin' AND NOT EXISTS
      (SELECT 1 FROM memberships m WHERE m.org_id = o.id AND m.role = 'manager') THEN 'manager' ELSE @mapped END, @createdAt
    FROM orgs o WHERE o.id = @orgId ON CONFLICT DO NOTHING`,
  // A single-box role change moves the membership only when its rank differs (an installer stays one as an operator).
  follow: `UPDATE memberships SET role = @mapped WHERE user_id = @userId AND org_id = @orgId
    AND role NOT IN (SELECT value FROM json_each(@same))`,
  // An organisation whose manager was demoted or deleted on the box: its oldest administrator takes over.
  ensureManager: `UPDATE memberships SET role = 'manager' WHERE org_id = @orgId AND user_id = (
      SELECT user_id FROM memberships WHERE org_id = @orgId AND role = 'administrator'
      ORDER BY created_at, user_id LIMIT 1)
    AND NOT EXISTS (SELECT 1 FROM memberships WHERE org_id = @orgId AND role = 'manager')`,
} as const;

/** The fleet roles of one single-box rank (a JSON array for `follow`). */
export const sameRank = (local: 'admin' | 'operator' | 'viewer'): string =>
  JSON.stringify(ORG_ROLES.filter((r) => localRole(r) === local));

export { orgRoleOf };

export class SqliteOrgs {
  private readonly s: { [K in keyof typeof SQL]: Stmt };

  constructor(
    private readonly db: Db,
    private readonly code: () => string = () => newOrgCode(randomBytes),
  ) {
    try {
      const prepared: Partial<Record<keyof typeof SQL, Stmt>> = {};
      for (const [k, sql] of Object.entries(SQL)) prepared[k as keyof typeof SQL] = db.prepare(sql);
      this.s = prepared as { [K in keyof typeof SQL]: Stmt };
    } catch (e) {
      throw storageError(
        e,
        'organisations are not available (were the records migrations applied?)',
      );
    }
  }

  private run<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw storageError(e, what);
    }
  }

  /** Inserts the row and its closure rows; a given code taken is REQUEST_INVALID, a drawn one is drawn again. */
  private insert(row: Omit<OrgRow, 'code' | 'id'> & { code: string | null }): Org {
    return this.run(`cannot create organisation ${row.name}`, () =>
      this.db.transaction(() => {
        const id = newId(row.created_at);
        const params = {
          id,
          parent: row.parent_id,
          kind: row.kind,
          name: row.name,
          depth: row.depth,
          createdAt: row.created_at,
        };
        let code = row.code;
        if (code !== null) {
          if (this.s.insert.run({ ...params, code }).changes === 0) throw c.codeTaken(code);
        } else {
          for (let i = 0; ; i++) {
            if (i === c.ORG_CODE_ATTEMPTS)
              throw new BmsError(
                'STORAGE_FAILED',
                'no free organisation code (is the code generator random?)',
              );
            code = this.code();
            if (this.s.insert.run({ ...params, code }).changes === 1) break;
          }
        }
        this.s.closure.run({ id, parent: row.parent_id });
        return orgFromRow(this.s.byId.get(id) as OrgRow);
      })(),
    );
  }

  createRoot(org: NewRootOrg): Org {
    const o = c.newRootOrg(org);
    return this.insert({
      parent_id: null,
      kind: o.kind,
      name: o.name,
      code: o.code,
      depth: 0,
      created_at: o.createdAt,
    });
  }

  create(within: readonly string[], org: NewOrg): Org {
    const w = JSON.stringify(c.within(within));
    const o = c.newOrg(org);
    const parent = this.run('cannot read organisations', () =>
      this.s.get.get({ id: o.parentId, within: w }),
    ) as OrgRow | undefined;
    if (!parent) throw c.orgNotFound(o.parentId);
    c.checkChild(parent);
    return this.insert({
      parent_id: parent.id,
      kind: o.kind,
      name: o.name,
      code: o.code,
      depth: parent.depth + 1,
      created_at: o.createdAt,
    });
  }

  get(within: readonly string[], id: string): Org | undefined {
    const w = JSON.stringify(c.within(within));
    c.ident(id, 'id');
    const r = this.run('cannot read organisations', () => this.s.get.get({ id, within: w })) as
      OrgRow | undefined;
    return r && orgFromRow(r);
  }

  subtree(within: readonly string[]): Org[] {
    const w = JSON.stringify(c.within(within));
    return (
      this.run('cannot read organisations', () => this.s.subtree.all({ within: w })) as OrgRow[]
    ).map(orgFromRow);
  }

  byCode(code: string): Org | undefined {
    const k = c.orgCode(code);
    const r = this.run('cannot read organisations', () => this.s.byCode.get(k)) as
      OrgRow | undefined;
    return r && orgFromRow(r);
  }

  private visible(within: readonly string[], orgId: string): OrgRow {
    const w = JSON.stringify(c.within(within));
    c.ident(orgId, 'orgId');
    const r = this.run('cannot read organisations', () =>
      this.s.get.get({ id: orgId, within: w }),
    ) as OrgRow | undefined;
    if (!r) throw c.orgNotFound(orgId);
    return r;
  }

  addMember(within: readonly string[], m: Membership): Membership {
    const v = c.membership(m);
    this.visible(within, v.orgId);
    return this.run('cannot add the member', () =>
      this.db.transaction(() => {
        if (!this.s.userExists.get(v.userId))
          throw new BmsError('NOT_FOUND', `no user ${JSON.stringify(v.userId)}`);
        if (v.role === 'manager') this.s.demoteManager.run(v.orgId, v.userId);
        if (this.s.addMember.run(v).changes === 0)
          throw c.invalid('userId', `is a member of ${v.orgId} already: change their role instead`);
        return v;
      })(),
    );
  }

  members(within: readonly string[], orgId: string): Member[] {
    this.visible(within, orgId);
    const rows = this.run('cannot read members', () => this.s.members.all(orgId)) as MemberRow[];
    return rows.map((r) => ({ ...membershipFromRow(r), username: r.username! }));
  }

  setRole(within: readonly string[], orgId: string, userId: string, role: OrgRole): Membership {
    this.visible(within, orgId);
    c.ident(userId, 'userId');
    const r = c.orgRole(role);
    return this.run('cannot change the role', () =>
      this.db.transaction(() => {
        const m = this.s.member.get(userId, orgId) as MemberRow | undefined;
        if (!m) throw c.memberNotFound(userId, orgId);
        if (m.role === 'manager' && r !== 'manager') throw c.keepManager();
        if (r === 'manager') this.s.demoteManager.run(orgId, userId);
        this.s.setRole.run(r, userId, orgId);
        // The account's own organisation: its single-box role follows.
        this.s.setLocalRole.run(localRole(r), userId, orgId);
        return { ...membershipFromRow(m), role: r };
      })(),
    );
  }

  removeMember(within: readonly string[], orgId: string, userId: string): Membership {
    this.visible(within, orgId);
    c.ident(userId, 'userId');
    return this.run('cannot remove the member', () =>
      this.db.transaction(() => {
        const m = this.s.member.get(userId, orgId) as MemberRow | undefined;
        if (!m) throw c.memberNotFound(userId, orgId);
        if (m.role === 'manager') throw c.removeManager();
        const home = this.s.userExists.get(userId) as { org_id: string } | undefined;
        if (home?.org_id === orgId) throw c.removeHome();
        this.s.removeMember.run(userId, orgId);
        return membershipFromRow(m);
      })(),
    );
  }

  membershipsOf(userId: string): Membership[] {
    c.ident(userId, 'userId');
    return (
      this.run('cannot read memberships', () => this.s.membershipsOf.all(userId)) as MemberRow[]
    ).map(membershipFromRow);
  }
}
