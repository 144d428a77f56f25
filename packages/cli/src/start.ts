/**
 * `openbms start` (gateway + HTTP/WebSocket API on SQLite or PostgreSQL), `openbms scan` (find the pack
 * addresses on a bus) and `openbms user add` (accounts, e.g. the first admin).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { BmsError, isBmsError } from '@openbms/core';
import {
  ConfigFile,
  DEFAULT_CONFIG_FILE,
  Gateway,
  defaultConfig,
  defaultScanAddresses,
  loadConfig,
  loadHttpTls,
  scanBus,
  type Config,
} from '@openbms/gateway';
import { getProtocol } from '@openbms/protocols';
import { accountMailer, buildServer, hashPassword, logLevel } from '@openbms/server';
import { localScope, type Role } from '@openbms/storage';
import { createTransport } from '@openbms/transport';
import { busFactory } from './buses.js';
import type { Io } from './main.js';
import { openBoxStorage, type BoxStorage } from './storage.js';
import { mapOptions, startTrackers } from './trackers.js';
import { startUplink, type Uplink } from './uplink.js';
import { TrackerAlarmHub, type TrackerServers } from '@openbms/gateway';

export const START_USAGE = `  openbms start [--config <file>] [--data-dir <dir>] [--port <n>] [--host <addr>]
                                         gateway + API; data and the config file (openbms.yaml)
                                         in --data-dir (default ./.openbms-data): SQLite, or the
                                         PostgreSQL database of the config's storage.url; an older
                                         ./openbms.yaml is still used; with no config file it runs
                                         the demo site on the simulator.
  openbms scan --port <path | tcp://host:port> --protocol <id> [--addresses 2-17] [--baud <b>]
               [--variant <name>]        find the packs answering on a bus
  openbms user add <name> [--role admin|operator|viewer] [--data-dir <dir>] [--config <file>]
                                         create an account; the password comes from
                                         OPENBMS_PASSWORD or the first line of standard input`;

const DEFAULT_DATA_DIR = '.openbms-data';

/** Where the built web console is (packages/web/dist), or undefined when it is not installed. */
export function webRoot(): string | undefined {
  try {
    const pkg = createRequire(import.meta.url).resolve('@openbms/web/package.json');
    return join(dirname(pkg), 'dist');
  } catch {
    return undefined;
  }
}

/**
 * The config and the file the settings page saves to: --config; else ./openbms.yaml, where
 * earlier versions kept it (still used, and said so); else openbms.yaml in the data
 * directory, where a new install keeps it (none yet: the demo, and the first save creates it).
 */
export function chooseConfig(
  path: string | undefined,
  dataDir: string,
  io: Pick<Io, 'out'>,
): { config: Config; file: ConfigFile } {
  if (path) return { config: loadConfig(path), file: new ConfigFile(path) };
  const inDataDir = join(dataDir, DEFAULT_CONFIG_FILE);
  if (existsSync(DEFAULT_CONFIG_FILE)) {
    io.out(
      `config: ./${DEFAULT_CONFIG_FILE} (the place earlier versions used; still read and saved there. ` +
        `To keep it with the data, move it to ${inDataDir})\n`,
    );
    return { config: loadConfig(DEFAULT_CONFIG_FILE), file: new ConfigFile(DEFAULT_CONFIG_FILE) };
  }
  if (existsSync(inDataDir)) {
    io.out(`config: ${inDataDir}\n`);
    return { config: loadConfig(inDataDir), file: new ConfigFile(inDataDir) };
  }
  io.out(
    `config: none found (no --config, no ${inDataDir}): running the demo site on the simulator; ` +
      `the settings page saves to ${inDataDir}\n`,
  );
  return { config: defaultConfig(), file: new ConfigFile(inDataDir) };
}

const WILDCARD = new Set(['0.0.0.0', '::', '', '[::]']);
const isLoopback = (host: string): boolean =>
  host === 'localhost' || host === '::1' || host === '[::1]' || /^127\./.test(host);

/**
 * What `openbms start` adds to its listening line: the LAN addresses to open when it
 * listens on every interface, or how to open it to the LAN when only this computer can.
 * `nets` is os.networkInterfaces()'s answer (a parameter so a test can give another host's).
 */
export function listenAdvice(
  host: string,
  url: string,
  configPath: string,
  nets: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces(),
): string[] {
  const u = new URL(url);
  if (WILDCARD.has(host)) {
    const ips = Object.values(nets)
      .flat()
      .filter((n): n is NetworkInterfaceInfo => !!n && n.family === 'IPv4' && !n.internal)
      .map((n) => n.address);
    if (ips.length === 0) return ['  on your network: no network address found on this computer'];
    return ips.map((ip) => `  on your network: ${u.protocol}//${ip}:${u.port}/`);
  }
  if (isLoopback(host)) {
    return [
      `  only this computer can open it. To open it from your network, set the listen address to 0.0.0.0 ` +
        `(Settings > Web server, or http.host in ${configPath}, or --host 0.0.0.0) and restart`,
    ];
  }
  return [];
}

/** How long `openbms start` waits for the start-up integrity check of the database. */
const START_CHECK_MS = 60_000;

/**
 * The start-up check of the database (quick_check, in a worker): a damaged file is set aside
 * and a fresh one opened before anything is served. Problems are told, never fatal.
 */
export async function checkStorage(storage: BoxStorage, io: Io): Promise<void> {
  for (const p of (await storage.health()).problems) io.err(`warning: storage: ${p.message}\n`);
  // PostgreSQL checks its own pages; there is no file to set aside.
  if (!('checkIntegrity' in storage)) return;
  const r = await storage.checkIntegrity({ timeoutMs: START_CHECK_MS });
  if (r.result === 'corrupt') {
    io.err(
      `error: the database is damaged (${r.detail}); it was set aside as ${r.setAside ?? '(see the data directory)'} ` +
        'and a fresh one is in use. Recovery: packages/storage-sqlite/README.md, "Damaged database"\n',
    );
  } else if (r.result === 'unfinished') {
    io.err(`warning: database check not finished (${r.detail}); it runs again every hour\n`);
  } else io.out(`data: integrity check ok (${r.ms} ms)\n`);
}

async function ensureAdmin(storage: BoxStorage, io: Io): Promise<void> {
  if ((await storage.users.count(localScope(storage.identity))) > 0) return;
  const user = process.env.OPENBMS_ADMIN_USER;
  const password = process.env.OPENBMS_ADMIN_PASSWORD;
  if (user && password) {
    if (password.length < 8)
      throw new BmsError(
        'CONFIG_INVALID',
        'OPENBMS_ADMIN_PASSWORD must have at least 8 characters',
      );
    try {
      await storage.users.create(
        storage.identity,
        { username: user, role: 'admin', createdAt: Date.now() },
        await hashPassword(password),
      );
    } catch (e) {
      // A full disk must not stop the start: the admin is created at the next start.
      if (!isBmsError(e) || !e.code.startsWith('STORAGE_')) throw e;
      io.err(`warning: the admin "${user}" could not be created now: ${e.message}\n`);
      return;
    }
    io.out(`created the admin "${user}" from OPENBMS_ADMIN_USER / OPENBMS_ADMIN_PASSWORD\n`);
    return;
  }
  io.out(
    'no account yet: open the web console (address below) to create the admin, or POST /api/v1/setup {"username","password"},\n' +
      '  or `openbms user add <name> --role admin`, or set OPENBMS_ADMIN_USER and OPENBMS_ADMIN_PASSWORD\n',
  );
}

/** buildServer's captcha and sign-up options from the config's `accounts` (start and cloud). */
export function accountOptions(
  config: Config,
  mailer: ReturnType<typeof accountMailer> | undefined,
): Pick<Parameters<typeof buildServer>[0], 'captcha' | 'signup'> {
  if (!config.accounts) return {};
  return {
    captcha: { mode: config.accounts.captcha, after: config.accounts.captcha_after },
    signup: {
      signup: config.accounts.signup,
      ...(mailer ? { send: mailer.send } : {}),
      ...(config.accounts.terms ? { terms: config.accounts.terms } : {}),
    },
  };
}

/** Listens, or says in the config's words why it cannot (a port in use...). */
export async function listenOn(
  server: Awaited<ReturnType<typeof buildServer>>,
  config: Config,
): Promise<string> {
  try {
    return await server.listen({ host: config.http.host, port: config.http.port });
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new BmsError(
      'CONFIG_INVALID',
      code === 'EADDRINUSE'
        ? `port ${config.http.port} on ${config.http.host} is already in use; choose another with --port or http.port`
        : `cannot listen on ${config.http.host}:${config.http.port}: ${(e as Error).message}`,
    );
  }
}

/** --port and --host over the config's http section. */
export function applyListenFlags(config: Config, port?: string, host?: string): void {
  if (port !== undefined) {
    const n = Number(port);
    if (!Number.isInteger(n) || n < 0 || n > 65535)
      throw new BmsError('CONFIG_INVALID', `--port must be 0..65535 (got "${port}")`);
    config.http.port = n;
  }
  if (host) config.http.host = host;
}

export async function cmdStart(
  io: Io,
  args: string[],
  printError: (e: unknown) => number,
): Promise<number> {
  let storage: BoxStorage | undefined;
  let gateway: Gateway | undefined;
  let server: Awaited<ReturnType<typeof buildServer>> | undefined;
  let mailer: ReturnType<typeof accountMailer> | undefined;
  let trackers: TrackerServers | undefined;
  let uplink: Uplink | undefined;
  try {
    const { values } = parseArgs({
      args,
      strict: true,
      options: {
        config: { type: 'string', short: 'c' },
        'data-dir': { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
      },
    });
    const dataDir = values['data-dir'] ?? DEFAULT_DATA_DIR;
    const { config, file: configFile } = chooseConfig(values.config, dataDir, io);
    applyListenFlags(config, values.port, values.host);
    // Before anything starts: a wrong certificate path is a config error, not a TLS failure
    // at the first browser visit.
    const tls = config.http.tls ? loadHttpTls(config.http.tls) : undefined;
    if (tls) {
      const until = new Date(tls.expiresAt).toISOString().slice(0, 10);
      io.out(`tls: ${config.http.tls?.cert} (${tls.subject}, valid until ${until})\n`);
      if (tls.expiresAt <= Date.now()) io.err(`warning: the TLS certificate expired on ${until}\n`);
    }
    const opened = await openBoxStorage(config, dataDir, (w) => io.err(`warning: ${w}\n`));
    storage = opened.storage;
    io.out(`data: ${opened.where} (gateway ${storage.identity.gatewayId})\n`);
    await checkStorage(storage, io);
    await ensureAdmin(storage, io);
    const level = logLevel(process.env.OPENBMS_LOG_LEVEL);
    // Human lines (what starts, what listens) go to stdout; the log proper is pino's JSON
    // lines on stderr: every request with its reqId, every 5xx with its stack, the gateway's
    // warnings and errors, secrets redacted (server/src/logging.ts).
    const sink: { log?: NonNullable<typeof server>['log'] } = {};
    gateway = new Gateway({
      config,
      storage,
      identity: storage.identity,
      configFile,
      busFactory,
      profilesDir: join(dataDir, 'profiles'),
      log: (lvl, message) => {
        if (lvl === 'info') io.out(`${message}\n`);
        else if (sink.log) sink.log[lvl]({ component: 'gateway' }, message);
        else io.err(`${lvl}: ${message}\n`);
      },
    });
    const web = webRoot();
    const { trust_proxy: trustProxy, allowed_origins: allowedOrigins } = config.http;
    // Sign-up and reset codes go out through accounts.email (docs/fleet.md).
    mailer = config.accounts?.email ? accountMailer(config.accounts.email) : undefined;
    const trackerAlarms = new TrackerAlarmHub();
    server = await buildServer({
      storage,
      identity: storage.identity,
      gateway,
      dataDir,
      logger: { level, stream: { write: (line: string) => io.err(line) } },
      ...(web ? { webRoot: web } : {}),
      ...(tls ? { https: { cert: tls.cert, key: tls.key } } : {}),
      ...(trustProxy !== undefined ? { trustProxy } : {}),
      ...(allowedOrigins !== undefined ? { allowedOrigins } : {}),
      ...accountOptions(config, mailer),
      trackerAlarms,
      ...(config.fleet ? { limits: config.fleet.limits } : {}),
      map: mapOptions(config),
      // Read at each request: the uplink starts after the server is built.
      ...(config.cloud
        ? {
            collectorLink: () => {
              const c = uplink?.collector;
              return c
                ? {
                    serial: c.identity.serial,
                    claim_code: c.identity.claim_code,
                    claimed: c.claimed,
                    cloud_url: config.cloud!.url,
                  }
                : undefined;
            },
          }
        : {}),
    });
    sink.log = server.log;
    await gateway.start();
    trackers = await startTrackers(
      config,
      storage,
      storage.identity,
      io,
      (lvl, message) =>
        lvl === 'info'
          ? io.out(`trackers: ${message}\n`)
          : sink.log?.[lvl]({ component: 'trackers' }, message),
      gateway,
      trackerAlarms,
    );
    // A collector of a fleet cloud (cloud.url): its gateway's events go up, commands come down.
    uplink = startUplink(config, dataDir, gateway, io, (lvl, message) =>
      lvl === 'info' ? io.out(`${message}\n`) : sink.log?.[lvl]({ component: 'uplink' }, message),
    );
    const address = await listenOn(server, config);
    io.out(
      `OpenBMS listening on ${address} (web console ${address}/, API ${address}/api/v1, docs ${address}/api/docs); Ctrl-C stops\n`,
    );
    for (const line of listenAdvice(config.http.host, address, configFile.path))
      io.out(`${line}\n`);
    await (io.stopSignal ?? new Promise(() => undefined));
    io.out('stopping\n');
    return 0;
  } catch (e) {
    return printError(e);
  } finally {
    await trackers?.close();
    await uplink?.close();
    await server?.close();
    mailer?.close();
    await gateway?.stop();
    await storage?.close();
  }
}

function parseAddresses(spec: string): number[] {
  const out: number[] = [];
  for (const part of spec.split(',')) {
    const m = /^(0x[0-9a-f]+|\d+)(?:-(0x[0-9a-f]+|\d+))?$/i.exec(part.trim());
    if (!m)
      throw new BmsError(
        'CONFIG_INVALID',
        `--addresses: "${part}" is not an address or a range like 2-17`,
      );
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (!(a >= 0 && b <= 255 && a <= b))
      throw new BmsError('CONFIG_INVALID', `--addresses: "${part}" must lie within 0..255`);
    for (let x = a; x <= b; x++) out.push(x);
  }
  return out;
}

export async function cmdScan(
  io: Io,
  args: string[],
  printError: (e: unknown) => number,
): Promise<number> {
  try {
    const { values } = parseArgs({
      args,
      strict: true,
      options: {
        port: { type: 'string' },
        protocol: { type: 'string', short: 'p' },
        addresses: { type: 'string' },
        baud: { type: 'string' },
        timeout: { type: 'string' },
        variant: { type: 'string' },
        json: { type: 'boolean' },
      },
    });
    if (!values.port)
      throw new BmsError(
        'CONFIG_INVALID',
        '--port is required (a serial device path or tcp://host:port)',
      );
    if (!values.protocol) throw new BmsError('CONFIG_INVALID', '--protocol is required');
    const def = getProtocol(values.protocol);
    const variant =
      values.variant === undefined
        ? undefined
        : def.variants.find((v) => v.toLowerCase() === values.variant!.toLowerCase());
    if (values.variant !== undefined && variant === undefined) {
      throw new BmsError(
        'VARIANT_UNKNOWN',
        `unknown variant "${values.variant}" for ${def.id}; known: ${def.variants.join(', ') || 'none'}`,
      );
    }
    const addresses = values.addresses
      ? parseAddresses(values.addresses)
      : defaultScanAddresses(def);
    const baud = values.baud ? Number(values.baud) : def.link.baud;
    const transport = createTransport(values.port, {
      baud,
      dataBits: def.link.dataBits,
      parity: def.link.parity,
      stopBits: def.link.stopBits,
    });
    await transport.open();
    try {
      if (!values.json)
        io.out(`scanning ${addresses.length} address(es) on ${values.port} (${def.id})\n`);
      const hits = await scanBus(transport, def, addresses, {
        link: { baud },
        ...(values.timeout ? { timeoutMs: Number(values.timeout) } : {}),
        ...(variant ? { variant } : {}),
      });
      if (values.json)
        io.out(JSON.stringify(hits.map((h) => ({ address: h.address, ...h.reading }))) + '\n');
      else {
        for (const h of hits) {
          const r = h.reading;
          io.out(
            `  address ${h.address}${h.address > 9 ? ` (0x${h.address.toString(16)})` : ''}: ${r.voltage_v ?? '?'} V${r.soc_pct !== undefined ? `, SOC ${r.soc_pct} %` : ''}${r.cell_mv ? `, ${r.cell_mv.length} cells` : ''}\n`,
          );
        }
        io.out(`${hits.length} pack(s) found\n`);
      }
      return 0;
    } finally {
      await transport.close();
    }
  } catch (e) {
    return printError(e);
  }
}

export async function cmdUser(
  io: Io,
  args: string[],
  printError: (e: unknown) => number,
): Promise<number> {
  try {
    const [sub, ...rest] = args;
    if (sub !== 'add')
      throw new BmsError(
        'CONFIG_INVALID',
        'usage: openbms user add <name> [--role admin|operator|viewer]',
      );
    const { values, positionals } = parseArgs({
      args: rest,
      strict: true,
      allowPositionals: true,
      options: {
        role: { type: 'string' },
        admin: { type: 'boolean' },
        'data-dir': { type: 'string' },
        config: { type: 'string', short: 'c' },
      },
    });
    const name = positionals[0];
    if (!name) throw new BmsError('CONFIG_INVALID', 'give the user name: openbms user add <name>');
    const role = (values.admin ? 'admin' : (values.role ?? 'viewer')) as Role;
    if (!['admin', 'operator', 'viewer'].includes(role))
      throw new BmsError(
        'CONFIG_INVALID',
        `--role must be admin, operator or viewer (got "${role}")`,
      );
    const password = process.env.OPENBMS_PASSWORD ?? (await io.stdin()).split(/\r?\n/)[0] ?? '';
    if (password.length < 8)
      throw new BmsError(
        'CONFIG_INVALID',
        'the password (OPENBMS_PASSWORD or the first line of stdin) needs at least 8 characters',
      );
    // The same config `openbms start` would use (its storage.url says where the accounts are).
    const dataDir = values['data-dir'] ?? DEFAULT_DATA_DIR;
    const { config } = chooseConfig(values.config, dataDir, { out: () => {} });
    const { storage } = await openBoxStorage(config, dataDir, (w) => io.err(`warning: ${w}\n`));
    try {
      await storage.users.create(
        storage.identity,
        { username: name, role, createdAt: Date.now() },
        await hashPassword(password),
      );
      await storage.audit.append(storage.identity, {
        at: Date.now(),
        user: 'cli',
        action: 'user.add',
        new: { username: name, role },
        result: 'ok',
      });
    } finally {
      await storage.close();
    }
    io.out(`user "${name}" (${role}) created\n`);
    return 0;
  } catch (e) {
    return printError(e);
  }
}
