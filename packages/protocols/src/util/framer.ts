import type { ErrorCode } from '@openbms/core';
import type { Framer, FramerEvent } from '../types.js';

/** What a family's rule says about the bytes at a candidate frame start. */
export type Probe =
  | { kind: 'frame'; length: number }
  | { kind: 'more' }
  | { kind: 'reject'; code: ErrorCode; reason: string };

/**
 * The per-family part of framing: where a frame may start, and whether the bytes from
 * there make a whole valid frame (length rule plus checksum). Everything else (buffering,
 * resynchronising, reporting discarded bytes) is shared by createFramer.
 */
export interface FrameRule {
  /** Cheap test: could a frame start at buf[i]? (start marker) */
  isStart(buf: Uint8Array, i: number, end: number): boolean;
  /** Inspects buf[start..end): a whole frame, not enough bytes yet, or not a frame here. */
  probe(buf: Uint8Array, start: number, end: number): Probe;
  /** No frame of the family is longer; a candidate still incomplete beyond this is dropped. */
  maxLength: number;
}

/**
 * Builds a stream framer from a rule. After a rejected candidate it drops one byte and
 * searches again, so a real frame hidden behind a false start marker is still found;
 * consecutive dropped bytes are reported as one run with the reason of its first byte.
 */
export function createFramer(rule: FrameRule): Framer {
  let buf = new Uint8Array(Math.max(64, rule.maxLength * 2));
  let head = 0;
  let tail = 0;
  // The open discard run (bytes runStart..head are being dropped), reported when it ends.
  let runStart = -1;
  let runCode: ErrorCode = 'FRAME_NO_START';
  let runReason = '';

  const append = (chunk: Uint8Array): void => {
    if (tail + chunk.length > buf.length) {
      // Discard runs are closed at the end of every scan, so only head..tail is live.
      const live = tail - head;
      const size = Math.max(buf.length, (live + chunk.length) * 2);
      const next = size === buf.length ? buf : new Uint8Array(size);
      next.set(buf.subarray(head, tail), 0);
      buf = next;
      head = 0;
      tail = live;
    }
    buf.set(chunk, tail);
    tail += chunk.length;
  };

  const closeRun = (out: FramerEvent[]): void => {
    if (runStart >= 0 && head > runStart) {
      out.push({
        type: 'discard',
        bytes: buf.slice(runStart, head),
        code: runCode,
        reason: runReason,
      });
    }
    runStart = -1;
  };

  const drop = (n: number, code: ErrorCode, reason: string): void => {
    if (runStart < 0) {
      runStart = head;
      runCode = code;
      runReason = reason;
    }
    head += n;
  };

  const scan = (out: FramerEvent[], final: boolean): void => {
    while (head < tail) {
      if (!rule.isStart(buf, head, tail)) {
        drop(1, 'FRAME_NO_START', 'bytes outside any frame (no start marker)');
        continue;
      }
      const p = rule.probe(buf, head, tail);
      if (p.kind === 'frame') {
        closeRun(out);
        out.push({ type: 'frame', bytes: buf.slice(head, head + p.length) });
        head += p.length;
        continue;
      }
      if (p.kind === 'reject') {
        drop(1, p.code, p.reason);
        continue;
      }
      // Incomplete candidate. If a whole valid frame starts further on, this candidate was
      // a false start (garbage that looks like a header, or a frame cut short): drop it now
      // instead of holding the real frame back until maxLength bytes have piled up.
      const later = findLaterFrame(rule, buf, head + 1, tail);
      if (later >= 0) {
        drop(later - head, 'FRAME_TRUNCATED', 'frame start whose rest never came');
        continue;
      }
      if (tail - head > rule.maxLength) {
        drop(1, 'FRAME_TOO_LONG', `no complete frame within ${rule.maxLength} bytes`);
        continue;
      }
      if (final) {
        drop(tail - head, 'FRAME_TRUNCATED', 'stream ended inside a frame');
        continue;
      }
      break;
    }
    closeRun(out);
    if (head === tail) {
      head = 0;
      tail = 0;
    }
  };

  return {
    push(chunk: Uint8Array): FramerEvent[] {
      const out: FramerEvent[] = [];
      if (chunk.length === 0) return out;
      append(chunk);
      scan(out, false);
      return out;
    },
    end(): FramerEvent[] {
      const out: FramerEvent[] = [];
      scan(out, true);
      head = 0;
      tail = 0;
      return out;
    },
    get pending(): number {
      return tail - head;
    },
    reset(): void {
      head = 0;
      tail = 0;
      runStart = -1;
    },
  };
}

function findLaterFrame(rule: FrameRule, buf: Uint8Array, from: number, end: number): number {
  for (let j = from; j < end; j++) {
    if (rule.isStart(buf, j, end) && rule.probe(buf, j, end).kind === 'frame') return j;
  }
  return -1;
}
