/**
 * The live WebSocket (GET /api/v1/live): its query, what a client sends and every message
 * the server sends. The messages go out as JSON.stringify, not through a serializer: these
 * schemas are their documentation and the source of their types (the server's `send` takes
 * only a LiveMessage; the web's live store reads one).
 */
import type { FromSchema } from 'json-schema-to-ts';
import { alarmSchema } from './alarms.js';
import { roleSchema } from './common.js';
import type { Snapshot } from './packs.js';

export const liveQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { token: { type: 'string', maxLength: 200 } },
} as const;

const ids = {
  anyOf: [
    { type: 'string', const: '*' },
    { type: 'array', items: { type: 'string' } },
  ],
} as const;

/** What a client sends: `{"subscribe": ["<pack id>"] | "*"}`, `{"unsubscribe": ...}`. */
export const liveRequestSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { subscribe: ids, unsubscribe: ids },
} as const;

const helloMessage = {
  type: 'object',
  required: ['type', 'user', 'role'],
  additionalProperties: false,
  properties: { type: { const: 'hello' }, user: { type: 'string' }, role: roleSchema },
} as const;

const subscribedMessage = {
  type: 'object',
  required: ['type', 'packs', 'unknown'],
  additionalProperties: false,
  properties: {
    type: { const: 'subscribed' },
    packs: ids,
    unknown: { type: 'array', items: { type: 'string' }, description: 'Ids of no pack.' },
  },
} as const;

const snapshotMessage = {
  type: 'object',
  required: ['type', 'pack_id', 'ts', 'snapshot'],
  additionalProperties: false,
  properties: {
    type: { const: 'snapshot' },
    pack_id: { type: 'string' },
    ts: { type: 'integer', description: 'When the pack was read (ms).' },
    sent_at: { type: 'integer', description: 'When the gateway sent it (ms).' },
    dropped_before: {
      type: 'integer',
      description: 'Snapshots not sent to this slow client since the last one.',
    },
    online: { type: 'boolean', description: 'On the first snapshot after subscribing.' },
    snapshot: { type: 'object', additionalProperties: true },
  },
} as const;

const onlineMessage = {
  type: 'object',
  required: ['type', 'pack_id', 'ts', 'online'],
  additionalProperties: false,
  properties: {
    type: { const: 'online' },
    pack_id: { type: 'string' },
    ts: { type: 'integer' },
    online: { type: 'boolean' },
    reason: { type: 'string' },
  },
} as const;

const alarmMessage = {
  type: 'object',
  required: ['type', 'state', 'alarm'],
  additionalProperties: false,
  properties: {
    type: { const: 'alarm' },
    state: { type: 'string', enum: ['raised', 'cleared', 'acknowledged'] },
    alarm: alarmSchema,
  },
} as const;

const roleMessage = {
  type: 'object',
  required: ['type', 'role'],
  additionalProperties: false,
  properties: { type: { const: 'role' }, role: roleSchema },
} as const;

const errorMessage = {
  type: 'object',
  required: ['type', 'error', 'code'],
  additionalProperties: false,
  properties: {
    type: { const: 'error' },
    error: { type: 'string' },
    code: { type: 'string' },
    field: { type: 'string' },
    retry_after_s: { type: 'integer' },
    issues: { type: 'array' },
    rolled_back: { type: 'array' },
    not_restored: { type: 'array' },
    parameters: {},
  },
} as const;

const scanMessage = {
  type: 'object',
  required: ['type', 'scan'],
  additionalProperties: false,
  description:
    "A bus scan's progress (admins of the box only): started, each address asked, each pack that answered, ended.",
  properties: {
    type: { const: 'scan' },
    scan: {
      type: 'object',
      required: ['id', 'state', 'total', 'probed', 'found'],
      additionalProperties: true,
      properties: {
        id: { type: 'string' },
        port: { type: 'string' },
        protocol: { type: 'string' },
        state: { enum: ['running', 'done', 'failed'] },
        total: { type: 'integer' },
        probed: { type: 'integer' },
        current: { type: 'integer', description: 'The address being asked now.' },
        found: {
          type: 'array',
          items: {
            type: 'object',
            required: ['address'],
            additionalProperties: true,
            properties: {
              address: { type: 'integer' },
              model: { type: 'string' },
              serial: { type: 'string' },
              cell_count: { type: 'integer' },
              voltage_v: { type: 'number' },
              soc_pct: { type: 'number' },
            },
          },
        },
        error: { type: 'string' },
      },
    },
  },
} as const;

/** Every message the server sends on the live socket. */
export const liveMessageSchema = {
  oneOf: [
    helloMessage,
    subscribedMessage,
    snapshotMessage,
    onlineMessage,
    alarmMessage,
    roleMessage,
    errorMessage,
    scanMessage,
  ],
} as const;

export type LiveQuery = FromSchema<typeof liveQuery>;
export type LiveRequest = FromSchema<typeof liveRequestSchema>;
/** A snapshot message; the snapshot is core's canonical Reading. */
export type LiveSnapshotMessage = Omit<FromSchema<typeof snapshotMessage>, 'snapshot'> & {
  snapshot: Snapshot;
};
export type LiveMessage =
  | FromSchema<typeof helloMessage>
  | FromSchema<typeof subscribedMessage>
  | LiveSnapshotMessage
  | FromSchema<typeof onlineMessage>
  | FromSchema<typeof alarmMessage>
  | FromSchema<typeof roleMessage>
  | FromSchema<typeof errorMessage>
  | FromSchema<typeof scanMessage>;
/** An alarm's state change as the live socket says it. */
export type LiveAlarmState = FromSchema<typeof alarmMessage>['state'];
