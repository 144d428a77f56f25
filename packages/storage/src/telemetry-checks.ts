/**
 * Telemetry input checks and series names shared by every adapter (SQLite, PostgreSQL), so
 * they accept and refuse the same input with the same REQUEST_INVALID / CONFIG_INVALID errors
 * naming the field. Series names come from the metric catalog: every numeric, integer or
 * boolean metric (booleans as 0/1) except the bus address, the gateway's derived meters
 * (`energy_charged_kwh`, `energy_discharged_kwh`), plus `cell_mv.<i>` / `temps_c.<i>`.
 */
import { BmsError, DERIVED_METRICS, METRICS } from '@openbms/core';
import type { ExportQuery, HistoryQuery, RetentionPolicy, Sample, Tier } from './index.js';

export const TIERS: readonly Tier[] = ['raw', '1m', '15m', '1h'];
export const DAY_MS = 86_400_000;

const SCALAR_TYPES = new Set(['number', 'integer', 'boolean']);

/** Scalar series in catalog order (adding a metric to the catalog adds a series). */
export const SCALAR_FIELDS: readonly string[] = [...METRICS, ...DERIVED_METRICS]
  .filter((m) => SCALAR_TYPES.has(m.type) && m.key !== 'address')
  .map((m) => m.key);

const SCALAR_RANK = new Map(SCALAR_FIELDS.map((k, i) => [k, i]));
export const ARRAY_FIELD = /^(cell_mv|temps_c)\.(0|[1-9]\d{0,3})$/;

/** Sort key giving the canonical order: scalars (catalog order), cells, temperatures. */
export function fieldRank(field: string): number {
  const s = SCALAR_RANK.get(field);
  if (s !== undefined) return s;
  const m = ARRAY_FIELD.exec(field);
  if (!m) return Number.MAX_SAFE_INTEGER;
  return (m[1] === 'cell_mv' ? 1_000 : 100_000) + Number(m[2]);
}

export function isField(field: string): boolean {
  return SCALAR_RANK.has(field) || ARRAY_FIELD.test(field);
}

/** Throws REQUEST_INVALID naming the first unknown series. */
export function checkFields(fields: readonly string[]): void {
  for (const f of fields) {
    if (typeof f !== 'string' || !isField(f)) {
      throw new BmsError(
        'REQUEST_INVALID',
        `unknown series "${String(f)}": use a numeric metric (e.g. voltage_v, soc_pct), cell_mv.<i> or temps_c.<i>`,
        { field: f },
      );
    }
  }
}

export function sortFields(fields: Iterable<string>): string[] {
  return [...fields].sort((a, b) => fieldRank(a) - fieldRank(b));
}

/** A batch of samples: pack ids, whole ms times >= 0, object snapshots. */
export function checkSamples(samples: readonly Sample[]): void {
  if (!Array.isArray(samples)) throw new BmsError('REQUEST_INVALID', 'samples must be an array');
  samples.forEach((s, i) => {
    if (typeof s !== 'object' || s === null)
      throw new BmsError('REQUEST_INVALID', `sample ${i} is not an object`);
    if (typeof s.packId !== 'string' || s.packId.length === 0 || s.packId.length > 200) {
      throw new BmsError(
        'REQUEST_INVALID',
        `sample ${i}: packId must be a non-empty string (at most 200 characters)`,
      );
    }
    if (!Number.isSafeInteger(s.ts) || s.ts < 0) {
      throw new BmsError(
        'REQUEST_INVALID',
        `sample ${i}: ts must be a whole number of ms since 1970, got ${String(s.ts)}`,
      );
    }
    if (typeof s.snapshot !== 'object' || s.snapshot === null) {
      throw new BmsError('REQUEST_INVALID', `sample ${i}: snapshot must be an object`);
    }
  });
}

export function checkHistoryQuery(q: HistoryQuery): void {
  if (typeof q !== 'object' || q === null)
    throw new BmsError('REQUEST_INVALID', 'history query must be an object');
  if (typeof q.packId !== 'string')
    throw new BmsError('REQUEST_INVALID', 'packId must be a string');
  if (!Number.isFinite(q.from) || !Number.isFinite(q.to)) {
    throw new BmsError('REQUEST_INVALID', 'from and to must be times in ms since 1970');
  }
  if (q.from > q.to)
    throw new BmsError('REQUEST_INVALID', `from (${q.from}) is after to (${q.to})`);
  if (q.fields !== undefined && !Array.isArray(q.fields)) {
    throw new BmsError('REQUEST_INVALID', 'fields must be an array of series names');
  }
  checkFields(q.fields ?? []);
  if (q.resolution !== undefined && q.resolution !== 'auto' && !TIERS.includes(q.resolution)) {
    throw new BmsError('REQUEST_INVALID', `resolution must be one of auto, ${TIERS.join(', ')}`, {
      field: 'resolution',
    });
  }
  const mp = q.maxPoints;
  if (mp !== undefined && (!Number.isInteger(mp) || mp < 1 || mp > 1_000_000)) {
    throw new BmsError('REQUEST_INVALID', 'maxPoints must be a whole number from 1 to 1000000', {
      field: 'maxPoints',
    });
  }
}

export function checkPolicy(policy: RetentionPolicy): void {
  for (const tier of TIERS) {
    const days = (policy as unknown as Record<string, unknown>)[tier];
    if (typeof days !== 'number' || Number.isNaN(days) || days < 0) {
      throw new BmsError(
        'CONFIG_INVALID',
        `retention.${tier} must be a number of days >= 0 (or Infinity to keep forever), got ${String(days)}`,
        { key: `retention.${tier}` },
      );
    }
  }
}

/** `now` of rollup and retention: a finite time in ms. */
export function checkNow(now: number, what: string): void {
  if (!Number.isFinite(now))
    throw new BmsError('REQUEST_INVALID', `${what}: now must be a time in ms, got ${now}`);
}

/** Day number (since 1970) of a `YYYY-MM-DD` (UTC) date; REQUEST_INVALID otherwise. */
export function parseDate(date: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(String(date)) ? Date.parse(`${date}T00:00:00Z`) : NaN;
  if (!Number.isFinite(ms) || new Date(ms).toISOString().slice(0, 10) !== date) {
    throw new BmsError(
      'REQUEST_INVALID',
      `date must be a day as YYYY-MM-DD, got "${String(date)}"`,
      { field: 'date' },
    );
  }
  return ms / DAY_MS;
}

/** An export query: pack, range with from <= to, known fields; returns the chosen fields (null: all). */
export function checkExportQuery(q: ExportQuery): string[] | null {
  if (typeof q !== 'object' || q === null)
    throw new BmsError('REQUEST_INVALID', 'export query must be an object');
  const { from, to } = q;
  if (typeof q.packId !== 'string' || q.packId.length === 0)
    throw new BmsError('REQUEST_INVALID', 'packId must be a non-empty string', {
      field: 'packId',
    });
  if (!Number.isFinite(from) || !Number.isFinite(to) || from > to) {
    throw new BmsError(
      'REQUEST_INVALID',
      `export range must be two times in ms with from <= to, got ${from}..${to}`,
      { field: 'from' },
    );
  }
  const fields = q.fields;
  if (fields !== undefined) {
    if (!Array.isArray(fields))
      throw new BmsError('REQUEST_INVALID', 'fields must be an array of series names', {
        field: 'fields',
      });
    checkFields(fields);
  }
  return fields && fields.length > 0 ? [...fields] : null;
}
