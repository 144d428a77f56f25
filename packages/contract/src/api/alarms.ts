/** Alarm events, their counts, and the audit log. */
import type { FromSchema } from 'json-schema-to-ts';
import { SEVERITIES } from '../config/enums.js';
import { timeSchema } from './common.js';

export const alarmSchema = {
  type: 'object',
  required: ['id', 'pack_id', 'code', 'severity', 'origin', 'raised_at', 'message'],
  additionalProperties: false,
  properties: {
    id: { type: 'integer' },
    pack_id: { type: 'string' },
    code: { type: 'string' },
    severity: { type: 'string', enum: SEVERITIES },
    level: { type: 'integer' },
    origin: { type: 'string', enum: ['bms', 'rule', 'gateway'] },
    rule_id: { type: 'string' },
    raised_at: { type: 'integer' },
    cleared_at: { type: 'integer' },
    acknowledged_at: { type: 'integer' },
    acknowledged_by: { type: 'string' },
    value: { type: 'number' },
    message: { type: 'string' },
  },
} as const;

/** The most alarm events one request may ask for (`limit`). */
export const ALARMS_MAX_LIMIT = 1000;

export const alarmsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    pack: { type: 'string', minLength: 1, maxLength: 200 },
    active: { type: 'boolean' },
    from: timeSchema,
    to: timeSchema,
    limit: { type: 'integer', minimum: 1, maximum: ALARMS_MAX_LIMIT, default: 100 },
  },
} as const;

export const countsSchema = {
  type: 'object',
  additionalProperties: { type: 'integer' },
  description: 'Protection events per alarm code.',
} as const;

export const alarmIdParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'integer', minimum: 1 } },
} as const;

export const ackSchema = {
  type: 'object',
  required: ['ok', 'id'],
  additionalProperties: false,
  properties: { ok: { type: 'boolean' }, id: { type: 'integer' } },
} as const;

export const auditSchema = {
  type: 'object',
  required: ['id', 'at', 'user', 'action', 'result'],
  additionalProperties: false,
  properties: {
    id: { type: 'integer' },
    at: { type: 'integer' },
    user: { type: 'string' },
    pack_id: { type: 'string' },
    action: { type: 'string' },
    old: {},
    new: {},
    result: { type: 'string', enum: ['ok', 'refused', 'failed'] },
    detail: { type: 'string' },
  },
} as const;

export const auditQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    pack: { type: 'string', minLength: 1, maxLength: 200 },
    user: { type: 'string', minLength: 1, maxLength: 64 },
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
  },
} as const;

export type AlarmView = FromSchema<typeof alarmSchema>;
export type AlarmsQuery = FromSchema<typeof alarmsQuery, { keepDefaultedPropertiesOptional: true }>;
export type AlarmCounts = FromSchema<typeof countsSchema>;
export type AuditView = FromSchema<typeof auditSchema>;
export type AuditQuery = FromSchema<typeof auditQuery, { keepDefaultedPropertiesOptional: true }>;
