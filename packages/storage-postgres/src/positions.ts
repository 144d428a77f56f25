/**
 * Tracker positions in PostgreSQL (the PositionStore port, storage positions.ts): the same
 * table and key as SQLite's (device id, device time); a batch is one multi-row INSERT with
 * `ON CONFLICT DO NOTHING`, so duplicates are stored once and the count is of new rows.
 */
import { positionChecks as c, type PositionStore } from '@openbms/storage';
import type { PgDb } from './db.js';

export function pgPositions(db: PgDb): PositionStore {
  return {
    async add(ps) {
      const rows = c.positions(ps);
      if (rows.length === 0) return 0;
      const values: unknown[] = [];
      const tuples = rows.map((r) => {
        const base = values.length;
        values.push(...c.rowValues(r));
        return `(${Array.from({ length: 10 }, (_, i) => `$${base + i + 1}`).join(', ')})`;
      });
      const out = await db.query(
        'cannot store positions',
        `INSERT INTO positions (${c.POSITION_COLUMNS}) VALUES ${tuples.join(', ')}
         ON CONFLICT (device_id, t) DO NOTHING RETURNING 1`,
        values,
      );
      return out.length;
    },
    async list(deviceId, query) {
      const q = c.positionQuery(deviceId, query);
      const rows = await db.query<c.PositionRow>(
        'cannot read positions',
        `SELECT ${c.POSITION_COLUMNS} FROM positions
          WHERE device_id = $1 AND t >= $2 AND t < $3 ORDER BY t LIMIT $4`,
        [q.deviceId, q.from, q.to, q.limit],
      );
      return rows.map(c.positionFromRow);
    },
    async latestAt(deviceId, t) {
      const rows = await db.query<c.PositionRow>(
        'cannot read positions',
        `SELECT ${c.POSITION_COLUMNS} FROM positions WHERE device_id = $1 AND t <= $2 ORDER BY t DESC LIMIT 1`,
        [c.ident(deviceId, 'deviceId'), c.time(t, 't')],
      );
      return rows[0] && c.positionFromRow(rows[0]);
    },
    async latest(deviceIds) {
      const ids = c.deviceIds(deviceIds);
      if (ids.length === 0) return [];
      // A lateral probe of the (device_id, t) key per device: its last fix.
      const rows = await db.query<c.PositionRow>(
        'cannot read positions',
        `SELECT p.* FROM unnest($1::text[]) AS d(id)
           CROSS JOIN LATERAL (
             SELECT ${c.POSITION_COLUMNS} FROM positions
              WHERE device_id = d.id ORDER BY t DESC LIMIT 1) p`,
        [ids],
      );
      return rows.map(c.positionFromRow);
    },
  };
}
