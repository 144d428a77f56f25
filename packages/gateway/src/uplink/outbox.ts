/**
 * The collector's outbox (docs/collectors.md "Outbox"): every envelope of the gateway's stream
 * waits here until the cloud acknowledges it has stored it. The gateway names what it needs;
 * the CLI passes the SQLite one (`@openbms/storage-sqlite`'s `SqliteOutbox`), tests may too.
 */

/** One envelope as the outbox keeps it: its key (run, seq), its time and its JSON text. */
export interface OutboxRow {
  run: string;
  seq: number;
  ts: number;
  body: string;
}

export interface OutboxNextOptions {
  /** Newest rows first (the live end) instead of oldest first; rows come back oldest first. */
  newest?: boolean;
  /** Stop adding rows once their bodies reach this many bytes (at least one row comes back). */
  maxBytes?: number;
  /** Now, ms (tests). */
  now?: number;
  /** Rows sent this long ago without an ack count as not in flight any more. */
  resendAfterMs: number;
}

export interface Outbox {
  /**
   * Keeps rows (a row whose (run, seq) is there already is ignored). When the outbox goes
   * over its bound the oldest rows are deleted: `dropped` says how many this time.
   */
  put(rows: readonly OutboxRow[]): { dropped: number };
  /** Up to `limit` rows not in flight, oldest first (or the newest ones), marked in flight now. */
  next(limit: number, opts: OutboxNextOptions): OutboxRow[];
  /** Every row is not in flight any more (a new connection sends them again). */
  release(): void;
  /** Deletes the rows of these ranges (both ends included); answers how many went. */
  ack(ranges: readonly { run: string; from: number; to: number }[]): number;
  /** Rows waiting. */
  count(): number;
  /** Rows deleted unsent because the outbox was full, since it was created. */
  dropped(): number;
  close(): void;
}
