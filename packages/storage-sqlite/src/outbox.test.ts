/**
 * The collector's outbox on a real SQLite file: oldest first, in flight until acked or
 * resent, acks delete, reopening keeps the rows, and the size bound drops the oldest rows
 * and counts them.
 */
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OUTBOX_FILE, SqliteOutbox } from './outbox.js';

const row = (seq: number, run = 'R1', size = 10) => ({
  run,
  seq,
  ts: 1000 + seq,
  body: JSON.stringify({ seq: String(seq).padStart(6, '0'), pad: 'x'.repeat(size) }),
});

describe('SqliteOutbox', () => {
  it('hands rows out oldest first (or newest), once until resent, and deletes acked ranges', () => {
    const dir = mkdtempSync(join(tmpdir(), 'obt-outbox-'));
    const o = SqliteOutbox.open({ dataDir: dir, maxBytes: 1e9 });
    o.put([1, 2, 3, 4, 5, 6].map((s) => row(s)));
    o.put([row(3)]); // a duplicate (run, seq): ignored
    expect(o.count()).toBe(6);
    expect(o.next(2, { resendAfterMs: 1000, now: 0 }).map((r) => r.seq)).toEqual([1, 2]);
    expect(o.next(2, { newest: true, resendAfterMs: 1000, now: 0 }).map((r) => r.seq)).toEqual([
      5, 6,
    ]);
    expect(o.next(10, { resendAfterMs: 1000, now: 0 }).map((r) => r.seq)).toEqual([3, 4]);
    expect(o.next(10, { resendAfterMs: 1000, now: 999 })).toEqual([]);
    // Unacked for the resend time: handed out again.
    expect(o.next(10, { resendAfterMs: 1000, now: 1000 }).map((r) => r.seq)).toEqual([
      1, 2, 3, 4, 5, 6,
    ]);
    expect(o.ack([{ run: 'R1', from: 2, to: 4 }])).toBe(3);
    expect(o.ack([{ run: 'R0', from: 1, to: 6 }])).toBe(0);
    o.release();
    expect(o.next(10, { resendAfterMs: 1000, now: 1000 }).map((r) => r.seq)).toEqual([1, 5, 6]);
    expect(o.next(10, { resendAfterMs: 1000, now: 5000, maxBytes: 1 }).length).toBe(1);
    o.close();
    expect(statSync(join(dir, OUTBOX_FILE)).mode & 0o777).toBe(0o600);
    const again = SqliteOutbox.open({ dataDir: dir, maxBytes: 1e9 });
    expect(again.count()).toBe(3);
    // Nothing is in flight after reopening.
    expect(again.next(10, { resendAfterMs: 1e9, now: 0 }).map((r) => r.seq)).toEqual([1, 5, 6]);
    again.close();
  });

  it('drops the oldest rows when full, and counts them across reopening', () => {
    const dir = mkdtempSync(join(tmpdir(), 'obt-outbox-'));
    const one = Buffer.byteLength(row(1, 'R1', 100).body);
    const o = SqliteOutbox.open({ dataDir: dir, maxBytes: one * 10 });
    expect(o.put([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((s) => row(s, 'R1', 100))).dropped).toBe(0);
    expect(o.put([11, 12, 13].map((s) => row(s, 'R1', 100))).dropped).toBe(3);
    expect(o.count()).toBe(10);
    expect(o.dropped()).toBe(3);
    expect(o.next(100, { resendAfterMs: 0 }).map((r) => r.seq)[0]).toBe(4);
    o.close();
    const again = SqliteOutbox.open({ dataDir: dir, maxBytes: one * 10 });
    expect(again.dropped()).toBe(3);
    expect(again.size()).toBe(one * 10);
    again.close();
  });
});
