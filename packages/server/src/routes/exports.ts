/**
 * Exports: the per-pack daily CSV files (seed 001's file manager: list, download, delete)
 * and a CSV for any range. Files are produced from the telemetry store on request.
 */
import { BmsError } from '@openbms/core';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { caller } from '../auth.js';
import type { ServerContext } from '../context.js';
import { parseFields } from '../fields.js';
import { errorResponses, okSchema, timeSchema } from '../schemas.js';
import { parseRange } from '../time.js';
import { csvToXlsx } from '../xlsx.js';

const DAY_MS = 24 * 3600 * 1000;

const dayParams = {
  type: 'object',
  required: ['pack', 'date'],
  properties: {
    pack: { type: 'string', minLength: 1, maxLength: 200 },
    date: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD (UTC)' },
  },
} as const;

function dayStart(date: string): number {
  const t = Date.parse(`${date}T00:00:00Z`);
  if (!Number.isFinite(t) || new Date(t).toISOString().slice(0, 10) !== date) {
    throw new BmsError('REQUEST_INVALID', `params field "date": "${date}" is not a calendar date`, {
      field: 'date',
    });
  }
  return t;
}

function fileName(pack: string, suffix: string): string {
  return `${pack.replace(/[^A-Za-z0-9._-]+/g, '_')}_${suffix}.csv`;
}

function sendCsv(reply: FastifyReply, name: string, csv: string): FastifyReply {
  return reply
    .header('content-type', 'text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="${name}"`)
    .send(csv);
}

export function exportRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const dayExists = (pack: string, date: string) =>
    ctx.telemetry.dailyFiles(pack).some((f) => f.date === date && f.packId === pack);

  app.get<{ Querystring: { pack?: string } }>(
    '/exports/daily',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Daily CSV files (one per pack per UTC day)',
        tags: ['exports'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { pack: { type: 'string', minLength: 1, maxLength: 200 } },
        },
        response: {
          200: {
            type: 'array',
            items: {
              type: 'object',
              required: ['pack_id', 'date', 'samples', 'bytes', 'url'],
              properties: {
                pack_id: { type: 'string' },
                date: { type: 'string' },
                samples: { type: 'integer' },
                bytes: { type: 'integer' },
                url: {
                  type: 'string',
                  description: 'Download path (GET) and delete path (DELETE).',
                },
              },
            },
          },
          ...errorResponses(),
        },
      },
    },
    async (req) =>
      ctx.telemetry.dailyFiles(req.query.pack).map((f) => ({
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
      const from = dayStart(date);
      if (!dayExists(pack, date))
        throw new BmsError('NOT_FOUND', `no daily file for "${pack}" on ${date}`);
      return sendCsv(
        reply,
        fileName(pack, date),
        ctx.telemetry.exportCsv(pack, from, from + DAY_MS - 1),
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
        response: {
          200: {
            ...okSchema,
            properties: { ...okSchema.properties, deleted: { type: 'integer' } },
          },
          ...errorResponses(403, 404),
        },
      },
    },
    async (req) => {
      const me = caller(req);
      const { pack, date } = req.params;
      dayStart(date);
      if (!dayExists(pack, date))
        throw new BmsError('NOT_FOUND', `no daily file for "${pack}" on ${date}`);
      const deleted = ctx.telemetry.deleteDay(pack, date);
      ctx.record({
        user: me.username,
        packId: pack,
        action: 'export.delete',
        old: { date, samples: deleted },
        result: 'ok',
      });
      return { ok: true, deleted };
    },
  );

  // Any range of a pack, as CSV or as an Excel workbook (seed 004's export): one route
  // shape, two encodings of the same rows.
  const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
  for (const format of ['csv', 'xlsx'] as const) {
    app.get<{ Querystring: { pack: string; from?: string; to?: string; fields?: string } }>(
      `/exports/${format}`,
      {
        config: { access: 'viewer' },
        schema: {
          summary: `${format === 'csv' ? 'CSV' : 'Excel (.xlsx)'} of raw samples of a pack for a range (default: the last 24 h, all fields)`,
          tags: ['exports'],
          querystring: {
            type: 'object',
            required: ['pack'],
            additionalProperties: false,
            properties: {
              pack: { type: 'string', minLength: 1, maxLength: 200 },
              from: timeSchema,
              to: timeSchema,
              fields: { type: 'string', minLength: 1, maxLength: 4000 },
            },
          },
          produces: [format === 'csv' ? 'text/csv' : XLSX_TYPE],
          response: errorResponses(404),
        },
      },
      async (req, reply) => {
        const { pack } = req.query;
        const latest = ctx.gateway.pack(pack)?.snapshot ?? ctx.telemetry.latest(pack)?.snapshot;
        if (!ctx.gateway.pack(pack) && !latest) {
          throw new BmsError('NOT_FOUND', `no pack "${pack}"`);
        }
        const { from, to } = parseRange(req.query, ctx.clock(), DAY_MS);
        const fields =
          req.query.fields !== undefined ? parseFields(req.query.fields, latest) : undefined;
        const csv = ctx.telemetry.exportCsv(pack, from, to, fields);
        const name = fileName(
          pack,
          `${new Date(from).toISOString().slice(0, 10)}_${new Date(to).toISOString().slice(0, 10)}`,
        );
        if (format === 'csv') return sendCsv(reply, name, csv);
        return reply
          .header('content-type', XLSX_TYPE)
          .header(
            'content-disposition',
            `attachment; filename="${name.replace(/\.csv$/, '.xlsx')}"`,
          )
          .send(await csvToXlsx(csv, pack));
      },
    );
  }
}
