/** Tracker positions and mileage (issue 17, docs/trackers.md). */
import type { FromSchema } from 'json-schema-to-ts';
import { timeSchema } from './common.js';

export const positionsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    from: {
      ...timeSchema,
      description:
        'Start (device time, inclusive): ms since the epoch or ISO 8601. Default: 24 h before `to`.',
    },
    to: {
      ...timeSchema,
      description: 'End (device time, exclusive). Default: now.',
    },
  },
} as const;
export type PositionsQuery = FromSchema<typeof positionsQuery>;

export const positionSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['t', 'lat', 'lon'],
  properties: {
    t: { type: 'integer', description: 'Device time of the fix, ms since the epoch (UTC).' },
    lat: { type: 'number', minimum: -90, maximum: 90 },
    lon: { type: 'number', minimum: -180, maximum: 180 },
    speed_kmh: { type: 'number' },
    course: { type: 'number', description: 'Degrees clockwise from north.' },
    alt_m: { type: 'number' },
    satellites: { type: 'integer' },
  },
} as const;
export type PositionView = FromSchema<typeof positionSchema>;

export const positionListSchema = {
  type: 'array',
  description: 'The fixes in the range, by device time (at most 100,000).',
  items: positionSchema,
} as const;

export const mileageQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...positionsQuery.properties,
    step: {
      type: 'string',
      enum: ['day', 'month'],
      default: 'day',
      description: 'Periods of UTC days or months.',
    },
  },
} as const;
export type MileageQuery = FromSchema<typeof mileageQuery>;

export const mileageSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['total_km', 'periods'],
  properties: {
    total_km: { type: 'number' },
    periods: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['from', 'to', 'km'],
        properties: {
          from: { type: 'integer', description: 'Period start, ms (UTC).' },
          to: { type: 'integer', description: 'Period end (exclusive), ms.' },
          km: { type: 'number' },
        },
      },
    },
  },
} as const;
export type MileageView = FromSchema<typeof mileageSchema>;

/** GET /map: the console's map tiles (config `web.map`; docs/trackers.md "Map and playback"). */
export const mapConfigSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['attribution', 'max_zoom'],
  properties: {
    tiles: {
      type: 'string',
      description:
        'Tile URL template (`{z}`, `{x}`, `{y}`, optional `{s}`); absent: no tiles, the console draws a graticule.',
    },
    attribution: { type: 'string', description: 'Shown in the map’s corner (the tiles’ licence).' },
    max_zoom: { type: 'integer', minimum: 0, maximum: 22 },
  },
} as const;
export type MapConfigView = FromSchema<typeof mapConfigSchema>;

export const fleetPositionsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    status: {
      type: 'string',
      enum: ['all', 'online', 'offline', 'expired', 'expiring', 'not_enabled'],
      default: 'all',
      description: 'The device list’s status tabs.',
    },
    org: {
      type: 'string',
      minLength: 1,
      maxLength: 64,
      description: 'Only this organisation’s subtree (one the caller sees).',
    },
  },
} as const;
export type FleetPositionsQuery = FromSchema<typeof fleetPositionsQuery>;

export const fleetPositionSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['device_id', 'serial', 'org_id', 'org_name', 'online', 'activation', 'fix'],
  properties: {
    device_id: { type: 'string' },
    serial: { type: 'string' },
    nickname: { type: 'string' },
    org_id: { type: 'string' },
    org_name: { type: 'string' },
    online: { type: 'boolean', description: 'Reported within the last 2 minutes.' },
    activation: { type: 'string', enum: ['enabled', 'not_enabled'] },
    expires_at: { type: 'integer' },
    last_seen_at: { type: 'integer' },
    fix: {
      type: 'object',
      additionalProperties: false,
      required: ['t', 'received_at', 'lat', 'lon'],
      description: 'The last fix by device time.',
      properties: {
        ...positionSchema.properties,
        received_at: { type: 'integer' },
        soc: {
          type: 'number',
          description: 'Battery state of charge, % (when the tracker reports it).',
        },
        voltage: { type: 'number', description: 'Battery voltage, V (when reported).' },
        signal: {
          type: 'number',
          description: 'Mobile signal strength the tracker reported (JT/T 808 item 0x30, 0-31).',
        },
        iccid: { type: 'string', description: "The SIM card's ICCID (when reported)." },
      },
    },
  },
} as const;
export type FleetPositionView = FromSchema<typeof fleetPositionSchema>;

export const fleetPositionsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['trackers', 'truncated'],
  properties: {
    trackers: {
      type: 'array',
      items: fleetPositionSchema,
      description: 'Tracker devices with at least one fix (at most 10,000).',
    },
    truncated: {
      type: 'boolean',
      description: 'More than 10,000 tracker devices matched: narrow with `org` or `status`.',
    },
  },
} as const;
export type FleetPositionsView = FromSchema<typeof fleetPositionsSchema>;

export const lastPositionSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { fix: fleetPositionSchema.properties.fix },
} as const;
export type LastPositionView = FromSchema<typeof lastPositionSchema>;
