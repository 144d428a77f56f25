/**
 * Files: the daily-file list (one entry per pack and UTC day, from the counters kept at
 * write time: samples, characters of the values, widest layout; the CSV size follows from
 * them without reading a row), deleting a day, the chunked export of raw samples (CSV text
 * or rows of numbers), and the on-disk size of the raw tier.
 *
 * An export is planned first (range and fields checked, the pack found in scope, the columns
 * fixed: without fields, the layouts met in the range are collected chunk by chunk), then
 * read in chunks of at most MAX_EXPORT_CHUNK_ROWS rows, each one query from where the last
 * one ended, so the caller holds one chunk at a time and other queries run in between.
 */
import { BmsError } from '@openbms/core';
import {
  MAX_EXPORT_CHUNK_ROWS,
  type DailyFile,
  type ExportQuery,
  type Field,
} from '@openbms/storage';
import type { GatewayScope, TelemetryCtx } from './telemetry-context.js';
import { checkFields, sortFields } from './telemetry-fields.js';
import { decodeRaw, type Layout } from './telemetry-rows.js';
import { DAY } from './telemetry-schema.js';
/** Characters of an ISO 8601 time (`2024-01-31T12:00:00.000Z`). */
const ISO_LEN = 24;

const header = (fields: readonly string[]): string => ['time', ...fields].join(',');

/** The daily files of the packs a scope sees (`gatewayId` optional), by gateway, pack and date. */
export function dailyFiles(
  ctx: TelemetryCtx,
  scope: { orgIds: readonly string[]; gatewayId: string | null },
  packId?: string,
): DailyFile[] {
  return ctx.read('cannot list daily files', () => {
    const rows = ctx
      .stmt(
        `SELECT p.gateway_id AS gateway, p.name, d.day, d.samples, d.chars, d.layout, d.cols FROM telemetry_days d
         JOIN telemetry_packs p ON p.id = d.pack
         WHERE p.org_id IN (SELECT value FROM json_each(@orgs))
           AND (@gateway IS NULL OR p.gateway_id = @gateway) AND (@pack IS NULL OR p.name = @pack)
         ORDER BY p.gateway_id, p.name, d.day`,
      )
      .all({
        orgs: JSON.stringify(scope.orgIds),
        gateway: scope.gatewayId,
        pack: packId ?? null,
      }) as {
      gateway: string;
      name: string;
      day: number;
      samples: number;
      chars: number;
      layout: number;
      cols: number;
    }[];
    return rows.map((r) => ({
      gatewayId: r.gateway,
      packId: r.name,
      date: new Date(r.day * DAY).toISOString().slice(0, 10),
      samples: r.samples,
      // header + newline, then per row: time, one comma per column, the values, newline
      bytes:
        header(ctx.layout(r.layout).fields).length +
        1 +
        r.samples * (ISO_LEN + r.cols + 1) +
        r.chars,
    }));
  });
}

/** Day number of a `YYYY-MM-DD` (UTC) date; REQUEST_INVALID otherwise. */
export function parseDate(date: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(String(date)) ? Date.parse(`${date}T00:00:00Z`) : NaN;
  if (!Number.isFinite(ms) || new Date(ms).toISOString().slice(0, 10) !== date) {
    throw new BmsError(
      'REQUEST_INVALID',
      `date must be a day as YYYY-MM-DD, got "${String(date)}"`,
      { field: 'date' },
    );
  }
  return ms / DAY;
}

/** Deletes one pack's raw samples of one UTC day (rollups stay); returns how many. */
export function deleteDay(
  ctx: TelemetryCtx,
  scope: GatewayScope,
  packId: string,
  date: string,
): number {
  const day = parseDate(date);
  const pack = ctx.read('cannot delete a day', () => ctx.scopedPack(scope, packId));
  if (pack === undefined) return 0;
  return ctx.write('cannot delete a day', () => {
    const n = ctx
      .stmt('DELETE FROM telemetry_raw WHERE pack = ? AND ts >= ? AND ts < ?')
      .run(pack, day * DAY, (day + 1) * DAY).changes;
    ctx.stmt('DELETE FROM telemetry_days WHERE pack = ? AND day = ?').run(pack, day);
    return n;
  });
}

// ---------------------------------------------------------------- export

/** A checked export: the interned pack (null: nothing to read), the columns and the range [from, to]. */
export interface ExportPlan {
  pack: number | null;
  fields: Field[];
  from: number;
  to: number;
}

/** Rows read per query while collecting the layouts of an export without fields. */
const PLAN_CHUNK = 50_000;

/** Checks the query and finds the pack; `layouts` is set when the columns are still to be found. */
export function startExport(
  ctx: TelemetryCtx,
  scope: GatewayScope,
  q: ExportQuery,
): { plan: ExportPlan; scanFrom: number | null } {
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
  const pack = ctx.read('cannot export', () => ctx.scopedPack(scope, q.packId)) ?? null;
  const chosen = fields && fields.length > 0 ? [...fields] : null;
  return {
    plan: { pack, fields: chosen ?? [], from, to: Math.floor(to) },
    scanFrom: chosen || pack === null ? null : from,
  };
}

/**
 * One step of collecting the series an export without fields has: the layouts of up to
 * PLAN_CHUNK rows from `scanFrom`, reading only each row's leading layout number. Returns the
 * series met and where the next step starts (null: done).
 */
export function scanLayouts(
  ctx: TelemetryCtx,
  plan: ExportPlan,
  scanFrom: number,
): { fields: Field[]; next: number | null } {
  return ctx.read('cannot export', () => {
    const rows = ctx
      .stmt(
        'SELECT ts, substr(data, 1, 5) AS head FROM telemetry_raw WHERE pack = ? AND ts >= ? AND ts <= ? ORDER BY ts LIMIT ?',
      )
      .raw(true)
      .all(plan.pack, scanFrom, plan.to, PLAN_CHUNK) as [number, Uint8Array][];
    const seen = new Set<number>();
    for (const [, head] of rows) {
      ctx.r.reset(head);
      seen.add(ctx.r.varint());
    }
    const fields = new Set<string>();
    for (const id of seen) for (const f of ctx.layout(id).fields) fields.add(f);
    const last = rows.at(-1)?.[0];
    return {
      fields: [...fields],
      next: rows.length < PLAN_CHUNK || last === undefined ? null : last + 1,
    };
  });
}

/** The CSV header line of an export. */
export function csvHeader(fields: readonly string[]): string {
  return `${header(fields)}\n`;
}

/** The series in canonical order (for an export that collected them). */
export function canonicalFields(fields: Iterable<string>): Field[] {
  return sortFields(new Set(fields));
}

/**
 * Up to MAX_EXPORT_CHUNK_ROWS rows of an export from `after` (inclusive), passed to `row`
 * with their time and the values in the layout's order; returns where the next chunk starts
 * (null: done).
 */
function readChunk(
  ctx: TelemetryCtx,
  plan: ExportPlan,
  after: number,
  row: (t: number, layout: Layout, values: number[]) => void,
): number | null {
  if (plan.pack === null) return null;
  const layoutOf = (id: number): Layout => ctx.layout(id);
  const values: number[] = [];
  const times = ctx.scanLimit('telemetry_raw', plan.pack, after, plan.to, MAX_EXPORT_CHUNK_ROWS);
  for (const t of times) row(t, decodeRaw(ctx.r, layoutOf, values), values);
  const last = times.at(-1);
  return times.length < MAX_EXPORT_CHUNK_ROWS || last === undefined ? null : last + 1;
}

/** One chunk of an export as CSV lines (`time,<fields>` order, ISO times, empty cells for what a sample lacks). */
export function csvChunk(
  ctx: TelemetryCtx,
  plan: ExportPlan,
  after: number,
): { text: string; next: number | null } {
  return ctx.read('cannot export CSV', () => {
    const cols = plan.fields;
    const colOf = new Map<number, number[]>();
    const cells: string[] = new Array<string>(cols.length);
    const lines: string[] = [];
    const next = readChunk(ctx, plan, after, (t, layout, values) => {
      let map = colOf.get(layout.id);
      if (!map) colOf.set(layout.id, (map = cols.map((f) => layout.index.get(f) ?? -1)));
      for (let c = 0; c < map.length; c++) cells[c] = map[c]! < 0 ? '' : String(values[map[c]!]);
      const time = new Date(t).toISOString();
      lines.push(cells.length > 0 ? `${time},${cells.join(',')}` : time);
    });
    return { text: lines.length > 0 ? lines.join('\n') + '\n' : '', next };
  });
}

/** One chunk of an export as numbers: times, and `fields.length` values per row (NaN: absent). */
export function rowChunk(
  ctx: TelemetryCtx,
  plan: ExportPlan,
  after: number,
): { times: Float64Array; values: Float64Array; next: number | null } {
  return ctx.read('cannot export', () => {
    const cols = plan.fields;
    const w = cols.length;
    const colOf = new Map<number, number[]>();
    const times: number[] = [];
    const out: number[] = [];
    const next = readChunk(ctx, plan, after, (t, layout, values) => {
      let map = colOf.get(layout.id);
      if (!map) colOf.set(layout.id, (map = cols.map((f) => layout.index.get(f) ?? -1)));
      times.push(t);
      for (let c = 0; c < w; c++) out.push(map[c]! < 0 ? Number.NaN : values[map[c]!]!);
    });
    return { times: Float64Array.from(times), values: Float64Array.from(out), next };
  });
}

/** On-disk bytes of the raw table and its index per stored sample (dbstat when built in). */
export function rawBytesPerSample(ctx: TelemetryCtx): number {
  return ctx.read('cannot measure the raw tier', () => {
    const n = (ctx.stmt('SELECT count(*) AS n FROM telemetry_raw').get() as { n: number }).n;
    if (n === 0) return 0;
    let bytes: number;
    try {
      bytes = (
        ctx
          .stmt(
            "SELECT sum(pgsize) AS b FROM dbstat WHERE name IN ('telemetry_raw', 'telemetry_raw_pack_ts')",
          )
          .get() as { b: number }
      ).b;
    } catch {
      // No dbstat: the blobs plus an estimate of row and index overhead.
      bytes =
        (ctx.stmt('SELECT sum(length(data)) AS b FROM telemetry_raw').get() as { b: number }).b +
        n * 30;
    }
    return bytes / n;
  });
}
