/**
 * What a consumer across a network does with the envelopes of a gateway's stream: keep the
 * last (run, seq) seen per gateway and sort each arriving envelope into the next one, a
 * duplicate (a redelivery: drop it), a gap (events were missed: read the state again), or a
 * new run (the gateway restarted its stream: count afresh). Runs are ULIDs, so an envelope of
 * an older run than the one followed is a late duplicate. A consumer that resumes after a
 * restart of its own starts from `resume(position)` instead of from nothing.
 */
export type Arrival =
  { kind: 'next' } | { kind: 'duplicate' } | { kind: 'gap'; missed: number } | { kind: 'restart' };

export interface StreamPosition {
  run: string;
  seq: number;
}

export class StreamCursor {
  private readonly last = new Map<string, StreamPosition>();

  /** Continues from a position kept before (the last envelope taken from that gateway). */
  resume(gatewayId: string, at: StreamPosition): void {
    this.last.set(gatewayId, { ...at });
  }

  /** Sorts one envelope and, unless it is a duplicate, moves the cursor to it. */
  accept(e: { gatewayId: string; run: string; seq: number }): Arrival {
    const prev = this.last.get(e.gatewayId);
    if (prev && e.run < prev.run) return { kind: 'duplicate' };
    if (prev && e.run === prev.run && e.seq <= prev.seq) return { kind: 'duplicate' };
    this.last.set(e.gatewayId, { run: e.run, seq: e.seq });
    // The first envelope of a gateway starts the cursor, wherever the consumer joined (it reads
    // the state through the read model when it joins).
    if (!prev) return { kind: 'next' };
    if (e.run !== prev.run) return { kind: 'restart' };
    return e.seq === prev.seq + 1
      ? { kind: 'next' }
      : { kind: 'gap', missed: e.seq - prev.seq - 1 };
  }

  /** The last (run, seq) taken from a gateway, to resume from after a reconnect. */
  position(gatewayId: string): StreamPosition | undefined {
    const p = this.last.get(gatewayId);
    return p ? { ...p } : undefined;
  }
}
