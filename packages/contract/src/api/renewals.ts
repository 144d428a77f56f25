/**
 * Service renewals of devices (issue 17, seed 003: 1 year, 2 years, lifetime;
 * docs/trackers.md "Renewals"): the renewal request and the history rows.
 */
import type { FromSchema } from 'json-schema-to-ts';
import { timeSchema } from './common.js';

export const renewalPeriodSchema = {
  type: 'string',
  enum: ['1y', '2y', 'lifetime'],
  description: '1 year, 2 years, or lifetime (never expires).',
} as const;

export const renewBody = {
  type: 'object',
  required: ['ids', 'period'],
  additionalProperties: false,
  properties: {
    ids: {
      type: 'array',
      minItems: 1,
      maxItems: 500,
      uniqueItems: true,
      items: { type: 'string', minLength: 1, maxLength: 64 },
      description: 'The devices to renew (all or none).',
    },
    period: renewalPeriodSchema,
  },
} as const;
export type RenewBody = FromSchema<typeof renewBody>;

export const renewalSchema = {
  type: 'object',
  required: ['id', 'device_id', 'serial', 'org_id', 'period', 'by', 'at'],
  additionalProperties: false,
  properties: {
    id: { type: 'string' },
    device_id: { type: 'string' },
    serial: { type: 'string' },
    org_id: { type: 'string', description: "The device's organisation when renewed." },
    period: renewalPeriodSchema,
    previous_expires_at: { type: 'integer', description: 'The expiry before (ms); absent: none.' },
    expires_at: {
      type: 'integer',
      description: 'The new expiry (ms); absent: lifetime (never expires).',
    },
    by: { type: 'string', description: 'Login name of who renewed.' },
    at: { type: 'integer', description: 'When (ms).' },
  },
} as const;
export type RenewalView = FromSchema<typeof renewalSchema>;

export const renewResultSchema = {
  type: 'object',
  required: ['renewed'],
  additionalProperties: false,
  properties: {
    renewed: { type: 'array', items: renewalSchema, description: 'One row per device, in order.' },
  },
} as const;
export type RenewResult = FromSchema<typeof renewResultSchema>;

export const renewalListSchema = {
  type: 'array',
  description: 'Renewals, newest first (at most 1,000).',
  items: renewalSchema,
} as const;

export const renewalsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    from: { ...timeSchema, description: 'Renewed at or after (default: 366 days before `to`).' },
    to: { ...timeSchema, description: 'Renewed before (exclusive; default: now).' },
  },
} as const;
export type RenewalsQuery = FromSchema<typeof renewalsQuery>;
