/**
 * Writing samples, and what reads the bookkeeping kept with them: the latest snapshot, the
 * daily-file list, deleting a day.
 *
 * A batch is one multi-row INSERT (`unnest` of three array parameters: packs, times and each
 * row's values as an array literal) with ON CONFLICT DO NOTHING, so a sample written twice
 * (a batch retried after an outage) is skipped; RETURNING says which rows were new, and in
 * the same transaction the per-slot counters (15 minutes of UTC time, summed per local day by
 * `dailyFiles`), the latest snapshot per pack and the rollup
 * watermarks (for late samples) change. One statement per batch: measured faster here than
 * COPY into a staging table followed by the same INSERT (which ON CONFLICT needs).
 */
import {
  dayZones,
  telemetryChecks,
  type DailyFile,
  type DayOptions,
  type Origin,
  type Sample,
} from '@openbms/storage';
import { DAY, STEP, type TelemetryCtx } from './telemetry-context.js';

const { SCALAR_FIELDS } = telemetryChecks;
/** Characters of an ISO 8601 time (`2024-01-31T12:00:00.000Z`). */
const ISO_LEN = 24;
const { SLOT_MS: SLOT } = dayZones;
const CELL = (i: number): string => `cell_mv.${i}`;
const TEMP = (i: number): string => `temps_c.${i}`;

interface Flat {
  /** Series names and values, in canonical order. */
  names: string[];
  values: number[];
}

/** The numeric series of a snapshot (booleans 0/1; arrays up to their first non-number). */
export function flatten(s: Sample['snapshot']): Flat {
  const rec = s as Record<string, unknown>;
  const names: string[] = [];
  const values: number[] = [];
  for (const f of SCALAR_FIELDS) {
    const v = rec[f];
    if (typeof v === 'number') {
      if (Number.isFinite(v)) {
        names.push(f);
        values.push(v);
      }
    } else if (typeof v === 'boolean') {
      names.push(f);
      values.push(v ? 1 : 0);
    }
  }
  const arr = (a: unknown, name: (i: number) => string): void => {
    if (!Array.isArray(a)) return;
    for (let i = 0; i < a.length; i++) {
      const v: unknown = a[i];
      if (typeof v !== 'number' || !Number.isFinite(v)) break;
      names.push(name(i));
      values.push(v);
    }
  };
  arr(s.cell_mv, CELL);
  arr(s.temps_c, TEMP);
  return { names, values };
}

interface Day {
  pack: number;
  slot: number;
  samples: number;
  chars: number;
  header: number;
  cols: number;
}

export async function writeSamples(
  ctx: TelemetryCtx,
  origin: Origin,
  samples: readonly Sample[],
): Promise<void> {
  telemetryChecks.checkSamples(samples);
  if (samples.length === 0) return;
  const flat = samples.map((s) => flatten(s.snapshot));
  const names = new Set<string>();
  for (const f of flat) for (const n of f.names) names.add(n);
  const series = await ctx.seriesFor(names);
  const packOf = await ctx.packsFor(origin, [...new Set(samples.map((s) => s.packId))]);
  const packs: number[] = [];
  const times: number[] = [];
  const arrays: string[] = [];
  let lo = Infinity;
  let hi = -Infinity;
  const slots: (number | undefined)[] = [];
  samples.forEach((s, i) => {
    const f = flat[i]!;
    slots.length = 0;
    let len = 0;
    for (let k = 0; k < f.names.length; k++) {
      const at = series.get(f.names[k]!)!;
      slots[at] = f.values[k];
      if (at > len) len = at;
    }
    let text = '{';
    for (let at = 1; at <= len; at++) {
      const v = slots[at];
      text += (at > 1 ? ',' : '') + (v === undefined ? 'NULL' : String(v));
    }
    arrays.push(`${text}}`);
    packs.push(packOf.get(s.packId)!);
    times.push(s.ts);
    if (s.ts < lo) lo = s.ts;
    if (s.ts > hi) hi = s.ts;
  });
  await ctx.ensure('raw', lo, hi);
  const insert = () =>
    ctx.db.tx('cannot write samples', async (c) => {
      const added = (
        await c.query<{ i: number }>(
          `INSERT INTO telemetry_raw (pack, ts, v)
           SELECT p, t, v::float8[] FROM unnest($1::int[], $2::int8[], $3::text[]) AS u(p, t, v)
           ON CONFLICT DO NOTHING RETURNING pack, ts`,
          [packs, times, arrays],
        )
      ).rows as unknown as { pack: number; ts: number }[];
      if (added.length === 0) return;
      const index = new Map<string, number>();
      samples.forEach((s, i) => index.set(`${packs[i]}:${s.ts}`, i));
      const days = new Map<string, Day>();
      const latest = new Map<number, number>();
      const first = new Map<number, number>();
      for (const r of added) {
        const i = index.get(`${r.pack}:${r.ts}`)!;
        const f = flat[i]!;
        let chars = 0;
        for (const v of f.values) chars += String(v).length;
        const header = dayZones.csvHeaderLength(f.names);
        const slot = Math.floor(r.ts / SLOT);
        const key = `${r.pack}:${slot}`;
        const d = days.get(key);
        if (!d)
          days.set(key, { pack: r.pack, slot, samples: 1, chars, header, cols: f.values.length });
        else {
          d.samples++;
          d.chars += chars;
          if (f.values.length > d.cols) {
            d.cols = f.values.length;
            d.header = header;
          }
        }
        const l = latest.get(r.pack);
        if (l === undefined || r.ts >= samples[l]!.ts) latest.set(r.pack, i);
        const m = first.get(r.pack);
        if (m === undefined || r.ts < m) first.set(r.pack, r.ts);
      }
      const ds = [...days.values()];
      await c.query(
        `INSERT INTO telemetry_slots (pack, slot, samples, chars, header, cols)
         SELECT * FROM unnest($1::int[], $2::int[], $3::int[], $4::int8[], $5::int[], $6::int[])
         ON CONFLICT (pack, slot) DO UPDATE SET samples = telemetry_slots.samples + excluded.samples,
           chars = telemetry_slots.chars + excluded.chars,
           header = CASE WHEN excluded.cols > telemetry_slots.cols THEN excluded.header ELSE telemetry_slots.header END,
           cols = greatest(telemetry_slots.cols, excluded.cols)`,
        [
          ds.map((d) => d.pack),
          ds.map((d) => d.slot),
          ds.map((d) => d.samples),
          ds.map((d) => d.chars),
          ds.map((d) => d.header),
          ds.map((d) => d.cols),
        ],
      );
      const ls = [...latest];
      await c.query(
        `INSERT INTO telemetry_latest (pack, ts, snapshot)
         SELECT p, t, s::json FROM unnest($1::int[], $2::int8[], $3::text[]) AS u(p, t, s)
         ON CONFLICT (pack) DO UPDATE SET ts = excluded.ts, snapshot = excluded.snapshot
         WHERE excluded.ts >= telemetry_latest.ts`,
        [
          ls.map(([p]) => p),
          ls.map(([, i]) => samples[i]!.ts),
          ls.map(([, i]) => JSON.stringify(samples[i]!.snapshot)),
        ],
      );
      // A sample behind a tier's watermark: its bucket is folded again by the next rollup.
      const fs = [...first];
      await c.query(
        `UPDATE telemetry_rollup_state s SET done_until = (u.t / st.step) * st.step
         FROM unnest($1::int[], $2::int8[]) AS u(p, t),
              (VALUES ('1m', ${STEP['1m']}), ('15m', ${STEP['15m']}), ('1h', ${STEP['1h']})) AS st(tier, step)
         WHERE s.pack = u.p AND s.tier = st.tier AND u.t < s.done_until`,
        [fs.map(([p]) => p), fs.map(([, t]) => t)],
      );
    });
  try {
    await insert();
  } catch (e) {
    // A partition another process dropped (retention) since it was seen: make it again once.
    if ((e as { message?: string }).message?.includes('no partition of relation') !== true) throw e;
    ctx.forgetPartitions();
    await ctx.ensure('raw', lo, hi);
    await insert();
  }
}

export async function latest(
  ctx: TelemetryCtx,
  scope: { orgIds: string[]; gatewayId: string },
  packId: string,
): Promise<Sample | undefined> {
  const pack = await ctx.scopedPack(scope, packId);
  if (pack === undefined) return undefined;
  const rows = await ctx.db.query<{ ts: number; snapshot: Sample['snapshot'] }>(
    'cannot read the latest sample',
    'SELECT ts, snapshot FROM telemetry_latest WHERE pack = $1',
    [pack],
  );
  return rows[0] && { packId, ts: rows[0].ts, snapshot: rows[0].snapshot };
}

/** Scope conditions of the daily-file queries (`p` is telemetry_packs). */
// `roots` ($5, Scope.roots): the subtrees' organisations by the closure semi-join, in SQL.
const IN_SCOPE = `(p.org_id = ANY($1::text[]) OR ($5::text[] IS NOT NULL AND p.org_id IN
    (SELECT descendant FROM org_closure WHERE ancestor = ANY($5::text[]))))
  AND ($2::text IS NULL OR p.gateway_id = $2)
  AND ($3::text IS NULL OR p.name = $3) AND ($4::text[] IS NULL OR p.gateway_id = ANY($4::text[]))`;

/**
 * The daily files of the packs in scope: the slot counters summed per local day of
 * `opts.timeZone`. The zone's offsets over the slots held come from the runtime's zone data
 * (dayZones.zoneSpans, as in the SQLite adapter, so both give the same days), and one query
 * adds each slot to the day its start falls on in local time.
 */
export async function dailyFiles(
  ctx: TelemetryCtx,
  scope: {
    orgIds: string[];
    roots: string[] | null;
    gatewayId: string | null;
    gatewayIds: string[] | null;
  },
  packId?: string,
  opts?: DayOptions,
): Promise<DailyFile[]> {
  const tz = dayZones.zoneOf(opts);
  const params = [scope.orgIds, scope.gatewayId, packId ?? null, scope.gatewayIds, scope.roots];
  const held = await ctx.db.query<{ lo: number | null; hi: number | null }>(
    'cannot list daily files',
    `SELECT min(d.slot) AS lo, max(d.slot) AS hi FROM telemetry_slots d
     JOIN telemetry_packs p ON p.id = d.pack WHERE ${IN_SCOPE}`,
    params,
  );
  const { lo, hi } = held[0] ?? { lo: null, hi: null };
  if (lo === null || hi === null) return [];
  const spans = dayZones.zoneSpans(lo * SLOT, (hi + 1) * SLOT, tz);
  const rows = await ctx.db.query<{
    gateway: string;
    name: string;
    day: number;
    samples: number;
    chars: number;
    header: number;
    cols: number;
  }>(
    'cannot list daily files',
    `SELECT p.gateway_id AS gateway, p.name, floor((d.slot::int8 * ${SLOT} + s.off) / ${DAY}.0)::int AS day,
       sum(d.samples)::int AS samples, sum(d.chars)::int8 AS chars, max(d.cols) AS cols,
       (array_agg(d.header ORDER BY d.cols DESC))[1] AS header
     FROM telemetry_slots d JOIN telemetry_packs p ON p.id = d.pack
     JOIN unnest($6::int8[], $7::int8[], $8::int8[]) AS s(st, en, off)
       ON d.slot::int8 * ${SLOT} >= s.st AND d.slot::int8 * ${SLOT} < s.en
     WHERE ${IN_SCOPE}
     GROUP BY p.gateway_id, p.name, 3
     ORDER BY p.gateway_id, p.name, 3`,
    [...params, spans.map((z) => z.start), spans.map((z) => z.end), spans.map((z) => z.offset)],
  );
  return rows.map((r) => ({
    gatewayId: r.gateway,
    packId: r.name,
    date: new Date(r.day * DAY).toISOString().slice(0, 10),
    samples: r.samples,
    // the header line, then per row: time, one comma per column, the values, a newline
    bytes: r.header + 1 + r.samples * (ISO_LEN + r.cols + 1) + Number(r.chars),
  }));
}

/**
 * Deletes one pack's raw samples of one local day of `opts.timeZone`: the samples whose local
 * date it is, and the day's slot counters; returns how many.
 */
export async function deleteDay(
  ctx: TelemetryCtx,
  scope: { orgIds: string[]; gatewayId: string },
  packId: string,
  date: string,
  opts?: DayOptions,
): Promise<number> {
  const day = telemetryChecks.parseDate(date);
  const ranges = dayZones.dayRanges(day, dayZones.zoneOf(opts));
  const pack = await ctx.scopedPack(scope, packId);
  if (pack === undefined) return 0;
  return ctx.db.tx('cannot delete a day', async (c) => {
    let n = 0;
    for (const [from, to] of ranges) {
      n +=
        (
          await c.query('DELETE FROM telemetry_raw WHERE pack = $1 AND ts >= $2 AND ts < $3', [
            pack,
            from,
            to,
          ])
        ).rowCount ?? 0;
      await c.query('DELETE FROM telemetry_slots WHERE pack = $1 AND slot >= $2 AND slot < $3', [
        pack,
        Math.ceil(from / SLOT),
        Math.ceil(to / SLOT),
      ]);
    }
    return n;
  });
}
