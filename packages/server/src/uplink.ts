/**
 * What the server's collector routes (routes/collectors.ts) need of the node's collector
 * uplink (issue 15, docs/collectors.md): where collectors connect, whether one is connected,
 * and a way to end a revoked one's connection. `openbms cloud` passes it in `ServerDeps.uplink`
 * (the embedded broker or the external one); without it the server takes no collectors (a
 * hello answers 503).
 */
export interface UplinkPort {
  /** The broker URL collectors are told at hello (`mqtt://host:1883`, `mqtts://host:8883`). */
  brokerUrl(): string;
  /** Whether the collector is connected now; undefined when this node cannot tell. */
  online(serial: string): boolean | undefined;
  /** A collector was claimed (on this node): start serving its gateway now. */
  claimed(serial: string): Promise<void>;
  /** A collector was revoked: end its connection and stop serving it. */
  revoked(serial: string): Promise<void>;
  /**
   * Uplink messages by outcome since start (`received`, `stored`, `malformed`, `auth_refused`,
   * `publish_refused`...), for /metrics.
   */
  counts?(): Readonly<Record<string, number>>;
}

/** The uplink's counts as Prometheus text (empty without counts). */
export function uplinkMetrics(uplink: UplinkPort | undefined): string {
  const counts = uplink?.counts?.();
  if (!counts) return '';
  const lines = [
    '# HELP openbms_uplink_messages_total Collector uplink messages and connections by outcome.',
    '# TYPE openbms_uplink_messages_total counter',
  ];
  for (const [outcome, n] of Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : 1)))
    lines.push(`openbms_uplink_messages_total{outcome="${outcome.replace(/[^a-z_]/g, '_')}"} ${n}`);
  return `${lines.join('\n')}\n`;
}
