/** Point groups in SQLite (the PointGroupStore port, storage points.ts): one row per group. */
import {
  groupsOf,
  pointGroups,
  pointOrg,
  recordChecks,
  type PointGroup,
  type PointGroupInput,
  type PointGroupRow,
} from '@openbms/storage';
import { storageError, type Db } from './db.js';
import type { Stmt } from './records-validate.js';

const SQL = {
  list: `SELECT * FROM point_groups WHERE org_id IN (SELECT value FROM json_each(?)) ORDER BY org_id, position`,
  drop: 'DELETE FROM point_groups WHERE org_id = ?',
  insert: `INSERT INTO point_groups (org_id, position, name, kind, roles, points, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?)`,
} as const;

/** The organisations a list names: ids, at most 10,000 (a principal's visible organisations). */
export function orgList(value: unknown): string[] {
  if (!Array.isArray(value) || value.length > 10_000)
    throw recordChecks.invalid('orgIds', 'must be an array of at most 10,000 organisation ids');
  return value.map((v, i) => recordChecks.ident(v, `orgIds[${i}]`));
}

export class SqlitePoints {
  private readonly s: { [K in keyof typeof SQL]: Stmt };

  constructor(private readonly db: Db) {
    try {
      const prepared: Partial<Record<keyof typeof SQL, Stmt>> = {};
      for (const [k, sql] of Object.entries(SQL)) prepared[k as keyof typeof SQL] = db.prepare(sql);
      this.s = prepared as { [K in keyof typeof SQL]: Stmt };
    } catch (e) {
      throw storageError(
        e,
        'point groups are not available (were the records migrations applied?)',
      );
    }
  }

  list(orgIds: readonly string[]): PointGroup[] {
    const ids = orgList(orgIds);
    if (ids.length === 0) return [];
    let rows: PointGroupRow[];
    try {
      rows = this.s.list.all(JSON.stringify(ids)) as PointGroupRow[];
    } catch (e) {
      throw storageError(e, 'cannot read point groups');
    }
    return groupsOf(ids, rows);
  }

  replace(orgId: string, groups: readonly PointGroupInput[], now: number): PointGroup[] {
    const org = pointOrg(orgId);
    const checked = pointGroups(groups);
    const at = recordChecks.time(now, 'now');
    try {
      this.db.transaction(() => {
        this.s.drop.run(org);
        checked.forEach((g, i) =>
          this.s.insert.run(
            org,
            i,
            g.name,
            g.kind,
            JSON.stringify(g.roles),
            JSON.stringify(g.points),
            at,
          ),
        );
      })();
    } catch (e) {
      throw storageError(e, 'cannot save point groups');
    }
    return this.list([org]);
  }
}
