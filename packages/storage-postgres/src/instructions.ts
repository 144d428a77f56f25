/**
 * Tracker instructions and armed state in PostgreSQL (the InstructionStore port, storage
 * instructions.ts): the same tables as SQLite's; each state change is one conditional UPDATE
 * (`RETURNING` counts it), so with several nodes on one database an instruction is claimed
 * by one node only and a final state is never overwritten.
 */
import { instructionChecks as c, newId, type InstructionStore } from '@openbms/storage';
import type { PgDb } from './db.js';

export function pgInstructions(db: PgDb): InstructionStore {
  const one = async (id: string) => {
    const rows = await db.query<c.InstructionRow>(
      'cannot read instructions',
      `SELECT ${c.INSTRUCTION_COLUMNS} FROM instructions WHERE id = $1`,
      [id],
    );
    return rows[0] && c.instructionFromRow(rows[0]);
  };
  return {
    async create(value) {
      const i = c.newInstruction(value);
      const id = newId(i.createdAt);
      await db.query(
        'cannot store the instruction',
        `INSERT INTO instructions (id, device_id, org_id, kind, state, created_at, created_by, created_by_name, expires_at)
         VALUES ($1, $2, $3, $4, 'queued', $5, $6, $7, $8)`,
        [id, i.deviceId, i.orgId, i.kind, i.createdAt, i.createdBy, i.createdByName, i.expiresAt],
      );
      return (await one(id))!;
    },
    get: (id) => one(c.deviceIds([id])[0]!),
    async list(deviceId, limit) {
      const rows = await db.query<c.InstructionRow>(
        'cannot read instructions',
        `SELECT ${c.INSTRUCTION_COLUMNS} FROM instructions WHERE device_id = $1
          ORDER BY created_at DESC, id DESC LIMIT $2`,
        [c.deviceIds([deviceId])[0]!, c.listLimit(limit)],
      );
      return rows.map(c.instructionFromRow);
    },
    async queued(deviceIds, now) {
      const ids = c.deviceIds(deviceIds);
      if (ids.length === 0) return [];
      const rows = await db.query<c.InstructionRow>(
        'cannot read instructions',
        `SELECT ${c.INSTRUCTION_COLUMNS} FROM instructions
          WHERE state = 'queued' AND expires_at > $1 AND device_id = ANY($2::text[])
          ORDER BY created_at, id`,
        [now, ids],
      );
      return rows.map(c.instructionFromRow);
    },
    async claim(id, node, at) {
      const rows = await db.query(
        'cannot update the instruction',
        `UPDATE instructions SET state = 'sent', sent_at = $1, sent_by = $2
          WHERE id = $3 AND state = 'queued' AND expires_at > $1 RETURNING 1`,
        [at, node, id],
      );
      return rows.length === 1;
    },
    async finish(id, value) {
      const o = c.outcome(value);
      const rows = await db.query(
        'cannot update the instruction',
        `UPDATE instructions SET state = $1, replied_at = $2, result = $3, reply = $4
          WHERE id = $5 AND state = 'sent' RETURNING 1`,
        [o.state, o.at, o.result, o.reply, id],
      );
      return rows.length === 1;
    },
    async expire(now) {
      const rows = await db.query(
        'cannot update instructions',
        `UPDATE instructions SET state = 'expired' WHERE state = 'queued' AND expires_at <= $1 RETURNING 1`,
        [now],
      );
      return rows.length;
    },
    async timeOut(sentBefore, at) {
      const rows = await db.query(
        'cannot update instructions',
        `UPDATE instructions SET state = 'failed', replied_at = $1, result = 'no_reply'
          WHERE state = 'sent' AND sent_at < $2 RETURNING 1`,
        [at, sentBefore],
      );
      return rows.length;
    },
    async setArmed(value) {
      const s = c.trackerState(value);
      await db.query(
        'cannot store the armed state',
        `INSERT INTO tracker_state (device_id, armed, armed_at, armed_source) VALUES ($1, $2, $3, $4)
         ON CONFLICT (device_id) DO UPDATE SET armed = excluded.armed, armed_at = excluded.armed_at,
           armed_source = excluded.armed_source WHERE excluded.armed_at >= tracker_state.armed_at`,
        [s.deviceId, s.armed, s.armedAt, s.armedSource],
      );
    },
    async trackerState(deviceId) {
      const rows = await db.query<c.TrackerStateRow>(
        'cannot read the armed state',
        'SELECT device_id, armed, armed_at, armed_source FROM tracker_state WHERE device_id = $1',
        [c.deviceIds([deviceId])[0]!],
      );
      return rows[0] && c.trackerStateFromRow(rows[0]);
    },
  };
}
