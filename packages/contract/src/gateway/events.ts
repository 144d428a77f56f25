/**
 * The gateway's event stream as it crosses the seam: every event in a versioned envelope with
 * the gateway's id and a sequence number, so a consumer on the other side of a network can
 * order, de-duplicate and notice gaps.
 *
 * - `seq` counts from 1 within a `run` (one stream of one gateway, a ULID made when the stream
 *   starts) and grows by exactly one per event. A consumer keeps the last (run, seq) per
 *   gateway: a seq at or below it is a duplicate (drop it), one more than one above it is a gap
 *   (events were missed: read the state again through the read model). A new run resets the
 *   count (the gateway restarted); runs are ULIDs, so the newer one sorts last.
 * - `ts` is when the event happened at the gateway (a snapshot: when the pack was read; an
 *   alarm: when it was raised, cleared or acknowledged).
 * - Events carry state, not differences: a snapshot is whole, `online` says the state, an alarm
 *   event is the whole record. A missed event is repaired by the next one or by a read.
 */
import { z } from 'zod';
import {
  alarmEventWireSchema,
  commandStatusWireSchema,
  idSchema,
  msSchema,
  packIdSchema,
  readingSchema,
  versionSchema,
} from './common.js';

const head = {
  v: versionSchema,
  gatewayId: idSchema,
  run: idSchema,
  seq: z.number().int().min(1, 'seq counts from 1'),
  ts: msSchema,
};

export const snapshotEventSchema = z.object({
  ...head,
  type: z.literal('snapshot'),
  packId: packIdSchema,
  snapshot: readingSchema,
});

export const onlineEventSchema = z.object({
  ...head,
  type: z.literal('online'),
  packId: packIdSchema,
  online: z.boolean(),
  /** Why a pack went offline (the last error), when known. */
  reason: z.string().optional(),
});

export const ALARM_STATES = ['raised', 'cleared', 'acknowledged'] as const;

export const alarmEventSchema = z.object({
  ...head,
  type: z.literal('alarm'),
  state: z.enum(ALARM_STATES),
  alarm: alarmEventWireSchema,
});

/** A control command's status, each time it is recorded (done, refused or failed). */
export const commandEventSchema = z.object({
  ...head,
  type: z.literal('command'),
  command: commandStatusWireSchema,
});

/** Any event of the stream; `type` says which. */
export const gatewayEventSchema = z.discriminatedUnion('type', [
  snapshotEventSchema,
  onlineEventSchema,
  alarmEventSchema,
  commandEventSchema,
]);

export type GatewayEnvelope = z.infer<typeof gatewayEventSchema>;
export type GatewayEventType = GatewayEnvelope['type'];
/** An envelope's event without the envelope's head (what a gateway emits before it is stamped). */
export type GatewayEventBody = DistributiveOmit<GatewayEnvelope, 'v' | 'gatewayId' | 'run' | 'seq'>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** The event types, in the order of the schema's options. */
export const GATEWAY_EVENT_TYPES = gatewayEventSchema.options.map(
  (o) => o.shape.type.value,
) as readonly GatewayEventType[];
