/**
 * The web settings page's backend (admin only): the config file's integration sections
 * (secrets redacted), saving one section (applied live when it can be), the test buttons,
 * and the config backup download / restore upload. The gateway's settings service does the
 * work (`BoxGateway.settings`); these routes translate HTTP and audit.
 *
 * Statuses beyond the common ones: 422 CONFIG_INVALID with `issues: [{path, message}]`
 * (nothing written; 400 when the YAML is refused before it is checked: aliases that
 * expand to too much data, nesting too deep), 409 STORAGE_READ_ONLY and 507 STORAGE_FULL (the file could not be
 * written; the old one is untouched), 501 CAPABILITY_MISSING (no notification test).
 */
import { BmsError, isBmsError } from '@openbms/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { actedBy, caller } from '../auth.js';
import type { ServerContext } from '../context.js';
import type { SettingsApi } from '../gateway-api.js';
import {
  configInvalidSchema,
  errorResponses,
  errorSchema,
  restoreSchema,
  sectionParams,
  settingsTestBody,
  settingsTestSchema,
  settingsUpdateSchema,
  settingsViewSchema,
  type SettingsTestBody,
} from '@openbms/contract/api';

/** Largest restore upload (a config file is a few kB). */
export const MAX_RESTORE_BYTES = 256 * 1024;
const YAML_TYPES = ['text/yaml', 'application/x-yaml', 'application/yaml', 'text/x-yaml'];

const writeRefused = {
  409: { ...errorSchema, description: 'The config directory is not writable (STORAGE_READ_ONLY).' },
  507: { ...errorSchema, description: 'The disk is full (STORAGE_FULL); nothing changed.' },
};

function settingsOf(ctx: ServerContext): SettingsApi {
  const s = ctx.box.settings;
  if (!s) {
    throw new BmsError(
      'NOT_FOUND',
      'settings are not available: the gateway was started without a config file',
    );
  }
  return s;
}

/**
 * Sends config and write refusals with their own status; anything else goes on. A document
 * refused before it is checked (alias bomb, nesting too deep: `details.refused`) is a 400,
 * like the same faults in a JSON body; a config that reads but does not check is a 422.
 */
export function refusal(
  req: FastifyRequest,
  reply: FastifyReply,
  e: unknown,
): FastifyReply | undefined {
  if (!isBmsError(e)) return undefined;
  if (e.code === 'CONFIG_INVALID') {
    const issues = Array.isArray(e.details?.['issues']) ? e.details['issues'] : [];
    const field = e.details?.['field'];
    return reply.status(e.details?.['refused'] !== undefined ? 400 : 422).send({
      error: e.message,
      code: e.code,
      ...(typeof field === 'string' ? { field } : {}),
      issues,
    });
  }
  if (e.code === 'STORAGE_READ_ONLY' || e.code === 'STORAGE_FULL') {
    if (e.code === 'STORAGE_FULL') req.log.error({ err: e }, 'saving the config failed');
    return reply
      .status(e.code === 'STORAGE_FULL' ? 507 : 409)
      .send({ error: e.message, code: e.code });
  }
  return undefined;
}

const issuePaths = (e: unknown): string =>
  isBmsError(e) && Array.isArray(e.details?.['issues'])
    ? (e.details['issues'] as { path?: unknown }[]).map((i) => String(i.path)).join(', ')
    : '';

export function settingsRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get(
    '/settings',
    {
      config: { access: 'admin', box: true },
      schema: {
        summary: 'Integration settings (secrets redacted), config file path and live status',
        tags: ['settings'],
        response: { 200: settingsViewSchema, ...errorResponses(403, 404) },
      },
    },
    async () => settingsOf(ctx).view(),
  );

  app.put<{ Params: { section: string }; Body: unknown }>(
    '/settings/:section',
    {
      config: { access: 'admin', box: true },
      schema: {
        summary: 'Save one config section and apply it live when it can be',
        description:
          'Body: the section value as in the config file (null removes the section). ' +
          'Secrets sent back as "********" keep their saved value. Integration sections ' +
          '(mqtt, modbus_tcp, modbus_client, tunnel) are applied at once; others answer ' +
          'restart_required: true.',
        tags: ['settings'],
        params: sectionParams,
        response: {
          200: settingsUpdateSchema,
          422: configInvalidSchema,
          ...writeRefused,
          ...errorResponses(403, 404),
        },
      },
    },
    async (req, reply) => {
      const me = caller(req);
      const { section } = req.params;
      const api = settingsOf(ctx);
      if (req.body === undefined) {
        throw new BmsError(
          'REQUEST_INVALID',
          'body: send the section as JSON (null removes the section)',
          { field: section },
        );
      }
      try {
        const r = await api.update(section, req.body);
        await ctx.record({
          ...actedBy(me),
          action: 'settings.update',
          new: { section, value: r.value },
          result: r.error === undefined ? 'ok' : 'failed',
          detail:
            r.error ??
            (r.restart_required ? 'saved; takes effect at the next start' : 'saved and applied'),
        });
        return r;
      } catch (e) {
        if (isBmsError(e) && e.code !== 'NOT_FOUND') {
          await ctx.record({
            ...actedBy(me),
            action: 'settings.update',
            new: { section },
            result: e.code === 'CONFIG_INVALID' ? 'refused' : 'failed',
            detail: e.code === 'CONFIG_INVALID' ? `invalid: ${issuePaths(e)}` : e.code,
          });
        }
        const sent = refusal(req, reply, e);
        if (sent) return sent;
        throw e;
      }
    },
  );

  app.post<{
    Params: { section: string };
    Body: SettingsTestBody | undefined;
  }>(
    '/settings/:section/test',
    {
      config: { access: 'admin', box: true },
      schema: {
        summary: 'Test an integration with its saved settings or a candidate',
        description:
          'mqtt: connect, publish on <base_topic>/test and receive it back (round_trip_ms); ' +
          'modbus_tcp: read the first registers of unit 1; modbus_client: connect to the ' +
          'target; tunnel: the bus exists and the port is free or ours; notifications: send ' +
          'a test message through `channel`. `ok: false` carries the problem in words.',
        tags: ['settings'],
        params: sectionParams,
        body: settingsTestBody,
        response: {
          200: settingsTestSchema,
          422: configInvalidSchema,
          ...errorResponses(403, 404),
        },
      },
    },
    async (req, reply) => {
      const api = settingsOf(ctx);
      const body = req.body ?? {};
      try {
        return await api.test(req.params.section, {
          ...(body.value !== undefined ? { value: body.value } : {}),
          ...(body.channel !== undefined ? { channel: body.channel } : {}),
        });
      } catch (e) {
        const sent = refusal(req, reply, e);
        if (sent) return sent;
        throw e;
      }
    },
  );

  app.get(
    '/config/backup',
    {
      config: { access: 'admin', box: true },
      schema: {
        summary: 'Download the config file (YAML, secrets included: keep it safe)',
        tags: ['settings'],
        produces: ['application/yaml'],
        response: errorResponses(403, 404),
      },
    },
    async (req, reply) => {
      const me = caller(req);
      const text = settingsOf(ctx).backup();
      const date = new Date(ctx.clock()).toISOString().slice(0, 10);
      await ctx.record({ ...actedBy(me), action: 'config.backup', result: 'ok' });
      return reply
        .header('content-type', 'application/yaml; charset=utf-8')
        .header('content-disposition', `attachment; filename=openbms-config-${date}.yaml`)
        .send(text);
    },
  );

  // Its own plugin: the YAML body parser applies to this route only.
  void app.register(async (scoped) => {
    scoped.addContentTypeParser(
      YAML_TYPES,
      { parseAs: 'string', bodyLimit: MAX_RESTORE_BYTES },
      (_req: FastifyRequest, body: string | Buffer, done) => done(null, String(body)),
    );
    scoped.post<{ Body: unknown }>(
      '/config/restore',
      {
        config: { access: 'admin', box: true },
        bodyLimit: MAX_RESTORE_BYTES,
        schema: {
          summary: 'Restore a config file (YAML body, or JSON {yaml}); the old one is kept as .bak',
          description:
            'Content type text/yaml, application/yaml or application/x-yaml with the file as ' +
            'the body (at most 256 kB), or application/json {"yaml": "..."}. Checked first: ' +
            '422 naming the keys and nothing written when it does not check; 400 ' +
            'CONFIG_INVALID when it is refused unread (aliases expanding to too much data, ' +
            'nesting too deep). Integration sections that changed are applied at once.',
          tags: ['settings'],
          response: {
            200: restoreSchema,
            422: configInvalidSchema,
            ...writeRefused,
            ...errorResponses(403, 404),
            400: {
              ...configInvalidSchema,
              description:
                'Malformed request (REQUEST_INVALID), or YAML refused unread (CONFIG_INVALID).',
            },
          },
        },
      },
      async (req, reply) => {
        const me = caller(req);
        const api = settingsOf(ctx);
        const b = req.body;
        let text: string;
        if (typeof b === 'string') text = b;
        else if (
          b !== null &&
          typeof b === 'object' &&
          typeof (b as { yaml?: unknown }).yaml === 'string'
        ) {
          text = (b as { yaml: string }).yaml;
        } else {
          throw new BmsError(
            'REQUEST_INVALID',
            'body: send the YAML file (content-type text/yaml) or JSON {"yaml": "..."}',
            { field: 'yaml' },
          );
        }
        if (Buffer.byteLength(text, 'utf8') > MAX_RESTORE_BYTES) {
          throw new BmsError(
            'REQUEST_INVALID',
            `body: the config is larger than ${MAX_RESTORE_BYTES / 1024} kB`,
            { field: 'yaml' },
          );
        }
        try {
          const r = await api.restore(text);
          await ctx.record({
            ...actedBy(me),
            action: 'config.restore',
            new: { applied: r.applied, restart_required: r.restart_required },
            result: r.failed.length === 0 ? 'ok' : 'failed',
            ...(r.failed.length > 0
              ? { detail: r.failed.map((f) => `${f.section}: ${f.error}`).join('; ') }
              : {}),
          });
          return r;
        } catch (e) {
          if (isBmsError(e)) {
            await ctx.record({
              ...actedBy(me),
              action: 'config.restore',
              result: e.code === 'CONFIG_INVALID' ? 'refused' : 'failed',
              detail: e.code === 'CONFIG_INVALID' ? `invalid: ${issuePaths(e)}` : e.code,
            });
          }
          const sent = refusal(req, reply, e);
          if (sent) return sent;
          throw e;
        }
      },
    );
  });
}
