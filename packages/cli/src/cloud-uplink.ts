/**
 * The collector uplink of `openbms cloud` (issue 15, docs/collectors.md): the embedded MQTT
 * broker on `broker.port` (default 1883, 8883 with TLS), or the external broker of
 * `broker.url`, and the ingest and collector links on top (`CollectorUplink`).
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { BmsError } from '@openbms/core';
import type { Config } from '@openbms/gateway';
import {
  CollectorUplink,
  EmbeddedBroker,
  ExternalBroker,
  type GatewayRegistry,
  type UplinkTransport,
} from '@openbms/server';
import {
  newId,
  type AlarmStore,
  type RemoteCollectorStore,
  type TelemetryStore,
} from '@openbms/storage';

/** The broker URL collectors are told: `public_url`, the external `url`, else derived. */
export function publicBrokerUrl(config: Config, port: number): string {
  const b = config.broker ?? {};
  if (b.public_url) return b.public_url;
  if (b.url) return b.url;
  const bind = b.host ?? config.http.host;
  const host = bind === '0.0.0.0' || bind === '::' || bind === '' ? hostname() : bind;
  const shown = host.includes(':') ? `[${host}]` : host;
  return `${b.tls ? 'mqtts' : 'mqtt'}://${shown}:${port}`;
}

/**
 * Makes the node's uplink (the server takes it as its UplinkPort); `start()` (after the server
 * is built: the box's link comes first in the registry) opens the broker and serves the
 * claimed collectors, and says where.
 */
export function makeUplink(opts: {
  config: Config;
  collectors: RemoteCollectorStore;
  telemetry: TelemetryStore;
  alarms: AlarmStore;
  registry: GatewayRegistry;
  log: (level: 'info' | 'warn', message: string) => void;
}): { uplink: CollectorUplink; start(): Promise<string> } {
  const b = opts.config.broker ?? {};
  const nodeId = `node-${newId().slice(-12).toLowerCase()}`;
  const counts: Record<string, number> = {};
  let transport: UplinkTransport;
  if (b.url) {
    transport = new ExternalBroker({
      url: b.url,
      nodeId,
      log: opts.log,
      ...(b.username !== undefined ? { username: b.username } : {}),
      ...(b.password !== undefined ? { password: b.password } : {}),
    });
  } else {
    let tls: { cert: Buffer; key: Buffer } | undefined;
    if (b.tls) {
      try {
        tls = { cert: readFileSync(b.tls.cert), key: readFileSync(b.tls.key) };
      } catch (e) {
        throw new BmsError('CONFIG_INVALID', `broker.tls: ${(e as Error).message}`, {
          field: 'broker.tls',
        });
      }
    }
    transport = new EmbeddedBroker({
      port: b.port ?? (tls ? 8883 : 1883),
      ...(b.host !== undefined ? { host: b.host } : {}),
      ...(tls ? { tls } : {}),
      nodeId,
      verify: (serial, secret) => opts.collectors.verify(serial, secret),
      counts,
      log: opts.log,
    });
  }
  const uplink = new CollectorUplink({
    transport,
    collectors: opts.collectors,
    telemetry: opts.telemetry,
    alarms: opts.alarms,
    registry: opts.registry,
    nodeId,
    // Known once the embedded broker listens (port 0 picks one): set below.
    brokerUrl: '',
    counts,
    log: opts.log,
  });
  const start = async (): Promise<string> => {
    await uplink.start();
    const url = publicBrokerUrl(opts.config, transport.port() ?? b.port ?? 1883);
    uplink.setBrokerUrl(url);
    return b.url
      ? `collectors: external broker ${b.url} (node ${nodeId}, shared ingest); collectors are told ${url}`
      : `collectors: embedded MQTT broker on port ${transport.port()}; collectors are told ${url}`;
  };
  return { uplink, start };
}
