/** The settings page: config sections, live status, save, test, backup and restore. */
import type { FromSchema } from 'json-schema-to-ts';
import { errorSchema } from './common.js';

/** The integration sections the settings page edits, in its order. */
export const INTEGRATIONS = [
  'mqtt',
  'modbus_tcp',
  'modbus_client',
  'tunnel',
  'metrics',
  'notifications',
] as const;
export type Integration = (typeof INTEGRATIONS)[number];

/** What a redacted secret reads as; sending it back keeps the saved value. */
export const SECRET_MARKER = '********';

const anyObject = { type: 'object', additionalProperties: true } as const;

export const integrationStatusSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['configured', 'enabled', 'running'],
  properties: {
    configured: { type: 'boolean' },
    enabled: { type: 'boolean' },
    running: { type: 'boolean', description: 'Up now (started; servers: listening).' },
    last_error: { type: 'string' },
    connected: { type: 'boolean', description: 'MQTT broker / Modbus client target.' },
    listening: { type: 'string', description: 'host:port (Modbus TCP server, tunnel).' },
    state: { type: 'string' },
    detail: anyObject,
  },
} as const;

export const settingsViewSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['path', 'exists', 'writable', 'sections', 'status', 'restart_required'],
  properties: {
    path: { type: 'string', description: 'The config file (absolute path).' },
    exists: { type: 'boolean', description: 'False: running on defaults; a save creates it.' },
    writable: { type: 'boolean' },
    writable_reason: { type: 'string' },
    file_error: {
      type: 'string',
      description: 'The file on disk does not check; the sections shown are those running.',
    },
    sections: {
      type: 'object',
      additionalProperties: true,
      description: 'Integration sections, secrets as "********"; null when absent.',
    },
    location: {},
    http: { description: 'The web server section (host, port, TLS); applied at the next start.' },
    status: { type: 'object', additionalProperties: integrationStatusSchema },
    restart_required: { type: 'boolean' },
    pending_restart: { type: 'array', items: { type: 'string' } },
    editable: { type: 'array', items: { type: 'string' } },
    live: { type: 'array', items: { type: 'string' } },
  },
} as const;

export const settingsUpdateSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['section', 'saved', 'applied', 'restart_required'],
  properties: {
    section: { type: 'string' },
    value: { description: 'The saved section (defaults filled in), secrets redacted.' },
    saved: { type: 'boolean' },
    applied: { type: 'boolean', description: 'Running with the new settings now.' },
    error: { type: 'string', description: 'Why the start failed (stopped; config saved).' },
    restart_required: { type: 'boolean' },
    status: integrationStatusSchema,
  },
} as const;

export const settingsTestSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['section', 'ok', 'message'],
  properties: {
    section: { type: 'string' },
    ok: { type: 'boolean' },
    message: { type: 'string' },
    round_trip_ms: { type: 'number' },
    values: { type: 'array', items: { type: 'integer' } },
    address: { type: 'string' },
  },
} as const;

export const restoreSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['saved', 'restart_required', 'applied'],
  properties: {
    saved: { type: 'boolean' },
    restart_required: { type: 'boolean' },
    applied: { type: 'array', items: { type: 'string' } },
    failed: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        properties: { section: { type: 'string' }, error: { type: 'string' } },
      },
    },
    pending_restart: { type: 'array', items: { type: 'string' } },
  },
} as const;

export const configInvalidSchema = {
  ...errorSchema,
  description: 'The config does not check (CONFIG_INVALID); `issues` names every key at fault.',
  properties: {
    ...errorSchema.properties,
    issues: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        properties: { path: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
} as const;

export const sectionParams = {
  type: 'object',
  additionalProperties: false,
  required: ['section'],
  properties: { section: { type: 'string', pattern: '^[a-z][a-z0-9_]{0,31}$' } },
} as const;

export const settingsTestBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    value: { description: 'Candidate section (default: the saved one).' },
    channel: { type: 'string', minLength: 1, maxLength: 64 },
  },
} as const;

export type IntegrationStatus = FromSchema<typeof integrationStatusSchema>;
export type SettingsView = FromSchema<typeof settingsViewSchema>;
export type SettingsUpdate = FromSchema<typeof settingsUpdateSchema>;
export type SettingsTestResult = FromSchema<typeof settingsTestSchema>;
export type SettingsTestBody = FromSchema<typeof settingsTestBody>;
export type RestoreResult = FromSchema<typeof restoreSchema>;
export type ConfigInvalid = FromSchema<typeof configInvalidSchema>;
/** One problem of a refused config: the key path and what is wrong. */
export type ConfigIssue = NonNullable<ConfigInvalid['issues']>[number];
