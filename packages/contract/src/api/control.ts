/**
 * Safe control: capabilities, parameters (read, write with dry run, export, diff of a
 * file), commands and their statuses.
 */
import type { ParameterGroup, ParameterKind } from '@openbms/core';
import type { FromSchema } from 'json-schema-to-ts';

/** Core's parameter groups and kinds as lists (a compile error when one is missing). */
export const PARAMETER_GROUPS = [
  'voltage',
  'temperature',
  'current',
  'function',
] as const satisfies readonly ParameterGroup[];
export const PARAMETER_KINDS = [
  'threshold',
  'recovery',
  'delay',
  'recovery_delay',
  'setting',
  'switch',
] as const satisfies readonly ParameterKind[];
/** Compiles only when `T` is never: here, when no group or kind of core is left out. */
type NoneMissing<T extends never> = T;
type _EveryGroup = NoneMissing<Exclude<ParameterGroup, (typeof PARAMETER_GROUPS)[number]>>;
type _EveryKind = NoneMissing<Exclude<ParameterKind, (typeof PARAMETER_KINDS)[number]>>;

export const valuesSchema = {
  type: 'object',
  minProperties: 1,
  maxProperties: 300,
  propertyNames: { type: 'string', minLength: 1, maxLength: 100 },
  additionalProperties: { type: 'number' },
  description: 'Catalog parameter id -> value in the catalog unit.',
} as const;

export const commandSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'pack_id', 'action', 'user', 'at', 'status', 'detail'],
  properties: {
    id: { type: 'integer' },
    pack_id: { type: 'string' },
    action: { type: 'string' },
    user: { type: 'string' },
    at: { type: 'integer' },
    status: { type: 'string', enum: ['done', 'refused', 'failed'] },
    detail: { type: 'string' },
  },
} as const;

export const outcomeSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['command'],
  properties: {
    command: commandSchema,
    readback: { type: 'object', additionalProperties: true },
  },
} as const;

export const parameterInfoSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'label', 'unit', 'min', 'max', 'step', 'group', 'kind'],
  properties: {
    id: { type: 'string' },
    label: { type: 'string' },
    unit: { type: 'string' },
    min: { type: 'number' },
    max: { type: 'number' },
    step: { type: 'number' },
    group: { type: 'string', enum: PARAMETER_GROUPS },
    kind: { type: 'string', enum: PARAMETER_KINDS },
    level: { type: 'integer' },
    safe_min: { type: 'number', description: 'Tighter lower bound from the chemistry.' },
    safe_max: { type: 'number', description: 'Tighter upper bound from the chemistry.' },
  },
} as const;

export const capabilitiesSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['pack_id', 'protocol', 'chemistry', 'limits', 'operations', 'parameters'],
  properties: {
    pack_id: { type: 'string' },
    protocol: { type: 'string' },
    chemistry: { type: 'string' },
    limits: {
      type: 'object',
      additionalProperties: false,
      description:
        'What writes are judged by beyond each value: the cell count and design capacity (when known) and the C-rate ceilings of charge and discharge currents.',
      required: ['max_charge_c', 'max_discharge_c'],
      properties: {
        cell_count: { type: 'integer' },
        design_ah: { type: 'number' },
        max_charge_c: { type: 'number' },
        max_discharge_c: { type: 'number' },
      },
    },
    operations: { type: 'object', additionalProperties: { type: 'boolean' } },
    parameters: { type: 'array', items: parameterInfoSchema },
  },
} as const;

export const writeResultSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['dry_run', 'changed', 'results'],
  properties: {
    dry_run: { type: 'boolean' },
    changed: { type: 'array', items: { type: 'string' } },
    results: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'old', 'requested', 'readback', 'ok'],
        properties: {
          id: { type: 'string' },
          old: { type: ['number', 'null'] },
          requested: { type: 'number' },
          readback: { type: ['number', 'null'] },
          ok: { type: 'boolean' },
        },
      },
    },
  },
} as const;

export const fileSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['format', 'version', 'pack', 'exported_at', 'values'],
  properties: {
    format: { type: 'string', enum: ['openbms-parameters'] },
    version: { type: 'integer' },
    pack: {
      type: 'object',
      additionalProperties: false,
      properties: {
        id: { type: 'string' },
        name: { type: 'string' },
        protocol: { type: 'string' },
        chemistry: { type: 'string' },
      },
    },
    exported_at: { type: 'integer' },
    values: { type: 'object', additionalProperties: { type: 'number' } },
  },
} as const;

export const diffSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['valid', 'errors', 'warnings', 'changed', 'unchanged', 'unknown'],
  properties: {
    valid: { type: 'boolean' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['ids', 'code', 'message'],
        properties: {
          ids: { type: 'array', items: { type: 'string' } },
          code: { type: 'string' },
          message: { type: 'string' },
        },
      },
    },
    warnings: { type: 'array', items: { type: 'string' } },
    changed: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'current', 'file'],
        properties: {
          id: { type: 'string' },
          current: { type: ['number', 'null'] },
          file: { type: 'number' },
        },
      },
    },
    unchanged: { type: 'array', items: { type: 'string' } },
    unknown: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'reason'],
        properties: { id: { type: 'string' }, reason: { type: 'string' } },
      },
    },
  },
} as const;

export const confirmBody = {
  type: 'object',
  required: ['confirm'],
  additionalProperties: false,
  properties: {
    confirm: {
      type: 'string',
      minLength: 1,
      maxLength: 200,
      description: "The pack's name (or id), typed by the user to confirm.",
    },
  },
} as const;

export const writeBody = {
  type: 'object',
  required: ['values'],
  additionalProperties: false,
  properties: { values: valuesSchema, dry_run: { type: 'boolean' } },
} as const;

export const readParametersSchema = {
  type: 'object',
  required: ['values'],
  additionalProperties: false,
  properties: { values: { type: 'object', additionalProperties: { type: 'number' } } },
} as const;

export const diffBody = {
  type: 'object',
  required: ['file'],
  additionalProperties: false,
  properties: { file: { type: 'object' } },
} as const;

export const mosBody = {
  type: 'object',
  required: ['which', 'on'],
  additionalProperties: false,
  properties: {
    which: { type: 'string', enum: ['charge', 'discharge'] },
    on: { type: 'boolean' },
  },
} as const;

export const socBody = {
  type: 'object',
  required: ['pct'],
  additionalProperties: false,
  properties: { pct: { type: 'number', minimum: 0, maximum: 100 } },
} as const;

export const clockBody = {
  type: 'object',
  additionalProperties: false,
  properties: { ms: { type: 'integer', description: 'ms since the epoch (UTC).' } },
} as const;

export const recordsSchema = { type: 'object', additionalProperties: true } as const;

export type CommandView = FromSchema<typeof commandSchema>;
export type ParamResult = WriteResult['results'][number];
export type CommandOutcome = FromSchema<typeof outcomeSchema>;
export type ParamInfo = FromSchema<typeof parameterInfoSchema>;
export type Capabilities = FromSchema<typeof capabilitiesSchema>;
export type WriteResult = FromSchema<typeof writeResultSchema>;
export type ParamFile = FromSchema<typeof fileSchema>;
export type ParamDiff = FromSchema<typeof diffSchema>;
export type WriteBody = FromSchema<typeof writeBody>;
export type ReadParameters = FromSchema<typeof readParametersSchema>;
export type ConfirmBody = FromSchema<typeof confirmBody>;
export type MosBody = FromSchema<typeof mosBody>;
export type SocBody = FromSchema<typeof socBody>;
export type ClockBody = FromSchema<typeof clockBody>;
