/**
 * Remote collectors (issue 15, docs/collectors.md "Linking a collector"): the hello a collector
 * sends until it is claimed, the claim by serial and claim code, and the views of claimed
 * collectors. The patterns are the uplink contract's SERIAL_PATTERN and CLAIM_CODE_PATTERN
 * (gateway/uplink.ts; the server's collector test checks they agree). A claim takes the code
 * as a person types it (XXXX-XXXX, lower case, O for 0...): the server normalizes it.
 */
import type { FromSchema } from 'json-schema-to-ts';

const serialSchema = {
  type: 'string',
  pattern: '^OB[0-9A-HJKMNP-TV-Z]{10}$',
  description: 'The collector serial: OB and 10 characters of 0-9 A-Z (no I, L, O, U).',
} as const;

export const collectorHelloBody = {
  type: 'object',
  required: ['serial', 'claim_code', 'gateway_id'],
  additionalProperties: false,
  properties: {
    serial: serialSchema,
    claim_code: {
      type: 'string',
      pattern: '^[0-9A-HJKMNP-TV-Z]{8}$',
      description: 'The claim code, normalized: 8 characters of 0-9 A-Z (no I, L, O, U).',
    },
    gateway_id: {
      type: 'string',
      minLength: 1,
      maxLength: 64,
      pattern: '^[0-9A-Za-z_-]+$',
      description: "The collector's own gateway id (a ULID it made).",
    },
    version: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[\\x20-\\x7e]+$' },
  },
} as const;

export const collectorUnclaimedSchema = {
  type: 'object',
  required: ['status'],
  additionalProperties: false,
  properties: { status: { type: 'string', enum: ['unclaimed'] } },
} as const;

export const collectorClaimedSchema = {
  type: 'object',
  required: ['status', 'org_id', 'plant_id', 'broker', 'username', 'password'],
  additionalProperties: false,
  properties: {
    status: { type: 'string', enum: ['claimed'] },
    org_id: { type: 'string' },
    plant_id: { type: 'string' },
    broker: {
      type: 'object',
      required: ['url'],
      additionalProperties: false,
      properties: {
        url: { type: 'string', description: 'Where to connect: mqtt://host:1883, mqtts://…' },
      },
    },
    username: { type: 'string', description: 'The MQTT user name (and client id): the serial.' },
    password: {
      type: 'string',
      description:
        'The MQTT password: new at every hello (the previous one stops working); the server keeps its hash only.',
    },
  },
} as const;

export const collectorClaimBody = {
  type: 'object',
  required: ['serial', 'claim_code', 'plant_id'],
  additionalProperties: false,
  properties: {
    serial: {
      type: 'string',
      minLength: 12,
      maxLength: 12,
      description: 'The serial (any letter case), from the label, the console or the QR code.',
    },
    claim_code: {
      type: 'string',
      minLength: 8,
      maxLength: 16,
      description: 'The claim code as typed: XXXX-XXXX, any letter case, spaces and dashes.',
    },
    plant_id: { type: 'string', minLength: 1, maxLength: 64 },
  },
} as const;

export const collectorSerialParams = {
  type: 'object',
  required: ['serial'],
  properties: { serial: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;

export const collectorListQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { plant_id: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;

export const remoteCollectorSchema = {
  type: 'object',
  required: ['serial', 'gateway_id', 'state', 'first_seen_at', 'last_seen_at', 'online'],
  additionalProperties: false,
  properties: {
    serial: { type: 'string' },
    gateway_id: { type: 'string' },
    state: { type: 'string', enum: ['unclaimed', 'claimed', 'revoked'] },
    org_id: { type: 'string' },
    plant_id: { type: 'string' },
    version: { type: 'string', description: 'The software version its last hello named.' },
    first_seen_at: { type: 'integer' },
    last_seen_at: { type: 'integer', description: 'Its last hello or uplink message.' },
    claimed_at: { type: 'integer' },
    revoked_at: { type: 'integer' },
    online: {
      type: ['boolean', 'null'],
      description:
        'Whether it is connected to the uplink now; null when this server cannot tell (no uplink).',
    },
  },
} as const;

export type CollectorHello = FromSchema<typeof collectorHelloBody>;
export type CollectorClaimed = FromSchema<typeof collectorClaimedSchema>;
export type CollectorClaim = FromSchema<typeof collectorClaimBody>;
export type CollectorListQuery = FromSchema<typeof collectorListQuery>;
export type RemoteCollectorView = FromSchema<typeof remoteCollectorSchema>;
