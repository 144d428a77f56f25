/**
 * `openbms demo`: the demo site on the simulator — a parallel system of 4 PACE packs on one
 * bus, one Pylontech, one JK and one DALY pack, moving through a solar day at 60× speed —
 * each served on a local TCP port and read through the same code that reads real hardware,
 * printed as a live table until Ctrl-C.
 */
import { parseArgs } from 'node:util';
import { BmsError, runStateOf, type Reading } from '@openbms/core';
import { getProtocol } from '@openbms/protocols';
import { createSimulation, serveTcp, type Listening, type Simulation } from '@openbms/simulator';
import { Exchanger, createTransport, readPack, type Transport } from '@openbms/transport';
import type { Io } from './main.js';

interface DemoBus {
  name: string;
  protocol: string;
  sim: Simulation;
  listening: Listening;
  transport: Transport;
  exchanger: Exchanger;
}

const SITE = [
  { name: 'Rack', protocol: 'pace', packs: 4, soc: 55 },
  { name: 'Pylontech', protocol: 'pylontech', packs: 1, soc: 55 },
  { name: 'JK', protocol: 'jk', packs: 1, soc: 70 },
  { name: 'DALY', protocol: 'daly', packs: 1, soc: 40 },
] as const;

const signed = (v: number | undefined, d: number): string =>
  v === undefined ? '-' : `${v > 0 ? '+' : ''}${v.toFixed(d)}`;

function row(cells: string[], widths: number[]): string {
  return cells
    .map((c, i) => c.padEnd(widths[i]!))
    .join(' ')
    .trimEnd();
}

const WIDTHS = [16, 10, 5, 7, 8, 8, 8, 12, 12, 8];
const HEAD = ['pack', 'protocol', 'addr', 'SOC', 'V', 'A', 'W', 'state', 'temp °C', 'Δcell'];

function line(name: string, protocol: string, r: Reading): string {
  const temps = r.temps_c?.length ? `${Math.min(...r.temps_c)}..${Math.max(...r.temps_c)}` : '-';
  const alarms = (r.alarms ?? []).map((a) => `${a.code}${a.level ? `/${a.level}` : ''}`).join(' ');
  return row(
    [
      name,
      protocol,
      String(r.address ?? ''),
      r.soc_pct === undefined ? '-' : `${r.soc_pct.toFixed(1)}%`,
      r.voltage_v?.toFixed(2) ?? '-',
      signed(r.current_a, 1),
      signed(r.power_w, 0),
      runStateOf(r) ?? '-',
      temps,
      r.delta_cell_mv === undefined ? '-' : `${r.delta_cell_mv} mV`,
      alarms || '-',
    ],
    [...WIDTHS, 0],
  );
}

export async function cmdDemo(
  io: Io,
  args: string[],
  printError: (e: unknown) => number,
): Promise<number> {
  const buses: DemoBus[] = [];
  try {
    const { values } = parseArgs({
      args,
      strict: true,
      options: {
        speed: { type: 'string' },
        interval: { type: 'string' },
        once: { type: 'boolean' },
        seed: { type: 'string' },
      },
    });
    const speed = values.speed === undefined ? 60 : Number(values.speed);
    const intervalS = values.interval === undefined ? 2 : Number(values.interval);
    if (!(speed >= 0 && speed <= 100_000))
      throw new BmsError('CONFIG_INVALID', '--speed must be 0..100000');
    if (!(intervalS > 0 && intervalS <= 3600))
      throw new BmsError('CONFIG_INVALID', '--interval must be > 0 seconds');
    // Start the simulated day at dawn, so the first minutes already show the sun arriving.
    const now = new Date();
    const start = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), 6, 0, 0);
    for (const [i, s] of SITE.entries()) {
      const sim = createSimulation({
        protocol: s.protocol,
        packs: s.packs,
        profile: 'solar',
        speed,
        start,
        seed: Number(values.seed ?? 1) + i,
        initialSocPct: s.soc,
      });
      const listening = await serveTcp(sim.bus);
      const def = getProtocol(s.protocol);
      const transport = createTransport(listening.endpoint, { baud: def.link.baud });
      await transport.open();
      buses.push({
        name: s.name,
        protocol: s.protocol,
        sim,
        listening,
        transport,
        exchanger: new Exchanger(transport, def.createFramer()),
      });
    }
    io.out(
      `OpenBMS demo site: simulated packs at ${speed}x speed, each read over its own local TCP link\n` +
        buses
          .map(
            (b) =>
              `  ${b.protocol.padEnd(10)} ${b.sim.packs.length} pack(s) on ${b.listening.endpoint}`,
          )
          .join('\n') +
        `\n${values.once ? '' : 'Ctrl-C stops.\n'}`,
    );
    let stopped = false;
    void io.stopSignal?.then(() => (stopped = true));
    for (;;) {
      const began = Date.now();
      const simTime = new Date(buses[0]!.sim.clock.now())
        .toISOString()
        .slice(0, 16)
        .replace('T', ' ');
      const lines = [`\nsimulated time ${simTime} UTC`, row(HEAD, WIDTHS) + ' alarms'];
      for (const b of buses) {
        const def = getProtocol(b.protocol);
        for (const [i, p] of b.sim.packs.entries()) {
          const name =
            b.sim.packs.length > 1 ? `${b.name} ${i + 1}${i === 0 ? ' (master)' : ''}` : b.name;
          try {
            const { reading } = await readPack(
              b.transport,
              def,
              { address: p.address },
              { timeoutMs: 500, retries: 1 },
              b.exchanger,
            );
            lines.push(line(name, b.protocol, reading));
          } catch (e) {
            lines.push(`${name.padEnd(16)} ${b.protocol.padEnd(10)} ${(e as Error).message}`);
          }
        }
      }
      io.out(lines.join('\n') + '\n');
      if (values.once || stopped) break;
      await Promise.race([
        new Promise((r) => setTimeout(r, Math.max(0, intervalS * 1000 - (Date.now() - began)))),
        io.stopSignal,
      ]);
      if (stopped) break;
    }
    io.out(
      '\nNext: `openbms read --port /dev/ttyUSB0 --protocol <id>` reads a real pack; `openbms help` lists every command.\n',
    );
    return 0;
  } catch (e) {
    return printError(e);
  } finally {
    for (const b of buses) {
      b.exchanger.dispose();
      await b.transport.close();
      await b.listening.close();
    }
  }
}
