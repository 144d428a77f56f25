/**
 * `poll_wire_ratio`: how close the scheduler gets to the wire. Sixteen Pylontech packs on one
 * 9600-baud bus (the simulator's reply timing: 10 ms turnaround, then the reply's bytes at
 * 9600 baud), polled back to back; the time of one steady (fast) round divided by the time
 * its request and reply bytes take on the wire (10 bits each). The simulator times replies
 * only, so the link here also holds each request for its own wire time before sending it,
 * as a real 9600-baud port would. Prints nothing; scripts/bench.mjs reports the figure.
 */
import { createTransport, type LinkSettings, type Transport } from '@openbms/transport';
import { EventBus } from '../../types.js';
import { BusPoller, type RoundReport } from '../../scheduler/poller.js';
import { simulatedBus } from '../simbus.js';
import { wireMs } from '../../scheduler/timing.js';

const BAUD = 9600;

/** A link that counts bytes both ways and sends each request after its wire time. */
function pacedLink(inner: Transport, link: LinkSettings, counter: { bytes: number }): Transport {
  return {
    endpoint: inner.endpoint,
    get isOpen() {
      return inner.isOpen;
    },
    open: () => inner.open(),
    close: () => inner.close(),
    onClose: (l) => inner.onClose(l),
    onData: (l) =>
      inner.onData((chunk) => {
        counter.bytes += chunk.length;
        l(chunk);
      }),
    write: async (bytes) => {
      counter.bytes += bytes.length;
      await new Promise((r) => setTimeout(r, wireMs(bytes.length, link)));
      await inner.write(bytes);
    },
  };
}

export async function bench(): Promise<{ poll_wire_ratio: number }> {
  const bus = await simulatedBus({
    protocol: 'pylontech',
    packs: 16,
    baud: BAUD,
    turnaroundMs: 10,
  });
  const counter = { bytes: 0 };
  const poller = new BusPoller({
    endpoint: bus.endpoint,
    packs: bus.refs,
    events: new EventBus(),
    link: { baud: BAUD },
    clock: bus.clock,
    pollIntervalMs: 0,
    openTransport: (endpoint, settings) =>
      pacedLink(createTransport(endpoint, settings), settings, counter),
  });
  // Round 1 reads device info and settings too (warm-up); round 2 is the steady cycle.
  const marks: { at: number; bytes: number }[] = [];
  const done = new Promise<void>((resolve) => {
    poller.onRound((r: RoundReport) => {
      marks.push({ at: r.startedAt + r.durationMs, bytes: counter.bytes });
      if (marks.length === 2) resolve();
    });
  });
  poller.start();
  try {
    await done;
  } finally {
    await poller.stop();
    await bus.close();
  }
  const [a, b] = marks as [(typeof marks)[0], (typeof marks)[0]];
  const wire = wireMs(b.bytes - a.bytes, { baud: BAUD });
  return { poll_wire_ratio: Math.round(((b.at - a.at) / wire) * 1000) / 1000 };
}
