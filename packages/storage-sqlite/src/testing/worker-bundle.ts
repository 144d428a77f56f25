/**
 * Vitest global setup (vitest.config.ts): the storage's worker threads run a script file,
 * and tests run the TypeScript sources, which Node cannot load in a thread. So before the
 * tests, the worker entry (src/sqlite-worker.ts) is bundled with esbuild from the sources,
 * `@openbms/*` packages from theirs too, npm packages (better-sqlite3, ulid) left as imports,
 * into a directory of its own for this run (under this checkout's node_modules/.cache, so
 * the npm packages resolve), and OPENBMS_SQLITE_WORKER names it
 * (worker-client.ts looks there when no built `sqlite-worker.js` sits next to it). Test
 * processes, and the `openbms` processes they start, inherit the variable. One fixed file
 * shared by every run let a run load a worker another run (another checkout whose
 * node_modules shares the file) had just written.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = (p: string): string => fileURLToPath(new URL(`../../../../${p}`, import.meta.url));

export async function bundleWorker(dir: string): Promise<string> {
  const outfile = join(dir, 'sqlite-worker.mjs');
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

export default async function setup(): Promise<() => void> {
  const parent = root('node_modules/.cache/openbms-test');
  mkdirSync(parent, { recursive: true });
  const dir = mkdtempSync(join(parent, 'run-'));
  process.env['OPENBMS_SQLITE_WORKER'] = await bundleWorker(dir);
  return () => rmSync(dir, { recursive: true, force: true });
}
