/**
 * The collector side of issue 15 in the CLI (docs/collectors.md): `openbms link --show`
 * (the serial and claim code the owner adds the collector with), `openbms collector` (the
 * gateway and its uplink without the web console, like a Wi-Fi logger), and the uplink that
 * `openbms start` runs too when the config has `cloud.url`.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { claimQrText, formatClaimCode } from '@openbms/contract/gateway';
import { BmsError } from '@openbms/core';
import { Gateway, ensureCollectorIdentity, type CollectorIdentity } from '@openbms/gateway';
import { busFactory } from './buses.js';
import type { Io } from './main.js';
import { checkStorage, chooseConfig } from './start.js';
import { startUplink, type Uplink } from './uplink.js';
import { openBoxStorage, type BoxStorage } from './storage.js';

export const LINK_USAGE = `  openbms link --show [--json] [--data-dir <dir>]
                                         this collector's serial number and claim code (made on
                                         first use), to add it to a fleet cloud
  openbms collector [--config <file>] [--data-dir <dir>]
                                         the gateway and its uplink to the config's cloud.url,
                                         without the web console (a light collector)`;

const DEFAULT_DATA_DIR = '.openbms-data';

/** What the owner needs to add the collector in the cloud, in words. */
export function identityLines(id: CollectorIdentity): string[] {
  return [
    `serial number: ${id.serial}`,
    `claim code:    ${formatClaimCode(id.claim_code)}`,
    `QR text:       ${claimQrText(id.serial, id.claim_code)}`,
    id.credentials
      ? 'status:        claimed (the cloud gave it its credentials)'
      : 'status:        not claimed yet: add it in the cloud ("Add collector") with the serial number and claim code',
  ];
}

export async function cmdLink(
  io: Io,
  args: string[],
  printError: (e: unknown) => number,
): Promise<number> {
  try {
    const { values } = parseArgs({
      args,
      strict: true,
      options: {
        show: { type: 'boolean' },
        json: { type: 'boolean' },
        'data-dir': { type: 'string' },
      },
    });
    const id = ensureCollectorIdentity(values['data-dir'] ?? DEFAULT_DATA_DIR);
    if (values.json)
      io.out(JSON.stringify({ serial: id.serial, claim_code: id.claim_code }) + '\n');
    else io.out(identityLines(id).join('\n') + '\n');
    return 0;
  } catch (e) {
    return printError(e);
  }
}

export async function cmdCollector(
  io: Io,
  args: string[],
  printError: (e: unknown) => number,
): Promise<number> {
  let storage: BoxStorage | undefined;
  let gateway: Gateway | undefined;
  let uplink: Uplink | undefined;
  try {
    const { values } = parseArgs({
      args,
      strict: true,
      options: {
        config: { type: 'string', short: 'c' },
        'data-dir': { type: 'string' },
      },
    });
    const dataDir = values['data-dir'] ?? DEFAULT_DATA_DIR;
    const { config, file: configFile } = chooseConfig(values.config, dataDir, io);
    if (!config.cloud)
      throw new BmsError(
        'CONFIG_INVALID',
        `openbms collector needs cloud.url in the config (${configFile.path}): the fleet cloud's https URL`,
      );
    const opened = await openBoxStorage(config, dataDir, (w) => io.err(`warning: ${w}\n`));
    storage = opened.storage;
    io.out(`data: ${opened.where} (gateway ${storage.identity.gatewayId})\n`);
    await checkStorage(storage, io);
    const log = (lvl: 'info' | 'warn' | 'error', message: string): void => {
      if (lvl === 'info') io.out(`${message}\n`);
      else io.err(`${lvl}: ${message}\n`);
    };
    gateway = new Gateway({
      config,
      storage,
      identity: storage.identity,
      configFile,
      busFactory,
      profilesDir: join(dataDir, 'profiles'),
      log,
    });
    await gateway.start();
    uplink = startUplink(config, dataDir, gateway, io, log);
    io.out('collector running (no web console); Ctrl-C stops\n');
    await (io.stopSignal ?? new Promise(() => undefined));
    io.out('stopping\n');
    return 0;
  } catch (e) {
    return printError(e);
  } finally {
    await uplink?.close();
    await gateway?.stop();
    await storage?.close();
  }
}
