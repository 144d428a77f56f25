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
}
