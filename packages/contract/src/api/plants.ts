/**
 * Plants, their visitors and their collectors (docs/fleet.md "Plants", seed 000 "Create
 * Plant", "Add collector", "Plant Visitor"). The enums are the storage port's
 * (`BUSINESS_TYPES`, `PLANT_TYPES`; the contract imports no storage code), checked equal by the
 * server's plant test.
 */
import type { FromSchema } from 'json-schema-to-ts';

export const businessTypeSchema = {
  type: 'string',
  enum: ['residential', 'commercial', 'industrial', 'utility', 'public', 'other'],
  description: "Seed 000's Business Type: who runs the plant.",
} as const;

export const plantTypeSchema = {
  type: 'string',
  enum: [
    'energy_storage',
    'pv_storage',
    'pv_grid_tied',
    'off_grid',
    'backup',
    'microgrid',
    'other',
  ],
  description: "Seed 000's Plant Type: what its batteries serve.",
} as const;

const idSchema = { type: 'string', minLength: 1, maxLength: 64 } as const;
const nameSchema = { type: 'string', minLength: 1, maxLength: 100 } as const;
const latSchema = {
  type: 'number',
  minimum: -90,
  maximum: 90,
  description: 'Latitude, WGS 84 degrees (with lon).',
} as const;
const lonSchema = {
  type: 'number',
  minimum: -180,
  maximum: 180,
  description: 'Longitude, WGS 84 degrees (with lat).',
} as const;
const zoneSchema = {
  type: 'string',
  minLength: 1,
  maxLength: 64,
  description: 'IANA time zone, e.g. Europe/Berlin.',
} as const;

export const plantSchema = {
  type: 'object',
  required: [
    'id',
    'org_id',
    'name',
    'business_type',
    'plant_type',
    'time_zone',
    'created_at',
    'access',
  ],
  additionalProperties: false,
  properties: {
    id: { type: 'string' },
    org_id: { type: 'string', description: 'The owner organisation.' },
    name: { type: 'string' },
    business_type: businessTypeSchema,
    plant_type: plantTypeSchema,
    lat: { type: 'number' },
    lon: { type: 'number' },
    time_zone: { type: 'string' },
    created_at: { type: 'integer' },
    created_by: {
      type: 'string',
      description: 'The user id of who created it (to members of the owner, not to visitors).',
    },
    access: {
      type: 'string',
      enum: ['admin', 'operator', 'viewer', 'visitor'],
      description:
        "The caller's rank in the owner organisation, or `visitor` (shared with them, read-only).",
    },
  },
} as const;

export const plantCreateBody = {
  type: 'object',
  required: ['org_id', 'name', 'business_type', 'plant_type', 'time_zone'],
  additionalProperties: false,
  properties: {
    org_id: { ...idSchema, description: 'The owner organisation (normally a customer).' },
    name: nameSchema,
    business_type: businessTypeSchema,
    plant_type: plantTypeSchema,
    lat: latSchema,
    lon: lonSchema,
    time_zone: zoneSchema,
  },
} as const;

export const plantPatchBody = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  description: 'The fields to change; lat and lon null (both) remove the location.',
  properties: {
    name: nameSchema,
    business_type: businessTypeSchema,
    plant_type: plantTypeSchema,
    lat: { ...latSchema, type: ['number', 'null'] },
    lon: { ...lonSchema, type: ['number', 'null'] },
    time_zone: zoneSchema,
  },
} as const;

export const plantParams = {
  type: 'object',
  required: ['id'],
  properties: { id: idSchema },
} as const;

export const plantVisitorParams = {
  type: 'object',
  required: ['id', 'user'],
  properties: { id: idSchema, user: idSchema },
} as const;

export const plantCollectorParams = {
  type: 'object',
  required: ['id', 'gateway_id'],
  properties: { id: idSchema, gateway_id: idSchema },
} as const;

export const visitorAddBody = {
  type: 'object',
  required: ['email'],
  additionalProperties: false,
  properties: {
    email: {
      type: 'string',
      minLength: 3,
      maxLength: 254,
      description: 'The e-mail address of an existing account (any organisation).',
    },
  },
} as const;

export const visitorSchema = {
  type: 'object',
  required: ['plant_id', 'user_id', 'username', 'created_at'],
  additionalProperties: false,
  properties: {
    plant_id: { type: 'string' },
    user_id: { type: 'string' },
    username: { type: 'string' },
    email: { type: 'string' },
    created_at: { type: 'integer' },
  },
} as const;

export const collectorAddBody = {
  type: 'object',
  required: ['gateway_id'],
  additionalProperties: false,
  properties: {
    gateway_id: { ...idSchema, description: 'A gateway the caller sees with the admin rank.' },
    name: nameSchema,
    serial: { type: 'string', minLength: 1, maxLength: 64 },
  },
} as const;

const collectorPackSchema = {
  type: 'object',
  required: ['id', 'online'],
  additionalProperties: false,
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    bus: { type: 'string' },
    address: { type: 'integer' },
    protocol: { type: 'string' },
    online: { type: 'boolean' },
  },
} as const;

export const collectorSchema = {
  type: 'object',
  required: ['plant_id', 'gateway_id', 'created_at', 'online', 'packs'],
  additionalProperties: false,
  properties: {
    plant_id: { type: 'string' },
    gateway_id: { type: 'string' },
    name: { type: 'string' },
    serial: { type: 'string' },
    created_at: { type: 'integer' },
    online: {
      type: 'boolean',
      description: 'Whether this server serves the gateway now (its packs are listed live).',
    },
    packs: {
      type: 'array',
      items: collectorPackSchema,
      description: 'The batteries (BMS) under the collector, live.',
    },
  },
} as const;

export type PlantView = FromSchema<typeof plantSchema>;
export type PlantCreate = FromSchema<typeof plantCreateBody>;
export type PlantPatchBody = FromSchema<typeof plantPatchBody>;
export type VisitorView = FromSchema<typeof visitorSchema>;
export type CollectorAdd = FromSchema<typeof collectorAddBody>;
export type CollectorView = FromSchema<typeof collectorSchema>;
