/**
 * The OpenAPI 3.1 document, built from the routes' own JSON schemas as they register (so
 * the document cannot drift from what is validated). Also the guard that every /api route
 * declares who may call it: a route without `config.access` fails the server's start.
 */
import type { RouteOptions } from 'fastify';
import { SESSION_COOKIE } from './auth.js';

// Documentation keys on route schemas (the same shape @fastify/swagger declares).
declare module 'fastify' {
  interface FastifySchema {
    tags?: readonly string[];
    description?: string;
    summary?: string;
    produces?: readonly string[];
  }
}

interface Schema {
  summary?: string;
  description?: string;
  tags?: readonly string[];
  params?: { properties?: Record<string, object>; required?: readonly string[] };
  querystring?: { properties?: Record<string, object>; required?: readonly string[] };
  body?: object;
  response?: Record<string, { description?: string } & object>;
  produces?: readonly string[];
}

interface Collected {
  method: string;
  url: string;
  access: string;
  websocket: boolean;
  schema: Schema;
}

export class RouteCollector {
  private readonly routes: Collected[] = [];

  add(r: RouteOptions): void {
    if (!r.url.startsWith('/api/')) return;
    const access = (r.config as { access?: string } | undefined)?.access;
    if (access === undefined) {
      throw new Error(`route ${String(r.method)} ${r.url} declares no config.access`);
    }
    if (r.url.startsWith('/api/docs')) return;
    for (const m of [r.method].flat()) {
      if (m === 'HEAD') continue;
      this.routes.push({
        method: m.toLowerCase(),
        url: r.url,
        access,
        websocket: (r as { websocket?: boolean }).websocket === true,
        schema: (r.schema ?? {}) as Schema,
      });
    }
  }

  list(): readonly Collected[] {
    return this.routes;
  }

  document(): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const r of this.routes) {
      const path = r.url.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');
      const parameters = [
        ...params(r.schema.params, 'path'),
        ...params(r.schema.querystring, 'query'),
      ];
      const responses: Record<string, unknown> = {};
      for (const [status, schema] of Object.entries(r.schema.response ?? {})) {
        const { description, ...rest } = schema;
        responses[status] = {
          description: description ?? 'OK',
          content: { 'application/json': { schema: rest } },
        };
      }
      const produces = r.schema.produces?.[0];
      if (produces && !Object.keys(responses).some((k) => k.startsWith('2'))) {
        responses['200'] = {
          description: 'The file',
          content: { [produces]: { schema: { type: 'string' } } },
        };
      }
      if (r.websocket)
        responses['101'] = { description: 'WebSocket upgrade (see the description).' };
      if (Object.keys(responses).length === 0) responses['200'] = { description: 'OK' };
      (paths[path] ??= {})[r.method] = {
        ...(r.schema.summary ? { summary: r.schema.summary } : {}),
        ...(r.schema.description ? { description: r.schema.description } : {}),
        ...(r.schema.tags ? { tags: r.schema.tags } : {}),
        'x-access': r.access,
        security: r.access === 'public' ? [] : [{ bearer: [] }, { session: [] }],
        ...(parameters.length > 0 ? { parameters } : {}),
        ...(r.schema.body
          ? {
              requestBody: {
                required: true,
                content: { 'application/json': { schema: r.schema.body } },
              },
            }
          : {}),
        responses,
      };
    }
    return {
      openapi: '3.1.0',
      info: {
        title: 'OpenBMS API',
        version: '1',
        description:
          'REST under /api/v1 and the live WebSocket /api/v1/live. Errors are {error, code, field?}. ' +
          'Times are ms since the epoch; queries also accept ISO 8601. Pack ids contain "/": URL-encode them.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE },
        },
      },
      paths,
    };
  }
}

function params(
  s: Schema['params'] | undefined,
  where: 'path' | 'query',
): Record<string, unknown>[] {
  if (!s?.properties) return [];
  return Object.entries(s.properties).map(([name, schema]) => ({
    name,
    in: where,
    required: where === 'path' || (s.required ?? []).includes(name),
    schema,
  }));
}
