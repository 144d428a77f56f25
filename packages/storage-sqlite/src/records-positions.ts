/**
 * Tracker positions in SQLite (the PositionStore port, storage positions.ts): one table keyed
 * by (device id, device time), so a duplicate frame is one `ON CONFLICT DO NOTHING` and a
 * track is a range of the primary key, whatever order the fixes arrived in.
 */
import { positionChecks as c, type Position, type PositionQuery } from '@openbms/storage';
import { storageError, type Db } from './db.js';

const INSERT = `INSERT INTO positions (${c.POSITION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (device_id, t) DO NOTHING`;

export class SqlitePositions {
  constructor(private readonly db: Db) {
    try {
      db.prepare('SELECT 1 FROM positions LIMIT 0');
    } catch (e) {
      throw storageError(e, 'positions are not available (were the records migrations applied?)');
    }
  }

  add(ps: readonly Position[]): number {
    const rows = c.positions(ps);
    try {
      return this.db.transaction(() => {
        const st = this.db.prepare(INSERT);
        let n = 0;
        for (const r of rows) n += st.run(...c.rowValues(r)).changes;
        return n;
      })();
    } catch (e) {
      throw storageError(e, 'cannot store positions');
    }
  }

  list(deviceId: string, query: PositionQuery): Position[] {
    const q = c.positionQuery(deviceId, query);
    try {
      const rows = this.db
        .prepare(
          `SELECT ${c.POSITION_COLUMNS} FROM positions WHERE device_id = ? AND t >= ? AND t < ? ORDER BY t LIMIT ?`,
        )
        .all(q.deviceId, q.from, q.to, q.limit) as c.PositionRow[];
      return rows.map(c.positionFromRow);
    } catch (e) {
      throw storageError(e, 'cannot read positions');
    }
  }

  latestAt(deviceId: string, t: number): Position | undefined {
    const id = c.ident(deviceId, 'deviceId');
    const at = c.time(t, 't');
    try {
      const r = this.db
        .prepare(
          `SELECT ${c.POSITION_COLUMNS} FROM positions WHERE device_id = ? AND t <= ? ORDER BY t DESC LIMIT 1`,
        )
        .get(id, at) as c.PositionRow | undefined;
      return r && c.positionFromRow(r);
    } catch (e) {
      throw storageError(e, 'cannot read positions');
    }
  }

  latest(deviceIds: readonly string[]): Position[] {
    const ids = c.deviceIds(deviceIds);
    if (ids.length === 0) return [];
    try {
      // One primary-key probe per device (max(t) of its key range), then the row itself.
      const rows = this.db
        .prepare(
          `SELECT ${c.POSITION_COLUMNS.split(', ')
            .map((x) => `p.${x}`)
            .join(', ')}
             FROM json_each(?) j
             JOIN positions p ON p.device_id = j.value
              AND p.t = (SELECT max(t) FROM positions WHERE device_id = j.value)`,
        )
        .all(JSON.stringify(ids)) as c.PositionRow[];
      return rows.map(c.positionFromRow);
    } catch (e) {
      throw storageError(e, 'cannot read positions');
    }
  }
}
