// The load generator of the tracker bench (scripts/bench-trackers.mjs), a process of its own:
// N simulated JT/T 808 trackers, each on its own TCP connection (spread over several
// loopback source addresses), register and authenticate, then each reports a location every
// INTERVAL ms, the reports spread evenly over the interval (N / INTERVAL per ms), for
// DURATION ms. Every location is acked by the server (0x8001) only once it is stored, so acks
// counted here are fixes stored; lost = sent - acked once the acks have drained. Afterwards
// tracker 0 uploads one day of fixes (one every 10 s) as 0x0704 batches, for the track read.
//
// Prints progress lines `event <name> <json>` and, last, `result <json>`.
// Arguments: --host H --port P --count N --interval MS --duration MS --day-from MS
import { createConnection } from 'node:net';
import { parseArgs } from 'node:util';
import { jt808 } from '@openbms/protocols/trackers';

const { values: a } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    count: { type: 'string', default: '10000' },
    interval: { type: 'string', default: '10000' },
    duration: { type: 'string', default: '60000' },
    'day-from': { type: 'string' },
    sources: { type: 'string', default: '8' },
  },
});
const N = Number(a.count);
const INTERVAL = Number(a.interval);
const DURATION = Number(a.duration);
const PORT = Number(a.port);
const SOURCES = Number(a.sources);
const DAY_FROM = Number(a['day-from']);
const CONNECT_IN_FLIGHT = 200;

const event = (name, data = {}) => console.log(`event ${name} ${JSON.stringify(data)}`);

const st = { sent: 0, acked: 0, nacked: 0, closed: 0, errors: 0 };

/** One tracker: its connection, framer, serials, and the replies it waits for. */
class Tracker {
  constructor(i) {
    this.i = i;
    this.terminal = { protocol_version: '2013', phone: String(13800000000 + i).padStart(12, '0') };
    this.framer = jt808.createJt808Framer();
    this.serial = 0;
    this.waiting = new Map(); // msg id -> resolve (register, auth, batch)
    this.open = false;
    this.lat = 22.5 + (i % 100) * 0.001;
    this.lon = 113.9 + Math.floor(i / 100) * 0.001;
  }

  next() {
    const s = this.serial;
    this.serial = (this.serial + 1) & 0xffff;
    return s;
  }

  connect(host, port) {
    return new Promise((resolve, reject) => {
      const s = createConnection({ host, port, localAddress: `127.0.0.${1 + (this.i % SOURCES)}` });
      this.socket = s;
      s.setNoDelay(true);
      s.once('connect', () => {
        this.open = true;
        resolve();
      });
      s.once('error', (e) => {
        st.errors++;
        if (!this.open) reject(e);
      });
      s.on('close', () => {
        if (this.open) st.closed++;
        this.open = false;
      });
      s.on('data', (chunk) => this.received(chunk));
    });
  }

  received(chunk) {
    for (const ev of this.framer.push(new Uint8Array(chunk))) {
      if (ev.type !== 'frame') continue;
      const b = jt808.unwrap(ev.bytes); // header (12) + body + check
      const id = (b[0] << 8) | b[1];
      if (id === jt808.MSG.register_response) {
        const code = String.fromCharCode(...b.subarray(15, b.length - 1));
        this.waiting.get(jt808.MSG.register)?.(code);
      } else if (id === jt808.MSG.platform_response) {
        const replyId = (b[14] << 8) | b[15];
        const ok = b[16] === 0;
        if (replyId === jt808.MSG.location) {
          if (ok) st.acked++;
          else st.nacked++;
        } else this.waiting.get(replyId)?.(ok);
      }
    }
  }

  request(frame, replyTo) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no reply to 0x${replyTo.toString(16)}`)),
        60_000,
      );
      this.waiting.set(replyTo, (v) => {
        clearTimeout(timer);
        this.waiting.delete(replyTo);
        resolve(v);
      });
      this.socket.write(frame);
    });
  }

  async register() {
    const body = new Uint8Array(37 + 7);
    body.set([0, 44, 3, 0], 0);
    body.set(Buffer.from('OPBMS'), 4);
    body.set(Buffer.from('BENCH-EBIKE'), 9);
    body.set(Buffer.from('0000001'), 29);
    body.set(Buffer.from('BENCH01'), 37);
    const code = await this.request(
      jt808.encodeJt808Frame(this.terminal, jt808.MSG.register, this.next(), body),
      jt808.MSG.register,
    );
    const ok = await this.request(
      jt808.encodeAuth(this.terminal, this.next(), code),
      jt808.MSG.auth,
    );
    if (!ok) throw new Error(`tracker ${this.i}: auth refused`);
  }

  location(t) {
    this.lat += 0.0001;
    return {
      valid: true,
      lat: this.lat,
      lon: this.lon,
      speed_kmh: 18.5,
      course_deg: 90,
      altitude_m: 12,
      time_ms: t,
      satellites: 9,
      rssi: 24,
      status_flags: 1,
    };
  }

  report(t) {
    if (!this.open) return false;
    this.socket.write(jt808.encodeLocationReport(this.terminal, this.next(), this.location(t)));
    return true;
  }
}

const trackers = Array.from({ length: N }, (_, i) => new Tracker(i));

// ------------------------------------------------------------ connect, register, auth
const c0 = performance.now();
{
  let next = 0;
  let failed = 0;
  const worker = async () => {
    while (next < N) {
      const t = trackers[next++];
      try {
        await t.connect(a.host, PORT);
        await t.register();
      } catch (e) {
        failed++;
        if (failed <= 3) event('connect-failed', { i: t.i, error: String(e) });
      }
    }
  };
  await Promise.all(Array.from({ length: CONNECT_IN_FLIGHT }, worker));
  const open = trackers.filter((t) => t.open).length;
  event('connected', { open, failed, seconds: (performance.now() - c0) / 1000 });
}

// ------------------------------------------------------------ steady reporting
const t0 = Date.now();
event('steady-start', { at: t0 });
await new Promise((resolve) => {
  let sentIdx = 0;
  const total = Math.floor((DURATION * N) / INTERVAL);
  const tick = setInterval(() => {
    const due = Math.min(total, Math.floor(((Date.now() - t0) * N) / INTERVAL));
    // Device time: the report's own second (reports of one tracker are INTERVAL apart).
    const now = Date.now();
    for (; sentIdx < due; sentIdx++) if (trackers[sentIdx % N].report(now)) st.sent++;
    if (sentIdx >= total) {
      clearInterval(tick);
      resolve();
    }
  }, 5);
});
const sentAt = Date.now();
event('steady-sent', { sent: st.sent, seconds: (sentAt - t0) / 1000 });
// Wait for the acks to drain (every fix acked once stored), at most 30 s.
await new Promise((resolve) => {
  const poll = setInterval(() => {
    if (st.acked + st.nacked >= st.sent || Date.now() - sentAt > 30_000) {
      clearInterval(poll);
      resolve();
    }
  }, 20);
});
const drainedAt = Date.now();
const held = trackers.filter((t) => t.open).length;
event('steady-end', { ...st, held, seconds: (drainedAt - t0) / 1000 });

// ------------------------------------------------------------ one day of one battery
let day = { count: 0 };
if (Number.isFinite(DAY_FROM) && trackers[0].open) {
  const tr = trackers[0];
  const BATCH = 25;
  const fixes = 8640;
  for (let j = 0; j < fixes; j += BATCH) {
    const ps = [];
    for (let k = j; k < Math.min(fixes, j + BATCH); k++)
      ps.push(tr.location(DAY_FROM + k * 10_000));
    const ok = await tr.request(
      jt808.encodeLocationBatch(tr.terminal, tr.next(), 1, ps),
      jt808.MSG.location_batch,
    );
    if (!ok) throw new Error('day upload refused');
  }
  day = { serial: String(13800000000), count: fixes, from: DAY_FROM };
}

console.log(
  `result ${JSON.stringify({
    ...st,
    held,
    lost: st.sent - st.acked,
    connect_s: 0,
    steady_ms: drainedAt - t0,
    day,
  })}`,
);
for (const t of trackers) t.socket?.destroy();
process.exit(0);
