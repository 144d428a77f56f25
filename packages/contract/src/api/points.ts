/**
 * Point groups (seed 000 "Set of points", docs/fleet.md): per organisation, which data points
 * each role sees, per device model. The schemas check shapes and sizes; which roles, points
 * and models are known, and the groups' rules (one End User Group, first; a role in one group
 * at most), the server checks with the storage port's `pointGroups`, naming the field.
 */
import type { FromSchema } from 'json-schema-to-ts';
import { orgRoleSchema } from './orgs.js';

const pointList = {
  type: 'array',
  maxItems: 128,
  items: { type: 'string', minLength: 1, maxLength: 64 },
  description: 'The points shown for this device model (canonical snapshot keys).',
} as const;

export const pointGroupBody = {
  type: 'object',
  required: ['name', 'kind', 'roles', 'points'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 50 },
    kind: {
      type: 'string',
      enum: ['end_user', 'custom'],
      description:
        'end_user: the End User Group (first, once, role end_user alone); custom: any other.',
    },
    roles: { type: 'array', minItems: 1, maxItems: 8, items: orgRoleSchema },
    points: {
      type: 'object',
      maxProperties: 64,
      propertyNames: { minLength: 1, maxLength: 32 },
      additionalProperties: pointList,
      description:
        "Device model (a protocol family such as `jk`, or `*` for any) → the points shown. A pack's own family wins over `*`; a group listing neither shows every point of the pack.",
    },
  },
} as const;

export const pointGroupsBody = {
  type: 'object',
  required: ['groups'],
  additionalProperties: false,
  properties: {
    groups: { type: 'array', minItems: 1, maxItems: 8, items: pointGroupBody },
  },
} as const;

export const pointGroupSchema = {
  type: 'object',
  required: ['name', 'kind', 'roles', 'points'],
  additionalProperties: false,
  properties: {
    ...pointGroupBody.properties,
    updated_at: { type: 'integer', description: 'Absent for the default End User Group.' },
  },
} as const;

export const pointGroupsSchema = {
  type: 'object',
  required: ['org_id', 'groups'],
  additionalProperties: false,
  properties: {
    org_id: { type: 'string' },
    groups: { type: 'array', items: pointGroupSchema },
  },
} as const;

export const pointCatalogSchema = {
  type: 'object',
  required: ['points', 'always_shown', 'models'],
  additionalProperties: false,
  properties: {
    points: {
      type: 'array',
      description: 'Every point a group may list, with its label and unit.',
      items: {
        type: 'object',
        required: ['key', 'label'],
        additionalProperties: false,
        properties: {
          key: { type: 'string' },
          label: { type: 'string' },
          unit: { type: 'string' },
        },
      },
    },
    always_shown: {
      type: 'array',
      items: { type: 'string' },
      description: 'Keys every role sees (identity of the sample and the alarms).',
    },
    models: {
      type: 'array',
      description:
        'The device models of the packs the caller sees in the organisation, each with the points its packs report.',
      items: {
        type: 'object',
        required: ['model', 'points'],
        additionalProperties: false,
        properties: {
          model: { type: 'string' },
          points: { type: 'array', items: { type: 'string' } },
        },
      },
    },
  },
} as const;

export type PointGroupsBody = FromSchema<typeof pointGroupsBody>;
export type PointGroupsView = FromSchema<typeof pointGroupsSchema>;
export type PointCatalogView = FromSchema<typeof pointCatalogSchema>;
