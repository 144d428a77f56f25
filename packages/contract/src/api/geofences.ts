/** Tracker geofences and the tracker alarm list (issue 17, docs/trackers.md). */
import type { FromSchema } from 'json-schema-to-ts';
import { timeSchema } from './common.js';

export const fenceShapeSchema = {
  type: 'object',
  required: ['kind'],
  additionalProperties: false,
  description:
    'circle: lat, lon (centre) and radius_m (10..100,000); polygon: vertices, 3..200 [lat, lon] pairs, not crossing itself.',
  properties: {
    kind: { type: 'string', enum: ['circle', 'polygon'] },
    lat: { type: 'number' },
    lon: { type: 'number' },
    radius_m: { type: 'number' },
    vertices: {
      type: 'array',
      items: { type: 'array', items: { type: 'number' } },
    },
  },
} as const;

export const geofenceSchema = {
  type: 'object',
  additionalProperties: false,
  required: [
    'id',
    'org_id',
    'name',
    'shape',
    'alarm',
    'device_ids',
    'org_wide',
    'created_at',
    'updated_at',
  ],
  properties: {
    id: { type: 'string' },
    org_id: { type: 'string', description: 'The organisation that owns it.' },
    name: { type: 'string' },
    shape: fenceShapeSchema,
    alarm: { type: 'string', enum: ['enter', 'exit', 'both'] },
    device_ids: { type: 'array', items: { type: 'string' } },
    org_wide: {
      type: 'boolean',
      description: 'Applies to every tracker of the organisation and its sub-organisations.',
    },
    created_at: { type: 'integer' },
    updated_at: { type: 'integer' },
  },
} as const;
export type GeofenceView = FromSchema<typeof geofenceSchema>;

export const geofenceBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'shape', 'alarm'],
  properties: {
    org_id: {
      type: 'string',
      minLength: 1,
      maxLength: 64,
      description: 'Owner (default: my organisation); within my subtree.',
    },
    name: { type: 'string' },
    shape: fenceShapeSchema,
    alarm: { type: 'string', enum: ['enter', 'exit', 'both'] },
    device_ids: {
      type: 'array',
      items: { type: 'string' },
      description: 'Trackers it applies to (at most 1,000), each one I see.',
    },
    org_wide: { type: 'boolean', default: false },
  },
} as const;
export type GeofenceBody = FromSchema<typeof geofenceBody>;

export const geofencePatchBody = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    name: geofenceBody.properties.name,
    shape: fenceShapeSchema,
    alarm: geofenceBody.properties.alarm,
    device_ids: geofenceBody.properties.device_ids,
    org_wide: { type: 'boolean' },
  },
} as const;
export type GeofencePatchBody = FromSchema<typeof geofencePatchBody>;

export const geofenceParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;

export const geofenceListQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    device: { type: 'string', minLength: 1, maxLength: 64, description: 'Only fences listing it.' },
  },
} as const;

export const trackerAlarmSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'device_id', 'serial', 'code', 'severity', 'raised_at', 'message'],
  properties: {
    id: { type: 'string', description: 'The event (ULID).' },
    device_id: { type: 'string' },
    serial: { type: 'string' },
    code: { type: 'string' },
    severity: { type: 'string', enum: ['warning', 'protection', 'fault'] },
    raised_at: { type: 'integer', description: 'Device time of the fix that raised it.' },
    cleared_at: { type: 'integer' },
    fence_id: { type: 'string', description: 'The geofence, for geofence_enter/exit.' },
    message: { type: 'string' },
    lat: {
      type: 'number',
      description: 'Where: the stored fix at or before the alarm time (absent: none).',
    },
    lon: { type: 'number' },
  },
} as const;
export type TrackerAlarmView = FromSchema<typeof trackerAlarmSchema>;

export const trackerAlarmListSchema = { type: 'array', items: trackerAlarmSchema } as const;

export const trackerAlarmsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    from: { ...timeSchema, description: 'Raised at or after (default: 7 days before `to`).' },
    to: { ...timeSchema, description: 'Raised before (default: now).' },
    code: { type: 'string', minLength: 1, maxLength: 100, description: 'Only this alarm code.' },
    all: {
      type: 'boolean',
      default: false,
      description: 'true: also the types I turned off (notify.alarm_types).',
    },
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 200 },
  },
} as const;
export type TrackerAlarmsQuery = FromSchema<typeof trackerAlarmsQuery>;
