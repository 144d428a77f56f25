/**
 * Serves the built web console (packages/web/dist) next to the API: hashed assets with a
 * long cache, index.html for every other GET that is not under /api (client-side routes
 * such as /packs/demo%2Frack%2F2/cells: errors.ts's not-found handler sends it), never cached
 * so an upgrade shows at once.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

export async function webRoutes(app: FastifyInstance, root: string): Promise<boolean> {
  if (!existsSync(join(root, 'index.html'))) {
    app.log.warn({ root }, 'web console not built (run `npm run build`); serving the API only');
    return false;
  }
  await app.register(fastifyStatic, {
    root,
    prefix: '/',
    // Files are looked up per request (a rebuilt bundle needs no restart); a path that is no
    // file falls through to the not-found handler, which sends index.html or a JSON 404.
    wildcard: true,
    index: 'index.html',
    cacheControl: false, // ours, from setHeaders
    setHeaders(res, path) {
      res.setHeader(
        'cache-control',
        path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
      );
    },
  });
  return true;
}
