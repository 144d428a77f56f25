/**
 * The tracker servers of `openbms cloud` and `openbms start` (config `trackers`, docs/trackers.md):
 * started when the config names any, owned by the node's identity (unknown trackers join its
 * organisation, not enabled). The node sends the instructions queued for the trackers it holds
 * (polling the store, so an instruction made on another node of the same database arrives).
 * With `trackers.bms`, the node's gateway also polls the BMS of
 * every enabled tracker battery through the tracker's pass-through (site `tracker`).
 */
import {
  InstructionDispatcher,
  startTrackerServers,
  TrackerBms,
  TrackerIngest,
  trackersConfigSchema,
  type TrackerAlarmHub,
  type Config,
  type Gateway,
  type TrackerServers,
} from '@openbms/gateway';
import type { Origin } from '@openbms/storage';
import type { Io } from './main.js';
import type { BoxStorage } from './storage.js';

/** The address to reach a server listening on `host` from this machine. */
export const dialHost = (host: string): string =>
  host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host;

/** The JT/T 808 port the demo's tracker server tries first (else any free one). */
export const DEMO_JT808_PORT = 7808;

/** The demo riders' BMS (a JBD e-bike pack), polled through their pass-through. */
export const DEMO_BMS = { protocol: 'jbd', chemistry: 'lfp', poll_interval_s: 30 } as const;

/**
 * The config's tracker servers, or on the demo without any a JT/T 808 server on the HTTP
 * address (DEMO_JT808_PORT, or a free port when that is taken) for the demo's riders.
 */
export async function startDemoTrackers(
  config: Config,
  storage: BoxStorage,
  identity: Origin,
  io: Io,
  log: (level: 'info' | 'warn' | 'error', message: string) => void,
  gateway?: Gateway,
  alarms?: TrackerAlarmHub,
): Promise<TrackerServers> {
  const host = dialHost(config.http.host);
  const on = (port: number): Config => ({
    ...config,
    trackers: trackersConfigSchema.parse({ jt808: { port, host }, bms: DEMO_BMS }),
  });
  try {
    return (await startTrackers(on(DEMO_JT808_PORT), storage, identity, io, log, gateway, alarms))!;
  } catch (e) {
    if ((e as { code?: string }).code !== 'EADDRINUSE' && !/EADDRINUSE|in use/i.test(String(e)))
      throw e;
    return (await startTrackers(on(0), storage, identity, io, log, gateway, alarms))!;
  }
}

/** The console's map tiles from config `web.map` (buildServer's `map`). */
export function mapOptions(config: Config): {
  tiles?: string;
  attribution: string;
  maxZoom: number;
} {
  const m = config.web?.map;
  return {
    ...(m?.tiles !== undefined ? { tiles: m.tiles } : {}),
    attribution: m?.attribution ?? '',
    maxZoom: m?.max_zoom ?? 19,
  };
}

export async function startTrackers(
  config: Pick<Config, 'trackers'>,
  storage: BoxStorage,
  identity: Origin,
  io: Io,
  log: (level: 'info' | 'warn' | 'error', message: string) => void,
  gateway?: Gateway,
  alarms?: TrackerAlarmHub,
): Promise<TrackerServers | undefined> {
  if (!config.trackers) return undefined;
  const servers = await startTrackerServers(config.trackers, {
    ingest: new TrackerIngest({ storage, identity, ...(alarms ? { onAlarm: alarms.emit } : {}) }),
    instructions: storage.instructions
      ? new InstructionDispatcher({ store: storage.instructions, node: identity.gatewayId, log })
      : null,
    log,
  });
  const ports = Object.entries(servers.ports).map(([k, p]) => `${k} ${p}`);
  if (ports.length > 0) io.out(`trackers: ${ports.join(', ')}\n`);
  const bmsConfig = config.trackers.bms;
  if (!bmsConfig || !gateway || !storage.devices) return servers;
  const bms = new TrackerBms({ gateway, devices: storage.devices, config: bmsConfig, log });
  await bms.start();
  io.out(
    `trackers: the BMS of enabled trackers is polled through JT/T 808 pass-through (${bmsConfig.protocol}, every ${bmsConfig.poll_interval_s} s)\n`,
  );
  return {
    ...servers,
    close: async () => {
      bms.stop();
      await servers.close();
    },
  };
}
