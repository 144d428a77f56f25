/** The gateway's version (its package.json), for Home Assistant's `origin` and `openbms_build_info`. */
import { readFileSync } from 'node:fs';

function read(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version?: unknown;
    };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    // Bundled away from its package.json (a test's child process): say so, never fail.
    return 'unknown';
  }
}

export const GATEWAY_VERSION: string = read();
