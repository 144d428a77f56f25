/**
 * JSON schemas shared by the routes. They are the API contract: the server's Fastify
 * validates every body, query and params against them (400 REQUEST_INVALID naming the
 * field), serializes responses through them (fields not in a schema are never sent), and
 * builds the OpenAPI document at /api/docs from them; the TypeScript types of the same
 * shapes are derived from these objects (`FromSchema`), so the web console and the server's
 * views cannot drift from what is sent. Times in responses are ms since the epoch.
 *
 * Response objects say `additionalProperties: false`: that is what the serializer does
 * anyway (it sends only the listed fields), and it keeps the derived types exact.
 */
import type { FromSchema } from 'json-schema-to-ts';

export const errorSchema = {
  type: 'object',
  required: ['error', 'code'],
  additionalProperties: false,
  properties: {
    error: { type: 'string', description: 'What went wrong, in words.' },
    code: { type: 'string', description: 'Stable error code (docs/errors.md).' },
    field: {
      type: 'string',
      description:
        'The request field at fault (400; `captcha` for CAPTCHA_REQUIRED / CAPTCHA_WRONG).',
    },
    captcha_required: {
      type: 'boolean',
      description:
        'A refused login: true when the next attempt must solve a captcha (GET /auth/captcha).',
    },
    retry_after_s: { type: 'integer', description: 'When rate limited: seconds to wait.' },
    limit: {
      type: 'string',
      description:
        "RATE_LIMITED or LIMIT_REACHED by an organisation's limit (config fleet.limits): `requests_per_minute`, `users` or `devices`.",
    },
    issues: {
      type: 'array',
      description: 'A refused parameter write: every problem (rule, parameter ids, message).',
      items: {
        type: 'object',
        additionalProperties: false,
        properties: {
          ids: { type: 'array', items: { type: 'string' } },
          code: { type: 'string' },
          rule: { type: 'string' },
          message: { type: 'string' },
        },
      },
    },
    rolled_back: {
      type: 'array',
      items: { type: 'string' },
      description: 'A write that failed part-way: parameters put back to their old values.',
    },
    not_restored: {
      type: 'array',
      items: { type: 'string' },
      description: 'A write that failed part-way: parameters that could not be put back.',
    },
    parameters: {
      type: 'object',
      additionalProperties: { type: 'number' },
      description: 'A write that failed part-way: what the pack holds now (read back).',
    },
  },
} as const;

const ERROR_STATUS = {
  400: 'Malformed request (REQUEST_INVALID); `field` names the culprit.',
  401: 'No valid session or token (AUTH_REQUIRED), or wrong credentials (AUTH_INVALID), or a login without the captcha it needs (CAPTCHA_REQUIRED) or with a wrong, used or expired one (CAPTCHA_WRONG).',
  403: 'The role does not allow this (FORBIDDEN); sign-up or reset by e-mail is off (SIGNUP_DISABLED).',
  404: 'No such resource (NOT_FOUND).',
  409: 'The resource is not in a state that allows this any more (CONFLICT): a collector claimed or revoked already.',
  429: 'Too many attempts (RATE_LIMITED).',
  500: 'Server-side failure (e.g. STORAGE_FAILED); no stack trace is sent.',
  503: 'The database met a damaged page (STORAGE_CORRUPT): it was set aside and a fresh one opened; or the database server cannot be reached (STORAGE_UNAVAILABLE); ask again. A collector hello to a server that takes no collectors (UPLINK_UNAVAILABLE).',
  507: 'The disk holding the database is full (STORAGE_FULL): nothing was written.',
} as const;

/** Error responses for a route, plus the 400/401/500 and storage 503/507 every route can give. */
export function errorResponses(
  ...statuses: (keyof typeof ERROR_STATUS)[]
): Record<number, typeof errorSchema & { description: string }> {
  const out: Record<number, typeof errorSchema & { description: string }> = {};
  for (const s of new Set([
    400,
    401,
    500,
    503,
    507,
    ...statuses,
  ] as (keyof typeof ERROR_STATUS)[])) {
    out[s] = { ...errorSchema, description: ERROR_STATUS[s] };
  }
  return out;
}

export const roleSchema = { type: 'string', enum: ['admin', 'operator', 'viewer'] } as const;

export const usernameSchema = {
  type: 'string',
  minLength: 1,
  maxLength: 64,
  pattern: '^[A-Za-z0-9][A-Za-z0-9_.@-]*$',
  description: 'Letters, digits and _ . @ - (starting with a letter or digit).',
} as const;

export const passwordSchema = {
  type: 'string',
  minLength: 8,
  maxLength: 256,
  description: 'At least 8 characters.',
} as const;

export const userSchema = {
  type: 'object',
  required: ['username', 'role'],
  additionalProperties: false,
  properties: {
    username: { type: 'string' },
    role: roleSchema,
    created_at: { type: 'integer' },
  },
} as const;

export const okSchema = {
  type: 'object',
  required: ['ok'],
  additionalProperties: false,
  properties: { ok: { type: 'boolean' } },
} as const;

/** A time in a query: ms since the epoch, or ISO 8601 (date, or date-time with zone). */
export const timeSchema = {
  type: 'string',
  pattern:
    '^(\\d{1,15}|\\d{4}-\\d{2}-\\d{2}([T ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?(Z|[+-]\\d{2}:?\\d{2})?)?)$',
  description: 'ms since the epoch, or ISO 8601 (e.g. 2025-06-01T12:00:00Z).',
} as const;

export const packIdParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 200 } },
} as const;

/** A pack filter in a query (`?pack=home/rs485-1/2`). */
export const packQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { pack: { type: 'string', minLength: 1, maxLength: 200 } },
} as const;

export type ErrorView = FromSchema<typeof errorSchema>;
export type Role = FromSchema<typeof roleSchema>;
export type UserView = FromSchema<typeof userSchema>;
export type OkView = FromSchema<typeof okSchema>;

export const emailSchema = {
  type: 'string',
  minLength: 3,
  maxLength: 254,
  pattern: '^[^\\s@<>()",;:\\\\\\[\\]]+@[^\\s@<>()",;:\\\\\\[\\]]+\\.[^\\s@<>()",;:\\\\\\[\\]]+$',
  description: 'An e-mail address (letter case ignored).',
} as const;

export const phoneSchema = {
  type: 'string',
  minLength: 3,
  maxLength: 32,
  pattern: '^\\+?[0-9][0-9 ()-]*[0-9]$',
  description: 'Optional: digits, spaces, ( ) - and a leading +.',
} as const;

export const timezoneSchema = {
  type: 'string',
  minLength: 1,
  maxLength: 64,
  description: 'An IANA time zone such as Europe/Berlin.',
} as const;
