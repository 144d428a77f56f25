/**
 * `openbms db merge <file>`: the way back after a damaged database was set aside (see the
 * storage-sqlite README, "Damaged database"): reads what the old file still holds and adds it
 * to the database of the data directory. Run it with `openbms start` stopped.
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { BmsError } from '@openbms/core';
import { openSqliteStorage } from '@openbms/storage-sqlite';
import { loadConfig } from '@openbms/gateway';
import type { Io } from './main.js';
import { sqliteOnly } from './storage.js';

export const DB_USAGE = `  openbms db merge <file> [--data-dir <dir>] [--config <file>] [--json]
                                         add what a set-aside (damaged) or recovered database
                                         still holds to the data directory's database; run it
                                         with openbms start stopped (SQLite only)`;

const DEFAULT_DATA_DIR = '.openbms-data';

export async function cmdDb(
  io: Io,
  args: string[],
  printError: (e: unknown) => number,
): Promise<number> {
  try {
    const [sub, ...rest] = args;
    if (sub !== 'merge') {
      throw new BmsError('CONFIG_INVALID', 'usage: openbms db merge <file> [--data-dir <dir>]');
    }
    const { values, positionals } = parseArgs({
      args: rest,
      strict: true,
      allowPositionals: true,
      options: {
        'data-dir': { type: 'string' },
        json: { type: 'boolean' },
        config: { type: 'string', short: 'c' },
      },
    });
    const file = positionals[0];
    if (!file || positionals.length > 1) {
      throw new BmsError('CONFIG_INVALID', 'give one database file: openbms db merge <file>');
    }
    const config = values.config
      ? loadConfig(values.config)
      : existsSync('openbms.yaml')
        ? loadConfig('openbms.yaml')
        : undefined;
    if (config) sqliteOnly(config, 'openbms db merge');
    if (!existsSync(file)) throw new BmsError('NOT_FOUND', `no file ${file}`);
    const storage = await openSqliteStorage({ dataDir: values['data-dir'] ?? DEFAULT_DATA_DIR });
    try {
      if (storage.path === file) {
        throw new BmsError('CONFIG_INVALID', `${file} is the database itself; give the old file`);
      }
      const r = await storage.merge(file);
      if (values.json) io.out(`${JSON.stringify(r)}\n`);
      else {
        io.out(
          `merged ${file} into ${storage.path}: ${r.samples} sample(s) read, ${r.rollups} rollup row(s), ` +
            `${r.alarms} alarm event(s), ${r.audit} audit entr${r.audit === 1 ? 'y' : 'ies'}, ` +
            `${r.users} user(s), ${r.tokens} token(s) added\n`,
        );
        for (const u of r.unreadable) {
          const range = `after ${u.after}${u.upTo === undefined ? ' to the end' : ` before ${u.upTo}`}`;
          io.out(`  not read: ${u.table}${u.pack ? ` ${u.pack}` : ''} ${range} (${u.reason})\n`);
        }
      }
    } finally {
      await storage.close();
    }
    return 0;
  } catch (e) {
    return printError(e);
  }
}
