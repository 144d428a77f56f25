import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { BmsError } from '@openbms/core';
import { getProtocol } from '@openbms/protocols';
import {
  CONTROL_HELP,
  createSimulation,
  executeControl,
  formatFault,
  serveTcp,
  servePty,
  type Listening,
} from '@openbms/simulator';
import type { Io } from './main.js';
import { cmdSimTracker } from './sim-tracker.js';

export const SIM_USAGE = `  openbms sim --protocol <id> [options]   simulated packs speaking a protocol on TCP or a pty
      --variant <name>      device layout where a family has several (jk: JK02_32S, JK02_24S;
                            seplos: v2 ASCII, v3 Modbus)
      --packs <n>           packs on the bus, 1..16 (a parallel system; default 1)
      --cells <n>           cells in series, 4..32 (default 16)
      --chemistry lfp|nmc   cell chemistry (default lfp)
      --capacity-ah <x>     capacity per pack (default 100)
      --listen tcp://host:port | --pty   where to serve (default tcp://127.0.0.1:0, a free port)
      --baud <b>            line speed the replies are timed by (default per protocol)
      --turnaround <ms>     device reply latency (default 10)
      --profile <name>      solar, ebike, ups, idle, constant:<A>, csv:<file> (default solar)
      --speed <x>           simulated seconds per real second (default 1; 0 freezes time)
      --seed <n>            makes a run reproducible (default 1)
      --soc <pct>           initial state of charge (default 60)
      --start <ISO time>    simulated start instant (default now)
      --faults <list>       comma-separated kind[:arg][@address], e.g. corrupt:0.2,offline@3
  While it runs, type "help" for the control console (faults, status).
  openbms sim --tracker jt808|gt06 --server tcp://host:port [options]   e-bike GPS trackers
      --count <n>           trackers, each on its own connection, 1..10000 (default 1)
      --interval <s>        seconds between position reports (default 5)
      --seed <n>            makes the routes reproducible (default 1)
      --bms <family>        JT/T 808: each battery's simulated BMS of that family (e.g. jbd)
                            behind the tracker's serial pass-through (0x8900 / 0x0900)
      --bms-chemistry <c>   lfp (16 cells, default) or nmc (13 cells)`;

function num(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n))
    throw new BmsError('CONFIG_INVALID', `--${name} must be a number (got "${v}")`);
  return n;
}

export async function cmdSim(
  io: Io,
  args: string[],
  printError: (e: unknown) => number,
): Promise<number> {
  if (args.some((a) => a === '--tracker' || a.startsWith('--tracker=')))
    return cmdSimTracker(io, args, printError);
  let served: Listening | undefined;
  try {
    const { values } = parseArgs({
      args,
      strict: true,
      options: {
        protocol: { type: 'string', short: 'p' },
        variant: { type: 'string' },
        packs: { type: 'string' },
        cells: { type: 'string' },
        chemistry: { type: 'string' },
        'capacity-ah': { type: 'string' },
        listen: { type: 'string' },
        pty: { type: 'boolean' },
        baud: { type: 'string' },
        turnaround: { type: 'string' },
        profile: { type: 'string' },
        speed: { type: 'string' },
        seed: { type: 'string' },
        soc: { type: 'string' },
        start: { type: 'string' },
        faults: { type: 'string' },
      },
    });
    if (!values.protocol) throw new BmsError('CONFIG_INVALID', '--protocol is required');
    if (values.pty && values.listen)
      throw new BmsError('CONFIG_INVALID', 'give either --listen or --pty, not both');
    const chemistry = values.chemistry ?? 'lfp';
    if (chemistry !== 'lfp' && chemistry !== 'nmc') {
      throw new BmsError('CONFIG_INVALID', `--chemistry must be lfp or nmc (got "${chemistry}")`);
    }
    const start = values.start === undefined ? undefined : Date.parse(values.start);
    if (start !== undefined && !Number.isFinite(start)) {
      throw new BmsError(
        'CONFIG_INVALID',
        `--start must be an ISO time such as 2026-06-21T06:00:00Z (got "${values.start}")`,
      );
    }
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
    const o = {
      protocol: def.id,
      chemistry,
      readText: (path: string) => {
        try {
          return readFileSync(path, 'utf8');
        } catch (e) {
          throw new BmsError(
            'CONFIG_INVALID',
            `cannot read profile file ${path}: ${(e as Error).message}`,
          );
        }
      },
      faults: values.faults ? values.faults.split(',').filter(Boolean) : [],
      ...(variant ? { variant } : {}),
      ...(values.profile ? { profile: values.profile } : {}),
      ...(start !== undefined ? { start } : {}),
    } as Parameters<typeof createSimulation>[0];
    const set = (k: keyof typeof o, v: number | undefined): void => {
      if (v !== undefined) (o as unknown as Record<string, number>)[k] = v;
    };
    set('packs', num('packs', values.packs));
    set('cells', num('cells', values.cells));
    set('capacityAh', num('capacity-ah', values['capacity-ah']));
    set('baud', num('baud', values.baud));
    set('turnaroundMs', num('turnaround', values.turnaround));
    set('speed', num('speed', values.speed));
    set('seed', num('seed', values.seed));
    set('initialSocPct', num('soc', values.soc));
    const sim = createSimulation(o);
    served = values.pty
      ? await servePty(sim.bus)
      : await serveTcp(sim.bus, values.listen ?? 'tcp://127.0.0.1:0');
    const first = sim.packs[0]!;
    const addresses = sim.packs.map((p) => p.address);
    io.out(`listening on ${served.endpoint}\n`);
    io.out(
      `OpenBMS simulator: ${sim.packs.length} ${def.id} pack${sim.packs.length > 1 ? 's' : ''} (${first.info.model}), ` +
        `profile ${first.profile.name}, speed ${values.speed ?? 1}x, seed ${values.seed ?? 1}\n`,
    );
    io.out(
      `addresses: ${addresses.join(', ')}${sim.bus.faults.length ? `; faults: ${sim.bus.faults.map(formatFault).join(' ')}` : ''}\n`,
    );
    io.out(
      `read it:   openbms read --port ${served.endpoint} --protocol ${def.id}${variant ? ` --variant ${variant}` : ''} --address ${addresses[0]}\n`,
    );
    io.out('type "help" for the control console; Ctrl-C stops\n');
    const control = (async () => {
      if (!io.lines) return;
      for await (const line of io.lines()) {
        const reply = executeControl(sim.bus, line);
        if (reply) io.out(reply + '\n');
      }
    })();
    await Promise.race([
      io.stopSignal ?? new Promise(() => undefined),
      control.then(() => io.stopSignal),
    ]);
    return 0;
  } catch (e) {
    return printError(e);
  } finally {
    await served?.close();
  }
}

export { CONTROL_HELP };
