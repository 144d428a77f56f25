/**
 * The collector uplink (issue 15): how a site's gateway (a collector) and the fleet cloud talk
 * over MQTT, as zod schemas both ends check on arrival. The seam's own messages (envelopes,
 * commands, results: events.ts, commands.ts) travel inside these. The protocol is written out
 * in docs/collectors.md ("The uplink protocol").
 *
 * It needs MQTT 3.1.1 only (QoS 1, retained messages, a last will): expiry, reply routing and
 * acknowledgement are in the payloads, so any broker carries it (the cloud's embedded one, or
 * Mosquitto, EMQX, NATS's MQTT interface) and a shared subscription can spread the ingest.
 *
 * Topics, every one under `openbms/v1/<serial>/` (a collector may publish and subscribe under
 * its own serial only):
 *
 * | topic              | from → to           | QoS | payload                                 |
 * | ------------------ | ------------------- | --- | --------------------------------------- |
 * | `up`               | collector → cloud   | 1   | `UplinkBatch`: envelopes from the outbox |
 * | `ack`              | cloud → collector   | 1   | `UplinkAck`: what the cloud has stored   |
 * | `status`           | collector → cloud   | 1   | `CollectorStatus`, retained; the will says offline |
 * | `cmd`              | cloud → collector   | 1   | `Downlink`: a command or a read          |
 * | `res/<node>`       | collector → cloud   | 1   | `Reply`: to the cloud node that asked    |
 *
 * Delivery: the collector keeps every envelope in its outbox until an `ack` names it (the
 * cloud acknowledges after storing, not on receipt), and sends again what stays unacknowledged;
 * the cloud's ingest is idempotent (a sample's key is its pack and time, an alarm's its id), so
 * a second delivery changes nothing.
 */
import { z } from 'zod';
import { gatewayCommandSchema } from './commands.js';
import { idSchema, msSchema, versionSchema } from './common.js';
import { SERIAL_PATTERN } from './claim.js';
import { gatewayEventSchema } from './events.js';

/** The root of every uplink topic; the version changes with an incompatible protocol. */
export const UPLINK_ROOT = 'openbms/v1';

export * from './claim.js';

export const serialSchema = z
  .string()
  .regex(SERIAL_PATTERN, 'must be a collector serial: OB and 10 characters of 0-9 A-Z');

export interface UplinkTopics {
  up: string;
  ack: string;
  status: string;
  cmd: string;
  /** The reply topic of one cloud node. */
  res(node: string): string;
}

export function uplinkTopics(serial: string): UplinkTopics {
  const base = `${UPLINK_ROOT}/${serial}`;
  return {
    up: `${base}/up`,
    ack: `${base}/ack`,
    status: `${base}/status`,
    cmd: `${base}/cmd`,
    res: (node) => `${base}/res/${node}`,
  };
}

/** The serial a topic is under (undefined: not an uplink topic), and what follows it. */
export function parseUplinkTopic(topic: string): { serial: string; rest: string } | undefined {
  const m = /^openbms\/v1\/([^/]+)\/(.+)$/.exec(topic);
  return m ? { serial: m[1]!, rest: m[2]! } : undefined;
}

/** The most envelopes one `up` message carries. */
export const MAX_BATCH_EVENTS = 500;
/** The largest payload either side accepts (after inflating), bytes. */
export const MAX_UPLINK_BYTES = 1_048_576;

/**
 * `up`: envelopes from the collector's outbox, oldest first. They may span runs (a backlog from
 * before a restart drains with the new run's events); each envelope names its own run and seq.
 */
export const uplinkBatchSchema = z.object({
  v: versionSchema,
  gatewayId: idSchema,
  events: z.array(gatewayEventSchema).min(1).max(MAX_BATCH_EVENTS),
});
export type UplinkBatch = z.infer<typeof uplinkBatchSchema>;

/** A range of sequence numbers of one run, both ends included. */
export const seqRangeSchema = z
  .object({
    run: idSchema,
    from: z.number().int().min(1),
    to: z.number().int().min(1),
  })
  .refine((r) => r.to >= r.from, { message: 'to must be at least from', path: ['to'] });
export type SeqRange = z.infer<typeof seqRangeSchema>;

/** `ack`: the envelopes the cloud has stored; the collector deletes them from its outbox. */
export const uplinkAckSchema = z.object({
  v: versionSchema,
  ranges: z.array(seqRangeSchema).min(1).max(1000),
});
export type UplinkAck = z.infer<typeof uplinkAckSchema>;

/**
 * `status` (retained): the collector says it is online when it connects; its last will (set at
 * connect, published by the broker when the connection is lost) says offline.
 */
export const collectorStatusSchema = z.object({
  v: versionSchema,
  online: z.boolean(),
  /** When the collector said it (absent in the will, which the broker sends later). */
  ts: msSchema.optional(),
  /** The run of its event stream now. */
  run: idSchema.optional(),
  /** The collector's software version. */
  version: z.string().max(64).optional(),
  /** Envelopes waiting in its outbox. */
  backlog: z.number().int().nonnegative().optional(),
  /** Envelopes its outbox deleted unsent because it was full, since it was made. */
  dropped: z.number().int().nonnegative().optional(),
});
export type CollectorStatus = z.infer<typeof collectorStatusSchema>;

/** The reads of the seam's read model a cloud node may ask a collector for (`GatewayReadModel`). */
export const READ_METHODS = [
  'packs',
  'pack',
  'sites',
  'buses',
  'activeAlarms',
  'alarmCounts',
  'storageStatus',
  'commands',
  'capabilities',
  'readParameters',
  'exportParameters',
  'diffParameters',
  'readClock',
  'readRecords',
  'exportRecords',
  'readInverterProtocol',
] as const;
export type ReadMethod = (typeof READ_METHODS)[number];

/** A cloud node's id in reply topics. */
export const nodeIdSchema = z
  .string()
  .regex(/^[0-9A-Za-z_-]{1,64}$/, 'must be 1-64 characters of 0-9 A-Z a-z _ -');

const downHead = {
  v: versionSchema,
  /** The request's id (a ULID), echoed in the reply. */
  id: idSchema,
  /** The node that waits for the reply: the collector answers on `res/<replyTo>`. */
  replyTo: nodeIdSchema,
  /** After this the sender has given up: the collector drops it unanswered (never runs it). */
  expiresAt: msSchema,
};

/** `cmd`: a command for the collector's safe control path, or a read of its read model. */
export const downlinkSchema = z.discriminatedUnion('kind', [
  z.object({ ...downHead, kind: z.literal('command'), command: gatewayCommandSchema }),
  z.object({
    ...downHead,
    kind: z.literal('read'),
    method: z.enum(READ_METHODS),
    /** The read's arguments, in the method's order (a pack id, a file, a start and count). */
    args: z.array(z.unknown()).max(3),
  }),
]);
export type Downlink = z.infer<typeof downlinkSchema>;

/** `res/<node>`: the answer to one downlink (a command's `CommandResult`, or the read's value). */
export const replySchema = z.discriminatedUnion('ok', [
  z.object({ v: versionSchema, id: idSchema, ok: z.literal(true), value: z.unknown() }),
  z.object({
    v: versionSchema,
    id: idSchema,
    ok: z.literal(false),
    error: z.object({
      code: z.string().min(1).max(64),
      message: z.string().max(2000),
      details: z.record(z.string(), z.unknown()).optional(),
    }),
  }),
]);
export type Reply = z.infer<typeof replySchema>;
