/**
 * Files: the daily-file list (one entry per pack and UTC day, from the counters kept at
 * write time: samples, characters of the values, widest layout; the CSV size follows from
 * them without reading a row), deleting a day, CSV export of raw samples, and the on-disk
 * size of the raw tier.
 */
import { BmsError } from '@openbms/core';
import type { DailyFile, Field } from '@openbms/storage';
import type { TelemetryCtx } from './telemetry-context.js';
import { checkFields, sortFields } from './telemetry-fields.js';
import { decodeRaw, type Layout } from './telemetry-rows.js';
import { DAY } from './telemetry-schema.js';

/** Characters of an ISO 8601 time (`2024-01-31T12:00:00.000Z`). */
const ISO_LEN = 24;

const header = (fields: readonly string[]): string => ['time', ...fields].join(',');

export function dailyFiles(ctx: TelemetryCtx, packId?: string): DailyFile[] {
  return ctx.read('cannot list daily files', () => {
    const rows = ctx
      .stmt(
        `SELECT p.name, d.day, d.samples, d.chars, d.layout, d.cols FROM telemetry_days d
         JOIN telemetry_packs p ON p.id = d.pack WHERE @pack IS NULL OR p.name = @pack ORDER BY p.name, d.day`,
      )
      .all({ pack: packId ?? null }) as {
      name: string;
      day: number;
      samples: number;
      chars: number;
      layout: number;
      cols: number;
    }[];
    return rows.map((r) => ({
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
export function deleteDay(ctx: TelemetryCtx, packId: string, date: string): number {
  const day = parseDate(date);
  const pack = ctx.read('cannot delete a day', () => ctx.packId(packId, false));
  if (pack === undefined) return 0;
  return ctx.write('cannot delete a day', () => {
    const n = ctx
      .stmt('DELETE FROM telemetry_raw WHERE pack = ? AND ts >= ? AND ts < ?')
      .run(pack, day * DAY, (day + 1) * DAY).changes;
    ctx.stmt('DELETE FROM telemetry_days WHERE pack = ? AND day = ?').run(pack, day);
    return n;
  });
}

export function exportCsv(
  ctx: TelemetryCtx,
  packId: string,
  from: number,
  to: number,
  fields?: readonly Field[],
): string {
  if (!Number.isFinite(from) || !Number.isFinite(to) || from > to) {
    throw new BmsError(
      'REQUEST_INVALID',
      `export range must be two times in ms with from <= to, got ${from}..${to}`,
    );
  }
  if (fields !== undefined) {
    if (!Array.isArray(fields))
      throw new BmsError('REQUEST_INVALID', 'fields must be an array of series names');
    checkFields(fields);
  }
  return ctx.read('cannot export CSV', () => {
    const pack = ctx.packId(packId, false);
    const layoutOf = (id: number): Layout => ctx.layout(id);
    const values: number[] = [];
    const ts = pack === undefined ? [] : ctx.scan('telemetry_raw', pack, from, Math.floor(to) + 1);
    let cols = fields && fields.length > 0 ? [...fields] : undefined;
    if (!cols) {
      // Every series met in the range: a first pass reads only the layouts.
      const seen = new Set<number>();
      const start = ctx.r.pos;
      for (let i = 0; i < ts.length; i++) seen.add(decodeRaw(ctx.r, layoutOf, values, 0).id);
      ctx.r.pos = start;
      cols = sortFields(new Set([...seen].flatMap((id) => layoutOf(id).fields)));
    }
    const lines = [header(cols)];
    const colOf = new Map<number, number[]>();
    const cells: string[] = new Array<string>(cols.length);
    for (const t of ts) {
      const layout = decodeRaw(ctx.r, layoutOf, values);
      let map = colOf.get(layout.id);
      if (!map) colOf.set(layout.id, (map = cols.map((f) => layout.index.get(f) ?? -1)));
      for (let c = 0; c < map.length; c++) cells[c] = map[c]! < 0 ? '' : String(values[map[c]!]);
      const time = new Date(t).toISOString();
      lines.push(cells.length > 0 ? `${time},${cells.join(',')}` : time);
    }
    return lines.join('\n') + '\n';
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
