/**
 * The tracker servers of `openbms cloud` and `openbms start` (config `trackers`, docs/trackers.md):
 * started when the config names any, owned by the node's identity (unknown trackers join its
 * organisation, not enabled).
 */
import {
  startTrackerServers,
  TrackerIngest,
  type Config,
  type TrackerServers,
} from '@openbms/gateway';
import type { Origin } from '@openbms/storage';
import type { Io } from './main.js';
import type { BoxStorage } from './storage.js';

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
  config: Config,
  storage: BoxStorage,
  identity: Origin,
  io: Io,
  log: (level: 'info' | 'warn' | 'error', message: string) => void,
): Promise<TrackerServers | undefined> {
  if (!config.trackers) return undefined;
  const servers = await startTrackerServers(config.trackers, {
    ingest: new TrackerIngest({ storage, identity }),
    log,
  });
  const ports = Object.entries(servers.ports).map(([k, p]) => `${k} ${p}`);
  if (ports.length > 0) io.out(`trackers: ${ports.join(', ')}\n`);
  return servers;
}
