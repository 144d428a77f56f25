/**
 * JSON schemas shared by the routes. They are the API contract: Fastify validates every
 * body, query and params against them (400 REQUEST_INVALID naming the field), serializes
 * responses through them (fields not in a schema are never sent), and openapi.ts turns
 * them into the OpenAPI document at /api/docs. Times in responses are ms since the epoch.
 */

export const errorSchema = {
  type: 'object',
  required: ['error', 'code'],
  properties: {
    error: { type: 'string', description: 'What went wrong, in words.' },
    code: { type: 'string', description: 'Stable error code (docs/errors.md).' },
    field: { type: 'string', description: 'The request field at fault (400 only).' },
    retry_after_s: { type: 'integer', description: 'When rate limited: seconds to wait.' },
    issues: {
      type: 'array',
      description: 'A refused parameter write: every problem (rule, parameter ids, message).',
      items: {
        type: 'object',
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
  401: 'No valid session or token (AUTH_REQUIRED), or wrong credentials (AUTH_INVALID).',
  403: 'The role does not allow this (FORBIDDEN).',
  404: 'No such resource (NOT_FOUND).',
  429: 'Too many attempts (RATE_LIMITED).',
  500: 'Server-side failure (e.g. STORAGE_FAILED); no stack trace is sent.',
  503: 'The database met a damaged page (STORAGE_CORRUPT): it was set aside and a fresh one opened; ask again.',
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
  properties: {
    username: { type: 'string' },
    role: roleSchema,
    created_at: { type: 'integer' },
  },
} as const;

export const okSchema = {
  type: 'object',
  required: ['ok'],
  properties: { ok: { type: 'boolean' } },
} as const;

/** A time in a query: ms since the epoch, or ISO 8601 (date, or date-time with zone). */
export const timeSchema = {
  type: 'string',
  pattern:
    '^(\\d{1,15}|\\d{4}-\\d{2}-\\d{2}([T ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?(Z|[+-]\\d{2}:?\\d{2})?)?)$',
  description: 'ms since the epoch, or ISO 8601 (e.g. 2025-06-01T12:00:00Z).',
} as const;

/** The canonical JSON of a pack (snake_case keys, units in the names). */
export const snapshotSchema = {
  type: ['object', 'null'],
  additionalProperties: true,
  description: 'Latest canonical snapshot (voltage_v, current_a, soc_pct, cell_mv...), or null.',
} as const;

export const linkSchema = {
  type: 'object',
  properties: {
    requests: { type: 'integer' },
    replies: { type: 'integer' },
    retries: { type: 'integer' },
    timeouts: { type: 'integer' },
    checksum_errors: { type: 'integer' },
    polls: { type: 'integer' },
    failures: { type: 'integer' },
    last_error: { type: 'string' },
  },
} as const;

export const packSchema = {
  type: 'object',
  required: ['id', 'name', 'site', 'bus', 'address', 'protocol', 'online', 'last_seen', 'snapshot'],
  properties: {
    id: { type: 'string', description: '`<site>/<bus>/<address>`; URL-encode it in paths.' },
    name: { type: 'string' },
    site: { type: 'string' },
    bus: { type: 'string' },
    address: { type: 'integer' },
    protocol: { type: 'string' },
    chemistry: { type: 'string' },
    variant: { type: 'string' },
    online: { type: 'boolean' },
    last_seen: { type: ['integer', 'null'], description: 'Last successful poll (ms) or null.' },
    snapshot: snapshotSchema,
    link: linkSchema,
  },
} as const;

export const alarmSchema = {
  type: 'object',
  required: ['id', 'pack_id', 'code', 'severity', 'origin', 'raised_at', 'message'],
  properties: {
    id: { type: 'integer' },
    pack_id: { type: 'string' },
    code: { type: 'string' },
    severity: { type: 'string', enum: ['warning', 'protection', 'fault'] },
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

export const countsSchema = {
  type: 'object',
  additionalProperties: { type: 'integer' },
  description: 'Protection events per alarm code.',
} as const;

export const auditSchema = {
  type: 'object',
  required: ['id', 'at', 'user', 'action', 'result'],
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

export const seriesSchema = {
  type: 'object',
  required: ['t', 'avg', 'min', 'max'],
  properties: {
    t: { type: 'array', items: { type: 'number' } },
    avg: { type: 'array', items: { type: 'number' } },
    min: { type: 'array', items: { type: 'number' } },
    max: { type: 'array', items: { type: 'number' } },
  },
} as const;

export const historySchema = {
  type: 'object',
  required: ['pack_id', 'resolution', 'from', 'to', 'series'],
  properties: {
    pack_id: { type: 'string' },
    resolution: { type: 'string', enum: ['raw', '1m', '15m', '1h'] },
    from: { type: 'integer' },
    to: { type: 'integer' },
    series: { type: 'object', additionalProperties: seriesSchema },
  },
} as const;

export const packIdParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 200 } },
} as const;
