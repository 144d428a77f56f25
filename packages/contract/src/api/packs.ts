/** Packs, sites, buses, history and health. */
import type { Reading } from '@openbms/core';
import type { FromSchema } from 'json-schema-to-ts';
import { timeSchema } from './common.js';

/** The canonical JSON of a pack (snake_case keys, units in the names). */
export const snapshotSchema = {
  type: ['object', 'null'],
  additionalProperties: true,
  description: 'Latest canonical snapshot (voltage_v, current_a, soc_pct, cell_mv...), or null.',
} as const;

export const linkSchema = {
  type: 'object',
  required: ['requests', 'replies', 'retries', 'timeouts', 'checksum_errors', 'polls', 'failures'],
  additionalProperties: false,
  properties: {
    requests: { type: 'integer' },
    replies: { type: 'integer' },
    retries: { type: 'integer' },
    timeouts: { type: 'integer' },
    checksum_errors: { type: 'integer' },
    polls: { type: 'integer' },
    failures: { type: 'integer' },
    last_error: { type: 'string' },
  },
} as const;

export const packSchema = {
  type: 'object',
  required: [
    'id',
    'name',
    'site',
    'bus',
    'address',
    'protocol',
    'chemistry',
    'online',
    'last_seen',
    'snapshot',
    'link',
  ],
  additionalProperties: false,
  properties: {
    id: { type: 'string', description: '`<site>/<bus>/<address>`; URL-encode it in paths.' },
    name: { type: 'string' },
    site: { type: 'string' },
    bus: { type: 'string' },
    address: { type: 'integer' },
    protocol: { type: 'string' },
    chemistry: { type: 'string', enum: ['lfp', 'nmc'] },
    variant: { type: 'string' },
    online: { type: 'boolean' },
    last_seen: { type: ['integer', 'null'], description: 'Last successful poll (ms) or null.' },
    snapshot: snapshotSchema,
    link: linkSchema,
  },
} as const;

export const siteSchema = {
  type: 'object',
  required: ['id', 'name'],
  additionalProperties: false,
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    time_zone: {
      type: 'string',
      description:
        "The IANA zone the site's times are shown in (location.timezone, else the host's).",
    },
  },
} as const;

/** A gateway (collector) the caller sees: what attaching one to a plant picks from. */
export const gatewaySchema = {
  type: 'object',
  required: ['id', 'org_id', 'controls', 'sites', 'packs', 'manage'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', description: "The gateway's id (a plant's collector key)." },
    org_id: { type: 'string', description: 'The organisation it belongs to.' },
    controls: { type: 'boolean', description: 'Whether it runs control commands.' },
    sites: { type: 'array', items: siteSchema },
    packs: { type: 'integer', description: 'How many packs it polls.' },
    manage: {
      type: 'boolean',
      description: 'Whether the caller administers it (may attach it to a plant).',
    },
  },
} as const;

export const busSchema = {
  type: 'object',
  required: ['id', 'site', 'port', 'protocol', 'packs'],
  additionalProperties: false,
  properties: {
    id: { type: 'string' },
    site: { type: 'string' },
    port: { type: 'string', description: 'Serial path or tcp://host:port.' },
    protocol: { type: 'string' },
    packs: { type: 'array', items: { type: 'string' } },
    baud: { type: 'integer', description: "The line's baud rate (configured, else the family's)." },
    parity: { enum: ['none', 'even', 'odd'] },
    stop_bits: { enum: [1, 2] },
  },
} as const;

export const seriesSchema = {
  type: 'object',
  required: ['t', 'avg', 'min', 'max'],
  additionalProperties: false,
  properties: {
    t: { type: 'array', items: { type: 'number' } },
    avg: { type: 'array', items: { type: 'number' } },
    min: { type: 'array', items: { type: 'number' } },
    max: { type: 'array', items: { type: 'number' } },
  },
} as const;

export const HISTORY_RESOLUTIONS = ['raw', '1m', '15m', '1h'] as const;

export const historySchema = {
  type: 'object',
  required: ['pack_id', 'resolution', 'from', 'to', 'series'],
  additionalProperties: false,
  properties: {
    pack_id: { type: 'string' },
    resolution: { type: 'string', enum: HISTORY_RESOLUTIONS },
    from: { type: 'integer' },
    to: { type: 'integer' },
    series: { type: 'object', additionalProperties: seriesSchema },
  },
} as const;

export const historyQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    from: timeSchema,
    to: timeSchema,
    fields: {
      type: 'string',
      minLength: 1,
      maxLength: 4000,
      description: 'Comma-separated series: soc_pct,voltage_v,cell_mv.0 or cell_mv for all cells.',
    },
    resolution: { type: 'string', enum: ['auto', ...HISTORY_RESOLUTIONS] },
  },
} as const;

/** The storage problems /health can name, the most serious first. */
export const STORAGE_CODES = [
  'STORAGE_UNAVAILABLE',
  'STORAGE_FULL',
  'STORAGE_CORRUPT',
  'STORAGE_READ_ONLY',
  'STORAGE_FAILED',
] as const;

export const healthSchema = {
  type: 'object',
  required: ['status', 'uptime_s', 'packs_online', 'packs_total'],
  additionalProperties: false,
  properties: {
    status: { type: 'string', enum: ['ok', 'degraded'] },
    code: { type: 'string', enum: STORAGE_CODES },
    message: { type: 'string' },
    problems: {
      type: 'array',
      items: {
        type: 'object',
        required: ['code', 'message', 'since'],
        additionalProperties: false,
        properties: {
          code: { type: 'string', enum: STORAGE_CODES },
          message: { type: 'string' },
          since: { type: 'integer', description: 'ms since the epoch' },
          files: { type: 'array', items: { type: 'string' } },
        },
      },
    },
    samples_waiting: {
      type: 'integer',
      description: 'Samples kept in memory until the store takes them.',
    },
    records_waiting: {
      type: 'integer',
      description: 'Alarm events, audit entries and sessions kept in memory likewise.',
    },
    uptime_s: { type: 'integer' },
    packs_online: { type: 'integer' },
    packs_total: { type: 'integer' },
  },
} as const;

/** The snapshot as sent: the schema leaves it open; its shape is core's canonical Reading. */
export type Snapshot = Reading;
export type LinkView = FromSchema<typeof linkSchema>;
export type PackView = Omit<FromSchema<typeof packSchema>, 'snapshot'> & {
  snapshot: Snapshot | null;
};
export type SiteView = FromSchema<typeof siteSchema>;
export type BusView = FromSchema<typeof busSchema>;
export type GatewayView = FromSchema<typeof gatewaySchema>;
export type HistorySeries = FromSchema<typeof seriesSchema>;
export type HistoryView = FromSchema<typeof historySchema>;
export type HistoryQuery = FromSchema<typeof historyQuery>;
export type HealthView = FromSchema<typeof healthSchema>;
