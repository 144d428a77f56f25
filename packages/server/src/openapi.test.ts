import { afterAll, beforeAll, expect, it } from 'vitest';
import Fastify from 'fastify';
import { RouteCollector } from './openapi.js';
import { startHarness, type Harness } from './testing/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

it('serves an OpenAPI 3.1 document built from the route schemas, and an HTML index', async () => {
  const r = await h.call('GET', '/api/docs/openapi.json');
  expect(r.status).toBe(200);
  expect(r.body.openapi).toBe('3.1.0');
  const history = r.body.paths['/api/v1/packs/{id}/history'].get;
  expect(history['x-access']).toBe('viewer');
  expect(history.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`)).toEqual([
    'path:id',
    'query:from',
    'query:to',
    'query:fields',
    'query:resolution',
  ]);
  expect(history.responses['200'].content['application/json'].schema.required).toContain('series');
  expect(history.responses['400'].content['application/json'].schema.required).toEqual([
    'error',
    'code',
  ]);
  const login = r.body.paths['/api/v1/auth/login'].post;
  expect(login.requestBody.content['application/json'].schema.required).toEqual([
    'username',
    'password',
  ]);
  expect(login.security).toEqual([]);
  expect(
    r.body.paths['/api/v1/exports/daily/{pack}/{date}.csv'].get.responses['200'].content,
  ).toHaveProperty('text/csv');
  expect(r.body.paths['/api/v1/live'].get.responses).toHaveProperty('101');

  const html = await h.call('GET', '/api/docs');
  expect(html.headers.get('content-type')).toMatch(/text\/html/);
  expect(html.text).toContain('/api/v1/packs/{id}/history');
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

it('documents a response body for every route: JSON from the contract, or the file type it sends', async () => {
  const r = await h.call('GET', '/api/docs/openapi.json');
  const undocumented: string[] = [];
  for (const [path, ops] of Object.entries(
    r.body.paths as Record<string, Record<string, { responses: Record<string, unknown> }>>,
  )) {
    for (const [method, op] of Object.entries(ops)) {
      const ok = Object.entries(op.responses).filter(([s]) => /^(2\d\d|101)$/.test(s));
      const described = ok.some(
        ([s, res]) => s === '101' || (res as { content?: object }).content !== undefined,
      );
      if (!described) undocumented.push(`${method.toUpperCase()} ${path}`);
    }
  }
  expect(undocumented).toEqual([]);
  // The tunnel's status, once sent unchecked, now goes through its schema.
  const tunnel = r.body.paths['/api/v1/integrations/tunnel'].get;
  expect(tunnel.responses['200'].content['application/json'].schema.required).toContain(
    'listening',
  );
});
