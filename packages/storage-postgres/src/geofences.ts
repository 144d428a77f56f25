/**
 * Tracker geofences in PostgreSQL (the GeofenceStore port, storage geofences.ts): the same
 * tables as SQLite's (`geofences`, `geofence_devices`, `geofence_states`), scope by subtree
 * roots through `org_closure` in SQL. `setState` is one guarded upsert: only a later device
 * time moves a state, so two nodes storing the same transition store it once.
 */
import { BmsError } from '@openbms/core';
import { geofenceChecks as c, newId, type Geofence, type GeofenceStore } from '@openbms/storage';
import type { PoolClient } from 'pg';
import type { PgDb } from './db.js';

const WITHIN = (p: string): string =>
  `SELECT descendant FROM org_closure WHERE ancestor = ANY(${p}::text[])`;

const SELECT = `SELECT g.*, ARRAY(SELECT device_id FROM geofence_devices gd WHERE gd.fence_id = g.id) AS device_ids
  FROM geofences g`;

async function one(
  q: PoolClient | PgDb,
  within: string[],
  id: string,
): Promise<Geofence | undefined> {
  const sql = `${SELECT} WHERE g.id = $1 AND g.org_id IN (${WITHIN('$2')})`;
  const rows =
    'tx' in q
      ? await q.query<c.GeofenceRow>('cannot read geofences', sql, [id, within])
      : (await q.query<c.GeofenceRow>(sql, [id, within])).rows;
  return rows[0] && c.geofenceFromRow(rows[0]);
}

async function setDevices(t: PoolClient, id: string, deviceIds: readonly string[]): Promise<void> {
  await t.query('DELETE FROM geofence_devices WHERE fence_id = $1', [id]);
  if (deviceIds.length > 0)
    await t.query(
      'INSERT INTO geofence_devices (fence_id, device_id) SELECT $1, unnest($2::text[])',
      [id, deviceIds],
    );
}

export function pgGeofences(db: PgDb): GeofenceStore {
  return {
    async create(within, fence) {
      const w = c.withinRoots(within);
      const f = c.newGeofence(fence);
      return db.tx('cannot create the geofence', async (t) => {
        const seen = await t.query(`SELECT 1 FROM orgs WHERE id = $1 AND id IN (${WITHIN('$2')})`, [
          f.orgId,
          w,
        ]);
        if (seen.rows.length === 0)
          throw new BmsError('NOT_FOUND', `no organisation "${f.orgId}"`, { field: 'orgId' });
        const id = newId(f.at);
        await t.query(
          `INSERT INTO geofences (id, org_id, name, shape, alarm, org_wide, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`,
          [id, f.orgId, f.name, JSON.stringify(f.shape), f.alarm, f.orgWide, f.at],
        );
        await setDevices(t, id, f.deviceIds);
        return (await one(t, w, id))!;
      });
    },

    async get(within, id) {
      return one(db, c.withinRoots(within), c.ident(id, 'id'));
    },

    async list(within, q = {}) {
      const w = c.withinRoots(within);
      const dev = q.deviceId === undefined ? null : c.ident(q.deviceId, 'deviceId');
      const rows = await db.query<c.GeofenceRow>(
        'cannot list geofences',
        `${SELECT} WHERE g.org_id IN (${WITHIN('$1')})` +
          (dev !== null
            ? ' AND g.id IN (SELECT fence_id FROM geofence_devices WHERE device_id = $2)'
            : '') +
          ' ORDER BY g.name, g.id',
        dev !== null ? [w, dev] : [w],
      );
      return rows.map(c.geofenceFromRow);
    },

    async update(within, id, patch) {
      const w = c.withinRoots(within);
      const key = c.ident(id, 'id');
      const p = c.geofencePatch(patch);
      return db.tx('cannot change the geofence', async (t) => {
        const old = await one(t, w, key);
        if (!old) throw new BmsError('NOT_FOUND', `no geofence "${key}"`);
        await t.query(
          'UPDATE geofences SET name = $2, shape = $3, alarm = $4, org_wide = $5, updated_at = $6 WHERE id = $1',
          [
            key,
            p.name ?? old.name,
            JSON.stringify(p.shape ?? old.shape),
            p.alarm ?? old.alarm,
            p.orgWide ?? old.orgWide,
            p.at,
          ],
        );
        if (p.deviceIds) await setDevices(t, key, p.deviceIds);
        if (p.shape) await t.query('DELETE FROM geofence_states WHERE fence_id = $1', [key]);
        return (await one(t, w, key))!;
      });
    },

    async delete(within, id) {
      const w = c.withinRoots(within);
      const key = c.ident(id, 'id');
      return db.tx('cannot delete the geofence', async (t) => {
        if (!(await one(t, w, key))) return false;
        await t.query('DELETE FROM geofence_states WHERE fence_id = $1', [key]);
        await t.query('DELETE FROM geofence_devices WHERE fence_id = $1', [key]);
        await t.query('DELETE FROM geofences WHERE id = $1', [key]);
        return true;
      });
    },

    async forDevice(deviceId, orgId) {
      const rows = await db.query<c.GeofenceRow>(
        'cannot read geofences',
        `${SELECT} WHERE g.id IN (SELECT fence_id FROM geofence_devices WHERE device_id = $1)
           OR (g.org_wide AND g.org_id IN (SELECT ancestor FROM org_closure WHERE descendant = $2))
         ORDER BY g.id`,
        [c.ident(deviceId, 'deviceId'), c.ident(orgId, 'orgId')],
      );
      return rows.map(c.geofenceFromRow);
    },

    async states(deviceId) {
      const rows = await db.query<{ fence_id: string; inside: boolean; t: string }>(
        'cannot read geofence states',
        'SELECT fence_id, inside, t FROM geofence_states WHERE device_id = $1 ORDER BY fence_id',
        [c.ident(deviceId, 'deviceId')],
      );
      return rows.map((r) => ({ fenceId: r.fence_id, inside: r.inside, t: Number(r.t) }));
    },

    async setState(deviceId, fenceId, inside, t) {
      const rows = await db.query(
        'cannot store a geofence state',
        `INSERT INTO geofence_states (device_id, fence_id, inside, t) VALUES ($1, $2, $3, $4)
         ON CONFLICT (device_id, fence_id) DO UPDATE SET inside = excluded.inside, t = excluded.t
         WHERE geofence_states.t < excluded.t RETURNING 1`,
        [c.ident(deviceId, 'deviceId'), c.ident(fenceId, 'fenceId'), inside, c.time(t, 't')],
      );
      return rows.length > 0;
    },
  };
}
