/** Exports: the daily CSV files, the free space, CSV/XLSX of a range. */
import type { FromSchema } from 'json-schema-to-ts';
import { timeSchema } from './common.js';

/**
 * Most calendar days one zip of daily files may cover (a year, leap day included): the
 * requested range when both ends are given, else the days from the first to the last
 * matching file. Counted in days, not files, so a wide range is refused where few files exist.
 */
export const ZIP_MAX_DAYS = 366;

export const dateSchema = {
  type: 'string',
  pattern: '^\\d{4}-\\d{2}-\\d{2}$',
  description: 'YYYY-MM-DD (UTC)',
} as const;

export const dayParams = {
  type: 'object',
  required: ['pack', 'date'],
  properties: {
    pack: { type: 'string', minLength: 1, maxLength: 200 },
    date: dateSchema,
  },
} as const;

export const dailyFileSchema = {
  type: 'object',
  required: ['pack_id', 'date', 'samples', 'bytes', 'url'],
  additionalProperties: false,
  properties: {
    pack_id: { type: 'string' },
    date: {
      type: 'string',
      description:
        "The day (YYYY-MM-DD) in the site's time zone (`location.timezone`, else the host's): local midnight to local midnight.",
    },
    samples: { type: 'integer' },
    bytes: { type: 'integer', description: 'Size of the CSV download, bytes.' },
    url: {
      type: 'string',
      description: 'Download path (GET) and delete path (DELETE).',
    },
  },
} as const;

export const dayDeletedSchema = {
  type: 'object',
  required: ['ok', 'deleted'],
  additionalProperties: false,
  properties: {
    ok: { type: 'boolean' },
    deleted: { type: 'integer', description: 'Raw samples deleted.' },
  },
} as const;

export const diskSchema = {
  type: 'object',
  required: ['available'],
  additionalProperties: false,
  properties: {
    available: {
      type: 'boolean',
      description: 'false: the store is not a local file, or the directory cannot be read.',
    },
    free_bytes: {
      type: 'integer',
      description: 'Bytes OpenBMS can still write (what an unprivileged user may use).',
    },
    total_bytes: { type: 'integer', description: 'Size of the file system, bytes.' },
  },
} as const;

/** The daily files of a pack and/or a range of days, as one zip. */
export const zipQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    pack: {
      type: 'string',
      minLength: 1,
      maxLength: 200,
      description: 'One pack id; absent: every pack.',
    },
    from: {
      ...dateSchema,
      description: "First day (the site's time zone, inclusive); absent: the oldest.",
    },
    to: {
      ...dateSchema,
      description: "Last day (the site's time zone, inclusive); absent: the newest.",
    },
  },
} as const;

/** A CSV or Excel file of a pack's raw samples over a range. */
export const rangeExportQuery = {
  type: 'object',
  required: ['pack'],
  additionalProperties: false,
  properties: {
    pack: { type: 'string', minLength: 1, maxLength: 200 },
    from: {
      ...timeSchema,
      description:
        "Start: a time (ms since the epoch, or ISO 8601), or a date YYYY-MM-DD = that day's first instant in the site's time zone. Default: 24 h before `to`.",
    },
    to: {
      ...timeSchema,
      description:
        "End, inclusive: a time, or a date YYYY-MM-DD = the whole day in the site's time zone (from=to=<date> is one day). Default: now.",
    },
    fields: { type: 'string', minLength: 1, maxLength: 4000 },
  },
} as const;

export type ZipQuery = FromSchema<typeof zipQuery>;
export type RangeExportQuery = FromSchema<typeof rangeExportQuery>;
export type DailyFile = FromSchema<typeof dailyFileSchema>;
export type DayDeleted = FromSchema<typeof dayDeletedSchema>;
export type DiskView = FromSchema<typeof diskSchema>;
