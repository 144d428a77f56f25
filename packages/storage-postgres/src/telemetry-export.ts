/**
 * Exports: raw samples of one pack in [from, to] as CSV text or rows of numbers, read in
 * chunks (one keyset query of at most CSV_CHUNK_ROWS / ROW_CHUNK_ROWS rows each, the next
 * asked for when the consumer takes the last), so an export holds one chunk at a time and
 * other queries run on the pool's other connections meanwhile. Without fields, the series
 * met in the range are collected first, a day per query.
 */
import {
  MAX_EXPORT_CHUNK_ROWS,
  recordChecks,
  telemetryChecks,
  type ExportQuery,
  type Field,
  type RowBatch,
  type RowExport,
} from '@openbms/storage';
import { DAY, type TelemetryCtx } from './telemetry-context.js';

const CSV_CHUNK_ROWS = Math.min(500, MAX_EXPORT_CHUNK_ROWS);
const ROW_CHUNK_ROWS = Math.min(2000, MAX_EXPORT_CHUNK_ROWS);

interface Plan {
  pack: number | null;
  fields: Field[];
  /** Series number of each field (undefined: never written, an empty column). */
  at: (number | undefined)[];
  from: number;
  to: number;
}

async function plan(ctx: TelemetryCtx, scope: unknown, q: ExportQuery): Promise<Plan> {
  const chosen = telemetryChecks.checkExportQuery(q);
  const gs = recordChecks.gatewayScope(scope);
  const pack = (await ctx.scopedPack(gs, q.packId)) ?? null;
  const from = Math.ceil(q.from);
  const to = Math.floor(q.to);
  let fields = chosen ?? [];
  if (!chosen && pack !== null) {
    const seen = new Set<number>();
    for (let t = from; t <= to; t += DAY) {
      const rows = await ctx.db.query<{ i: number }>(
        'cannot export',
        `SELECT DISTINCT i FROM telemetry_raw r, generate_subscripts(r.v, 1) AS i
         WHERE r.pack = $1 AND r.ts >= $2 AND r.ts <= $3 AND r.v[i] IS NOT NULL`,
        [pack, t, Math.min(to, t + DAY - 1)],
      );
      for (const r of rows) seen.add(r.i);
    }
    const names = await ctx.seriesNames();
    fields = telemetryChecks.sortFields([...seen].map((i) => names[i]!).filter(Boolean));
  }
  const at: (number | undefined)[] = [];
  for (const f of fields) at.push(await ctx.seriesNumber(f));
  return { pack, fields, at, from, to };
}

/** Up to `limit` rows from `after` (inclusive): times and value arrays. */
async function chunk(
  ctx: TelemetryCtx,
  p: Plan,
  after: number,
  limit: number,
): Promise<{ ts: number; v: (number | null)[] }[]> {
  if (p.pack === null || after > p.to) return [];
  // Only the wanted elements cross the wire.
  const cols = p.at.map((a) => (a === undefined ? 'NULL::float8' : `v[${a}]`));
  return ctx.db.query<{ ts: number; v: (number | null)[] }>(
    'cannot export',
    `SELECT ts, ARRAY[${cols.length > 0 ? cols.join(', ') : ''}]::float8[] AS v FROM telemetry_raw
     WHERE pack = $1 AND ts >= $2 AND ts <= $3 ORDER BY ts LIMIT $4`,
    [p.pack, after, p.to, limit],
  );
}

async function* chunks(
  ctx: TelemetryCtx,
  p: Plan,
  limit: number,
): AsyncGenerator<{ ts: number; v: (number | null)[] }[]> {
  let pending: Promise<{ ts: number; v: (number | null)[] }[]> | undefined = chunk(
    ctx,
    p,
    p.from,
    limit,
  );
  while (pending) {
    const rows: { ts: number; v: (number | null)[] }[] = await pending;
    const last = rows.at(-1);
    // One chunk ahead of the consumer; one left unread when it stops is harmless.
    pending = rows.length < limit || !last ? undefined : chunk(ctx, p, last.ts + 1, limit);
    pending?.catch(() => undefined);
    yield rows;
  }
}

export async function exportCsv(
  ctx: TelemetryCtx,
  scope: unknown,
  q: ExportQuery,
): Promise<AsyncIterable<string>> {
  const p = await plan(ctx, scope, q);
  return (async function* () {
    yield `${['time', ...p.fields].join(',')}\n`;
    for await (const rows of chunks(ctx, p, CSV_CHUNK_ROWS)) {
      if (rows.length === 0) continue;
      let text = '';
      for (const r of rows) {
        text += new Date(r.ts).toISOString();
        for (const x of r.v) text += x === null ? ',' : `,${x}`;
        text += '\n';
      }
      yield text;
    }
  })();
}

export async function exportRows(
  ctx: TelemetryCtx,
  scope: unknown,
  q: ExportQuery,
): Promise<RowExport> {
  const p = await plan(ctx, scope, q);
  const w = p.fields.length;
  return {
    fields: [...p.fields],
    batches: (async function* (): AsyncGenerator<RowBatch> {
      for await (const rows of chunks(ctx, p, ROW_CHUNK_ROWS)) {
        if (rows.length === 0) continue;
        const times = new Float64Array(rows.length);
        const values = new Float64Array(rows.length * w);
        rows.forEach((r, i) => {
          times[i] = r.ts;
          for (let c = 0; c < w; c++) values[i * w + c] = r.v[c] ?? Number.NaN;
        });
        yield { times, values };
      }
    })(),
  };
}
