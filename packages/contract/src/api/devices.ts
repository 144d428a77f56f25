/**
 * The fleet's device list (seeds 002 EMS, 003 "List"; docs/fleet.md "Devices"): the list with
 * its filter tabs and search, registration, changes, bind, unbind approvals, import and
 * export. The enums are the storage port's (`DEVICE_TYPES`, `ACTIVATIONS`, `DEVICE_STATUSES`).
 */
import type { FromSchema } from 'json-schema-to-ts';

const idSchema = { type: 'string', minLength: 1, maxLength: 64 } as const;
const serialSchema = {
  type: 'string',
  minLength: 1,
  maxLength: 64,
  pattern: '^[A-Za-z0-9._:/-]+$',
} as const;
const labelSchema = { type: 'string', minLength: 1, maxLength: 100 } as const;

export const deviceTypeSchema = { type: 'string', enum: ['bms', 'collector', 'tracker'] } as const;
export const activationSchema = { type: 'string', enum: ['enabled', 'not_enabled'] } as const;
export const deviceStatusSchema = {
  type: 'string',
  enum: ['all', 'online', 'offline', 'expired', 'expiring', 'not_enabled'],
  description: 'expiring: the expiry falls within the next 30 days (not passed yet).',
} as const;

export const deviceSchema = {
  type: 'object',
  required: [
    'id',
    'serial',
    'type',
    'joined_at',
    'created_by',
    'org_id',
    'org_name',
    'org_code',
    'activation',
    'online',
    'expired',
  ],
  additionalProperties: false,
  properties: {
    id: { type: 'string' },
    serial: { type: 'string', description: 'Device no. (unique across the fleet).' },
    barcode: { type: 'string' },
    nickname: { type: 'string' },
    type: deviceTypeSchema,
    model: { type: 'string' },
    manufacturer: { type: 'string' },
    produced_on: { type: 'string', description: 'Production date, YYYY-MM-DD.' },
    joined_at: { type: 'integer', description: 'Joining time, ms.' },
    created_by: { type: 'string', description: 'Who registered it (login name).' },
    org_id: { type: 'string', description: 'The owning organisation.' },
    org_name: { type: 'string' },
    org_code: { type: 'string' },
    activation: activationSchema,
    expires_at: { type: 'integer', description: 'Expired after this time (ms).' },
    gateway_id: { type: 'string' },
    pack_id: { type: 'string' },
    last_seen_at: { type: 'integer' },
    online: { type: 'boolean', description: 'Run status: seen within the last 2 minutes.' },
    expired: { type: 'boolean' },
  },
} as const;

export const deviceCountsSchema = {
  type: 'object',
  required: ['all', 'online', 'offline', 'expired', 'expiring', 'not_enabled'],
  additionalProperties: false,
  properties: {
    all: { type: 'integer' },
    online: { type: 'integer' },
    offline: { type: 'integer' },
    expired: { type: 'integer' },
    expiring: { type: 'integer' },
    not_enabled: { type: 'integer' },
  },
} as const;

export const devicePageSchema = {
  type: 'object',
  required: ['devices', 'counts'],
  additionalProperties: false,
  properties: {
    devices: { type: 'array', items: deviceSchema },
    counts: deviceCountsSchema,
    next: { type: 'string', description: 'The cursor of the next page; absent on the last.' },
  },
} as const;

export const deviceListQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    status: { ...deviceStatusSchema, default: 'all' },
    q: {
      type: 'string',
      maxLength: 64,
      description: 'Device no., bar code or nickname beginning with this (any case).',
    },
    org: { ...idSchema, description: "Only this organisation's subtree." },
    cursor: idSchema,
    limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
  },
} as const;

export const deviceExportQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    status: { ...deviceStatusSchema, default: 'all' },
    q: { type: 'string', maxLength: 64 },
    org: idSchema,
  },
} as const;

export const deviceCreateBody = {
  type: 'object',
  required: ['serial', 'type'],
  additionalProperties: false,
  properties: {
    serial: serialSchema,
    barcode: serialSchema,
    nickname: { type: 'string', minLength: 1, maxLength: 64 },
    type: deviceTypeSchema,
    model: labelSchema,
    manufacturer: labelSchema,
    produced_on: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' },
    org_id: { ...idSchema, description: "Default: the caller's own organisation." },
    activation: { ...activationSchema, default: 'enabled' },
    expires_at: { type: 'integer', minimum: 0 },
    gateway_id: idSchema,
    pack_id: { type: 'string', minLength: 1, maxLength: 200 },
  },
} as const;

export const devicePatchBody = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    nickname: { type: ['string', 'null'], minLength: 1, maxLength: 64 },
    activation: activationSchema,
    expires_at: { type: ['integer', 'null'], minimum: 0 },
  },
} as const;

export const deviceParams = {
  type: 'object',
  required: ['id'],
  properties: { id: idSchema },
} as const;

export const bindBody = {
  type: 'object',
  required: ['org_id'],
  additionalProperties: false,
  properties: { org_id: idSchema },
} as const;

export const reasonBody = {
  type: 'object',
  additionalProperties: false,
  properties: { reason: { type: 'string', minLength: 1, maxLength: 500 } },
} as const;

export const approvalSchema = {
  type: 'object',
  required: [
    'id',
    'kind',
    'device_id',
    'serial',
    'from_org',
    'to_org',
    'requested_by',
    'requested_at',
    'state',
  ],
  additionalProperties: false,
  properties: {
    id: { type: 'string' },
    kind: { type: 'string', enum: ['unbind'] },
    device_id: { type: 'string' },
    serial: { type: 'string' },
    from_org: { type: 'string', description: 'The owner when asked.' },
    to_org: { type: 'string', description: 'Where the device goes on approval.' },
    requested_by: { type: 'string', description: 'Login name of who asked.' },
    requested_at: { type: 'integer' },
    reason: { type: 'string' },
    state: { type: 'string', enum: ['pending', 'approved', 'rejected'] },
    decided_by: { type: 'string' },
    decided_at: { type: 'integer' },
    decision_reason: { type: 'string' },
    can_decide: { type: 'boolean', description: 'Whether the caller may decide it now.' },
    mine: { type: 'boolean', description: 'Whether the caller asked for it.' },
  },
} as const;

export const approvalsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { state: { type: 'string', enum: ['pending', 'approved', 'rejected'] } },
} as const;

export const importResultSchema = {
  type: 'object',
  required: ['imported'],
  additionalProperties: false,
  properties: { imported: { type: 'integer' } },
} as const;

export type DeviceView = FromSchema<typeof deviceSchema>;
export type DevicePageView = FromSchema<typeof devicePageSchema>;
export type DeviceListQuery = FromSchema<
  typeof deviceListQuery,
  { keepDefaultedPropertiesOptional: true }
>;
export type DeviceExportQuery = FromSchema<
  typeof deviceExportQuery,
  { keepDefaultedPropertiesOptional: true }
>;
export type DeviceCreate = FromSchema<
  typeof deviceCreateBody,
  { keepDefaultedPropertiesOptional: true }
>;
export type DevicePatchBody = FromSchema<typeof devicePatchBody>;
export type ApprovalView = FromSchema<typeof approvalSchema>;
