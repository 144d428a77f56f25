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
