/**
 * Organisations and their members (docs/fleet.md): the caller's visible tree, a new
 * organisation under one of it, a member's role. The enums are the storage port's
 * (`ORG_KINDS`, `ORG_ROLES`; the contract imports no storage code), checked equal by the
 * server's route test.
 */
import type { FromSchema } from 'json-schema-to-ts';
import {
  emailSchema,
  passwordSchema,
  phoneSchema,
  timezoneSchema,
  usernameSchema,
} from './common.js';

export const orgKindSchema = {
  type: 'string',
  enum: ['platform', 'battery_maker', 'dealer', 'installer', 'customer', 'group'],
} as const;

export const orgRoleSchema = {
  type: 'string',
  enum: [
    'manager',
    'administrator',
    'operation_manager',
    'om_user',
    'installer',
    'general_user',
    'marketing',
    'end_user',
  ],
} as const;

const idSchema = { type: 'string', minLength: 1, maxLength: 64 } as const;

export const orgSchema = {
  type: 'object',
  required: ['id', 'kind', 'name', 'code', 'depth', 'created_at'],
  additionalProperties: false,
  properties: {
    id: { type: 'string' },
    parent_id: { type: 'string', description: 'Absent for a root.' },
    kind: orgKindSchema,
    name: { type: 'string' },
    code: {
      type: 'string',
      description: 'Six characters a user types at sign-up to join (e.g. EC03B0).',
    },
    depth: { type: 'integer', description: 'Distance from the root of the tree.' },
    created_at: { type: 'integer' },
  },
} as const;

export const orgCreateBody = {
  type: 'object',
  required: ['parent_id', 'name', 'kind'],
  additionalProperties: false,
  properties: {
    parent_id: idSchema,
    name: { type: 'string', minLength: 1, maxLength: 100 },
    kind: orgKindSchema,
  },
} as const;

export const orgCreatedSchema = {
  type: 'object',
  required: ['id', 'code'],
  additionalProperties: false,
  properties: { id: { type: 'string' }, code: { type: 'string' } },
} as const;

export const orgParams = {
  type: 'object',
  required: ['id'],
  properties: { id: idSchema },
} as const;

export const orgMemberParams = {
  type: 'object',
  required: ['id', 'user'],
  properties: { id: idSchema, user: idSchema },
} as const;

export const memberRoleBody = {
  type: 'object',
  required: ['role'],
  additionalProperties: false,
  properties: { role: orgRoleSchema },
} as const;

export const memberAddBody = {
  type: 'object',
  required: ['role'],
  additionalProperties: false,
  description: 'Names the user by exactly one of `user_id` and `username`.',
  properties: {
    user_id: { ...idSchema, description: "The user's id (ULID)." },
    username: {
      type: 'string',
      minLength: 1,
      maxLength: 254,
      description:
        "The login name: `name` for an account of the server's own organisation, `name@CODE` for the account `name` of the organisation whose code is CODE, or the account's e-mail address.",
    },
    role: orgRoleSchema,
  },
} as const;

export const memberSchema = {
  type: 'object',
  required: ['user_id', 'org_id', 'role', 'created_at'],
  additionalProperties: false,
  properties: {
    user_id: { type: 'string' },
    username: { type: 'string' },
    org_id: { type: 'string' },
    role: orgRoleSchema,
    created_at: { type: 'integer' },
  },
} as const;

/**
 * A customer account made by the organisation above it (seed 002 §7.5 "group users add customer
 * accounts"): a `customer` organisation and its login in one step.
 */
export const customerCreateBody = {
  type: 'object',
  required: ['name', 'username', 'password'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 100, description: "The customer's name." },
    username: {
      ...usernameSchema,
      description: "The customer's login name (unique within the new organisation).",
    },
    password: passwordSchema,
    phone: phoneSchema,
    email: { ...emailSchema, description: 'Optional; unique across the fleet (login by e-mail).' },
    timezone: timezoneSchema,
  },
} as const;

export const customerCreatedSchema = {
  type: 'object',
  required: ['org_id', 'code', 'user_id', 'login'],
  additionalProperties: false,
  properties: {
    org_id: { type: 'string' },
    code: { type: 'string' },
    user_id: { type: 'string' },
    login: { type: 'string', description: 'What the customer types to log in: `name@CODE`.' },
  },
} as const;

export type CustomerCreate = FromSchema<typeof customerCreateBody>;
export type OrgView = FromSchema<typeof orgSchema>;
export type OrgCreate = FromSchema<typeof orgCreateBody>;
export type MemberView = FromSchema<typeof memberSchema>;
export type MemberAdd = FromSchema<typeof memberAddBody>;
