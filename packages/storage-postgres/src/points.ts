/** Point groups in PostgreSQL (the PointGroupStore port, storage points.ts): one row per group. */
import {
  groupsOf,
  pointGroups,
  pointOrg,
  recordChecks as c,
  type PointGroupRow,
  type PointGroupStore,
} from '@openbms/storage';
import type { PgDb } from './db.js';

function orgList(value: unknown): string[] {
  if (!Array.isArray(value) || value.length > 10_000)
    throw c.invalid('orgIds', 'must be an array of at most 10,000 organisation ids');
  return value.map((v, i) => c.ident(v, `orgIds[${i}]`));
}

export function pgPoints(db: PgDb): PointGroupStore {
  const list = async (orgIds: readonly string[]) => {
    const ids = orgList(orgIds);
    if (ids.length === 0) return [];
    const rows = await db.query<PointGroupRow>(
      'cannot read point groups',
      'SELECT * FROM point_groups WHERE org_id = ANY($1::text[]) ORDER BY org_id, position',
      [ids],
    );
    return groupsOf(ids, rows);
  };
  return {
    list,
    async replace(orgId, groups, now) {
      const org = pointOrg(orgId);
      const checked = pointGroups(groups);
      const at = c.time(now, 'now');
      await db.tx('cannot save point groups', async (t) => {
        await t.query('DELETE FROM point_groups WHERE org_id = $1', [org]);
        for (const [i, g] of checked.entries()) {
          await t.query(
            `INSERT INTO point_groups (org_id, position, name, kind, roles, points, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)`,
            [org, i, g.name, g.kind, JSON.stringify(g.roles), JSON.stringify(g.points), at],
          );
        }
      });
      return list([org]);
    },
  };
}
