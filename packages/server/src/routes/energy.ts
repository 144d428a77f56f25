/**
 * Daily and monthly energy (issue 12): charged and discharged kWh per day or month of a pack
 * or of every pack of a site, from the energy meters the gateway stores with each sample
 * (counted in the device's time; storage's energy.ts computes the periods). Periods are cut in
 * the site's time zone (its gateway's `time_zone`: location.timezone, else the host's), the one
 * the exports use. The same figures download as CSV (ISO 8601
 * times with the zone's offset) or as an Excel workbook. Access as the history routes: a
 * viewer of the pack's (or site's) organisation; another organisation's pack or site is 404.
 */
import type { Readable } from 'node:stream';
import { BmsError, realOf, wallOf } from '@openbms/core';
import type { EnergyResult, RowBatch, Scope } from '@openbms/storage';
import type { FastifyInstance } from 'fastify';
import {
  ENERGY_DEFAULT_COUNT,
  ENERGY_MAX_COUNT,
  energyExportQuery,
  energyQuery,
  energySchema,
  errorResponses,
  packIdParams,
  siteEnergyQuery,
  siteIdParams,
  type EnergyExportQuery,
  type EnergyPeriod,
  type EnergyQuery,
  type EnergyView,
  type SiteEnergyQuery,
} from '@openbms/contract/api';
import { caller, type Principal } from '../auth.js';
import type { ServerContext } from '../context.js';
import type { GatewayLink } from '../gateway-api.js';
import { gatewayScope, pointShown } from '../policy.js';
import { xlsxStream } from '../xlsx.js';

/** The range of `count` periods ending with the one that holds `now`, in `tz`. */
export function energyRange(
  now: number,
  period: EnergyPeriod,
  count: number,
  tz: string,
): { from: number; to: number } {
  const w = new Date(wallOf(now, tz));
  const y = w.getUTCFullYear();
  const m = w.getUTCMonth();
  const d = w.getUTCDate();
  if (period === 'day') {
    return {
      from: realOf(Date.UTC(y, m, d - count + 1), tz),
      to: realOf(Date.UTC(y, m, d + 1), tz),
    };
  }
  return { from: realOf(Date.UTC(y, m - count + 1, 1), tz), to: realOf(Date.UTC(y, m + 1, 1), tz) };
}

function countOf(q: EnergyQuery): { period: EnergyPeriod; count: number } {
  const period = q.period ?? 'day';
  const count = q.count ?? ENERGY_DEFAULT_COUNT[period];
  if (count > ENERGY_MAX_COUNT[period]) {
    throw new BmsError(
      'REQUEST_INVALID',
      `querystring field "count": at most ${ENERGY_MAX_COUNT[period]} for period=${period}, got ${count}`,
      { field: 'count' },
    );
  }
  return { period, count };
}

/** What an energy answer is of: packs of one gateway, in its scope, and their site's zone. */
interface Target {
  scope: Scope;
  packIds: string[];
  /** For file names. */
  name: string;
  /** The site's IANA zone as its gateway says (absent: the box's, else UTC). */
  timeZone?: string;
}

/** The zone of a gateway's site (the seam's `time_zone`: location.timezone, else the host's). */
async function zoneOf(link: GatewayLink, site: string | undefined): Promise<string | undefined> {
  if (site === undefined) return undefined;
  return (await link.sites()).find((s) => s.id === site)?.time_zone;
}

/** Whether the principal sees a pack's energy meters (the policy's point groups). */
async function energyShown(
  ctx: ServerContext,
  p: Principal,
  orgId: string,
  pack: Parameters<ServerContext['policy']['points']['filterForPack']>[2],
): Promise<boolean> {
  const f = await ctx.policy.points.filterForPack(p, orgId, pack);
  return pointShown(f, 'energy_charged_kwh') && pointShown(f, 'energy_discharged_kwh');
}

const energyHidden = (what: string) =>
  new BmsError('FORBIDDEN', `the energy of ${what} is not among the points your role sees`);

async function packTarget(ctx: ServerContext, p: Principal, id: string): Promise<Target> {
  const found = await ctx.policy.findPack(p, id, 'viewer', ctx.telemetry);
  const pack = found.pack ?? { snapshot: (await ctx.telemetry.latest(found.scope, id))?.snapshot };
  if (!(await energyShown(ctx, p, found.link.orgId, pack))) throw energyHidden(`pack "${id}"`);
  const timeZone = await zoneOf(found.link, found.pack?.site);
  return { scope: found.scope, packIds: [id], name: id, ...(timeZone ? { timeZone } : {}) };
}

/**
 * A site's packs (of one bus: a parallel system) as its gateway polls them now; NOT_FOUND for
 * a site no visible gateway has, or a bus it does not have.
 */
async function siteTarget(
  ctx: ServerContext,
  p: Principal,
  id: string,
  bus?: string,
): Promise<Target> {
  for (const link of ctx.policy.gateways(p, 'viewer')) {
    const site = (await link.sites()).find((s) => s.id === id);
    if (!site) continue;
    const packs = (await link.packs()).filter(
      (x) => x.site === id && (bus === undefined || x.bus === bus),
    );
    if (packs.length === 0) break;
    const shown = await Promise.all(packs.map((x) => energyShown(ctx, p, link.orgId, x)));
    const packIds = packs.filter((_, i) => shown[i]).map((x) => x.id);
    if (packIds.length === 0) throw energyHidden(`site "${id}"`);
    return {
      scope: gatewayScope(link),
      packIds,
      name: bus === undefined ? id : `${id}_${bus}`,
      timeZone: site.time_zone,
    };
  }
  throw new BmsError(
    'NOT_FOUND',
    bus === undefined ? `no site "${id}"` : `no bus "${bus}" on site "${id}"`,
  );
}

async function energyOf(ctx: ServerContext, t: Target, q: EnergyQuery): Promise<EnergyResult> {
  const { period, count } = countOf(q);
  const timeZone = t.timeZone ?? ctx.box.timeZone?.() ?? 'UTC';
  const { from, to } = energyRange(ctx.clock(), period, count, timeZone);
  return ctx.reads.run(() =>
    ctx.telemetry.energy(t.scope, { packIds: t.packIds, from, to, period, timeZone }),
  );
}

function view(r: EnergyResult): EnergyView {
  return {
    period: r.period,
    time_zone: r.timeZone,
    total: r.total,
    packs: Object.entries(r.packs).map(([pack_id, rows]) => ({ pack_id, rows })),
  };
}

const pad = (n: number, w = 2): string => String(Math.abs(n)).padStart(w, '0');

/** ISO 8601 with the zone's offset: 2026-03-29T00:00:00+01:00. */
export function isoInZone(ms: number, tz: string): string {
  const wall = wallOf(ms, tz);
  const off = Math.round((wall - ms) / 60_000);
  const sign = off < 0 ? '-' : '+';
  const iso = new Date(wall).toISOString().slice(0, 19);
  return `${iso}${sign}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
}

/** The export's columns: the totals, then each pack's (a site of several packs). */
function columns(r: EnergyResult): { heading: string[]; values: (i: number) => number[] } {
  const packs = Object.entries(r.packs);
  const heading = ['charged_kwh', 'discharged_kwh'];
  if (packs.length > 1)
    for (const [id] of packs) heading.push(`${id} charged_kwh`, `${id} discharged_kwh`);
  return {
    heading,
    values: (i) => {
      const out = [r.total[i]!.charged_kwh, r.total[i]!.discharged_kwh];
      if (packs.length > 1)
        for (const [, rows] of packs) out.push(rows[i]!.charged_kwh, rows[i]!.discharged_kwh);
      return out;
    },
  };
}

/** A CSV cell: quoted when it holds a comma, a quote or a line break. */
const cell = (s: string): string => (/[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);

export function energyCsv(r: EnergyResult): string {
  const c = columns(r);
  const lines = [['period', 'start', ...c.heading].map(cell).join(',')];
  r.total.forEach((row, i) => {
    lines.push([row.period, isoInZone(row.start, r.timeZone), ...c.values(i)].join(','));
  });
  return `${lines.join('\n')}\n`;
}

const safeName = (s: string): string => s.replace(/[^A-Za-z0-9._-]+/g, '_');
const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

export function energyRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const description =
    'Charged and discharged kWh per day or month (the site time zone), from the energy meters ' +
    'stored with every sample; the last period is the current one, so far.';
  app.get<{ Params: { id: string }; Querystring: EnergyQuery }>(
    '/packs/:id/energy',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Daily or monthly energy of a pack',
        description,
        tags: ['packs'],
        params: packIdParams,
        querystring: energyQuery,
        response: { 200: energySchema, ...errorResponses(404) },
      },
    },
    async (req): Promise<EnergyView> => {
      const t = await packTarget(ctx, caller(req), req.params.id);
      return view(await energyOf(ctx, t, req.query));
    },
  );

  app.get<{ Params: { id: string }; Querystring: SiteEnergyQuery }>(
    '/sites/:id/energy',
    {
      config: { access: 'viewer' },
      schema: {
        summary:
          'Daily or monthly energy of a site, or of one bus of it (its packs, each and in total)',
        description,
        tags: ['packs'],
        params: siteIdParams,
        querystring: siteEnergyQuery,
        response: { 200: energySchema, ...errorResponses(404) },
      },
    },
    async (req): Promise<EnergyView> => {
      const t = await siteTarget(ctx, caller(req), req.params.id, req.query.bus);
      return view(await energyOf(ctx, t, req.query));
    },
  );

  for (const format of ['csv', 'xlsx'] as const) {
    app.get<{ Querystring: EnergyExportQuery }>(
      `/exports/energy/${format}`,
      {
        config: { access: 'viewer' },
        schema: {
          summary: `Daily or monthly energy of a pack or a site as ${format === 'csv' ? 'CSV' : 'an Excel workbook'}`,
          description: `${description} Give exactly one of pack or site.`,
          tags: ['exports'],
          querystring: energyExportQuery,
          produces: [format === 'csv' ? 'text/csv' : XLSX_TYPE],
          response: errorResponses(404),
        },
      },
      async (req, reply) => {
        const { pack, site } = req.query;
        if ((pack === undefined) === (site === undefined)) {
          throw new BmsError(
            'REQUEST_INVALID',
            'querystring: give exactly one of "pack" or "site"',
            {
              field: pack === undefined ? 'pack' : 'site',
            },
          );
        }
        const p = caller(req);
        const t =
          pack !== undefined
            ? await packTarget(ctx, p, pack)
            : await siteTarget(ctx, p, site!, req.query.bus);
        const r = await energyOf(ctx, t, req.query);
        const first = r.total[0]?.period ?? '';
        const last = r.total.at(-1)?.period ?? '';
        const name = `${safeName(t.name)}_energy_${r.period}_${first}_${last}`;
        if (format === 'csv') {
          return reply
            .header('content-type', 'text/csv; charset=utf-8')
            .header('content-disposition', `attachment; filename="${name}.csv"`)
            .send(energyCsv(r));
        }
        const c = columns(r);
        const width = c.heading.length;
        const batch: RowBatch = {
          times: Float64Array.from(r.total.map((x) => x.start)),
          values: Float64Array.from(r.total.flatMap((_, i) => c.values(i))),
        };
        if (batch.values.length !== batch.times.length * width) throw new Error('energy columns');
        const batches = (async function* () {
          yield batch;
        })();
        const stream: Readable = xlsxStream({ fields: c.heading, batches }, t.name, r.timeZone);
        return reply
          .header('content-type', XLSX_TYPE)
          .header('content-disposition', `attachment; filename="${name}.xlsx"`)
          .send(stream);
      },
    );
  }
}
