/** Login, sessions, first-start setup, users and API tokens. */
import type { FromSchema } from 'json-schema-to-ts';
import { passwordSchema, roleSchema, userSchema, usernameSchema } from './common.js';

export const credentialsBody = {
  type: 'object',
  required: ['username', 'password'],
  additionalProperties: false,
  properties: {
    username: {
      type: 'string',
      minLength: 1,
      maxLength: 71,
      description:
        "The login name: `name` for an account of the server's own organisation; `name@CODE` for the account `name` of the fleet organisation whose code is CODE (user names are unique within an organisation, codes across the fleet).",
    },
    password: { type: 'string', minLength: 1, maxLength: 256 },
    captcha_id: {
      type: 'string',
      minLength: 1,
      maxLength: 64,
      description: 'The id of a challenge from GET /auth/captcha (when a captcha is required).',
    },
    captcha: {
      type: 'string',
      minLength: 1,
      maxLength: 16,
      description:
        "The characters the challenge's image shows (any case). A challenge answers one login attempt, right or wrong.",
    },
  },
} as const;

export const captchaSchema = {
  type: 'object',
  required: ['id', 'svg', 'expires_at'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', description: 'Send it back as `captcha_id` with the login.' },
    svg: { type: 'string', description: 'The challenge: an SVG image of 4 characters.' },
    expires_at: {
      type: 'integer',
      description: 'ms since the epoch; after it the challenge is void.',
    },
  },
} as const;

export type CaptchaChallenge = FromSchema<typeof captchaSchema>;

/** accounts.captcha: when the login asks for a captcha. */
export const captchaModeSchema = {
  type: 'string',
  enum: ['always', 'after_failures', 'off'],
  description:
    'When the login asks for a captcha: always, after repeated failures (accounts.captcha_after, per login name or client address), or never.',
} as const;

export const sessionSchema = {
  type: 'object',
  required: ['token', 'user'],
  additionalProperties: false,
  properties: {
    token: { type: 'string', description: 'The session secret (also set as the cookie).' },
    expires_at: { type: 'integer' },
    user: userSchema,
  },
} as const;

export const meSchema = {
  type: 'object',
  required: ['username', 'role', 'via'],
  additionalProperties: false,
  properties: {
    username: { type: 'string' },
    role: roleSchema,
    via: { type: 'string', enum: ['session', 'api'] },
  },
} as const;

export const passwordChangeBody = {
  type: 'object',
  required: ['current_password', 'password'],
  additionalProperties: false,
  properties: {
    current_password: { type: 'string', minLength: 1, maxLength: 256 },
    password: passwordSchema,
  },
} as const;

export const setupStatusSchema = {
  type: 'object',
  required: ['admin_exists', 'needs_setup'],
  additionalProperties: false,
  properties: {
    admin_exists: { type: 'boolean' },
    needs_setup: { type: 'boolean' },
    captcha: captchaModeSchema,
    // The caller's session, so the web console can tell "log in" from "logged in"
    // without a 401 in the browser's console.
    user: {
      type: ['object', 'null'],
      required: ['username', 'role'],
      additionalProperties: false,
      properties: { username: { type: 'string' }, role: roleSchema },
    },
  },
} as const;

export const setupBody = {
  type: 'object',
  required: ['username', 'password'],
  additionalProperties: false,
  properties: { username: usernameSchema, password: passwordSchema },
} as const;

export const userCreateBody = {
  type: 'object',
  required: ['username', 'password', 'role'],
  additionalProperties: false,
  properties: { username: usernameSchema, password: passwordSchema, role: roleSchema },
} as const;

export const userUpdateBody = {
  type: 'object',
  minProperties: 1,
  additionalProperties: false,
  properties: { role: roleSchema, password: passwordSchema },
} as const;

export const usernameParams = {
  type: 'object',
  required: ['username'],
  properties: { username: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;

export const tokenCreateBody = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: { name: { type: 'string', minLength: 1, maxLength: 100 } },
} as const;

export const tokenCreatedSchema = {
  type: 'object',
  required: ['id', 'name', 'token'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', description: 'Use it to revoke the token.' },
    name: { type: 'string' },
    token: { type: 'string', description: 'The secret; not retrievable later.' },
    created_at: { type: 'integer' },
  },
} as const;

export const tokenIdParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^[0-9a-f]{64}$' } },
} as const;

export type Credentials = FromSchema<typeof credentialsBody>;
export type SessionView = FromSchema<typeof sessionSchema>;
export type Me = FromSchema<typeof meSchema>;
export type PasswordChange = FromSchema<typeof passwordChangeBody>;
export type SetupStatus = FromSchema<typeof setupStatusSchema>;
export type UserCreate = FromSchema<typeof userCreateBody>;
export type UserUpdate = FromSchema<typeof userUpdateBody>;
export type TokenCreate = FromSchema<typeof tokenCreateBody>;
export type TokenCreated = FromSchema<typeof tokenCreatedSchema>;
