/**
 * Link timing from the line settings: the character time, the inter-frame gap (3.5
 * character times as Modbus RTU defines it, never below 5 ms: USB adapters and BMS
 * firmware need the quiet time more than the wire does) and a reply timeout long enough for
 * the slowest firmware plus the longest reply of any family at that baud.
 */
import { BmsError } from '@openbms/core';
import type { ProtocolDefinition } from '@openbms/protocols';
import type { LinkSettings } from '@openbms/transport';

export interface BusTiming {
  /** Time of one character on the wire (start + data + parity + stop bits), ms. */
  charMs: number;
  /** Quiet time before each request, ms. */
  gapMs: number;
  /** Time allowed for a reply (restarted by each frame of a multi-frame reply), ms. */
  timeoutMs: number;
}

export interface TimingOverrides {
  gapMs?: number;
  timeoutMs?: number;
  /** Firmware reaction time budgeted in the timeout (default 150 ms). */
  latencyMs?: number;
  /** Longest reply budgeted in the timeout, bytes (default 400: a JK record and its ACK). */
  maxReplyBytes?: number;
}

export const MIN_GAP_MS = 5;
const DEFAULT_LATENCY_MS = 150;
const DEFAULT_MAX_REPLY_BYTES = 400;

function positive(name: string, v: number | undefined, allowZero = false): void {
  if (v === undefined) return;
  if (!Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) {
    throw new BmsError(
      'CONFIG_INVALID',
      `${name} must be a ${allowZero ? 'non-negative' : 'positive'} number (got ${v})`,
    );
  }
}

/** Bits one character takes on the wire. */
export function charBits(link: LinkSettings): number {
  const parity = link.parity && link.parity !== 'none' ? 1 : 0;
  return 1 + (link.dataBits ?? 8) + parity + (link.stopBits ?? 1);
}

/** Wire time of `bytes` characters at the link's settings, ms. */
export function wireMs(bytes: number, link: LinkSettings): number {
  return (bytes * charBits(link) * 1000) / link.baud;
}

export function busTiming(link: LinkSettings, o: TimingOverrides = {}): BusTiming {
  positive('baud', link.baud);
  positive('gapMs', o.gapMs, true);
  positive('timeoutMs', o.timeoutMs);
  positive('latencyMs', o.latencyMs, true);
  positive('maxReplyBytes', o.maxReplyBytes);
  const charMs = wireMs(1, link);
  const gapMs = o.gapMs ?? Math.max(MIN_GAP_MS, Math.ceil(3.5 * charMs));
  const timeoutMs =
    o.timeoutMs ??
    (o.latencyMs ?? DEFAULT_LATENCY_MS) +
      Math.ceil((o.maxReplyBytes ?? DEFAULT_MAX_REPLY_BYTES) * charMs);
  return { charMs, gapMs, timeoutMs };
}

/** The family's line settings with the given overrides. */
export function linkOf(def: ProtocolDefinition, o: Partial<LinkSettings> = {}): LinkSettings {
  return {
    baud: o.baud ?? def.link.baud,
    dataBits: o.dataBits ?? def.link.dataBits,
    parity: o.parity ?? def.link.parity,
    stopBits: o.stopBits ?? def.link.stopBits,
  };
}
