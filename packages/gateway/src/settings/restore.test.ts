/**
 * Restoring the backup just downloaded changes nothing, so it asks for no restart, even
 * when the running gateway was started with overrides the file does not hold (`openbms
 * start --port 18680` or `--host`): the console said "take effect after a restart: http".
 * Real parts: a config file in a temp directory, SQLite in memory.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStorage } from '@openbms/storage-sqlite';
import { ConfigFile } from '../config-file.js';
import { Gateway } from '../gateway.js';

const CONFIG = `version: 1
http:
  port: 8080
`;

let dir: string;
let storage: Awaited<ReturnType<typeof openSqliteStorage>>;
let gw: Gateway;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'openbms-restore-'));
  writeFileSync(join(dir, 'openbms.yaml'), CONFIG, { mode: 0o600 });
  const file = new ConfigFile(join(dir, 'openbms.yaml'));
  const config = file.read();
  // What `openbms start --port 18680 --host 0.0.0.0` does to the running config.
  config.http.port = 18680;
  config.http.host = '0.0.0.0';
  storage = await openSqliteStorage({});
  gw = new Gateway({ config, storage, configFile: file, log: () => {} });
  await gw.start();
});

afterAll(async () => {
  await gw?.stop();
  await storage?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('restore of an unchanged backup', () => {
  it('asks for no restart (a --port override is not a change of the file)', async () => {
    const settings = gw.settings!;
    const r = await settings.restore(settings.backup());
    expect(r).toMatchObject({ saved: true, applied: [], failed: [] });
    expect(r.pending_restart).toEqual([]);
    expect(r.restart_required).toBe(false);
    expect(settings.view().pending_restart).toEqual([]);
  });

  it('does ask for one when the file changes a section applied at start', async () => {
    const settings = gw.settings!;
    const r = await settings.restore(settings.backup().replace('port: 8080', 'port: 8081'));
    expect(r.pending_restart).toEqual(['http']);
    expect(r.restart_required).toBe(true);
  });
});

describe('the listen address from the settings', () => {
  it('shows the http section and saves a new listen address for the next start', async () => {
    const settings = gw.settings!;
    expect(settings.view().http).toMatchObject({ host: '127.0.0.1' });
    const r = await settings.update('http', { host: '0.0.0.0', port: 8080 });
    expect(r).toMatchObject({ saved: true, applied: false, restart_required: true });
    expect(settings.view().http).toMatchObject({ host: '0.0.0.0', port: 8080 });
    expect(settings.view().pending_restart).toContain('http');
    await expect(settings.update('http', { host: '0.0.0.0', port: 70_000 })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    });
  });
});
