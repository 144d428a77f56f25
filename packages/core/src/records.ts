/**
 * On-board records (seed 004 "data record" and "alarm record", seed 002 "history events"):
 * what a BMS stored in its own memory, in canonical units, and their CSV export. Families
 * decode their record layouts into `BmsRecord`; the gateway, the API and the web console
 * share this shape and the one CSV writer.
 */
import type { Alarm } from './alarms.js';

/** Seed 004's two record lists: timed data records and alarm (event) records. */
export type RecordKind = 'data' | 'alarm';

export const RECORD_KINDS: readonly RecordKind[] = ['data', 'alarm'];

/** One on-board record. Only what the device stored is present. */
export interface BmsRecord {
  /** Position on the device when it was read (0 = the newest). */
  index: number;
  kind: RecordKind;
  /**
   * The BMS's date and time of the record, read as UTC (BMS clocks keep no time zone:
   * `new Date(wall_ms).getUTCHours()` is the hour the BMS wrote).
   */
  wall_ms?: number;
  /** What the record is about, when the device says (`power_on`, `cell_ov raised`...). */
  event?: string;
  voltage_v?: number;
  current_a?: number;
  soc_pct?: number;
  remaining_ah?: number;
  full_ah?: number;
  cycles?: number;
  cell_mv?: number[];
  temps_c?: number[];
  max_cell_mv?: number;
  min_cell_mv?: number;
  max_temp_c?: number;
  min_temp_c?: number;
  /** Alarms active in the record (taxonomy codes with levels, as in a snapshot). */
  alarms?: Alarm[];
  /** The device's own fields, named as in the family's README. */
  raw?: Record<string, unknown>;
}

/** The BMS time of a record as `YYYY-MM-DD HH:MM:SS` (the fields as the BMS wrote them). */
export function wallText(wallMs: number): string {
  return new Date(wallMs).toISOString().slice(0, 19).replace('T', ' ');
}

const SCALARS = [
  'voltage_v',
  'current_a',
  'soc_pct',
  'remaining_ah',
  'full_ah',
  'cycles',
  'max_cell_mv',
  'min_cell_mv',
  'max_temp_c',
  'min_temp_c',
] as const;

/** A CSV field: quoted when it holds a separator, a quote or a line break. */
function field(v: unknown): string {
  if (v === undefined || v === null) return '';
  const s = String(v);
  // A leading = + - @ would make a spreadsheet run it as a formula: prefix a quote.
  const safe = /^[=+\-@]/.test(s) && !/^-?\d/.test(s) ? `'${s}` : s;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/**
 * The records as CSV (RFC 4180, CRLF line ends), one row per record: position, kind, BMS time,
 * event, the canonical values, the alarm codes, then one column per cell and temperature
 * sensor (as many as the widest record has). `shown` leaves out the columns of the values a
 * reader may not see (the server's point groups: `cell_mv` and `temps_c` stand for their
 * per-cell and per-sensor columns); by default every column.
 */
export function recordsCsv(
  records: readonly BmsRecord[],
  shown: (key: string) => boolean = () => true,
): string {
  const scalars = SCALARS.filter((k) => shown(k));
  const cells = shown('cell_mv') ? Math.max(0, ...records.map((r) => r.cell_mv?.length ?? 0)) : 0;
  const temps = shown('temps_c') ? Math.max(0, ...records.map((r) => r.temps_c?.length ?? 0)) : 0;
  const head = [
    'index',
    'kind',
    'bms_time',
    'event',
    ...scalars,
    'alarms',
    ...Array.from({ length: cells }, (_, i) => `cell${i + 1}_mv`),
    ...Array.from({ length: temps }, (_, i) => `temp${i + 1}_c`),
  ];
  const rows = records.map((r) => [
    r.index,
    r.kind,
    r.wall_ms !== undefined ? wallText(r.wall_ms) : '',
    r.event ?? '',
    ...scalars.map((k) => r[k]),
    (r.alarms ?? [])
      .map((a) => (a.level !== undefined ? `${a.code}:${a.level}` : a.code))
      .join(' '),
    ...Array.from({ length: cells }, (_, i) => r.cell_mv?.[i]),
    ...Array.from({ length: temps }, (_, i) => r.temps_c?.[i]),
  ]);
  return [head, ...rows].map((row) => row.map(field).join(',')).join('\r\n') + '\r\n';
}
