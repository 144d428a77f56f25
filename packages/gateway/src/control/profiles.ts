/**
 * The saved parameter profile of each pack (its last export), as one JSON file per pack in a
 * directory (`openbms start`: `<data dir>/profiles/`). Written to a temporary file and renamed
 * over the old one, so a crash never leaves half a profile; a file that cannot be read or is
 * not a parameter file counts as no profile (and is left alone for a human to look at).
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readParameterFile } from './parameters.js';
import type { ParameterFile, ProfileStore } from './types.js';

/** A file name from a pack id (`home/bus1/1` -> `home_bus1_1.json`), never a path. */
export function profileFileName(packId: string): string {
  return `${packId.replace(/[^A-Za-z0-9-]+/g, '_')}.json`;
}

export class FileProfiles implements ProfileStore {
  constructor(private readonly dir: string) {}

  load(packId: string): ParameterFile | undefined {
    let text: string;
    try {
      text = readFileSync(join(this.dir, profileFileName(packId)), 'utf8');
    } catch {
      return undefined;
    }
    try {
      const parsed = JSON.parse(text) as unknown;
      readParameterFile(parsed); // throws on anything that is not a parameter file
      return parsed as ParameterFile;
    } catch {
      return undefined;
    }
  }

  save(packId: string, file: ParameterFile): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const target = join(this.dir, profileFileName(packId));
    const tmp = `${target}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, target);
  }
}
