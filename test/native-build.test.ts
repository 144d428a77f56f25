/**
 * Native modules are compiled from source, never downloaded: better-sqlite3's installer
 * (prebuild-install) must read the repository's `.prebuild-installrc` with no npm config or
 * environment variable set (npm 11 warns on `build-from-source` in .npmrc, so it is gone).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { expect, it } from 'vitest';

const require = createRequire(import.meta.url);

it('prebuild-install, run where better-sqlite3 installs, is told to build from source', () => {
  const pkgDir = dirname(require.resolve('better-sqlite3/package.json'));
  const rc = require.resolve('prebuild-install/rc.js');
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^npm_config_build_from_source$/i.test(k)),
  );
  const r = spawnSync(
    process.execPath,
    [
      '-e',
      `console.log(JSON.stringify(require(${JSON.stringify(rc)})(require('./package.json'))))`,
    ],
    { cwd: pkgDir, env, encoding: 'utf8' },
  );
  expect(r.stderr).toBe('');
  const opts = JSON.parse(r.stdout) as { buildFromSource: unknown; config?: string };
  expect(opts.buildFromSource).toBe(true);
  // And npm has no unknown key to warn about.
  expect(existsSync(new URL('../.npmrc', import.meta.url))).toBe(false);
});
