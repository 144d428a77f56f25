/**
 * Safe control: capabilities, parameters (read, write with dry run, export, diff of a file),
 * commands (MOSFETs, SOC, clock, inverter protocol, calibration, restore defaults or the saved
 * profile, restart, shut-down, factory reset), the BMS clock, on-board records (read in pages,
 * CSV, erase) and the command statuses. Registered only when a gateway runs control commands.
 * The policy finds the pack among the gateways the caller may see (another organisation's pack:
 * 404) and checks the role in its organisation; reads go through the gateway's link, changes as
 * commands with a transaction id and the principal (commands.ts). The gateway's own control
 * service validates, sends, reads back and audits; these routes translate HTTP and nothing else.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type {
  CommandOf,
  CommandOp,
  CommandResult,
  WriteResultWire,
} from '@openbms/contract/gateway';
import { POINTS } from '@openbms/storage';
import { recordsCsv, type BmsRecord } from '@openbms/core';
import { caller } from '../auth.js';
import { pointShown, type PointFilter } from '../policy.js';
import { sendCommand, sendCommandResult } from '../commands.js';
import { BmsError, isBmsError } from '@openbms/core';
import type { ServerContext } from '../context.js';
import type {
  ControlCapabilities,
  ControlClockView,
  ControlCommandStatus,
  ControlInverterProtocolView,
  ControlParameterDiff,
  ControlRecordsPage,
  GatewayLink,
} from '../gateway-api.js';
import {
  calibrateBody,
  capabilitiesSchema,
  clockBody,
  clockViewSchema,
  inverterBody,
  inverterViewSchema,
  recordsClearBody,
  recordsExportQuery,
  recordsQuery,
  commandSchema,
  confirmBody,
  diffBody,
  diffSchema,
  distributeBody,
  distributeResultSchema,
  type DistributeResult,
  errorResponses,
  errorSchema,
  fileSchema,
  mosBody,
  outcomeSchema,
  packIdParams,
  packQuery,
  readParametersSchema,
  recordsSchema,
  socBody,
  writeBody,
  writeResultSchema,
  type Capabilities,
  type ClockView,
  type CommandOutcome,
  type InverterView,
  type RecordsPageView,
  type CommandView,
  type ParamDiff,
  type WriteResult,
} from '@openbms/contract/api';

// ---------------------------------------------------------------- schemas

const CONTROL_ERRORS = {
  404: 'No such pack (NOT_FOUND).',
  409: 'The device or an interlock refused the command (COMMAND_REFUSED); `error` gives the reason. Nothing was changed.',
  422: 'A parameter value failed validation (PARAM_UNKNOWN, PARAM_OUT_OF_RANGE, PARAM_STEP, PARAM_UNSAFE_FOR_CHEMISTRY, PARAM_INCONSISTENT). Nothing was sent.',
  501: "The pack's protocol family cannot do this (CAPABILITY_MISSING).",
  502: 'Written, but reading back gave another value (READBACK_MISMATCH).',
  503: 'The bus link is closed or cannot be opened (TRANSPORT_*).',
  504: 'The pack did not answer (TRANSPORT_TIMEOUT).',
} as const;

type ControlStatus = keyof typeof CONTROL_ERRORS;

function controlErrors(...statuses: ControlStatus[]): Record<number, unknown> {
  const out: Record<number, unknown> = errorResponses(403);
  for (const s of [404, ...statuses] as ControlStatus[]) {
    out[s] = { ...errorSchema, description: CONTROL_ERRORS[s] };
  }
  return out;
}

const DEVICE: ControlStatus[] = [409, 422, 501, 502, 503, 504];

// ---------------------------------------------------------------- views (snake_case)

const commandView = (c: ControlCommandStatus): CommandView => ({
  id: c.id,
  pack_id: c.packId,
  action: c.action,
  user: c.user,
  at: c.at,
  status: c.status,
  detail: c.detail,
  ...(c.text ? { text: c.text } : {}),
});

const outcomeView = (r: CommandResult): CommandOutcome => {
  // A command other than a write or an acknowledgement always has its status.
  if (!r.command) throw new Error(`${r.op} (txn ${r.txn}) came back without its command status`);
  return {
    command: commandView(r.command),
    ...(r.readback !== undefined ? { readback: r.readback } : {}),
  };
};

const capabilitiesView = (c: ControlCapabilities): Capabilities => ({
  pack_id: c.packId,
  protocol: c.protocol,
  chemistry: c.chemistry,
  limits: {
    ...(c.limits.cellCount !== undefined ? { cell_count: c.limits.cellCount } : {}),
    ...(c.limits.designAh !== undefined ? { design_ah: c.limits.designAh } : {}),
    max_charge_c: c.limits.maxChargeC,
    max_discharge_c: c.limits.maxDischargeC,
  },
  operations: c.operations,
  ...(c.variant !== undefined ? { variant: c.variant } : {}),
  unverified: c.unverified,
  allow_unverified: c.allowUnverified,
  ...(c.inverterProtocols
    ? {
        inverter_protocols: {
          ...(c.inverterProtocols.can ? { can: [...c.inverterProtocols.can] } : {}),
          ...(c.inverterProtocols.rs485 ? { rs485: [...c.inverterProtocols.rs485] } : {}),
          ...(c.inverterProtocols.auto !== undefined ? { auto: c.inverterProtocols.auto } : {}),
        },
      }
    : {}),
  calibrations: c.calibrations.map(({ takesValue, ...x }) => ({ ...x, takes_value: takesValue })),
  ...(c.records
    ? {
        records: {
          kinds: c.records.kinds.filter(
            (k): k is 'data' | 'alarm' => k === 'data' || k === 'alarm',
          ),
          per_read: c.records.perRead,
        },
      }
    : {}),
  parameters: c.parameters.map(({ safeMin, safeMax, ...p }) => ({
    ...p,
    ...(safeMin !== undefined ? { safe_min: safeMin } : {}),
    ...(safeMax !== undefined ? { safe_max: safeMax } : {}),
  })),
});

const writeView = (w: WriteResultWire | undefined): WriteResult => {
  if (!w) throw new Error('a parameter write came back without its result');
  return {
    dry_run: w.dryRun,
    changed: w.changed,
    results: w.results.map((r) => ({
      id: r.id,
      old: r.old ?? null,
      requested: r.requested,
      readback: r.readback ?? null,
      ok: r.ok,
    })),
  };
};

const diffView = (d: ControlParameterDiff): ParamDiff => ({
  ...d,
  changed: d.changed.map((c) => ({ ...c, current: c.current ?? null })),
});

const clockView = (c: ControlClockView): ClockView => ({
  bms_time: c.bmsTime,
  ms: Math.round(c.ms),
  drift_ms: Math.round(c.driftMs),
  time_zone: c.timeZone,
});

const recordsView = (r: ControlRecordsPage): RecordsPageView => ({
  records: r.records,
  next: r.next,
  time_zone: r.timeZone,
});

const inverterView = (v: ControlInverterProtocolView): InverterView => ({
  setting: { ...v.setting },
  list: {
    ...(v.list.can ? { can: [...v.list.can] } : {}),
    ...(v.list.rs485 ? { rs485: [...v.list.rs485] } : {}),
    ...(v.list.auto !== undefined ? { auto: v.list.auto } : {}),
  },
});

/** A file name for an export, from the pack id (`home/bus1/1` -> `home-bus1-1`). */
const fileName = (packId: string, what = 'parameters.json'): string =>
  `${packId.replace(/[^A-Za-z0-9_.-]+/g, '-')}-${what}`;

/**
 * A record with only the points a reader sees: a hidden point's value goes, and so does the
 * device's own `raw` part (its fields are named by the family, not by point), unless every
 * point is shown. Position, kind, times, event and alarm codes stay (an alarm's code is shown
 * to whoever sees the pack, as for alarm events).
 */
export function filterRecord<R extends BmsRecord>(r: R, filter: PointFilter): R {
  if (filter === 'all') return r;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) {
    if (k === 'raw' || (POINTS.includes(k) && !pointShown(filter, k))) continue;
    out[k] = v;
  }
  return out as R;
}

// ---------------------------------------------------------------- routes

interface Id {
  Params: { id: string };
}

/** Registers the control routes when a gateway runs control commands (otherwise: 404s). */
export function controlRoutes(app: FastifyInstance, ctx: ServerContext): void {
  if (!ctx.gateways.controls()) return;
  const tags = ['control'];
  /** The pack's gateway, for a caller with `needed` in its organisation. */
  const gatewayOf = async (req: FastifyRequest<Id>, needed: 'viewer' | 'operator') =>
    (await ctx.policy.findPack(caller(req), req.params.id, needed)).link;
  /**
   * The pack's gateway for a reader of its on-board records, and the points the reader sees
   * (the records hold the readings of their time: the point groups apply as to history).
   */
  const recordsOf = async (req: FastifyRequest<Id>) => {
    const me = caller(req);
    const found = await ctx.policy.findPack(me, req.params.id, 'viewer');
    const filter = await ctx.policy.points.filterForPack(me, found.link.orgId, found.pack);
    return { link: found.link, filter };
  };
  /** Sends a command to the pack's gateway for the caller (operator in its organisation). */
  const command = async <O extends CommandOp>(
    req: FastifyRequest<Id>,
    op: O,
    args: CommandOf<O>['args'],
  ): Promise<CommandResult> =>
    sendCommand(await gatewayOf(req, 'operator'), caller(req), req.params.id, op, args);
  const confirmRoute = (
    path: string,
    summary: string,
    op:
      | 'parameters.restore_defaults'
      | 'parameters.restore_profile'
      | 'pack.restart'
      | 'pack.shutdown'
      | 'pack.factory_reset',
  ): void => {
    app.post<Id & { Body: { confirm: string } }>(
      `/packs/:id/commands/${path}`,
      {
        config: { access: 'operator' },
        schema: {
          summary,
          description:
            'Needs `confirm` equal to the pack name (or id); anything else is 400 REQUEST_INVALID.',
          tags,
          params: packIdParams,
          body: confirmBody,
          response: { 200: outcomeSchema, ...controlErrors(...DEVICE) },
        },
      },
      async (req) => outcomeView(await command(req, op, { confirm: req.body.confirm })),
    );
  };

  app.get<Id>(
    '/packs/:id/capabilities',
    {
      config: { access: 'viewer' },
      schema: {
        summary: "What the pack's family can do, and its writable parameters",
        tags,
        params: packIdParams,
        response: { 200: capabilitiesSchema, ...controlErrors() },
      },
    },
    async (req) =>
      capabilitiesView(await (await gatewayOf(req, 'viewer')).capabilities(req.params.id)),
  );

  app.get<Id>(
    '/packs/:id/parameters',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Reads the parameters from the device now',
        tags,
        params: packIdParams,
        response: { 200: readParametersSchema, ...controlErrors(501, 503, 504) },
      },
    },
    async (req) => (await gatewayOf(req, 'viewer')).readParameters(req.params.id),
  );

  app.put<Id & { Body: { values: Record<string, number>; dry_run?: boolean } }>(
    '/packs/:id/parameters',
    {
      config: { access: 'operator' },
      schema: {
        summary: 'Writes parameters: validated, written, read back and compared, audited',
        description:
          'Values are checked against their range and step, the chemistry safe limits and the ' +
          'consistency rules with what the device holds; a refused write sends nothing. ' +
          'dry_run=true validates and returns the diff without writing.',
        tags,
        params: packIdParams,
        body: writeBody,
        response: { 200: writeResultSchema, ...controlErrors(...DEVICE) },
      },
    },
    async (req) =>
      writeView(
        (
          await command(req, 'parameters.write', {
            values: req.body.values,
            dry_run: req.body.dry_run === true,
          })
        ).write,
      ),
  );

  app.post<{ Body: { pack_ids: string[]; values: Record<string, number> } }>(
    '/parameters/distribute',
    {
      config: { access: 'operator' },
      schema: {
        summary: 'Distribute: writes the same parameter values to several packs (seed 003)',
        description:
          'Every pack is found and the role checked first (operator in its organisation; an ' +
          'unknown or unseen pack is 404, a pack where the caller is only a viewer 403: nothing ' +
          'is sent then). Then each pack gets the single write of PUT /packs/{id}/parameters: ' +
          'validated against its range, step, chemistry limits and what the pack holds, ' +
          'interlocked, written, read back and audited. The answer lists each pack: done, ' +
          'refused (nothing sent to it: code and field say why) or failed (transport, read-back). ' +
          'Values that fail validation are refused by every pack, so no pack is written.',
        tags,
        body: distributeBody,
        response: { 200: distributeResultSchema, ...errorResponses(403, 404) },
      },
    },
    async (req): Promise<DistributeResult> => {
      const me = caller(req);
      const found: { id: string; link: GatewayLink }[] = [];
      for (const id of req.body.pack_ids) {
        found.push({ id, link: (await ctx.policy.findPack(me, id, 'operator')).link });
      }
      const results: DistributeResult['results'] = new Array(found.length);
      let next = 0;
      // A few packs at a time: each waits on its own bus, packs on one bus queue there.
      const worker = async (): Promise<void> => {
        while (next < found.length) {
          const i = next++;
          const { id, link } = found[i]!;
          try {
            const r = await sendCommandResult(link, me, id, 'parameters.write', {
              values: req.body.values,
              dry_run: false,
            });
            // A parameter refusal names the parameter (`id`); a request refusal its field.
            const field = r.details?.['id'] ?? r.details?.['field'];
            results[i] = {
              pack_id: id,
              status: r.status,
              detail: r.detail,
              ...(r.code ? { code: r.code } : {}),
              ...(typeof field === 'string' ? { field } : {}),
              ...(r.status === 'done' ? { write: writeView(r.write) } : {}),
            };
          } catch (e) {
            const err = isBmsError(e) ? e : new BmsError('INTERNAL', 'the command failed');
            if (!isBmsError(e)) req.log.error(e);
            results[i] = { pack_id: id, status: 'failed', code: err.code, detail: err.message };
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(8, found.length) }, worker));
      return { results };
    },
  );

  app.get<Id>(
    '/packs/:id/parameters/export',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'The parameters as a file (openbms-parameters, version 1)',
        tags,
        params: packIdParams,
        response: { 200: fileSchema, ...controlErrors(501, 503, 504) },
      },
    },
    async (req, reply) => {
      const file = await (await gatewayOf(req, 'viewer')).exportParameters(req.params.id);
      void reply.header('content-disposition', `attachment; filename="${fileName(file.pack.id)}"`);
      return file;
    },
  );

  app.post<Id & { Body: { file: Record<string, unknown> } }>(
    '/packs/:id/parameters/diff',
    {
      config: { access: 'operator' },
      schema: {
        summary: 'Validates a parameter file against the pack and diffs it; writes nothing',
        description:
          'To import, PUT the `changed` values to /packs/{id}/parameters (after a look at the diff).',
        tags,
        params: packIdParams,
        body: diffBody,
        response: { 200: diffSchema, ...controlErrors(501, 503, 504) },
      },
    },
    async (req) =>
      diffView(
        await (await gatewayOf(req, 'operator')).diffParameters(req.params.id, req.body.file),
      ),
  );

  app.post<Id & { Body: { which: 'charge' | 'discharge'; on: boolean } }>(
    '/packs/:id/commands/mos',
    {
      config: { access: 'operator' },
      schema: {
        summary: 'Switches the charge or discharge MOSFET (interlocked, confirmed by a read)',
        tags,
        params: packIdParams,
        body: mosBody,
        response: { 200: outcomeSchema, ...controlErrors(...DEVICE) },
      },
    },
    async (req) =>
      outcomeView(await command(req, 'mos.set', { which: req.body.which, on: req.body.on })),
  );

  app.post<Id & { Body: { pct: number } }>(
    '/packs/:id/commands/soc',
    {
      config: { access: 'operator' },
      schema: {
        summary: "Sets the BMS's state of charge (its coulomb counter), read back",
        tags,
        params: packIdParams,
        body: socBody,
        response: { 200: outcomeSchema, ...controlErrors(...DEVICE) },
      },
    },
    async (req) => outcomeView(await command(req, 'soc.set', { pct: req.body.pct })),
  );

  app.post<Id & { Body: { ms?: number } | undefined }>(
    '/packs/:id/commands/clock',
    {
      config: { access: 'operator' },
      schema: {
        summary: 'Sets the BMS clock (default: the gateway time)',
        tags,
        params: packIdParams,
        body: clockBody,
        response: { 200: outcomeSchema, ...controlErrors(...DEVICE) },
      },
    },
    async (req) =>
      outcomeView(
        await command(req, 'clock.set', req.body?.ms !== undefined ? { ms: req.body.ms } : {}),
      ),
  );

  confirmRoute(
    'restore-defaults',
    'Restores the default parameters (confirmed)',
    'parameters.restore_defaults',
  );
  confirmRoute('restart', 'Restarts the BMS (confirmed)', 'pack.restart');
  confirmRoute('factory-reset', 'Factory-resets the BMS (confirmed)', 'pack.factory_reset');

  confirmRoute('shutdown', 'Shuts the BMS down / puts it to sleep (confirmed)', 'pack.shutdown');
  confirmRoute(
    'restore-profile',
    "Writes the pack's saved profile (its last parameter export) back (confirmed)",
    'parameters.restore_profile',
  );

  app.get<Id>(
    '/packs/:id/clock',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Reads the BMS clock now, with its drift from the gateway time',
        tags,
        params: packIdParams,
        response: { 200: clockViewSchema, ...controlErrors(409, 501, 503, 504) },
      },
    },
    async (req) => clockView(await (await gatewayOf(req, 'viewer')).readClock(req.params.id)),
  );

  app.get<Id & { Querystring: { start?: number; count?: number } }>(
    '/packs/:id/records',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'One page of on-board data and alarm records (seed 004), newest first',
        description:
          'Reads `count` records from position `start` (0 = newest) from the device now. Read ' +
          'page after page with `next`; stop whenever (seed 004 "stop"). 501 when the family keeps none.',
        tags,
        params: packIdParams,
        querystring: recordsQuery,
        response: { 200: recordsSchema, ...controlErrors(409, 501, 503, 504) },
      },
    },
    async (req) => {
      const { link, filter } = await recordsOf(req);
      const page = await link.readRecords(
        req.params.id,
        req.query.start ?? 0,
        req.query.count ?? 10,
      );
      return recordsView({ ...page, records: page.records.map((r) => filterRecord(r, filter)) });
    },
  );

  app.get<Id & { Querystring: { max?: number } }>(
    '/packs/:id/records/export',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'On-board records as CSV (read from the device now, newest first)',
        tags,
        params: packIdParams,
        querystring: recordsExportQuery,
        produces: ['text/csv'],
        response: {
          200: { type: 'string', description: 'RFC 4180 CSV, one row per record.' },
          ...controlErrors(409, 501, 503, 504),
        },
      },
    },
    async (req, reply) => {
      const { link, filter } = await recordsOf(req);
      const max = req.query.max ?? 500;
      let csv: string;
      if (filter === 'all') ({ csv } = await link.exportRecords(req.params.id, max));
      else {
        // Read page by page as the gateway's export does, then write only the columns shown.
        const per = (await link.capabilities(req.params.id)).records?.perRead ?? 10;
        const all: BmsRecord[] = [];
        let next: number | null = 0;
        while (next !== null && all.length < max) {
          const page: ControlRecordsPage = await link.readRecords(
            req.params.id,
            next,
            Math.min(per, max - all.length),
          );
          all.push(...page.records.map((r) => filterRecord(r, filter)));
          next = page.next;
        }
        csv = recordsCsv(all, (k) => pointShown(filter, k));
      }
      void reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header(
          'content-disposition',
          `attachment; filename="${fileName(req.params.id, 'records.csv')}"`,
        );
      return csv;
    },
  );

  app.post<Id & { Body: { kind: 'data' | 'alarm' | 'all'; confirm: string } }>(
    '/packs/:id/commands/records-clear',
    {
      config: { access: 'operator' },
      schema: {
        summary: "Erases the device's on-board records of one kind (confirmed)",
        tags,
        params: packIdParams,
        body: recordsClearBody,
        response: { 200: outcomeSchema, ...controlErrors(...DEVICE) },
      },
    },
    async (req) =>
      outcomeView(
        await command(req, 'records.clear', { kind: req.body.kind, confirm: req.body.confirm }),
      ),
  );

  app.get<Id>(
    '/packs/:id/inverter-protocol',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'The inverter protocols selected now, with the list the family offers',
        tags,
        params: packIdParams,
        response: { 200: inverterViewSchema, ...controlErrors(409, 501, 503, 504) },
      },
    },
    async (req) =>
      inverterView(await (await gatewayOf(req, 'viewer')).readInverterProtocol(req.params.id)),
  );

  app.post<Id & { Body: { can?: number; rs485?: number; mode?: 'auto' | 'manual' } }>(
    '/packs/:id/commands/inverter-protocol',
    {
      config: { access: 'operator' },
      schema: {
        summary: 'Selects inverter protocols (seed 002 §2.5): checked against the list, read back',
        tags,
        params: packIdParams,
        body: inverterBody,
        response: { 200: outcomeSchema, ...controlErrors(...DEVICE) },
      },
    },
    async (req) => outcomeView(await command(req, 'inverter_protocol.set', req.body)),
  );

  app.post<Id & { Body: { kind: string; value?: number } }>(
    '/packs/:id/commands/calibrate',
    {
      config: { access: 'operator' },
      schema: {
        summary: 'Calibrates a measurement or counter (seed 002 §2.4); the pack is read after',
        tags,
        params: packIdParams,
        body: calibrateBody,
        response: { 200: outcomeSchema, ...controlErrors(...DEVICE) },
      },
    },
    async (req) =>
      outcomeView(
        await command(
          req,
          'calibrate',
          req.body.value !== undefined
            ? { kind: req.body.kind, value: req.body.value }
            : { kind: req.body.kind },
        ),
      ),
  );

  app.get<{ Querystring: { pack?: string } }>(
    '/commands',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'The last control commands with their status, newest first (in memory, 200)',
        tags,
        querystring: packQuery,
        response: { 200: { type: 'array', items: commandSchema }, ...errorResponses() },
      },
    },
    async (req) => {
      const links = ctx.policy.gateways(caller(req)).filter((l) => l.controls);
      const lists = await Promise.all(links.map((l) => l.commands(req.query.pack)));
      const all = lists.flat();
      // One gateway's list is newest first already; several are merged by time.
      if (lists.length > 1) all.sort((a, b) => b.at - a.at);
      return all.map(commandView);
    },
  );
}
