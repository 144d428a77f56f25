/**
 * Plants, visitors and collectors in SQLite (the PlantStore port, storage plants.ts;
 * `records/008`). A plant is seen when its organisation lies in the subtrees of `within`
 * (`org_closure`) or when it is shared with the viewing user (`plant_visitors`). Synchronous:
 * the facade runs it in the writer thread, as organisations.
 */
import {
  newId,
  plantChecks as c,
  type Collector,
  type NewCollector,
  type NewPlant,
  type Plant,
  type PlantPatch,
  type PlantView,
  type PlantVisitor,
  type Visit,
} from '@openbms/storage';
import { storageError, type Db } from './db.js';
import type { Stmt } from './records-validate.js';

const IN_SUBTREES =
  'org_id IN (SELECT descendant FROM org_closure WHERE ancestor IN (SELECT value FROM json_each(@within)))';
const SEEN = `(${IN_SUBTREES} OR id IN (SELECT plant_id FROM plant_visitors WHERE user_id = @visitor))`;

const SQL = {
  owner: `SELECT 1 FROM orgs WHERE id = @id AND id IN
    (SELECT descendant FROM org_closure WHERE ancestor IN (SELECT value FROM json_each(@within)))`,
  insert: `INSERT INTO plants (id, org_id, name, business_type, plant_type, lat, lon, time_zone, created_at, created_by)
    VALUES (@id, @orgId, @name, @businessType, @plantType, @lat, @lon, @timeZone, @createdAt, @createdBy)`,
  byId: 'SELECT * FROM plants WHERE id = ?',
  within: `SELECT * FROM plants WHERE id = @id AND ${IN_SUBTREES}`,
  seen: `SELECT * FROM plants WHERE id = @id AND ${SEEN}`,
  list: `SELECT * FROM plants WHERE ${SEEN} ORDER BY name, id`,
  update: `UPDATE plants SET name = @name, business_type = @businessType, plant_type = @plantType,
    lat = @lat, lon = @lon, time_zone = @timeZone WHERE id = @id`,
  countCollectors: 'SELECT count(*) AS n FROM plant_collectors WHERE plant_id = ?',
  delete: 'DELETE FROM plants WHERE id = ?',
  userExists: 'SELECT 1 FROM users WHERE id = ?',
  addVisitor: `INSERT INTO plant_visitors (plant_id, user_id, created_at, created_by)
    VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
  visitors: `SELECT v.plant_id, v.user_id, u.username, u.org_id AS user_org_id, u.email, v.created_at, v.created_by
    FROM plant_visitors v JOIN users u ON u.id = v.user_id WHERE v.plant_id = ? ORDER BY v.created_at, v.user_id`,
  removeVisitor: 'DELETE FROM plant_visitors WHERE plant_id = ? AND user_id = ?',
  visits: `SELECT p.id AS plant_id, p.org_id, json_group_array(k.gateway_id) FILTER (WHERE k.gateway_id IS NOT NULL) AS gateways
    FROM plant_visitors v JOIN plants p ON p.id = v.plant_id
    LEFT JOIN plant_collectors k ON k.plant_id = p.id
    WHERE v.user_id = ? GROUP BY p.id, p.org_id ORDER BY p.id`,
  attach: `INSERT INTO plant_collectors (gateway_id, plant_id, name, serial, created_at, created_by)
    VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (gateway_id) DO NOTHING`,
  collector: 'SELECT * FROM plant_collectors WHERE gateway_id = ? AND plant_id = ?',
  collectors: 'SELECT * FROM plant_collectors WHERE plant_id = ? ORDER BY created_at, gateway_id',
  detach: 'DELETE FROM plant_collectors WHERE gateway_id = ? AND plant_id = ?',
} as const;

export class SqlitePlants {
  private readonly s: { [K in keyof typeof SQL]: Stmt };

  constructor(private readonly db: Db) {
    try {
      const prepared: Partial<Record<keyof typeof SQL, Stmt>> = {};
      for (const [k, sql] of Object.entries(SQL)) prepared[k as keyof typeof SQL] = db.prepare(sql);
      this.s = prepared as { [K in keyof typeof SQL]: Stmt };
    } catch (e) {
      throw storageError(e, 'plants are not available (were the records migrations applied?)');
    }
  }

  private run<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw storageError(e, what);
    }
  }

  /** The plant within (changeable by the caller), or NOT_FOUND. */
  private within(within: string[], id: string): c.PlantRow {
    const r = this.s.within.get({ id, within: JSON.stringify(within) }) as c.PlantRow | undefined;
    if (!r) throw c.plantNotFound(id);
    return r;
  }

  create(within: readonly string[], plant: NewPlant): Plant {
    const w = c.changeWithin(within);
    const p = c.newPlant(plant);
    return this.run(`cannot create plant ${p.name}`, () => {
      if (this.s.owner.get({ id: p.orgId, within: JSON.stringify(w) }) === undefined)
        throw c.ownerNotFound(p.orgId);
      const id = newId(p.createdAt);
      this.s.insert.run({ ...p, id });
      return c.plantFromRow(this.s.byId.get(id) as c.PlantRow);
    });
  }

  get(view: PlantView, id: string): Plant | undefined {
    const v = c.plantView(view);
    const pid = c.plantId(id);
    return this.run('cannot read plants', () => {
      const r = this.s.seen.get({ id: pid, within: JSON.stringify(v.within), visitor: v.visitor });
      return r === undefined ? undefined : c.plantFromRow(r as c.PlantRow);
    });
  }

  list(view: PlantView): Plant[] {
    const v = c.plantView(view);
    return this.run('cannot read plants', () =>
      (
        this.s.list.all({ within: JSON.stringify(v.within), visitor: v.visitor }) as c.PlantRow[]
      ).map(c.plantFromRow),
    );
  }

  update(within: readonly string[], id: string, patch: PlantPatch): Plant {
    const w = c.changeWithin(within);
    const pid = c.plantId(id);
    return this.run('cannot change the plant', () =>
      this.db.transaction(() => {
        const before = c.plantFromRow(this.within(w, pid));
        const p = c.patched(before, patch);
        this.s.update.run({ ...p, id: pid });
        return c.plantFromRow(this.s.byId.get(pid) as c.PlantRow);
      })(),
    );
  }

  delete(within: readonly string[], id: string): Plant {
    const w = c.changeWithin(within);
    const pid = c.plantId(id);
    return this.run('cannot delete the plant', () =>
      this.db.transaction(() => {
        const before = c.plantFromRow(this.within(w, pid));
        const n = (this.s.countCollectors.get(pid) as { n: number }).n;
        if (n > 0) throw c.hasCollectors(n);
        this.s.delete.run(pid);
        return before;
      })(),
    );
  }

  addVisitor(
    within: readonly string[],
    plantId: string,
    visitor: { userId: string; createdAt: number; createdBy?: string },
  ): PlantVisitor {
    const w = c.changeWithin(within);
    const pid = c.plantId(plantId);
    const v = c.newVisitor(visitor);
    return this.run('cannot share the plant', () =>
      this.db.transaction(() => {
        this.within(w, pid);
        if (this.s.userExists.get(v.userId) === undefined) throw c.userNotFound(v.userId);
        if (this.s.addVisitor.run(pid, v.userId, v.createdAt, v.createdBy).changes === 0)
          throw c.visitingAlready();
        return this.listVisitors(pid).find((x) => x.userId === v.userId)!;
      })(),
    );
  }

  private listVisitors(pid: string): PlantVisitor[] {
    return (this.s.visitors.all(pid) as c.VisitorRow[]).map(c.visitorFromRow);
  }

  visitors(within: readonly string[], plantId: string): PlantVisitor[] {
    const w = c.changeWithin(within);
    const pid = c.plantId(plantId);
    return this.run('cannot read visitors', () => {
      this.within(w, pid);
      return this.listVisitors(pid);
    });
  }

  removeVisitor(within: readonly string[], plantId: string, userId: string): PlantVisitor {
    const w = c.changeWithin(within);
    const pid = c.plantId(plantId);
    const uid = c.recordUser(userId);
    return this.run('cannot end the share', () =>
      this.db.transaction(() => {
        this.within(w, pid);
        const before = this.listVisitors(pid).find((x) => x.userId === uid);
        if (!before) throw c.visitorNotFound(uid);
        this.s.removeVisitor.run(pid, uid);
        return before;
      })(),
    );
  }

  visitsOf(userId: string): Visit[] {
    const uid = c.recordUser(userId);
    return this.run('cannot read visits', () =>
      (
        this.s.visits.all(uid) as { plant_id: string; org_id: string; gateways: string | null }[]
      ).map((r) => ({
        plantId: r.plant_id,
        orgId: r.org_id,
        gatewayIds: r.gateways === null ? [] : (JSON.parse(r.gateways) as string[]).sort(),
      })),
    );
  }

  attachCollector(within: readonly string[], plantId: string, collector: NewCollector): Collector {
    const w = c.changeWithin(within);
    const pid = c.plantId(plantId);
    const k = c.newCollector(collector);
    return this.run('cannot attach the collector', () =>
      this.db.transaction(() => {
        this.within(w, pid);
        const args = [k.gatewayId, pid, k.name, k.serial, k.createdAt, k.createdBy];
        if (this.s.attach.run(...args).changes === 0) throw c.attachedAlready(k.gatewayId);
        return c.collectorFromRow(this.s.collector.get(k.gatewayId, pid) as c.CollectorRow);
      })(),
    );
  }

  collectors(view: PlantView, plantId: string): Collector[] {
    const pid = c.plantId(plantId);
    if (!this.get(view, pid)) throw c.plantNotFound(pid);
    return this.run('cannot read collectors', () =>
      (this.s.collectors.all(pid) as c.CollectorRow[]).map(c.collectorFromRow),
    );
  }

  detachCollector(within: readonly string[], plantId: string, gatewayId: string): Collector {
    const w = c.changeWithin(within);
    const pid = c.plantId(plantId);
    const gw = c.collectorGateway(gatewayId);
    return this.run('cannot detach the collector', () =>
      this.db.transaction(() => {
        this.within(w, pid);
        const before = this.s.collector.get(gw, pid) as c.CollectorRow | undefined;
        if (!before) throw c.collectorNotFound(gw);
        this.s.detach.run(gw, pid);
        return c.collectorFromRow(before);
      })(),
    );
  }
}
