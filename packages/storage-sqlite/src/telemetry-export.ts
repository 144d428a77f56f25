/**
 * Files: the daily-file list (one entry per pack and local day of the zone asked for, from
 * the counters kept per 15-minute slot at write time: samples, characters of the values,
 * widest layout; the CSV size follows from them without reading a row), deleting a day, the chunked export of raw samples (CSV text
 * or rows of numbers), and the on-disk size of the raw tier.
 *
 * An export is planned first (range and fields checked, the pack found in scope, the columns
 * fixed: without fields, the layouts met in the range are collected chunk by chunk), then
 * read in chunks of at most MAX_EXPORT_CHUNK_ROWS rows, each one query from where the last
 * one ended, so the caller holds one chunk at a time and other queries run in between.
 */
import {
  MAX_EXPORT_CHUNK_ROWS,
  dayZones,
  telemetryChecks,
  type DailyFile,
  type DayOptions,
  type ExportQuery,
  type Field,
} from '@openbms/storage';
import type { GatewayScope, TelemetryCtx } from './telemetry-context.js';
import { sortFields } from './telemetry-fields.js';
import { decodeRaw, type Layout } from './telemetry-rows.js';
import { DAY, SLOT } from './telemetry-schema.js';
/** Characters of an ISO 8601 time (`2024-01-31T12:00:00.000Z`). */
const ISO_LEN = 24;

const header = (fields: readonly string[]): string => ['time', ...fields].join(',');

/** Scope conditions of the daily-file queries (`p` is telemetry_packs). */
// `@roots` (Scope.roots): the subtrees' organisations by the closure semi-join, in SQL (the
// closure table is in the same file).
const IN_SCOPE = `(p.org_id IN (SELECT value FROM json_each(@orgs)) OR (@roots IS NOT NULL AND
    p.org_id IN (SELECT descendant FROM org_closure
      WHERE ancestor IN (SELECT value FROM json_each(@roots)))))
  AND (@gateway IS NULL OR p.gateway_id = @gateway) AND (@pack IS NULL OR p.name = @pack)
  AND (@gateways IS NULL OR p.gateway_id IN (SELECT value FROM json_each(@gateways)))`;

/**
 * The daily files of the packs a scope sees (`gatewayId` optional), by gateway, pack and date:
 * the slot counters summed per local day of `opts.timeZone`. The zone's offsets over the slots
 * held are worked out first (dayZones.zoneSpans: a few per year), then one query adds each
 * slot to the day its start falls on in local time.
 */
export function dailyFiles(
  ctx: TelemetryCtx,
  scope: {
    orgIds: readonly string[];
    roots: readonly string[] | null;
    gatewayId: string | null;
    gatewayIds: readonly string[] | null;
  },
  packId?: string,
  opts?: DayOptions,
): DailyFile[] {
  const tz = dayZones.zoneOf(opts);
  return ctx.read('cannot list daily files', () => {
    const params = {
      orgs: JSON.stringify(scope.orgIds),
      roots: scope.roots === null ? null : JSON.stringify(scope.roots),
      gateway: scope.gatewayId,
      pack: packId ?? null,
      gateways: scope.gatewayIds === null ? null : JSON.stringify(scope.gatewayIds),
    };
    const held = ctx
      .stmt(
        `SELECT min(d.slot) AS lo, max(d.slot) AS hi FROM telemetry_slots d
         JOIN telemetry_packs p ON p.id = d.pack WHERE ${IN_SCOPE}`,
      )
      .get(params) as { lo: number | null; hi: number | null };
    if (held.lo === null || held.hi === null) return [];
    const spans = dayZones.zoneSpans(held.lo * SLOT, (held.hi + 1) * SLOT, tz);
    const rows = ctx
      .stmt(
        // With a single max() aggregate, SQLite takes the bare `layout` from the row holding
        // the maximum: the day's widest layout.
        `SELECT p.gateway_id AS gateway, p.name, (d.slot * ${SLOT} + s.off) / ${DAY} AS day,
           sum(d.samples) AS samples, sum(d.chars) AS chars, max(d.cols) AS cols, d.layout AS layout
         FROM telemetry_slots d JOIN telemetry_packs p ON p.id = d.pack
         JOIN (SELECT json_extract(value, '$[0]') AS st, json_extract(value, '$[1]') AS en,
                 json_extract(value, '$[2]') AS off FROM json_each(@spans)) s
           ON d.slot * ${SLOT} >= s.st AND d.slot * ${SLOT} < s.en
         WHERE ${IN_SCOPE}
         GROUP BY p.gateway_id, p.name, day
         ORDER BY p.gateway_id, p.name, day`,
      )
      .all({
        ...params,
        spans: JSON.stringify(spans.map((z) => [z.start, z.end, z.offset])),
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
        dayZones.csvHeaderLength(ctx.layout(r.layout).fields) +
        1 +
        r.samples * (ISO_LEN + r.cols + 1) +
        r.chars,
    }));
  });
}

export const { parseDate } = telemetryChecks;

/**
 * Deletes one pack's raw samples of one local day of `opts.timeZone` (rollups stay): the
 * samples whose local date it is, and the day's slot counters; returns how many.
 */
export function deleteDay(
  ctx: TelemetryCtx,
  scope: GatewayScope,
  packId: string,
  date: string,
  opts?: DayOptions,
): number {
  const day = parseDate(date);
  const ranges = dayZones.dayRanges(day, dayZones.zoneOf(opts));
  const pack = ctx.read('cannot delete a day', () => ctx.scopedPack(scope, packId));
  if (pack === undefined) return 0;
  return ctx.write('cannot delete a day', () => {
    let n = 0;
    for (const [from, to] of ranges) {
      n += ctx
        .stmt('DELETE FROM telemetry_raw WHERE pack = ? AND ts >= ? AND ts < ?')
        .run(pack, from, to).changes;
      ctx
        .stmt('DELETE FROM telemetry_slots WHERE pack = ? AND slot >= ? AND slot < ?')
        .run(pack, Math.ceil(from / SLOT), Math.ceil(to / SLOT));
    }
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

/**
 * CSV lines per chunk: about 140 kB of text, so the chunk's strings (in the reader thread and
 * on the main thread) stay in V8's young generation and the process does not grow with an
 * export's garbage (5,000 lines at a time grew it by 340 MB over a 7-day export).
 */
export const CSV_CHUNK_ROWS = Math.min(500, MAX_EXPORT_CHUNK_ROWS);

/** Rows per batch of numbers: 2,000 rows of 40 series are 640 kB of Float64Array. */
export const ROW_CHUNK_ROWS = Math.min(2000, MAX_EXPORT_CHUNK_ROWS);

/** Checks the query and finds the pack; `layouts` is set when the columns are still to be found. */
export function startExport(
  ctx: TelemetryCtx,
  scope: GatewayScope,
  q: ExportQuery,
): { plan: ExportPlan; scanFrom: number | null } {
  const chosen = telemetryChecks.checkExportQuery(q);
  const { from, to } = q;
  const pack = ctx.read('cannot export', () => ctx.scopedPack(scope, q.packId)) ?? null;
  return {
    plan: { pack, fields: chosen ?? [], from, to: Math.floor(to) },
    scanFrom: chosen || pack === null ? null : from,
  };
}

/** Byte `k` (0-based) of a blob as an integer, in SQL: from its hex digits. */
const byteSql = (k: number): string =>
  `((instr('0123456789ABCDEF', substr(h, ${2 * k + 1}, 1)) - 1) * 16 + instr('0123456789ABCDEF', substr(h, ${2 * k + 2}, 1)) - 1)`;

/**
 * A raw row's layout id, in SQL: the varint (7 bits per byte, low first, high bit = more) at
 * the start of its blob, up to three bytes (two million layouts). SQLite reads it row by row
 * without handing any row to JavaScript.
 */
const LAYOUT_SQL = `CASE WHEN ${byteSql(0)} < 128 THEN ${byteSql(0)}
  WHEN ${byteSql(1)} < 128 THEN ${byteSql(0)} - 128 + ${byteSql(1)} * 128
  ELSE ${byteSql(0)} - 128 + (${byteSql(1)} - 128) * 128 + ${byteSql(2)} * 16384 END`;

/**
 * One step of collecting the series an export without fields has: the distinct layouts of up
 * to PLAN_CHUNK rows from `scanFrom`, found by SQLite from each row's leading layout number
 * (no row crosses into JavaScript: a row each was 50,000 small buffers per step, and the
 * reader thread grew by a hundred MB over a week's export). Returns the series met and where
 * the next step starts (null: done).
 */
export function scanLayouts(
  ctx: TelemetryCtx,
  plan: ExportPlan,
  scanFrom: number,
): { fields: Field[]; next: number | null } {
  return ctx.read('cannot export', () => {
    const row = ctx
      .stmt(
        `SELECT json_group_array(DISTINCT layout) AS layouts, max(ts) AS last, count(*) AS n FROM (
           SELECT ts, ${LAYOUT_SQL} AS layout FROM (
             SELECT ts, hex(substr(data, 1, 3)) AS h FROM telemetry_raw
             WHERE pack = ? AND ts >= ? AND ts <= ? ORDER BY ts LIMIT ?))`,
      )
      .get(plan.pack, scanFrom, plan.to, PLAN_CHUNK) as {
      layouts: string;
      last: number | null;
      n: number;
    };
    const fields = new Set<string>();
    for (const id of JSON.parse(row.layouts) as number[]) {
      for (const f of ctx.layout(id).fields) fields.add(f);
    }
    return {
      fields: [...fields],
      next: row.n < PLAN_CHUNK || row.last === null ? null : row.last + 1,
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
 * Up to `limit` rows of an export from `after` (inclusive), passed to `row` with their time
 * and the values in the layout's order; returns where the next chunk starts (null: done).
 */
function readChunk(
  ctx: TelemetryCtx,
  plan: ExportPlan,
  after: number,
  limit: number,
  row: (i: number, t: number, layout: Layout, values: number[]) => void,
  begin?: (rows: number) => void,
): number | null {
  if (plan.pack === null) return null;
  const layoutOf = (id: number): Layout => ctx.layout(id);
  const values: number[] = [];
  const times = ctx.scanLimit('telemetry_raw', plan.pack, after, plan.to, limit);
  begin?.(times.length);
  times.forEach((t, i) => row(i, t, decodeRaw(ctx.r, layoutOf, values), values));
  const last = times.at(-1);
  return times.length < limit || last === undefined ? null : last + 1;
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
    const next = readChunk(ctx, plan, after, CSV_CHUNK_ROWS, (_i, t, layout, values) => {
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
    // Filled in place: the arrays are sized once the chunk's row count is known.
    let times = new Float64Array(0);
    let out = new Float64Array(0);
    const next = readChunk(
      ctx,
      plan,
      after,
      ROW_CHUNK_ROWS,
      (i, t, layout, values) => {
        let map = colOf.get(layout.id);
        if (!map) colOf.set(layout.id, (map = cols.map((f) => layout.index.get(f) ?? -1)));
        times[i] = t;
        for (let c = 0; c < w; c++) out[i * w + c] = map[c]! < 0 ? Number.NaN : values[map[c]!]!;
      },
      (rows) => {
        times = new Float64Array(rows);
        out = new Float64Array(rows * w);
      },
    );
    return { times, values: out, next };
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
