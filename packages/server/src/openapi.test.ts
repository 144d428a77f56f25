/**
 * The OpenAPI document as real clients see it, on the whole box (`openbms start`'s parts: a
 * real Gateway on the demo site, SQLite, the server): validated by swagger-parser (the
 * OpenAPI 3.1 specification's schema, references resolved), an operationId on every
 * operation, every answer declared; and the live server's answers to every GET checked
 * against the schema the document gives for their status (Ajv, JSON Schema 2020-12 as
 * OpenAPI 3.1 uses).
 */
import SwaggerParser from '@apidevtools/swagger-parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import Fastify, { type FastifyInstance } from 'fastify';
import { Gateway, validateConfig } from '@openbms/gateway';
import { simulatedBuses } from '@openbms/gateway/testing';
import { openSqliteStorage } from '@openbms/storage-sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from './app.js';
import { RouteCollector, operationId } from './openapi.js';
import { TEST_COST } from './testing/harness.js';

type Op = {
  operationId?: string;
  'x-access'?: string;
  security?: unknown[];
  parameters?: { name: string; in: string; required?: boolean }[];
  responses: Record<string, { content?: Record<string, { schema?: object }> }>;
};
type Doc = {
  openapi: string;
  info: { license?: { name: string } };
  servers?: { url: string }[];
  paths: Record<string, Record<string, Op>>;
};

let storage: Awaited<ReturnType<typeof openSqliteStorage>>;
let gw: Gateway;
let app: FastifyInstance;
let doc: Doc;
let admin: string;

interface Res {
  status: number;
  body: unknown;
  text: string;
  type: string;
}

async function get(url: string, token?: string): Promise<Res> {
  const r = await app.inject({
    method: 'GET',
    url,
    ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
  });
  let body: unknown;
  try {
    body = JSON.parse(r.body);
  } catch {
    body = undefined;
  }
  return { status: r.statusCode, body, text: r.body, type: String(r.headers['content-type']) };
}

beforeAll(async () => {
  storage = await openSqliteStorage({});
  const config = validateConfig({ version: 1, demo: true });
  gw = new Gateway({ config, storage, busFactory: simulatedBuses().busFactory });
  const polled = new Promise<void>((resolve) => {
    const off = gw.events.on((e) => {
      if (e.type === 'snapshot' && e.packId === 'demo/rack/1') {
        off();
        resolve();
      }
    });
  });
  await gw.start();
  await polled;
  app = await buildServer({ storage, gateway: gw, passwordCost: TEST_COST });
  const setup = await app.inject({
    method: 'POST',
    url: '/api/v1/setup',
    payload: { username: 'admin', password: 'a-long-password' },
  });
  expect(setup.statusCode, setup.body).toBe(201);
  admin = (JSON.parse(setup.body) as { token: string }).token;
  const r = await get('/api/docs/openapi.json');
  expect(r.status).toBe(200);
  doc = r.body as Doc;
}, 60_000);

afterAll(async () => {
  await app?.close();
  await gw?.stop();
  await storage?.close();
});

const operations = (): [string, string, Op][] =>
  Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]): [string, string, Op] => [path, method, op]),
  );

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3.1 for swagger-parser, with licence and servers', async () => {
    expect(doc.openapi).toBe('3.1.0');
    // validate() resolves and dereferences in place: give it a copy.
    const api = await SwaggerParser.validate(structuredClone(doc) as never);
    expect(Object.keys(api.paths ?? {}).length).toBeGreaterThan(50);
    expect(doc.info.license).toMatchObject({ name: 'MIT' });
    expect(doc.servers?.[0]?.url).toBe('/');
    console.log(`swagger-parser: ${operations().length} operations, document valid`);
  });

  it('gives every operation a unique operationId, its role and every answer (4XX, 5XX too)', () => {
    const ids = new Map<string, string>();
    const missing: string[] = [];
    for (const [path, method, op] of operations()) {
      const where = `${method.toUpperCase()} ${path}`;
      if (!op.operationId) missing.push(`${where}: operationId`);
      else {
        expect(ids.get(op.operationId), `${op.operationId} twice`).toBeUndefined();
        ids.set(op.operationId, where);
      }
      if (path.startsWith('/api/') && !op['x-access']) missing.push(`${where}: x-access`);
      if (!op.responses['4XX'] && !op.responses['400']) missing.push(`${where}: 4XX`);
      if (!op.responses['5XX'] && !op.responses['500']) missing.push(`${where}: 5XX`);
      const ok = Object.entries(op.responses).filter(([s]) => /^(2\d\d|101)$/.test(s));
      if (ok.length === 0) missing.push(`${where}: success`);
    }
    expect(missing).toEqual([]);
    expect(ids.get('getPacksByIdHistory')).toBe('GET /api/v1/packs/{id}/history');
    // Routes not under /api (the console's files) are left out; /metrics is in.
    expect(Object.keys(doc.paths)).toContain('/metrics');
    expect(Object.keys(doc.paths).every((p) => p.startsWith('/api/v1') || p === '/metrics')).toBe(
      true,
    );
    const history = doc.paths['/api/v1/packs/{id}/history']!['get']!;
    expect(history['x-access']).toBe('viewer');
    expect(history.parameters?.map((p) => `${p.in}:${p.name}`)).toEqual([
      'query:from',
      'query:to',
      'query:fields',
      'query:resolution',
      'path:id',
    ]);
    const login = doc.paths['/api/v1/auth/login']!['post']!;
    expect(login.security).toEqual([]);
    // Members of any organisation log in: the login name's two forms are documented.
    const credentials = (
      login as unknown as {
        requestBody: {
          content: Record<
            string,
            { schema: { properties: Record<string, { description?: string }> } }
          >;
        };
      }
    ).requestBody.content['application/json']!.schema;
    expect(credentials.properties['username']!.description).toMatch(/name@CODE/);
    // The captcha (accounts.captcha): the login's two optional fields and the public challenge.
    expect(Object.keys(credentials.properties).sort()).toEqual([
      'captcha',
      'captcha_id',
      'password',
      'username',
    ]);
    const captcha = doc.paths['/api/v1/auth/captcha']!['get']!;
    expect(captcha.security).toEqual([]);
    expect(Object.keys(captcha.responses).sort()).toEqual(expect.arrayContaining(['200', '429']));
    // The fleet's member routes: list and add; change a role and remove.
    expect(Object.keys(doc.paths['/api/v1/orgs/{id}/members']!).sort()).toEqual(['get', 'post']);
    expect(Object.keys(doc.paths['/api/v1/orgs/{id}/members/{user}']!).sort()).toEqual([
      'delete',
      'patch',
    ]);
    expect(doc.paths['/api/v1/orgs/{id}/members/{user}']!['delete']!.responses).toHaveProperty(
      '403',
    );
    expect(
      doc.paths['/api/v1/exports/daily/{pack}/{date}.csv']!['get']!.responses['200']!.content,
    ).toHaveProperty('text/csv');
    expect(doc.paths['/api/v1/live']!['get']!.responses).toHaveProperty('101');
    // The tunnel's 404 when no tunnel is configured is declared.
    const tunnel = doc.paths['/api/v1/integrations/tunnel']!['get']!;
    expect(tunnel.responses).toHaveProperty('404');
  });

  it('names operations from method and path', () => {
    expect(operationId('GET', '/api/v1/exports/daily/:pack/:date.csv')).toBe(
      'getExportsDailyByPackByDateCsv',
    );
    expect(operationId('POST', '/api/v1/packs/:id/commands/restore-defaults')).toBe(
      'postPacksByIdCommandsRestoreDefaults',
    );
  });
});

describe('live answers against the document', () => {
  it('every GET answers with a declared status and a body its schema accepts', async () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
    const values: Record<string, string> = {
      id: 'demo/rack/1',
      pack: 'demo/rack/1',
      date: new Date().toISOString().slice(0, 10),
      username: 'admin',
      section: 'mqtt',
    };
    let checked = 0;
    let statuses = 0;
    const problems: string[] = [];
    for (const [path, method, op] of operations()) {
      if (method !== 'get' || path === '/api/v1/live') continue;
      const url = path.replace(/\{([a-z_]+)\}/gi, (_, n: string) =>
        encodeURIComponent(values[n] ?? 'x'),
      );
      const r = await get(url, admin);
      const status = String(r.status);
      const declared = op.responses[status] ?? op.responses[`${status[0]}XX`];
      statuses++;
      if (!declared) {
        problems.push(`GET ${path}: ${status} not declared`);
        continue;
      }
      const schema = declared.content?.['application/json']?.schema;
      if (!schema || !r.type.includes('json')) continue;
      const validate = ajv.compile(schema);
      if (!validate(r.body)) {
        problems.push(`GET ${path} ${status}: ${ajv.errorsText(validate.errors)}`);
      }
      checked++;
    }
    console.log(
      `live GETs: ${statuses} answers with a declared status, ${checked} JSON bodies validated, ${problems.length} invalid`,
    );
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(25);
  });
});

describe('the documentation page', () => {
  it('is Swagger UI served from this server (no CDN)', async () => {
    const page = await get('/api/docs/');
    expect(page.status).toBe(200);
    expect(page.type).toMatch(/text\/html/);
    const srcs = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(srcs.some((s) => s.endsWith('swagger-ui-bundle.js'))).toBe(true);
    for (const s of srcs) {
      expect(s, 'a file of this server').not.toMatch(/^(https?:)?\/\//);
      const file = await get(new URL(s, 'http://x/api/docs/').pathname);
      expect(file.status, s).toBe(200);
    }
  });
});

it('refuses to start when an /api route declares no access', async () => {
  const app = Fastify();
  const routes = new RouteCollector();
  app.addHook('onRoute', (r) => routes.add(r));
  expect(() => app.get('/api/v1/oops', async () => ({}))).toThrow(
    'route GET /api/v1/oops declares no config.access',
  );
  // Inside a plugin (as the API routes are) the same error fails the start.
  const app2 = Fastify();
  app2.addHook('onRoute', (r) => routes.add(r));
  void app2.register(async (api) => {
    api.get('/api/v1/oops2', async () => ({}));
  });
  await expect(app2.ready()).rejects.toThrow('route GET /api/v1/oops2 declares no config.access');
});
