/**
 * Tracker geofences in SQLite (the GeofenceStore port, storage geofences.ts): `geofences` with
 * the shape as JSON text, `geofence_devices` (which devices a fence lists) and
 * `geofence_states` (inside/outside per device and fence, with the device time that set it).
 * Scope by the caller's subtree roots through `org_closure`, in SQL.
 */
import { BmsError } from '@openbms/core';
import {
  geofenceChecks as c,
  newId,
  type FenceState,
  type Geofence,
  type GeofencePatch,
  type NewGeofence,
} from '@openbms/storage';
import { storageError, type Db } from './db.js';

const WITHIN = (p: string): string =>
  `SELECT descendant FROM org_closure WHERE ancestor IN (SELECT value FROM json_each(${p}))`;

const SELECT = `SELECT g.*, (SELECT json_group_array(device_id) FROM geofence_devices gd WHERE gd.fence_id = g.id) AS device_ids
  FROM geofences g`;

export class SqliteGeofences {
  constructor(private readonly db: Db) {
    try {
      db.prepare('SELECT 1 FROM geofences LIMIT 0');
    } catch (e) {
      throw storageError(e, 'geofences are not available (were the records migrations applied?)');
    }
  }

  private run<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw storageError(e, what);
    }
  }

  private one(within: string, id: string): Geofence | undefined {
    const r = this.db
      .prepare(`${SELECT} WHERE g.id = ? AND g.org_id IN (${WITHIN('?')})`)
      .get(id, within) as c.GeofenceRow | undefined;
    return r && c.geofenceFromRow(r);
  }

  private setDevices(id: string, deviceIds: readonly string[]): void {
    this.db.prepare('DELETE FROM geofence_devices WHERE fence_id = ?').run(id);
    const ins = this.db.prepare('INSERT INTO geofence_devices (fence_id, device_id) VALUES (?, ?)');
    for (const d of deviceIds) ins.run(id, d);
  }

  create(within: readonly string[], fence: NewGeofence): Geofence {
    const w = JSON.stringify(c.withinRoots(within));
    const f = c.newGeofence(fence);
    return this.run('cannot create the geofence', () =>
      this.db.transaction(() => {
        const seen = this.db
          .prepare(`SELECT 1 FROM orgs WHERE id = ? AND id IN (${WITHIN('?')})`)
          .get(f.orgId, w);
        if (seen === undefined)
          throw new BmsError('NOT_FOUND', `no organisation "${f.orgId}"`, { field: 'orgId' });
        const id = newId(f.at);
        this.db
          .prepare(
            `INSERT INTO geofences (id, org_id, name, shape, alarm, org_wide, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            id,
            f.orgId,
            f.name,
            JSON.stringify(f.shape),
            f.alarm,
            f.orgWide ? 1 : 0,
            f.at,
            f.at,
          );
        this.setDevices(id, f.deviceIds);
        return this.one(w, id)!;
      })(),
    );
  }

  get(within: readonly string[], id: string): Geofence | undefined {
    const w = JSON.stringify(c.withinRoots(within));
    const key = c.ident(id, 'id');
    return this.run('cannot read geofences', () => this.one(w, key));
  }

  list(within: readonly string[], q: { deviceId?: string } = {}): Geofence[] {
    const w = JSON.stringify(c.withinRoots(within));
    const dev = q.deviceId === undefined ? null : c.ident(q.deviceId, 'deviceId');
    return this.run('cannot list geofences', () =>
      (
        this.db
          .prepare(
            `${SELECT} WHERE g.org_id IN (${WITHIN('?')})` +
              (dev !== null
                ? ' AND g.id IN (SELECT fence_id FROM geofence_devices WHERE device_id = ?)'
                : '') +
              ' ORDER BY g.name, g.id',
          )
          .all(w, ...(dev !== null ? [dev] : [])) as c.GeofenceRow[]
      ).map(c.geofenceFromRow),
    );
  }

  update(within: readonly string[], id: string, patch: GeofencePatch): Geofence {
    const w = JSON.stringify(c.withinRoots(within));
    const key = c.ident(id, 'id');
    const p = c.geofencePatch(patch);
    return this.run('cannot change the geofence', () =>
      this.db.transaction(() => {
        const old = this.one(w, key);
        if (!old) throw new BmsError('NOT_FOUND', `no geofence "${key}"`);
        this.db
          .prepare(
            'UPDATE geofences SET name = ?, shape = ?, alarm = ?, org_wide = ?, updated_at = ? WHERE id = ?',
          )
          .run(
            p.name ?? old.name,
            JSON.stringify(p.shape ?? old.shape),
            p.alarm ?? old.alarm,
            (p.orgWide ?? old.orgWide) ? 1 : 0,
            p.at,
            key,
          );
        if (p.deviceIds) this.setDevices(key, p.deviceIds);
        if (p.shape) this.db.prepare('DELETE FROM geofence_states WHERE fence_id = ?').run(key);
        return this.one(w, key)!;
      })(),
    );
  }

  delete(within: readonly string[], id: string): boolean {
    const w = JSON.stringify(c.withinRoots(within));
    const key = c.ident(id, 'id');
    return this.run('cannot delete the geofence', () =>
      this.db.transaction(() => {
        if (!this.one(w, key)) return false;
        this.db.prepare('DELETE FROM geofence_states WHERE fence_id = ?').run(key);
        this.db.prepare('DELETE FROM geofence_devices WHERE fence_id = ?').run(key);
        this.db.prepare('DELETE FROM geofences WHERE id = ?').run(key);
        return true;
      })(),
    );
  }

  forDevice(deviceId: string, orgId: string): Geofence[] {
    const d = c.ident(deviceId, 'deviceId');
    const o = c.ident(orgId, 'orgId');
    return this.run('cannot read geofences', () =>
      (
        this.db
          .prepare(
            `${SELECT} WHERE g.id IN (SELECT fence_id FROM geofence_devices WHERE device_id = ?)
              OR (g.org_wide = 1 AND g.org_id IN (SELECT ancestor FROM org_closure WHERE descendant = ?))
              ORDER BY g.id`,
          )
          .all(d, o) as c.GeofenceRow[]
      ).map(c.geofenceFromRow),
    );
  }

  states(deviceId: string): FenceState[] {
    const d = c.ident(deviceId, 'deviceId');
    return this.run('cannot read geofence states', () =>
      (
        this.db
          .prepare(
            'SELECT fence_id, inside, t FROM geofence_states WHERE device_id = ? ORDER BY fence_id',
          )
          .all(d) as { fence_id: string; inside: number; t: number }[]
      ).map((r) => ({ fenceId: r.fence_id, inside: r.inside === 1, t: r.t })),
    );
  }

  setState(deviceId: string, fenceId: string, inside: boolean, t: number): boolean {
    const d = c.ident(deviceId, 'deviceId');
    const f = c.ident(fenceId, 'fenceId');
    const at = c.time(t, 't');
    return this.run(
      'cannot store a geofence state',
      () =>
        this.db
          .prepare(
            `INSERT INTO geofence_states (device_id, fence_id, inside, t) VALUES (?, ?, ?, ?)
             ON CONFLICT (device_id, fence_id) DO UPDATE SET inside = excluded.inside, t = excluded.t
             WHERE geofence_states.t < excluded.t`,
          )
          .run(d, f, inside ? 1 : 0, at).changes > 0,
    );
  }
}
