/**
 * Vitest global setup (vitest.config.ts): the storage's worker threads run a script file,
 * and tests run the TypeScript sources, which Node cannot load in a thread. So before the
 * tests, the worker entry (src/sqlite-worker.ts) is bundled with esbuild from the sources,
 * `@openbms/*` packages from theirs too, npm packages (better-sqlite3, ulid) left as imports,
 * into node_modules/.cache, and OPENBMS_SQLITE_WORKER names it (worker-client.ts looks there
 * when no built `sqlite-worker.js` sits next to it). Test processes inherit the variable.
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = (p: string): string => fileURLToPath(new URL(`../../../../${p}`, import.meta.url));

export async function bundleWorker(): Promise<string> {
  const outfile = root('node_modules/.cache/openbms-test/sqlite-worker.mjs');
  await build({
    entryPoints: [root('packages/storage-sqlite/src/sqlite-worker.ts')],
    bundle: true,
    packages: 'external',
    alias: {
      '@openbms/core': root('packages/core/src/index.ts'),
      '@openbms/storage': root('packages/storage/src/index.ts'),
    },
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    logLevel: 'warning',
  });
  return outfile;
}

export default async function setup(): Promise<void> {
  process.env['OPENBMS_SQLITE_WORKER'] = await bundleWorker();
}
