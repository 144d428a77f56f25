/**
 * Safe control: capabilities, parameters (read, write with dry run, export, diff of a
 * file), commands and their statuses.
 */
import type { BmsRecord, ParameterGroup, ParameterKind } from '@openbms/core';
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
    text: {
      type: 'object',
      additionalProperties: false,
      required: ['key'],
      description: 'The detail as a key and parameters, for a console to translate.',
      properties: {
        key: { type: 'string' },
        params: {
          type: 'object',
          additionalProperties: { type: ['string', 'number'] },
        },
      },
    },
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

const confirmField = {
  type: 'string',
  minLength: 1,
  maxLength: 200,
  description: "The pack's name (or id), typed by the user to confirm.",
} as const;

const optionSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['code', 'name'],
  properties: { code: { type: 'integer' }, name: { type: 'string' } },
} as const;

/** The inverter protocols of each inverter-facing link (seed 002 §2.5). */
export const inverterProtocolListSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    can: { type: 'array', items: optionSchema },
    rs485: { type: 'array', items: optionSchema },
    auto: { type: 'boolean', description: 'The pack can detect the inverter protocol itself.' },
  },
} as const;

export const INVERTER_MODES = ['auto', 'manual'] as const;

/** A selection of inverter protocols: codes of the lists, and the mode. */
export const inverterSettingSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    can: { type: 'integer', minimum: 0, maximum: 255 },
    rs485: { type: 'integer', minimum: 0, maximum: 255 },
    mode: { type: 'string', enum: INVERTER_MODES },
  },
} as const;

export const inverterBody = { ...inverterSettingSchema, minProperties: 1 } as const;

export const inverterViewSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['setting', 'list'],
  properties: { setting: inverterSettingSchema, list: inverterProtocolListSchema },
} as const;

export const calibrationInfoSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'label', 'unit', 'takes_value', 'min', 'max', 'step'],
  properties: {
    kind: { type: 'string' },
    label: { type: 'string' },
    unit: { type: 'string' },
    takes_value: { type: 'boolean' },
    min: { type: 'number' },
    max: { type: 'number' },
    step: { type: 'number' },
  },
} as const;

export const calibrateBody = {
  type: 'object',
  additionalProperties: false,
  required: ['kind'],
  properties: {
    kind: { type: 'string', minLength: 1, maxLength: 40 },
    value: {
      type: 'number',
      description: "The true value measured with a reference meter, in the calibration's unit.",
    },
  },
} as const;

/** The BMS clock as read now. */
export const clockViewSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['bms_time', 'ms', 'drift_ms', 'time_zone'],
  properties: {
    bms_time: {
      type: 'string',
      description: 'The date and time the BMS shows (it keeps no zone): YYYY-MM-DD HH:MM:SS.',
    },
    ms: { type: 'integer', description: 'That wall time as an instant in time_zone.' },
    drift_ms: { type: 'integer', description: 'ms minus the gateway time: + = BMS ahead.' },
    time_zone: { type: 'string' },
  },
} as const;

/** The most records one page of the API may ask for (a family may allow fewer). */
export const RECORDS_MAX_PAGE = 100;
/** The most records one CSV export reads. */
export const RECORDS_MAX_EXPORT = 2000;

export const recordsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    start: { type: 'integer', minimum: 0, maximum: 65535, default: 0 },
    count: { type: 'integer', minimum: 1, maximum: RECORDS_MAX_PAGE, default: 10 },
  },
} as const;

export const recordsExportQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    max: { type: 'integer', minimum: 1, maximum: RECORDS_MAX_EXPORT, default: 500 },
  },
} as const;

const alarmRefSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['code', 'severity'],
  properties: {
    code: { type: 'string' },
    severity: { type: 'string', enum: ['warning', 'protection', 'fault'] },
    level: { type: 'integer' },
    source: { type: 'string' },
    cell: { type: 'integer' },
    sensor: { type: 'integer' },
  },
} as const;

export const recordSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['index', 'kind'],
  properties: {
    index: { type: 'integer', description: 'Position on the device (0 = newest).' },
    kind: { type: 'string', enum: ['data', 'alarm'] },
    wall_ms: { type: 'integer', description: "The BMS's date and time, read as UTC." },
    ms: { type: 'integer', description: 'That wall time as an instant in the time zone.' },
    event: { type: 'string' },
    voltage_v: { type: 'number' },
    current_a: { type: 'number' },
    soc_pct: { type: 'number' },
    remaining_ah: { type: 'number' },
    full_ah: { type: 'number' },
    cycles: { type: 'integer' },
    cell_mv: { type: 'array', items: { type: 'number' } },
    temps_c: { type: 'array', items: { type: 'number' } },
    max_cell_mv: { type: 'number' },
    min_cell_mv: { type: 'number' },
    max_temp_c: { type: 'number' },
    min_temp_c: { type: 'number' },
    alarms: { type: 'array', items: alarmRefSchema },
    raw: { type: 'object', additionalProperties: true },
  },
} as const;

export const recordsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['records', 'next', 'time_zone'],
  properties: {
    records: { type: 'array', items: recordSchema },
    next: {
      type: ['integer', 'null'],
      description: 'Where the next (older) page starts; null when the device has no more.',
    },
    time_zone: { type: 'string' },
  },
} as const;

export const recordsClearBody = {
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'confirm'],
  properties: {
    kind: { type: 'string', enum: ['data', 'alarm', 'all'] },
    confirm: confirmField,
  },
} as const;

export const capabilitiesSchema = {
  type: 'object',
  additionalProperties: false,
  required: [
    'pack_id',
    'protocol',
    'chemistry',
    'limits',
    'operations',
    'unverified',
    'allow_unverified',
    'calibrations',
    'parameters',
  ],
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
    variant: { type: 'string' },
    unverified: {
      type: 'object',
      additionalProperties: { type: 'string' },
      description:
        'Operations (and `param:<id>` parameters) whose wire format rests on one source, with why: refused unless allow_unverified.',
    },
    allow_unverified: {
      type: 'boolean',
      description: 'Config `packs[].allow_unverified`: commands resting on one source are sent.',
    },
    inverter_protocols: inverterProtocolListSchema,
    calibrations: { type: 'array', items: calibrationInfoSchema },
    records: {
      type: 'object',
      additionalProperties: false,
      required: ['kinds', 'per_read'],
      properties: {
        kinds: { type: 'array', items: { type: 'string', enum: ['data', 'alarm'] } },
        per_read: { type: 'integer', description: 'Most records one page may ask for.' },
      },
    },
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
  properties: { confirm: confirmField },
} as const;

export const writeBody = {
  type: 'object',
  required: ['values'],
  additionalProperties: false,
  properties: { values: valuesSchema, dry_run: { type: 'boolean' } },
} as const;

/** Most packs one Distribute reaches (seed 003 "Distribute": a batch of the same settings). */
export const DISTRIBUTE_MAX_PACKS = 200;

export const distributeBody = {
  type: 'object',
  required: ['pack_ids', 'values'],
  additionalProperties: false,
  properties: {
    pack_ids: {
      type: 'array',
      minItems: 1,
      maxItems: DISTRIBUTE_MAX_PACKS,
      uniqueItems: true,
      items: { type: 'string', minLength: 1, maxLength: 200 },
      description: 'The packs to write, each once.',
    },
    values: valuesSchema,
  },
} as const;

export const distributeResultSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['results'],
  properties: {
    results: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['pack_id', 'status', 'detail'],
        properties: {
          pack_id: { type: 'string' },
          status: { type: 'string', enum: ['done', 'refused', 'failed'] },
          code: { type: 'string', description: 'The error code when not done.' },
          detail: { type: 'string' },
          field: { type: 'string', description: 'The parameter at fault, when one is.' },
          write: writeResultSchema,
        },
      },
    },
  },
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

export type CommandView = FromSchema<typeof commandSchema>;
export type ParamResult = WriteResult['results'][number];
export type CommandOutcome = FromSchema<typeof outcomeSchema>;
export type ParamInfo = FromSchema<typeof parameterInfoSchema>;
export type Capabilities = FromSchema<typeof capabilitiesSchema>;
export type WriteResult = FromSchema<typeof writeResultSchema>;
export type ParamFile = FromSchema<typeof fileSchema>;
export type ParamDiff = FromSchema<typeof diffSchema>;
export type WriteBody = FromSchema<typeof writeBody>;
export type DistributeBody = FromSchema<typeof distributeBody>;
export type DistributeResult = FromSchema<typeof distributeResultSchema>;
export type ReadParameters = FromSchema<typeof readParametersSchema>;
export type ConfirmBody = FromSchema<typeof confirmBody>;
export type MosBody = FromSchema<typeof mosBody>;
export type SocBody = FromSchema<typeof socBody>;
export type ClockBody = FromSchema<typeof clockBody>;
export type ClockView = FromSchema<typeof clockViewSchema>;
export type InverterView = FromSchema<typeof inverterViewSchema>;
export type InverterSetting = FromSchema<typeof inverterSettingSchema>;
export type InverterProtocolListView = FromSchema<typeof inverterProtocolListSchema>;
export type CalibrationInfoView = FromSchema<typeof calibrationInfoSchema>;
export type CalibrateBody = FromSchema<typeof calibrateBody>;
/** A record as sent: core's BmsRecord with the real instant of its BMS time. */
export type RecordView = BmsRecord & { ms?: number };
export type RecordsPageView = Omit<FromSchema<typeof recordsSchema>, 'records'> & {
  records: RecordView[];
};
export type RecordsClearBody = FromSchema<typeof recordsClearBody>;
