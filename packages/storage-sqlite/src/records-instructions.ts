/**
 * Tracker instructions and armed state in SQLite (the InstructionStore port, storage
 * instructions.ts): every state change is one conditional UPDATE, so an instruction is sent
 * once and a final state is never overwritten.
 */
import {
  instructionChecks as c,
  newId,
  type Instruction,
  type InstructionOutcome,
  type NewInstruction,
  type TrackerState,
} from '@openbms/storage';
import { storageError, type Db } from './db.js';

export class SqliteInstructions {
  constructor(private readonly db: Db) {
    try {
      db.prepare('SELECT 1 FROM instructions LIMIT 0');
    } catch (e) {
      throw storageError(
        e,
        'instructions are not available (were the records migrations applied?)',
      );
    }
  }

  private one(id: string): Instruction | undefined {
    const r = this.db
      .prepare(`SELECT ${c.INSTRUCTION_COLUMNS} FROM instructions WHERE id = ?`)
      .get(id) as c.InstructionRow | undefined;
    return r && c.instructionFromRow(r);
  }

  create(value: NewInstruction): Instruction {
    const i = c.newInstruction(value);
    const id = newId(i.createdAt);
    try {
      this.db
        .prepare(
          `INSERT INTO instructions (id, device_id, org_id, kind, state, created_at, created_by, created_by_name, expires_at)
           VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, ?)`,
        )
        .run(
          id,
          i.deviceId,
          i.orgId,
          i.kind,
          i.createdAt,
          i.createdBy,
          i.createdByName,
          i.expiresAt,
        );
    } catch (e) {
      throw storageError(e, 'cannot store the instruction');
    }
    return this.one(id)!;
  }

  get(id: string): Instruction | undefined {
    return this.one(c.deviceIds([id])[0]!);
  }

  list(deviceId: string, limit?: number): Instruction[] {
    const d = c.deviceIds([deviceId])[0]!;
    const rows = this.db
      .prepare(
        `SELECT ${c.INSTRUCTION_COLUMNS} FROM instructions WHERE device_id = ?
          ORDER BY created_at DESC, id DESC LIMIT ?`,
      )
      .all(d, c.listLimit(limit)) as c.InstructionRow[];
    return rows.map(c.instructionFromRow);
  }

  queued(deviceIds: readonly string[], now: number): Instruction[] {
    const ids = c.deviceIds(deviceIds);
    if (ids.length === 0) return [];
    const rows = this.db
      .prepare(
        `SELECT ${c.INSTRUCTION_COLUMNS} FROM instructions
          WHERE state = 'queued' AND expires_at > ? AND device_id IN (${ids.map(() => '?').join(', ')})
          ORDER BY created_at, id`,
      )
      .all(now, ...ids) as c.InstructionRow[];
    return rows.map(c.instructionFromRow);
  }

  claim(id: string, node: string, at: number): boolean {
    return (
      this.db
        .prepare(
          `UPDATE instructions SET state = 'sent', sent_at = ?, sent_by = ?
            WHERE id = ? AND state = 'queued' AND expires_at > ?`,
        )
        .run(at, node, id, at).changes === 1
    );
  }

  finish(id: string, value: InstructionOutcome): boolean {
    const o = c.outcome(value);
    return (
      this.db
        .prepare(
          `UPDATE instructions SET state = ?, replied_at = ?, result = ?, reply = ?
            WHERE id = ? AND state = 'sent'`,
        )
        .run(o.state, o.at, o.result, o.reply, id).changes === 1
    );
  }

  expire(now: number): number {
    return this.db
      .prepare(
        `UPDATE instructions SET state = 'expired' WHERE state = 'queued' AND expires_at <= ?`,
      )
      .run(now).changes;
  }

  timeOut(sentBefore: number, at: number): number {
    return this.db
      .prepare(
        `UPDATE instructions SET state = 'failed', replied_at = ?, result = 'no_reply'
          WHERE state = 'sent' AND sent_at < ?`,
      )
      .run(at, sentBefore).changes;
  }

  setArmed(value: TrackerState): void {
    const s = c.trackerState(value);
    this.db
      .prepare(
        `INSERT INTO tracker_state (device_id, armed, armed_at, armed_source) VALUES (?, ?, ?, ?)
         ON CONFLICT (device_id) DO UPDATE SET armed = excluded.armed, armed_at = excluded.armed_at,
           armed_source = excluded.armed_source WHERE excluded.armed_at >= tracker_state.armed_at`,
      )
      .run(s.deviceId, s.armed ? 1 : 0, s.armedAt, s.armedSource);
  }

  trackerState(deviceId: string): TrackerState | undefined {
    const r = this.db
      .prepare(
        'SELECT device_id, armed, armed_at, armed_source FROM tracker_state WHERE device_id = ?',
      )
      .get(c.deviceIds([deviceId])[0]!) as c.TrackerStateRow | undefined;
    return r && c.trackerStateFromRow(r);
  }
}
