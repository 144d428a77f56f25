/**
 * /api/docs: the OpenAPI document (JSON) and a minimal HTML page listing every operation,
 * built from the same route schemas. (@fastify/swagger-ui would give an interactive page;
 * this one needs no extra dependency and works offline.)
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { RouteCollector } from '../openapi.js';
import { cspWith } from '../security.js';

/** The page's only styling, inline; the CSP allows exactly this text by its hash. */
const STYLE =
  'body{font-family:system-ui,sans-serif;margin:2em;max-width:70em}td{padding:.2em .8em;border-bottom:1px solid #ddd}';
const STYLE_HASH = `'sha256-${createHash('sha256').update(STYLE, 'utf8').digest('base64')}'`;

const esc = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

function page(doc: Record<string, unknown>): string {
  const paths = doc['paths'] as Record<
    string,
    Record<string, { summary?: string; 'x-access'?: string }>
  >;
  const rows: string[] = [];
  for (const [path, ops] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(ops)) {
      rows.push(
        `<tr><td><code>${esc(method.toUpperCase())}</code></td><td><code>${esc(path)}</code></td>` +
          `<td>${esc(op['x-access'] ?? '')}</td><td>${esc(op.summary ?? '')}</td></tr>`,
      );
    }
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>OpenBMS API</title>
<style>${STYLE}</style>
</head><body><h1>OpenBMS API</h1>
<p>${esc(String((doc['info'] as { description?: string }).description ?? ''))}</p>
<p>Machine-readable: <a href="/api/docs/openapi.json">/api/docs/openapi.json</a> (OpenAPI 3.1).</p>
<table><thead><tr><th>method</th><th>path</th><th>role</th><th>what</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table></body></html>`;
}

export function docsRoutes(app: FastifyInstance, routes: RouteCollector): void {
  app.get('/api/docs/openapi.json', { config: { access: 'public' } }, async () =>
    routes.document(),
  );
  app.get(
    '/api/docs',
    { config: { access: 'public' }, helmet: cspWith({ 'style-src': [STYLE_HASH] }) },
    async (_req, reply) =>
      reply.header('content-type', 'text/html; charset=utf-8').send(page(routes.document())),
  );
}
