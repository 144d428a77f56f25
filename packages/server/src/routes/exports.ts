/**
 * Exports: the per-pack daily CSV files, one per local day of the site's time zone (seed 001's file manager: list, download, delete,
 * all files of a filter as one zip, the free space of the data directory) and a CSV or an
 * Excel workbook for any range, of the packs the caller may see (policy.ts: another
 * organisation's pack is 404; lists are read in the caller's scope). Files are produced from the telemetry store on request and
 * streamed: the store hands them out in chunks, read as the client takes the bytes, so no
 * export is ever held whole in memory. A query the store refuses is answered before the
 * first byte (status and error body as usual); a failure in the middle of a stream can only
 * cut the download short (the connection is closed, the error logged).
 */
import { statfsSync } from 'node:fs';
import { Readable } from 'node:stream';
import { BmsError } from '@openbms/core';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { actedBy, caller, type Principal } from '../auth.js';
import { gatewayOrigin, pointShown, type FoundPack } from '../policy.js';
import type { ServerContext } from '../context.js';
import { uniqueNames, zipStream } from '../daily-zip.js';
import { parseFields } from '../fields.js';
import {
  dailyFileSchema,
  dayDeletedSchema,
  dayParams,
  diskSchema,
  errorResponses,
  packQuery,
  rangeExportQuery,
  zipQuery,
  type DailyFile,
  type DiskView,
  type RangeExportQuery,
  type ZipQuery,
  ZIP_MAX_DAYS,
} from '@openbms/contract/api';
import { wallOf } from '@openbms/gateway';
import { dayZones, type DailyFile as StoredDailyFile, type ExportQuery } from '@openbms/storage';

/** A stored daily file and the zone its day was cut in. */
type DailyFileIn = StoredDailyFile & { timeZone: string };
import { relabelCsv } from '../columns.js';
import { parseExportRange } from '../time.js';
import { xlsxStream } from '../xlsx.js';

const DAY_MS = 24 * 3600 * 1000;

export { ZIP_MAX_DAYS };

/**
 * A daily file's instants in zone `tz`: local midnight to local midnight (dayZones.dayRanges;
 * where a clock turns back across midnight, from the first instant of the date to the last).
 */
function dayRange(date: string, tz: string): { from: number; to: number } {
  const ranges = dayZones.dayRanges(dayStart(date) / DAY_MS, tz);
  return { from: ranges[0]![0], to: ranges[ranges.length - 1]![1] - 1 };
}

function dayStart(date: string, where = 'params', field = 'date'): number {
  const t = Date.parse(`${date}T00:00:00Z`);
  if (!Number.isFinite(t) || new Date(t).toISOString().slice(0, 10) !== date) {
    throw new BmsError(
      'REQUEST_INVALID',
      `${where} field "${field}": "${date}" is not a calendar date`,
      { field },
    );
  }
  return t;
}

/** Calendar days from one day's start to another's, both counted. */
const spanDays = (firstMs: number, lastMs: number): number =>
  Math.round((lastMs - firstMs) / DAY_MS) + 1;

/** A pack id as a file-name part ("demo/jk/1" -> "demo_jk_1"). */
const safeName = (pack: string): string => pack.replace(/[^A-Za-z0-9._-]+/g, '_');

function fileName(pack: string, suffix: string): string {
  return `${safeName(pack)}_${suffix}.csv`;
}

function sendCsv(
  ctx: ServerContext,
  reply: FastifyReply,
  name: string,
  csv: AsyncIterable<string>,
): FastifyReply {
  return reply
    .header('content-type', 'text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="${name}"`)
    .send(Readable.from(relabelCsv(ctx.reads.chunks(csv)), { objectMode: false }));
}

export function exportRoutes(app: FastifyInstance, ctx: ServerContext): void {
  /**
   * An export's query with the series of the points the caller sees only (the policy's point
   * groups): the fields asked for, or else every series the range holds (the store's own plan
   * of the export says which), without the hidden ones. Undefined: nothing left to show.
   */
  const shownQuery = async (
    me: Principal,
    found: Pick<FoundPack, 'link' | 'pack' | 'scope'>,
    q: ExportQuery,
  ): Promise<ExportQuery | undefined> => {
    const latest = found.pack ?? {
      snapshot: (await ctx.telemetry.latest(found.scope, q.packId))?.snapshot,
    };
    const shown = await ctx.policy.points.filterForPack(me, found.link.orgId, latest);
    if (shown === 'all') return q;
    const all =
      q.fields && q.fields.length > 0
        ? q.fields
        : (await ctx.telemetry.exportRows(found.scope, q)).fields;
    const fields = all.filter((f) => pointShown(shown, f.split('.')[0]!));
    return fields.length > 0 ? { ...q, fields } : undefined;
  };
  /** The CSV of an export the caller sees nothing of: the time column alone. */
  const timeOnly = async function* (): AsyncIterable<string> {
    yield 'time\n';
  };
  const csvOf = async (
    me: Principal,
    found: Pick<FoundPack, 'link' | 'pack' | 'scope'>,
    q: ExportQuery,
  ): Promise<AsyncIterable<string>> => {
    const shown = await shownQuery(me, found, q);
    return shown ? ctx.telemetry.exportCsv(found.scope, shown) : timeOnly();
  };
  /**
   * The zone daily files follow: the pack's site's, as its gateway says (the seam's
   * `time_zone`: `location.timezone`, else the host's), else the box's, else UTC.
   */
  const boxZone = (): string => ctx.box.timeZone?.() ?? 'UTC';
  const siteOf = (pack: string): string => pack.split('/')[0]!;
  /** The zones of every served gateway's sites, by gateway and site id. */
  const siteZones = async (): Promise<Map<string, Map<string, string>>> => {
    const out = new Map<string, Map<string, string>>();
    await Promise.all(
      ctx.gateways.all().map(async (link) => {
        try {
          out.set(link.gatewayId, new Map((await link.sites()).map((s) => [s.id, s.time_zone])));
        } catch {
          // a gateway that does not answer now: its packs' files follow the box's zone
        }
      }),
    );
    return out;
  };
  const zoneIn = (zones: Map<string, Map<string, string>>, gatewayId: string, pack: string) =>
    zones.get(gatewayId)?.get(siteOf(pack)) ?? boxZone();
  const packZone = async (found: FoundPack, pack: string): Promise<string> => {
    const site = found.pack?.site ?? siteOf(pack);
    try {
      return (await found.link.sites()).find((s) => s.id === site)?.time_zone ?? boxZone();
    } catch {
      return boxZone();
    }
  };
  /** A day's file of a pack the caller may see (with `needed` in its organisation), else 404. */
  const dayOf = async (
    me: Principal,
    pack: string,
    date: string,
    needed: 'viewer' | 'operator',
  ) => {
    const found = await ctx.policy.lookPack(me, pack, ctx.telemetry);
    const timeZone = found ? await packZone(found, pack) : 'UTC';
    const exists =
      found !== undefined &&
      (await ctx.telemetry.dailyFiles(found.scope, pack, { timeZone })).some(
        (f) => f.date === date && f.packId === pack,
      );
    if (!found || !exists)
      throw new BmsError('NOT_FOUND', `no daily file for "${pack}" on ${date}`);
    ctx.policy.requireOnPack(me, needed, found, `this on the daily files of "${pack}"`);
    return { ...found, timeZone };
  };
  /**
   * The daily files of one pack or of every pack the caller may see (each in its site's zone:
   * one store query per zone met, usually one), and the scope read.
   */
  const filesOf = async (me: Principal, pack: string | undefined) => {
    const scope = await ctx.policy.listScope(me, pack, ctx.telemetry);
    if (!scope) return undefined;
    const zones = await siteZones();
    const met = new Set([boxZone(), ...[...zones.values()].flatMap((m) => [...m.values()])]);
    const lists = await Promise.all(
      [...met].map(async (timeZone) =>
        (await ctx.telemetry.dailyFiles(scope, pack, { timeZone }))
          .filter((f) => zoneIn(zones, f.gatewayId, f.packId) === timeZone)
          .map((f) => ({ ...f, timeZone })),
      ),
    );
    const key = (f: DailyFileIn): string[] => [f.gatewayId, f.packId, f.date];
    const files = lists.flat().sort((a, b) => {
      const [x, y] = [key(a), key(b)];
      for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
      return 0;
    });
    return { files, scope };
  };

  app.get<{ Querystring: { pack?: string } }>(
    '/exports/daily',
    {
      config: { access: 'viewer' },
      schema: {
        summary: "Daily CSV files (one per pack per local day of the site's time zone)",
        tags: ['exports'],
        querystring: packQuery,
        response: { 200: { type: 'array', items: dailyFileSchema }, ...errorResponses() },
      },
    },
    async (req) =>
      ((await filesOf(caller(req), req.query.pack))?.files ?? []).map((f): DailyFile => ({
        pack_id: f.packId,
        date: f.date,
        samples: f.samples,
        bytes: Math.round(f.bytes),
        url: `/api/v1/exports/daily/${encodeURIComponent(f.packId)}/${f.date}.csv`,
      })),
  );

  app.get<{ Params: { pack: string; date: string } }>(
    '/exports/daily/:pack/:date.csv',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Download one daily CSV file',
        tags: ['exports'],
        params: dayParams,
        produces: ['text/csv'],
        response: errorResponses(404),
      },
    },
    async (req, reply) => {
      const { pack, date } = req.params;
      dayStart(date);
      const me = caller(req);
      const found = await dayOf(me, pack, date, 'viewer');
      const { from, to } = dayRange(date, found.timeZone);
      return sendCsv(
        ctx,
        reply,
        fileName(pack, date),
        await csvOf(me, found, { packId: pack, from, to }),
      );
    },
  );

  app.delete<{ Params: { pack: string; date: string } }>(
    '/exports/daily/:pack/:date.csv',
    {
      config: { access: 'operator' },
      schema: {
        summary: "Delete one day of a pack's raw samples (its daily file)",
        tags: ['exports'],
        params: dayParams,
        response: { 200: dayDeletedSchema, ...errorResponses(403, 404) },
      },
    },
    async (req) => {
      const me = caller(req);
      const { pack, date } = req.params;
      dayStart(date);
      const { scope, link, timeZone } = await dayOf(me, pack, date, 'operator');
      const deleted = await ctx.telemetry.deleteDay(scope, pack, date, { timeZone });
      await ctx.record(
        {
          ...actedBy(me),
          packId: pack,
          action: 'export.delete',
          old: { date, samples: deleted },
          result: 'ok',
        },
        gatewayOrigin(link),
      );
      return { ok: true, deleted };
    },
  );

  // Seed 001's "Download all .CSV": the daily files of a filter (pack and/or days) as one
  // zip, each entry byte for byte the file the single download gives.
  app.get<{ Querystring: ZipQuery }>(
    '/exports/daily.zip',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'The daily CSV files of a pack and/or a range of days, as one zip',
        description:
          `Entries are named as the single downloads (\`<pack>_<date>.csv\`) and hold the same bytes. ` +
          `400 when no file matches, or when the days asked for (from..to), or else those of the matching files, span more than ${ZIP_MAX_DAYS} days.`,
        tags: ['exports'],
        querystring: zipQuery,
        produces: ['application/zip'],
        response: errorResponses(),
      },
    },
    async (req, reply) => {
      const { pack, from, to } = req.query;
      const fromMs = from !== undefined ? dayStart(from, 'querystring', 'from') : undefined;
      const toMs = to !== undefined ? dayStart(to, 'querystring', 'to') : undefined;
      if (fromMs !== undefined && toMs !== undefined) {
        if (fromMs > toMs) {
          throw new BmsError('REQUEST_INVALID', `"to" (${to}) is before "from" (${from})`, {
            field: 'to',
          });
        }
        const days = spanDays(fromMs, toMs);
        if (days > ZIP_MAX_DAYS) {
          throw new BmsError(
            'REQUEST_INVALID',
            `days ${from} to ${to} are ${days} days; one zip covers at most ${ZIP_MAX_DAYS}: choose fewer days`,
            { field: 'to' },
          );
        }
      }
      const me = caller(req);
      const listed = await filesOf(me, pack);
      const files = (listed?.files ?? [])
        .filter(
          (f) =>
            (pack === undefined || f.packId === pack) &&
            (from === undefined || f.date >= from) &&
            (to === undefined || f.date <= to),
        )
        .sort((a, b) => a.packId.localeCompare(b.packId) || a.date.localeCompare(b.date));
      const which = [
        pack !== undefined ? `pack "${pack}"` : 'any pack',
        from !== undefined || to !== undefined ? `days ${from ?? '…'} to ${to ?? '…'}` : '',
      ]
        .filter((s) => s !== '')
        .join(', ');
      if (files.length === 0) {
        throw new BmsError('REQUEST_INVALID', `no daily file matches (${which})`, {
          field: pack !== undefined ? 'pack' : 'from',
        });
      }
      const first = files.reduce((m, f) => (f.date < m ? f.date : m), files[0]!.date);
      const last = files.reduce((m, f) => (f.date > m ? f.date : m), files[0]!.date);
      const days = spanDays(dayStart(first), dayStart(last));
      if (days > ZIP_MAX_DAYS) {
        throw new BmsError(
          'REQUEST_INVALID',
          `the matching daily files (${which}) span ${days} days, ${first} to ${last}; one zip covers at most ${ZIP_MAX_DAYS}: give "from" and "to" with fewer days`,
          { field: from === undefined ? 'from' : 'to' },
        );
      }
      const names = uniqueNames(files.map((f) => fileName(f.packId, f.date)));
      const entries = files.map((f, i) => ({
        name: names[i]!,
        content: async () => {
          // The file's own gateway, within the organisations the caller may see.
          const scope = { orgIds: listed!.scope.orgIds, gatewayId: f.gatewayId };
          const link = ctx.gateways.get(f.gatewayId)!;
          const csv = await csvOf(
            me,
            { link, pack: await link.pack(f.packId), scope },
            { packId: f.packId, ...dayRange(f.date, f.timeZone) },
          );
          return relabelCsv(ctx.reads.chunks(csv));
        },
      }));
      const zipName = `${pack !== undefined ? safeName(pack) : 'all'}_${first}_${last}`;
      return reply
        .header('content-type', 'application/zip')
        .header('content-disposition', `attachment; filename="openbms_daily_${zipName}.zip"`)
        .header('x-file-count', String(files.length))
        .send(zipStream(entries, new Date(ctx.clock())));
    },
  );

  // Seed 001's file manager shows the storage's free space ("80 KBytes Free"): here the file
  // system holding the database. A separate route, so /exports/daily stays a plain array.
  app.get(
    '/exports/disk',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Free and total space of the file system holding the data directory',
        tags: ['exports'],
        response: { 200: diskSchema, ...errorResponses() },
      },
    },
    async (req): Promise<DiskView> => {
      if (ctx.dataDir === undefined) return { available: false };
      try {
        const s = statfsSync(ctx.dataDir);
        return {
          available: true,
          free_bytes: s.bavail * s.bsize,
          total_bytes: s.blocks * s.bsize,
        };
      } catch (err) {
        req.log.warn({ err }, 'cannot read the free space of the data directory');
        return { available: false };
      }
    },
  );

  // Any range of a pack, as CSV or as an Excel workbook (seed 004's export): one route
  // shape, two encodings of the same rows.
  const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
  for (const format of ['csv', 'xlsx'] as const) {
    app.get<{ Querystring: RangeExportQuery }>(
      `/exports/${format}`,
      {
        config: { access: 'viewer' },
        schema: {
          summary: `${format === 'csv' ? 'CSV' : 'Excel (.xlsx)'} of raw samples of a pack for a range (default: the last 24 h, all fields)`,
          tags: ['exports'],
          querystring: rangeExportQuery,
          produces: [format === 'csv' ? 'text/csv' : XLSX_TYPE],
          response: errorResponses(404),
        },
      },
      async (req, reply) => {
        const { pack } = req.query;
        const me = caller(req);
        const found = await ctx.policy.findPack(me, pack, 'viewer', ctx.telemetry);
        const scope = found.scope;
        const latest = found.pack?.snapshot ?? (await ctx.telemetry.latest(scope, pack))?.snapshot;
        const tz = ctx.box.timeZone?.() ?? 'UTC';
        const { from, to } = parseExportRange(req.query, ctx.clock(), DAY_MS, tz);
        const fields =
          req.query.fields !== undefined ? parseFields(req.query.fields, latest) : undefined;
        const asked = { packId: pack, from, to, ...(fields !== undefined ? { fields } : {}) };
        const day = (ms: number): string => new Date(wallOf(ms, tz)).toISOString().slice(0, 10);
        const name = fileName(pack, `${day(from)}_${day(to)}`);
        if (format === 'csv') return sendCsv(ctx, reply, name, await csvOf(me, found, asked));
        const q = await shownQuery(me, found, asked);
        const rows = q
          ? await ctx.telemetry.exportRows(scope, q)
          : { fields: [], batches: (async function* () {})() };
        return reply
          .header('content-type', XLSX_TYPE)
          .header(
            'content-disposition',
            `attachment; filename="${name.replace(/\.csv$/, '.xlsx')}"`,
          )
          .send(
            xlsxStream({ fields: rows.fields, batches: ctx.reads.chunks(rows.batches) }, pack, tz),
          );
      },
    );
  }
}
