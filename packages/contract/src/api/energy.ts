/** Daily and monthly energy of a pack or a site (charged and discharged kWh per period). */
import type { FromSchema } from 'json-schema-to-ts';

export const ENERGY_PERIODS = ['day', 'month'] as const;
/** How many periods one answer may hold, and how many it holds by default. */
export const ENERGY_MAX_COUNT = { day: 366, month: 24 } as const;
export const ENERGY_DEFAULT_COUNT = { day: 30, month: 12 } as const;

export const energyQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    period: { type: 'string', enum: ENERGY_PERIODS, description: 'day (default) or month.' },
    count: {
      type: 'integer',
      minimum: 1,
      maximum: ENERGY_MAX_COUNT.day,
      description:
        'Periods up to the current one (default 30 days or 12 months; at most 366 days or 24 months).',
    },
  },
} as const;

/** A site's energy, optionally of one bus's packs (a parallel system). */
export const siteEnergyQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    bus: {
      type: 'string',
      minLength: 1,
      maxLength: 200,
      description: "Only this bus's packs (a parallel system).",
    },
    ...energyQuery.properties,
  },
} as const;

export const energyRowSchema = {
  type: 'object',
  required: ['period', 'start', 'charged_kwh', 'discharged_kwh'],
  additionalProperties: false,
  properties: {
    period: { type: 'string', description: 'YYYY-MM-DD or YYYY-MM in the site time zone.' },
    start: { type: 'integer', description: 'First instant of the period, ms.' },
    charged_kwh: { type: 'number', minimum: 0 },
    discharged_kwh: { type: 'number', minimum: 0 },
  },
} as const;

export const energySchema = {
  type: 'object',
  required: ['period', 'time_zone', 'total', 'packs'],
  additionalProperties: false,
  properties: {
    period: { type: 'string', enum: ENERGY_PERIODS },
    time_zone: { type: 'string', description: 'IANA zone the periods are cut in.' },
    total: { type: 'array', items: energyRowSchema, description: 'Summed over the packs.' },
    packs: {
      type: 'array',
      items: {
        type: 'object',
        required: ['pack_id', 'rows'],
        additionalProperties: false,
        properties: {
          pack_id: { type: 'string' },
          rows: { type: 'array', items: energyRowSchema },
        },
      },
    },
  },
} as const;

export const siteIdParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 200 } },
} as const;

/** The daily-energy export: of one pack or of every pack of a site. */
export const energyExportQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    pack: { type: 'string', minLength: 1, maxLength: 200 },
    ...siteEnergyQuery.properties,
    site: { type: 'string', minLength: 1, maxLength: 200 },
  },
} as const;

export type EnergyPeriod = (typeof ENERGY_PERIODS)[number];
export type EnergyQuery = FromSchema<typeof energyQuery>;
export type SiteEnergyQuery = FromSchema<typeof siteEnergyQuery>;
export type EnergyRowView = FromSchema<typeof energyRowSchema>;
export type EnergyView = FromSchema<typeof energySchema>;
export type EnergyExportQuery = FromSchema<typeof energyExportQuery>;
