/**
 * Plants, visitors and collectors in PostgreSQL (the PlantStore port, storage plants.ts): the
 * same tables and rules as the SQLite adapter. A plant is seen when its organisation lies in
 * the subtrees of `within` (the closure table) or when it is shared with the viewing user.
 */
import {
  newId,
  plantChecks as c,
  type Collector,
  type PlantStore,
  type PlantVisitor,
} from '@openbms/storage';
import type { PgDb } from './db.js';

type Q = <T extends object>(sql: string, params: unknown[]) => Promise<T[]>;

const IN_SUBTREES = (p: string): string =>
  `org_id IN (SELECT descendant FROM org_closure WHERE ancestor = ANY(${p}::text[]))`;
/** Seen through a view: `$w` the subtree roots, `$v` the visiting user (or NULL). */
const SEEN = (w: string, v: string): string =>
  `(${IN_SUBTREES(w)} OR id IN (SELECT plant_id FROM plant_visitors WHERE user_id = ${v}::text))`;

const VISITOR_COLS = `v.plant_id, v.user_id, u.username, u.org_id AS user_org_id, u.email,
  v.created_at, v.created_by`;

export function pgPlants(db: PgDb): PlantStore {
  const q: Q = async <T extends object>(sql: string, params: unknown[]) =>
    (await db.query('cannot read plants', sql, params)) as T[];

  const within = async (w: string[], id: string): Promise<c.PlantRow> => {
    const r = (
      await q<c.PlantRow>(`SELECT * FROM plants WHERE id = $1 AND ${IN_SUBTREES('$2')}`, [id, w])
    )[0];
    if (!r) throw c.plantNotFound(id);
    return r;
  };

  const store: PlantStore = {
    async create(w0, plant) {
      const w = c.changeWithin(w0);
      const p = c.newPlant(plant);
      const owner = await q(
        `SELECT 1 FROM orgs WHERE id = $1 AND id IN (SELECT descendant FROM org_closure WHERE ancestor = ANY($2::text[]))`,
        [p.orgId, w],
      );
      if (owner.length === 0) throw c.ownerNotFound(p.orgId);
      const rows = await db.query<c.PlantRow>(
        `cannot create plant ${p.name}`,
        `INSERT INTO plants (id, org_id, name, business_type, plant_type, lat, lon, time_zone, created_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING *`,
        [
          newId(p.createdAt),
          p.orgId,
          p.name,
          p.businessType,
          p.plantType,
          p.lat,
          p.lon,
          p.timeZone,
          p.createdAt,
          p.createdBy,
        ],
      );
      return c.plantFromRow(rows[0]!);
    },

    async get(view, id) {
      const v = c.plantView(view);
      const pid = c.plantId(id);
      const r = await q<c.PlantRow>(`SELECT * FROM plants WHERE id = $1 AND ${SEEN('$2', '$3')}`, [
        pid,
        v.within,
        v.visitor,
      ]);
      return r[0] && c.plantFromRow(r[0]);
    },

    async list(view) {
      const v = c.plantView(view);
      const rows = await q<c.PlantRow>(
        `SELECT * FROM plants WHERE ${SEEN('$1', '$2')} ORDER BY name COLLATE "C", id COLLATE "C"`,
        [v.within, v.visitor],
      );
      return rows.map(c.plantFromRow);
    },

    async update(w0, id, patch) {
      const w = c.changeWithin(w0);
      const before = c.plantFromRow(await within(w, c.plantId(id)));
      const p = c.patched(before, patch);
      const rows = await db.query<c.PlantRow>(
        'cannot change the plant',
        `UPDATE plants SET name = $2, business_type = $3, plant_type = $4, lat = $5, lon = $6, time_zone = $7
         WHERE id = $1 RETURNING *`,
        [before.id, p.name, p.businessType, p.plantType, p.lat, p.lon, p.timeZone],
      );
      if (!rows[0]) throw c.plantNotFound(before.id);
      return c.plantFromRow(rows[0]);
    },

    async delete(w0, id) {
      const w = c.changeWithin(w0);
      const pid = c.plantId(id);
      return db.tx('cannot delete the plant', async (t) => {
        const r = (
          await t.query<c.PlantRow>(
            `SELECT * FROM plants WHERE id = $1 AND ${IN_SUBTREES('$2')} FOR UPDATE`,
            [pid, w],
          )
        ).rows[0];
        if (!r) throw c.plantNotFound(pid);
        const n = Number(
          (
            await t.query<{ n: string }>(
              'SELECT count(*) AS n FROM plant_collectors WHERE plant_id = $1',
              [pid],
            )
          ).rows[0]!.n,
        );
        if (n > 0) throw c.hasCollectors(n);
        await t.query('DELETE FROM plants WHERE id = $1', [pid]);
        return c.plantFromRow(r);
      });
    },

    async addVisitor(w0, plantId, visitor) {
      const w = c.changeWithin(w0);
      const pid = c.plantId(plantId);
      const v = c.newVisitor(visitor);
      await within(w, pid);
      const user = await q('SELECT 1 FROM users WHERE id = $1', [v.userId]);
      if (user.length === 0) throw c.userNotFound(v.userId);
      const made = await db.query(
        'cannot share the plant',
        `INSERT INTO plant_visitors (plant_id, user_id, created_at, created_by)
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING 1`,
        [pid, v.userId, v.createdAt, v.createdBy],
      );
      if (made.length === 0) throw c.visitingAlready();
      return (await store.visitors(w, pid)).find((x) => x.userId === v.userId)!;
    },

    async visitors(w0, plantId) {
      const w = c.changeWithin(w0);
      const pid = c.plantId(plantId);
      await within(w, pid);
      const rows = await q<c.VisitorRow>(
        `SELECT ${VISITOR_COLS} FROM plant_visitors v JOIN users u ON u.id = v.user_id
         WHERE v.plant_id = $1 ORDER BY v.created_at, v.user_id COLLATE "C"`,
        [pid],
      );
      return rows.map(c.visitorFromRow);
    },

    async removeVisitor(w0, plantId, userId) {
      const w = c.changeWithin(w0);
      const pid = c.plantId(plantId);
      const uid = c.recordUser(userId);
      const before = (await store.visitors(w, pid)).find((x) => x.userId === uid);
      if (!before) throw c.visitorNotFound(uid);
      await db.query(
        'cannot end the share',
        'DELETE FROM plant_visitors WHERE plant_id = $1 AND user_id = $2',
        [pid, uid],
      );
      return before satisfies PlantVisitor;
    },

    async visitsOf(userId) {
      const uid = c.recordUser(userId);
      const rows = await q<{ plant_id: string; org_id: string; gateways: string[] }>(
        `SELECT p.id AS plant_id, p.org_id,
           coalesce(array_agg(k.gateway_id ORDER BY k.gateway_id COLLATE "C") FILTER (WHERE k.gateway_id IS NOT NULL), '{}') AS gateways
         FROM plant_visitors v JOIN plants p ON p.id = v.plant_id
         LEFT JOIN plant_collectors k ON k.plant_id = p.id
         WHERE v.user_id = $1 GROUP BY p.id, p.org_id ORDER BY p.id COLLATE "C"`,
        [uid],
      );
      return rows.map((r) => ({ plantId: r.plant_id, orgId: r.org_id, gatewayIds: r.gateways }));
    },

    async attachCollector(w0, plantId, collector) {
      const w = c.changeWithin(w0);
      const pid = c.plantId(plantId);
      const k = c.newCollector(collector);
      await within(w, pid);
      const rows = await db.query<c.CollectorRow>(
        'cannot attach the collector',
        `INSERT INTO plant_collectors (gateway_id, plant_id, name, serial, created_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (gateway_id) DO NOTHING RETURNING *`,
        [k.gatewayId, pid, k.name, k.serial, k.createdAt, k.createdBy],
      );
      if (!rows[0]) throw c.attachedAlready(k.gatewayId);
      return c.collectorFromRow(rows[0]) satisfies Collector;
    },

    async collectors(view, plantId) {
      const pid = c.plantId(plantId);
      if (!(await store.get(view, pid))) throw c.plantNotFound(pid);
      const rows = await q<c.CollectorRow>(
        'SELECT * FROM plant_collectors WHERE plant_id = $1 ORDER BY created_at, gateway_id COLLATE "C"',
        [pid],
      );
      return rows.map(c.collectorFromRow);
    },

    async detachCollector(w0, plantId, gatewayId) {
      const w = c.changeWithin(w0);
      const pid = c.plantId(plantId);
      const gw = c.collectorGateway(gatewayId);
      await within(w, pid);
      const rows = await db.query<c.CollectorRow>(
        'cannot detach the collector',
        'DELETE FROM plant_collectors WHERE plant_id = $1 AND gateway_id = $2 RETURNING *',
        [pid, gw],
      );
      if (!rows[0]) throw c.collectorNotFound(gw);
      return c.collectorFromRow(rows[0]);
    },
  };
  return store;
}
