/**
 * The uplink of `openbms start` and `openbms collector` to the config's fleet cloud
 * (`cloud.url`; docs/collectors.md): the SQLite outbox in the data directory and the
 * gateway's collector client.
 */
import { join } from 'node:path';
import { formatClaimCode } from '@openbms/contract/gateway';
import { Collector, type Config, type Gateway } from '@openbms/gateway';
import { SqliteOutbox } from '@openbms/storage-sqlite';
import type { Io } from './main.js';

export interface Uplink {
  collector: Collector;
  close(): Promise<void>;
}

/**
 * Starts the uplink of `gateway` to `config.cloud` (nothing when there is no cloud section):
 * the outbox in `<dataDir>/outbox.sqlite` and the collector. Says the serial and, while it
 * is not claimed, the claim code (the owner reads it here or on the console).
 */
export function startUplink(
  config: Config,
  dataDir: string,
  gateway: Gateway,
  io: Io,
  log: (level: 'info' | 'warn' | 'error', message: string) => void,
): Uplink | undefined {
  const cloud = config.cloud;
  if (!cloud) return undefined;
  const outbox = SqliteOutbox.open({ dataDir, maxBytes: cloud.outbox_max_mb * 1024 * 1024 });
  let collector: Collector;
  try {
    collector = new Collector({
      link: gateway.link,
      outbox,
      dataDir,
      cloudUrl: cloud.url,
      drainBatchesPerS: cloud.drain_batches_per_s,
      timing: { helloMs: cloud.hello_interval_s * 1000 },
      log,
    });
  } catch (e) {
    outbox.close();
    throw e;
  }
  const id = collector.identity;
  io.out(
    `collector: ${id.serial}, uplink to ${cloud.url} (outbox ${join(dataDir, 'outbox.sqlite')}, ${outbox.count()} waiting)\n`,
  );
  if (!id.credentials)
    io.out(
      `collector: not claimed yet: add it in the cloud with serial ${id.serial} and claim code ${formatClaimCode(id.claim_code)}\n`,
    );
  collector.start();
  return {
    collector,
    async close() {
      await collector.stop();
      outbox.close();
    },
  };
}
