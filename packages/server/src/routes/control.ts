/**
 * Safe control: capabilities, parameters (read, write with dry run, export, diff of a file),
 * commands (MOSFETs, SOC, clock, restore defaults, restart, factory reset), on-board records
 * and the command statuses. Registered only when the gateway has a ControlApi. The service
 * validates, sends, reads back and audits; these routes translate HTTP and nothing else.
 */
import type { FastifyInstance } from 'fastify';
import { caller } from '../auth.js';
import type { ServerContext } from '../context.js';
import type {
  ControlCapabilities,
  ControlCommandOutcome,
  ControlCommandStatus,
  ControlParameterDiff,
  ControlWriteResult,
} from '../gateway-api.js';
import {
  capabilitiesSchema,
  clockBody,
  commandSchema,
  confirmBody,
  diffBody,
  diffSchema,
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
  type CommandOutcome,
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
});

const outcomeView = (o: ControlCommandOutcome): CommandOutcome => ({
  command: commandView(o.command),
  ...(o.readback !== undefined ? { readback: o.readback } : {}),
});

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
  parameters: c.parameters.map(({ safeMin, safeMax, ...p }) => ({
    ...p,
    ...(safeMin !== undefined ? { safe_min: safeMin } : {}),
    ...(safeMax !== undefined ? { safe_max: safeMax } : {}),
  })),
});

const writeView = (w: ControlWriteResult): WriteResult => ({
  dry_run: w.dryRun,
  changed: w.changed,
  results: w.results.map((r) => ({ ...r, old: r.old ?? null, readback: r.readback ?? null })),
});

const diffView = (d: ControlParameterDiff): ParamDiff => ({
  ...d,
  changed: d.changed.map((c) => ({ ...c, current: c.current ?? null })),
});

/** A file name for the export, from the pack id (`home/bus1/1` -> `home-bus1-1`). */
const fileName = (packId: string): string =>
  `${packId.replace(/[^A-Za-z0-9_.-]+/g, '-')}-parameters.json`;

// ---------------------------------------------------------------- routes

interface Id {
  Params: { id: string };
}

/** Registers the control routes when the gateway has a ControlApi (otherwise: 404s). */
export function controlRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const control = ctx.gateway.control;
  if (!control) return;
  const tags = ['control'];
  const confirmRoute = (
    path: string,
    summary: string,
    run: (id: string, confirm: string, user: string) => Promise<ControlCommandOutcome>,
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
      async (req) => outcomeView(await run(req.params.id, req.body.confirm, caller(req).username)),
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
    async (req) => capabilitiesView(control.capabilities(req.params.id)),
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
    async (req) => control.readParameters(req.params.id),
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
        await control.writeParameters(req.params.id, req.body.values, caller(req).username, {
          dryRun: req.body.dry_run === true,
        }),
      ),
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
      const file = await control.exportParameters(req.params.id);
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
    async (req) => diffView(await control.diffParameters(req.params.id, req.body.file)),
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
      outcomeView(
        await control.setMos(req.params.id, req.body.which, req.body.on, caller(req).username),
      ),
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
    async (req) =>
      outcomeView(await control.setSoc(req.params.id, req.body.pct, caller(req).username)),
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
      outcomeView(await control.setClock(req.params.id, req.body?.ms, caller(req).username)),
  );

  confirmRoute('restore-defaults', 'Restores the default parameters (confirmed)', (id, c, u) =>
    control.restoreDefaults(id, c, u),
  );
  confirmRoute('restart', 'Restarts the BMS (confirmed)', (id, c, u) => control.restart(id, c, u));
  confirmRoute('factory-reset', 'Factory-resets the BMS (confirmed)', (id, c, u) =>
    control.factoryReset(id, c, u),
  );

  app.get<Id>(
    '/packs/:id/records',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'On-board data and alarm records (seed 004)',
        description:
          "No supported family's public protocol exposes them: always 501 CAPABILITY_MISSING.",
        tags,
        params: packIdParams,
        response: { 200: recordsSchema, ...controlErrors(501) },
      },
    },
    async (req) => control.records(req.params.id) as Record<string, unknown>,
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
    async (req) => control.commands(req.query.pack).map(commandView),
  );
}
