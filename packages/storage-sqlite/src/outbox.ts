/**
 * The collector's outbox in SQLite (issue 15, docs/collectors.md "Outbox"): its own file
 * `<data dir>/outbox.sqlite`, so a busy telemetry database and the uplink never wait on each
 * other's writes.
 *
 * Rows are (run, seq, ts, body), unique by (run, seq), in insertion order (`id`). `next` marks
 * rows in flight (`sent_at`); `ack` deletes them; rows in flight longer than the caller's
 * `resendAfterMs` are handed out again. The file is bounded: when the bodies go over
 * `maxBytes` the oldest rows are deleted and counted (`dropped`, kept in the file).
 *
 * Kill -9: WAL with synchronous=NORMAL. Each `put` is one transaction; once it has returned its
 * rows are in the WAL file, which a killed process does not lose (the operating system holds
 * the written pages). Only a power cut or kernel crash may lose the last transactions before
 * the next checkpoint's fsync; the ack protocol makes that harmless for the cloud (it never
 * saw them acknowledged) and costs at most those few seconds of samples, against an fsync per
 * sample with synchronous=FULL that a Raspberry Pi's SD card would not sustain.
 */
import type { Db } from './db.js';
import { openDb, storageError } from './db.js';
import { prepareDataDir, secureDbFile, secureDbSidecars } from './files.js';
import { join } from 'node:path';

export const OUTBOX_FILE = 'outbox.sqlite';

export interface OutboxRow {
  run: string;
  seq: number;
  ts: number;
  body: string;
}

export interface SqliteOutboxOptions {
  /** The data directory (the file is `outbox.sqlite` in it), or `:memory:`. */
  dataDir: string;
  /** The bound on the rows' bodies, bytes. */
  maxBytes: number;
}

export class SqliteOutbox {
  private readonly db: Db;
  private bytes: number;
  private droppedTotal: number;
  private readonly insert;
  private readonly dropOldest;

  private constructor(
    db: Db,
    private readonly maxBytes: number,
  ) {
    this.db = db;
    db.exec(`
      CREATE TABLE IF NOT EXISTS outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run TEXT NOT NULL,
        seq INTEGER NOT NULL,
        ts INTEGER NOT NULL,
        body TEXT NOT NULL,
        sent_at INTEGER,
        UNIQUE (run, seq)
      );
      CREATE TABLE IF NOT EXISTS outbox_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
    `);
    // Rows in flight before a restart are not any more: nobody waits for their ack.
    db.prepare('UPDATE outbox SET sent_at = NULL WHERE sent_at IS NOT NULL').run();
    this.bytes = (
      db.prepare('SELECT COALESCE(SUM(LENGTH(CAST(body AS BLOB))), 0) AS n FROM outbox').get() as {
        n: number;
      }
    ).n;
    this.droppedTotal =
      (
        db.prepare("SELECT value FROM outbox_meta WHERE key = 'dropped'").get() as
          { value: number } | undefined
      )?.value ?? 0;
    this.insert = db.prepare(
      'INSERT OR IGNORE INTO outbox (run, seq, ts, body) VALUES (@run, @seq, @ts, @body)',
    );
    this.dropOldest = db.prepare(
      'DELETE FROM outbox WHERE id IN (SELECT id FROM outbox ORDER BY id LIMIT 1) RETURNING LENGTH(CAST(body AS BLOB)) AS n',
    );
  }

  /** Opens (creating) `<dataDir>/outbox.sqlite` (0600, in a 0700 directory), or `:memory:`. */
  static open(opts: SqliteOutboxOptions): SqliteOutbox {
    if (opts.dataDir === ':memory:') return new SqliteOutbox(openDb(':memory:'), opts.maxBytes);
    prepareDataDir(opts.dataDir);
    const path = join(opts.dataDir, OUTBOX_FILE);
    const db = openDb(path);
    secureDbFile(path);
    try {
      return new SqliteOutbox(db, opts.maxBytes);
    } finally {
      secureDbSidecars(path);
    }
  }

  put(rows: readonly OutboxRow[]): { dropped: number } {
    if (rows.length === 0) return { dropped: 0 };
    try {
      return this.db.transaction(() => {
        for (const r of rows) {
          if (this.insert.run(r).changes > 0) this.bytes += Buffer.byteLength(r.body);
        }
        let dropped = 0;
        while (this.bytes > this.maxBytes) {
          const gone = this.dropOldest.get() as { n: number } | undefined;
          if (!gone) break;
          this.bytes -= gone.n;
          dropped++;
        }
        if (dropped > 0) {
          this.droppedTotal += dropped;
          this.db
            .prepare(
              "INSERT INTO outbox_meta (key, value) VALUES ('dropped', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .run(this.droppedTotal);
        }
        return { dropped };
      })();
    } catch (e) {
      throw storageError(e, 'outbox: cannot store envelopes');
    }
  }

  next(
    limit: number,
    opts: { newest?: boolean; maxBytes?: number; now?: number; resendAfterMs: number },
  ): OutboxRow[] {
    const now = opts.now ?? Date.now();
    const rows = this.db
      .prepare(
        `SELECT id, run, seq, ts, body FROM outbox WHERE sent_at IS NULL OR sent_at <= ?
         ORDER BY id ${opts.newest ? 'DESC' : 'ASC'} LIMIT ?`,
      )
      .all(now - opts.resendAfterMs, limit) as (OutboxRow & { id: number })[];
    if (opts.newest) rows.reverse();
    let taken = rows;
    if (opts.maxBytes !== undefined) {
      let size = 0;
      let n = 0;
      for (const r of rows) {
        size += Buffer.byteLength(r.body);
        if (n > 0 && size > opts.maxBytes) break;
        n++;
      }
      // Newest first keeps the newest rows, oldest first the oldest.
      taken = opts.newest ? rows.slice(rows.length - n) : rows.slice(0, n);
    }
    if (taken.length > 0) {
      const mark = this.db.prepare('UPDATE outbox SET sent_at = ? WHERE id = ?');
      this.db.transaction(() => {
        for (const r of taken) mark.run(now, r.id);
      })();
    }
    return taken.map(({ run, seq, ts, body }) => ({ run, seq, ts, body }));
  }

  release(): void {
    this.db.prepare('UPDATE outbox SET sent_at = NULL WHERE sent_at IS NOT NULL').run();
  }

  ack(ranges: readonly { run: string; from: number; to: number }[]): number {
    const del = this.db.prepare(
      'DELETE FROM outbox WHERE run = ? AND seq BETWEEN ? AND ? RETURNING LENGTH(CAST(body AS BLOB)) AS n',
    );
    return this.db.transaction(() => {
      let n = 0;
      for (const r of ranges) {
        for (const g of del.all(r.run, r.from, r.to) as { n: number }[]) {
          this.bytes -= g.n;
          n++;
        }
      }
      return n;
    })();
  }

  count(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number }).n;
  }

  /** The bodies' bytes now. */
  size(): number {
    return this.bytes;
  }

  dropped(): number {
    return this.droppedTotal;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
