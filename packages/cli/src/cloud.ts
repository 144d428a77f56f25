/**
 * `openbms cloud`: the fleet server (docs/fleet.md, "openbms cloud"). API and web console for
 * every organisation of the database, and the gateways this node runs: the demo fleet's
 * simulated sites, one in-process gateway per customer, owned by that customer's
 * organisation (so the policy scopes them as any other).
 *
 * Several nodes may share one PostgreSQL database (`storage.url`): sessions, tokens and
 * sign-up codes are in the database, so a login on one node is valid on every other and what
 * one node stores the others read. Each node serves the gateways it runs; `--no-gateways`
 * makes a node API-only, and the demo's sites should run on one node only (two nodes running
 * the same site would both poll and store it).
 */
import { fleetLimitsSchema } from '@openbms/contract';
import { BmsError } from '@openbms/core';
import { existsSync, mkdirSync, appendFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  CONFIG_VERSION,
  DEFAULT_CONFIG_FILE,
  Gateway,
  loadConfig,
  loadHttpTls,
  validateConfig,
  type Config,
} from '@openbms/gateway';
import {
  accountMailer,
  buildServer,
  GatewayRegistry,
  hashPassword,
  logLevel,
  type CollectorUplink,
} from '@openbms/server';
import { makeUplink } from './cloud-uplink.js';
import { busFactory } from './buses.js';
import { seedFleet, type Fleet } from './cloud-demo.js';
import type { Io } from './main.js';
import {
  accountOptions,
  applyListenFlags,
  checkStorage,
  listenAdvice,
  listenOn,
  webRoot,
} from './start.js';
import { openBoxStorage, type BoxStorage } from './storage.js';
import { DEMO_BMS, dialHost, mapOptions, startDemoTrackers, startTrackers } from './trackers.js';
import { DEMO_CITY, registerDemoRiders, startDemoRiders, type Riders } from './demo-trackers.js';
import { TrackerAlarmHub, type TrackerServers } from '@openbms/gateway';

export const CLOUD_USAGE = `  openbms cloud [--config <file>] [--data-dir <dir>] [--port <n>] [--host <addr>]
                [--broker-port <n>] [--no-demo] [--no-gateways]
                                         the fleet server: organisations, accounts and the
                                         gateways of every customer; data in --data-dir
                                         (default ./.openbms-cloud): SQLite, or the PostgreSQL
                                         database of storage.url, shared by several nodes. The
                                         first start makes the platform and a demo fleet
                                         (--no-demo: the platform only) and prints the accounts'
                                         passwords once; --no-gateways: API only, no gateways run;
                                         collectors connect to the embedded MQTT broker on
                                         --broker-port (broker.port, default 1883; 0: any free)`;

const DEFAULT_DATA_DIR = '.openbms-cloud';
/** The file (0600) the passwords of the accounts a start made are appended to. */
export const ACCOUNTS_FILE = 'cloud-accounts.txt';

/** --config; else openbms.yaml in the data directory; else the defaults (embedded SQLite). */
function cloudConfig(path: string | undefined, dataDir: string, io: Io): Config {
  if (path) return loadConfig(path);
  const inDataDir = join(dataDir, DEFAULT_CONFIG_FILE);
  if (existsSync(inDataDir)) {
    io.out(`config: ${inDataDir}\n`);
    return loadConfig(inDataDir);
  }
  io.out(`config: none (no --config, no ${inDataDir}): the defaults, SQLite in ${dataDir}\n`);
  return validateConfig({ version: CONFIG_VERSION });
}

/** Prints the fleet, and the new accounts with their passwords (kept in a 0600 file too). */
function report(io: Io, fleet: Fleet, dataDir: string, runs: boolean): void {
  const packs = fleet.gateways.reduce(
    (n, g) =>
      n + g.config.sites.reduce((m, s) => m + s.buses.reduce((k, b) => k + b.packs.length, 0), 0),
    0,
  );
  io.out(
    `fleet: ${fleet.orgs.length} organisations (${fleet.madeOrgs === 0 ? 'all there already' : `${fleet.madeOrgs} made now`}), ` +
      `platform "${fleet.platform.name}" code ${fleet.platform.code}; ` +
      `${fleet.gateways.length} demo sites with ${packs} simulated packs${runs ? '' : ' (not run here: --no-gateways)'}\n`,
  );
  const file = join(dataDir, ACCOUNTS_FILE);
  if (fleet.accounts.length === 0) {
    io.out(
      `accounts: none made now (their passwords were shown when they were made, and are in ${ACCOUNTS_FILE} of the data directory of the node that made them)\n`,
    );
    return;
  }
  const lines = fleet.accounts.map(
    (a) => `  ${a.login.padEnd(20)} ${a.password}  ${a.role} of ${a.org}`,
  );
  mkdirSync(dataDir, { recursive: true });
  appendFileSync(
    file,
    `# openbms cloud, ${new Date().toISOString()}: log in as name@CODE (or the platform's by name alone)\n${lines.join('\n')}\n`,
    { mode: 0o600 },
  );
  chmodSync(file, 0o600);
  io.out(
    `accounts made now (shown once; written to ${file}, readable by you only; change them after the first login):\n${lines.join('\n')}\n`,
  );
}

export async function cmdCloud(
  io: Io,
  args: string[],
  printError: (e: unknown) => number,
): Promise<number> {
  let storage: BoxStorage | undefined;
  const gateways: Gateway[] = [];
  let server: Awaited<ReturnType<typeof buildServer>> | undefined;
  let mailer: ReturnType<typeof accountMailer> | undefined;
  let trackers: TrackerServers | undefined;
  let riders: Riders | undefined;
  let uplink: CollectorUplink | undefined;
  try {
    const { values } = parseArgs({
      args,
      strict: true,
      options: {
        config: { type: 'string', short: 'c' },
        'data-dir': { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        'no-demo': { type: 'boolean' },
        'no-gateways': { type: 'boolean' },
        'broker-port': { type: 'string' },
      },
    });
    const dataDir = values['data-dir'] ?? DEFAULT_DATA_DIR;
    const config = cloudConfig(values.config, dataDir, io);
    applyListenFlags(config, values.port, values.host);
    if (values['broker-port'] !== undefined) {
      const n = Number(values['broker-port']);
      if (!Number.isInteger(n) || n < 0 || n > 65535)
        throw new BmsError(
          'CONFIG_INVALID',
          `--broker-port must be 0..65535 (got "${values['broker-port']}")`,
        );
      config.broker = { ...config.broker, port: n };
    }
    const tls = config.http.tls ? loadHttpTls(config.http.tls) : undefined;
    const opened = await openBoxStorage(config, dataDir, (w) => io.err(`warning: ${w}\n`));
    storage = opened.storage;
    io.out(`data: ${opened.where}\n`);
    await checkStorage(storage, io);
    const fleet = await seedFleet(storage, {
      demo: values['no-demo'] !== true,
      hash: (p) => hashPassword(p),
    });
    const runs = values['no-gateways'] !== true;
    report(io, fleet, dataDir, runs);

    const level = logLevel(process.env.OPENBMS_LOG_LEVEL);
    const sink: { log?: NonNullable<typeof server>['log'] } = {};
    const log =
      (name: string) =>
      (lvl: 'info' | 'warn' | 'error', message: string): void => {
        if (lvl === 'info') io.out(`${name}: ${message}\n`);
        else if (sink.log) sink.log[lvl]({ component: 'gateway', gateway: name }, message);
        else io.err(`${lvl}: ${name}: ${message}\n`);
      };
    // The node's own gateway, in the platform's organisation: the config's sites, if any (none
    // by default); it also runs the database's rollups and retention. The server answers by
    // name alone for the platform's accounts (its "own organisation").
    const identity = { orgId: fleet.platform.id, gatewayId: storage.identity.gatewayId };
    const box = new Gateway({ config, storage, identity, busFactory, log: log('platform') });
    gateways.push(box);
    if (runs) {
      for (const g of fleet.gateways) {
        gateways.push(
          new Gateway({
            config: g.config,
            storage,
            identity: g.identity,
            busFactory,
            profilesDir: join(dataDir, 'profiles', g.identity.gatewayId),
            log: log(g.orgName),
          }),
        );
      }
    }
    mailer = config.accounts?.email ? accountMailer(config.accounts.email) : undefined;
    const web = webRoot();
    const { trust_proxy: trustProxy, allowed_origins: allowedOrigins } = config.http;
    const trackerAlarms = new TrackerAlarmHub();
    // The registry the collectors' links join while the server runs (claims, other nodes').
    const registry = new GatewayRegistry([]);
    const collectors = storage.remoteCollectors;
    const uplinkLog = (lvl: 'info' | 'warn', message: string): void => {
      if (lvl === 'info') io.out(`uplink: ${message}\n`);
      else if (sink.log) sink.log.warn({ component: 'uplink' }, message);
      else io.err(`warning: uplink: ${message}\n`);
    };
    const made = collectors
      ? makeUplink({
          config,
          collectors,
          telemetry: storage.telemetry,
          alarms: storage.alarms,
          registry,
          log: uplinkLog,
        })
      : undefined;
    uplink = made?.uplink;
    server = await buildServer({
      registry,
      ...(uplink ? { uplink } : {}),
      storage,
      identity,
      gateway: box,
      gateways: gateways.slice(1).map((g) => g.link),
      dataDir,
      logger: { level, stream: { write: (line: string) => io.err(line) } },
      ...(web ? { webRoot: web } : {}),
      ...(tls ? { https: { cert: tls.cert, key: tls.key } } : {}),
      ...(trustProxy !== undefined ? { trustProxy } : {}),
      ...(allowedOrigins !== undefined ? { allowedOrigins } : {}),
      ...accountOptions(config, mailer),
      trackerAlarms,
      // The fleet always runs with its limits (the defaults without a fleet section), audited.
      limits: config.fleet?.limits ?? fleetLimitsSchema.parse({}),
      map: mapOptions(config),
    });
    sink.log = server.log;
    for (const g of gateways) await g.start();
    if (made) io.out(`${await made.start()}\n`);
    else if (config.broker) {
      io.err('warning: broker: this storage keeps no collectors; the uplink does not run\n');
    }
    const trackerLog = (lvl: 'info' | 'warn' | 'error', message: string): void => {
      if (lvl === 'info') io.out(`trackers: ${message}\n`);
      else sink.log?.[lvl]({ component: 'trackers' }, message);
    };
    // The demo's e-bike batteries ride on this node's JT/T 808 server (the config's, or one
    // made for them), as gateways do: not on an API-only node.
    const demo = values['no-demo'] !== true && runs;
    trackers =
      demo && !config.trackers
        ? await startDemoTrackers(config, storage, identity, io, trackerLog, box, trackerAlarms)
        : await startTrackers(config, storage, identity, io, trackerLog, box, trackerAlarms);
    const jt808 = trackers?.ports.jt808;
    const riderBms = config.trackers ? config.trackers.bms : DEMO_BMS;
    if (demo && jt808 !== undefined) {
      const list = await registerDemoRiders(storage.devices, fleet.orgs, identity, Date.now());
      riders = startDemoRiders({
        host: dialHost(config.trackers?.jt808?.host ?? config.http.host),
        port: jt808,
        riders: list,
        devices: storage.devices,
        positions: storage.positions,
        within: [fleet.platform.id],
        // The riders carry a BMS when this node polls one through the trackers.
        ...(riderBms && box
          ? { bms: { protocol: riderBms.protocol, chemistry: riderBms.chemistry } }
          : {}),
        log: (lvl, message) => sink.log?.[lvl]({ component: 'demo-trackers' }, message),
      });
      io.out(
        `demo trackers: ${list.length} e-bike batteries riding around ${DEMO_CITY.name} ` +
          `(${DEMO_CITY.lat}, ${DEMO_CITY.lon}), reporting over JT/T 808 to port ${jt808}; the console's Map shows them\n`,
      );
    }
    const address = await listenOn(server, config);
    io.out(
      `OpenBMS cloud listening on ${address} (web console ${address}/, API ${address}/api/v1, docs ${address}/api/docs); ` +
        `${gateways.length - 1} gateways run here; Ctrl-C stops\n`,
    );
    // The cloud has no settings page for its own config: only the file and --host change it.
    for (const line of listenAdvice(config.http.host, address, values.config ?? 'the config'))
      io.out(`${line.replace('Settings > Web server, or ', '')}\n`);
    await (io.stopSignal ?? new Promise(() => undefined));
    io.out('stopping\n');
    return 0;
  } catch (e) {
    return printError(e);
  } finally {
    await riders?.close();
    await trackers?.close();
    await uplink?.close();
    await server?.close();
    mailer?.close();
    for (const g of gateways) await g.stop();
    await storage?.close();
  }
}
