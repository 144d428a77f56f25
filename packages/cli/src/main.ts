import { parseArgs } from 'node:util';
import { BmsError, isBmsError } from '@openbms/core';
import {
  PROTOCOLS,
  getProtocol,
  hexToBytes,
  type DecodeOptions,
  type ProtocolDefinition,
} from '@openbms/protocols';
import { Exchanger, createTransport, readPack } from '@openbms/transport';
import { prettyJson, renderReading, renderStats } from './format.js';
import { SIM_USAGE, cmdSim } from './sim.js';
import { cmdDemo } from './demo.js';
import { START_USAGE, cmdScan, cmdStart, cmdUser } from './start.js';
import { DB_USAGE, cmdDb } from './db.js';
import { CLOUD_USAGE, cmdCloud } from './cloud.js';
import { LINK_USAGE, cmdCollector, cmdLink } from './link.js';

/** Where the CLI writes; tests pass their own to capture output. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Reads all of standard input (decode with no hex argument). */
  stdin(): Promise<string>;
  /** Resolves when the user asks to stop (Ctrl-C) — ends --watch and sim. */
  stopSignal?: Promise<void>;
  /** Lines typed on standard input (the simulator's control console). */
  lines?(): AsyncIterable<string>;
}

const USAGE = `openbms — monitor and manage lithium battery packs through their BMS

Usage:
  openbms protocols                      list protocol families and their link defaults
  openbms decode --protocol <id> [options] <hex>
                                         decode captured bytes (hex, or on stdin) to JSON;
                                         ASCII frames starting with ~ may be given as text
      --request <hex>     the request the reply answers (Pylontech, PACE, Seplos V2: the full
                          frame, as hex or as "~..." text, or CID2[+INFO] in hex; Modbus
                          families: the request frame)
      --variant <name>    record layout (JK: JK02_24S, JK02_32S; PACE: v25, v20-eg4; Seplos: v2, v3)
      --cells <n>         cell count known from an earlier reply (DALY 0x94)
      --temp-sensors <n>  temperature sensor count known from an earlier reply (DALY 0x94)
      --invert-current    flip the current sign (firmware that reports it reversed)
  openbms read --port <serial path | tcp://host:port> --protocol <id> [options]
                                         run the family's full read cycle on a real link
      --address <n>       bus address (decimal or 0x..; default per protocol)
      --baud <b>          serial baud rate (default per protocol)
      --timeout <ms>      reply timeout per try (default per protocol)
      --retries <n>       extra tries after a failure (default 2)
      --variant <name>    record / link layout (see openbms protocols)
      --json              print the canonical JSON snapshot instead of a table
      --watch <s>         repeat every <s> seconds until Ctrl-C
${START_USAGE}
${LINK_USAGE}
${CLOUD_USAGE}
${DB_USAGE}
${SIM_USAGE}
  openbms demo [--speed <x>] [--interval <s>] [--once]
                                         the demo site: a rack of 4 PACE packs in parallel, a
                                         Pylontech, a JK and a DALY pack, simulated through a solar day at
                                         60x speed and read live over local TCP links
  openbms help | --help                  this text
  openbms --version

Protocol ids: ${PROTOCOLS.map((p) => p.id).join(', ')} (aliases accepted, see openbms protocols).`;

function usageError(message: string): BmsError {
  return new BmsError('CONFIG_INVALID', message);
}

function parseIntOption(
  name: string,
  value: string | undefined,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined) return undefined;
  const n = /^0x[0-9a-f]+$/i.test(value)
    ? parseInt(value, 16)
    : /^\d+$/.test(value)
      ? Number(value)
      : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw usageError(`--${name} must be an integer ${min}..${max} (got "${value}")`);
  }
  return n;
}

function requireProtocol(name: string | undefined): ProtocolDefinition {
  if (!name) throw usageError('--protocol is required; run "openbms protocols" for the list');
  return getProtocol(name);
}

function printError(io: Io, e: unknown, json: boolean): number {
  const err = isBmsError(e)
    ? e
    : new BmsError('INVALID_ARGUMENT', e instanceof Error ? e.message : String(e));
  if (json) io.out(JSON.stringify({ error: err.message, code: err.code }) + '\n');
  else io.err(`error [${err.code}]: ${err.message}\n`);
  return 1;
}

function cmdProtocols(io: Io, args: string[]): number {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean' } }, strict: true });
  if (values.json) {
    io.out(
      JSON.stringify(
        PROTOCOLS.map((p) => ({
          id: p.id,
          aliases: p.aliases,
          title: p.title,
          link: p.link,
          variants: p.variants,
          capabilities: p.capabilities,
          commands: p.commands,
        })),
        null,
        2,
      ) + '\n',
    );
    return 0;
  }
  const rows = PROTOCOLS.map((p) => {
    const l = p.link;
    const addr =
      l.defaultAddress > 9
        ? `${l.defaultAddress} (0x${l.defaultAddress.toString(16)})`
        : String(l.defaultAddress);
    const link = `${l.baud} ${l.dataBits}${l.parity[0]!.toUpperCase()}${l.stopBits}, address ${addr}, timeout ${l.timeoutMs} ms`;
    const extra = [
      p.aliases.length ? `aliases: ${p.aliases.join(', ')}` : '',
      p.variants.length ? `variants: ${p.variants.join(', ')}` : '',
    ].filter(Boolean);
    return `${p.id.padEnd(12)} ${p.title}\n${''.padEnd(12)} ${link}${extra.length ? `\n${''.padEnd(12)} ${extra.join('; ')}` : ''}`;
  });
  io.out(rows.join('\n') + '\n');
  return 0;
}

async function cmdDecode(io: Io, args: string[]): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        protocol: { type: 'string', short: 'p' },
        request: { type: 'string' },
        variant: { type: 'string' },
        cells: { type: 'string' },
        'temp-sensors': { type: 'string' },
        'invert-current': { type: 'boolean' },
      },
    });
    const def = requireProtocol(values.protocol);
    const hex = positionals.length ? positionals.join('') : (await io.stdin()).trim();
    if (!hex) throw usageError('no bytes to decode: give hex as an argument or on standard input');
    const opts: DecodeOptions = {};
    if (values.request) opts.request = frameBytes(values.request);
    if (values.variant) {
      const v = def.variants.find((x) => x.toLowerCase() === values.variant!.toLowerCase());
      if (!v) {
        throw new BmsError(
          'VARIANT_UNKNOWN',
          `unknown variant "${values.variant}" for ${def.id}; known: ${def.variants.join(', ') || 'none'}`,
        );
      }
      opts.variant = v;
    }
    const cells = parseIntOption('cells', values.cells, 1, 48);
    if (cells !== undefined) opts.cells = cells;
    const sensors = parseIntOption('temp-sensors', values['temp-sensors'], 0, 32);
    if (sensors !== undefined) opts.tempSensors = sensors;
    if (values['invert-current']) opts.invertCurrent = true;
    const reading = def.decode(frameBytes(hex), opts);
    io.out(prettyJson({ protocol: def.id, ...reading }) + '\n');
    return 0;
  } catch (e) {
    return printError(io, e, true);
  }
}

/** Hex, or a Pylontech / PACE ASCII frame pasted as text: "~2002...F92D" (CR optional). */
function frameBytes(text: string): Uint8Array {
  return text.startsWith('~')
    ? new TextEncoder().encode(text.endsWith('\r') ? text : `${text}\r`)
    : hexToBytes(text);
}

async function cmdRead(io: Io, args: string[]): Promise<number> {
  let json = args.includes('--json');
  try {
    const { values } = parseArgs({
      args,
      strict: true,
      options: {
        port: { type: 'string' },
        protocol: { type: 'string', short: 'p' },
        address: { type: 'string' },
        baud: { type: 'string' },
        json: { type: 'boolean' },
        watch: { type: 'string' },
        timeout: { type: 'string' },
        retries: { type: 'string' },
        variant: { type: 'string' },
        'invert-current': { type: 'boolean' },
      },
    });
    json = values.json ?? false;
    const def = requireProtocol(values.protocol);
    if (!values.port)
      throw usageError('--port is required (a serial device path or tcp://host:port)');
    const address = parseIntOption('address', values.address, 0, 255) ?? def.link.defaultAddress;
    const baud = parseIntOption('baud', values.baud, 300, 4_000_000) ?? def.link.baud;
    const timeoutMs = parseIntOption('timeout', values.timeout, 10, 60_000) ?? def.link.timeoutMs;
    const retries = parseIntOption('retries', values.retries, 0, 20) ?? 2;
    const watchS = values.watch === undefined ? undefined : Number(values.watch);
    if (watchS !== undefined && !(watchS > 0 && watchS <= 86_400)) {
      throw usageError(`--watch must be a number of seconds > 0 (got "${values.watch}")`);
    }
    if (
      values.variant &&
      !def.variants.some((v) => v.toLowerCase() === values.variant!.toLowerCase())
    ) {
      throw new BmsError(
        'VARIANT_UNKNOWN',
        `unknown variant "${values.variant}" for ${def.id}; known: ${def.variants.join(', ') || 'none'}`,
      );
    }
    const variant = def.variants.find((v) => v.toLowerCase() === values.variant?.toLowerCase());
    // Quiet time before each request: 3.5 character times (Modbus' inter-frame gap), at least 5 ms.
    const gapMs = Math.max(5, Math.ceil((3.5 * 11 * 1000) / baud));

    const transport = createTransport(values.port, {
      baud,
      dataBits: def.link.dataBits,
      parity: def.link.parity,
      stopBits: def.link.stopBits,
    });
    await transport.open();
    const exchanger = new Exchanger(transport, def.createFramer());
    let stopped = false;
    void io.stopSignal?.then(() => (stopped = true));
    let failures = 0;
    try {
      for (;;) {
        const started = Date.now();
        try {
          const { reading, stats } = await readPack(
            transport,
            def,
            {
              address,
              ...(variant ? { variant } : {}),
              ...(values['invert-current'] ? { invertCurrent: true } : {}),
            },
            { timeoutMs, retries, gapMs, address },
            exchanger,
          );
          if (json) io.out(JSON.stringify(reading) + '\n');
          else
            io.out(renderReading(reading) + '\n' + renderStats(stats, Date.now() - started) + '\n');
        } catch (e) {
          if (watchS === undefined) throw e;
          failures++;
          printError(io, e, json);
        }
        if (watchS === undefined || stopped) break;
        await Promise.race([
          new Promise((r) => setTimeout(r, Math.max(0, watchS * 1000 - (Date.now() - started)))),
          io.stopSignal,
        ]);
        if (stopped) break;
        if (!json) io.out('\n');
      }
    } finally {
      exchanger.dispose();
      await transport.close();
    }
    return failures > 0 && watchS === undefined ? 1 : 0;
  } catch (e) {
    return printError(io, e, json);
  }
}

const args = (rest: string[]): { json: boolean } => ({ json: rest.includes('--json') });

export async function run(argv: string[], io: Io): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'protocols':
      try {
        return cmdProtocols(io, rest);
      } catch (e) {
        return printError(io, e, false);
      }
    case 'decode':
      return cmdDecode(io, rest);
    case 'read':
      return cmdRead(io, rest);
    case 'demo':
      return cmdDemo(io, rest, (e) => printError(io, e, false));
    case 'sim':
      return cmdSim(io, rest, (e) => printError(io, e, false));
    case 'start':
      return cmdStart(io, rest, (e) => printError(io, e, false));
    case 'link':
      return cmdLink(io, rest, (e) => printError(io, e, args(rest).json));
    case 'collector':
      return cmdCollector(io, rest, (e) => printError(io, e, false));
    case 'cloud':
      return cmdCloud(io, rest, (e) => printError(io, e, false));
    case 'scan':
      return cmdScan(io, rest, (e) => printError(io, e, args(rest).json));
    case 'user':
      return cmdUser(io, rest, (e) => printError(io, e, false));
    case 'db':
      return cmdDb(io, rest, (e) => printError(io, e, args(rest).json));
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      io.out(USAGE + '\n');
      return cmd === undefined ? 1 : 0;
    case '--version':
    case '-v':
      io.out('0.1.0\n');
      return 0;
    default:
      io.err(`error [CONFIG_INVALID]: unknown command "${cmd}"\n\n${USAGE}\n`);
      return 1;
  }
}
