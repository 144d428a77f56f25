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
  type Config,
  type Gateway,
  type TrackerServers,
} from '@openbms/gateway';
import type { Origin } from '@openbms/storage';
import type { Io } from './main.js';
import type { BoxStorage } from './storage.js';

export async function startTrackers(
  config: Pick<Config, 'trackers'>,
  storage: BoxStorage,
  identity: Origin,
  io: Io,
  log: (level: 'info' | 'warn' | 'error', message: string) => void,
  gateway?: Gateway,
): Promise<TrackerServers | undefined> {
  if (!config.trackers) return undefined;
  const servers = await startTrackerServers(config.trackers, {
    ingest: new TrackerIngest({ storage, identity }),
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
