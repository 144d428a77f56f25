// The load generator of the collector uplink bench (scripts/bench-uplink.mjs): simulated
// collectors speaking the real uplink protocol (docs/collectors.md) to a broker over TCP, as
// `openbms collector` does: each collector connects with its credentials, publishes a retained
// online status, then every interval one `up` batch with one snapshot envelope per pack
// (deflated as encodeUplink does), keeps every envelope until an `ack` names it and sends what
// stays unacknowledged again after RESEND_MS.
//
// Input: --collectors <file> (JSON [{serial, password, gatewayId}]), --broker <url>,
// --packs <n>, --interval <ms>, --duration <ms>, --drain <ms> (how long to wait for the last
// acks). Output on stdout, one line each: `event <name> <json>` while it runs, and
// `result <json>` at the end: envelopes sent, acked, lost (sent and never acked), resent,
// payload bytes, data points, and the lag from a snapshot's time to its ack (p50/p95/max).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { deflateRawSync } from 'node:zlib';
import mqtt from 'mqtt';

const { values } = parseArgs({
  options: {
    collectors: { type: 'string' },
    broker: { type: 'string' },
    packs: { type: 'string', default: '16' },
    interval: { type: 'string', default: '5000' },
    duration: { type: 'string', default: '60000' },
    drain: { type: 'string', default: '60000' },
  },
});
const collectors = JSON.parse(readFileSync(values.collectors, 'utf8'));
const PACKS = Number(values.packs);
const INTERVAL = Number(values.interval);
const DURATION = Number(values.duration);
const DRAIN = Number(values.drain);
const RESEND_MS = 30_000;

const emit = (name, data) => process.stdout.write(`event ${name} ${JSON.stringify(data)}\n`);

/** A 16-cell pack's snapshot, as a DALY/JBD pack reads: values wander a little per read. */
function snapshot(i, t) {
  const base = 3300 + (i % 7);
  const cells = Array.from({ length: 16 }, (_, k) => (base + ((t / 1000 + k * 3) % 9)) | 0);
  const sum = cells.reduce((a, b) => a + b, 0);
  const max = Math.max(...cells);
  const min = Math.min(...cells);
  return {
    protocol: 'daly',
    address: (i % 16) + 1,
    voltage_v: Math.round(sum / 10) / 100,
    current_a: Math.round(Math.sin(t / 60_000 + i) * 40 * 10) / 10,
    power_w: Math.round(sum * Math.sin(t / 60_000 + i) * 0.04),
    soc_pct: 20 + (i % 70),
    soh_pct: 98,
    remaining_ah: 200,
    full_ah: 280,
    cycles: 120 + i,
    state: 'charging',
    cell_count: 16,
    cell_mv: cells,
    max_cell_mv: max,
    min_cell_mv: min,
    max_cell_index: cells.indexOf(max) + 1,
    min_cell_index: cells.indexOf(min) + 1,
    delta_cell_mv: max - min,
    avg_cell_mv: Math.round(sum / 16),
    temp_sensor_count: 4,
    temps_c: [24, 25, 25, 26],
    max_temp_c: 26,
    min_temp_c: 24,
    mos_temp_c: 30,
    charge_mos: true,
    discharge_mos: true,
    balancing: false,
  };
}

/** Data points of a snapshot: every number and boolean, array elements each. */
function points(s) {
  let n = 0;
  for (const v of Object.values(s)) {
    if (Array.isArray(v)) n += v.length;
    else if (typeof v === 'number' || typeof v === 'boolean') n++;
  }
  return n;
}

function encode(message) {
  const json = Buffer.from(JSON.stringify(message));
  if (json.length < 256) return json;
  const packed = deflateRawSync(json, { level: 6 });
  return packed.length < json.length ? packed : json;
}

const stats = { sent: 0, acked: 0, resent: 0, bytes: 0, points: 0, samples: 0, refused: 0 };
// Lag histogram in 10 ms buckets up to 120 s.
const BUCKET_MS = 10;
const lag = new Uint32Array(12_000);
let lagMax = 0;
function noteLag(ms) {
  const b = Math.min(lag.length - 1, Math.max(0, Math.floor(ms / BUCKET_MS)));
  lag[b]++;
  if (ms > lagMax) lagMax = ms;
}
function percentile(p) {
  const total = lag.reduce((a, b) => a + b, 0);
  if (total === 0) return 0;
  let seen = 0;
  for (let b = 0; b < lag.length; b++) {
    seen += lag[b];
    if (seen >= total * p) return (b + 1) * BUCKET_MS;
  }
  return lag.length * BUCKET_MS;
}

const run = `01BENCH${Date.now().toString(36).toUpperCase()}`.slice(0, 26);
let connected = 0;
let stopping = false;

function startCollector(c, index) {
  const base = `openbms/v1/${c.serial}`;
  /** seq -> {ts, sentAt, payload index} of what waits for its ack. */
  const pending = new Map();
  let seq = 0;
  const client = mqtt.connect(values.broker, {
    clientId: c.serial,
    username: c.serial,
    password: c.password,
    clean: false,
    keepalive: 30,
    reconnectPeriod: 1000 + Math.floor(Math.random() * 1000),
    connectTimeout: 30_000,
    will: { topic: `${base}/status`, payload: '{"v":1,"online":false}', qos: 1, retain: true },
  });
  let up = false;
  client.on('connect', () => {
    if (!up) connected++;
    up = true;
    client.subscribe(`${base}/ack`, { qos: 1 });
    client.publish(
      `${base}/status`,
      JSON.stringify({ v: 1, online: true, ts: Date.now(), run, version: 'bench' }),
      { qos: 1, retain: true },
    );
  });
  client.on('error', (e) => {
    if (/Not authorized|Bad user/i.test(String(e.message))) stats.refused++;
  });
  client.on('message', (_topic, payload) => {
    let ack;
    try {
      ack = JSON.parse(payload.toString('utf8'));
    } catch {
      return;
    }
    for (const r of ack.ranges ?? []) {
      if (r.run !== run) continue;
      for (let s = r.from; s <= r.to; s++) {
        const p = pending.get(s);
        if (!p) continue;
        pending.delete(s);
        stats.acked++;
        noteLag(Date.now() - p.ts);
      }
    }
  });
  const publish = (events) => {
    const payload = encode({ v: 1, gatewayId: c.gatewayId, events });
    stats.bytes += payload.length;
    client.publish(`${base}/up`, payload, { qos: 1 });
  };
  const tick = () => {
    if (stopping) return;
    const now = Date.now();
    const events = [];
    for (let i = 0; i < PACKS; i++) {
      const s = snapshot(index * PACKS + i, now);
      seq++;
      const e = {
        v: 1,
        gatewayId: c.gatewayId,
        run,
        seq,
        ts: now,
        type: 'snapshot',
        packId: `site/rs485/${i + 1}`,
        snapshot: s,
      };
      pending.set(seq, { ts: now, sentAt: now, e });
      events.push(e);
      stats.points += points(s);
      stats.samples++;
    }
    stats.sent += events.length;
    publish(events);
    // What waits too long goes again (the broker or the cloud may have lost it).
    const again = [];
    for (const p of pending.values()) {
      if (now - p.sentAt >= RESEND_MS) {
        p.sentAt = now;
        again.push(p.e);
      }
    }
    for (let k = 0; k < again.length; k += 500) {
      stats.resent += Math.min(500, again.length - k);
      publish(again.slice(k, k + 500));
    }
  };
  let first;
  let timer;
  return {
    pending,
    /** Starts reporting, spread over one interval as real collectors are. */
    begin() {
      first = setTimeout(
        () => {
          tick();
          timer = setInterval(tick, INTERVAL);
        },
        Math.floor((index / collectors.length) * INTERVAL),
      );
    },
    stop() {
      clearTimeout(first);
      if (timer) clearInterval(timer);
    },
    resendAll() {
      const now = Date.now();
      const again = [...pending.values()].map((p) => ((p.sentAt = now), p.e));
      for (let k = 0; k < again.length; k += 500) {
        stats.resent += Math.min(500, again.length - k);
        publish(again.slice(k, k + 500));
      }
    },
    end: () => new Promise((r) => client.end(false, {}, r)),
  };
}

const sims = collectors.map((c, i) => startCollector(c, i));
const started = Date.now();
const until = (cond, ms) =>
  new Promise((resolve) => {
    const t0 = Date.now();
    const check = setInterval(() => {
      if (cond() || Date.now() - t0 > ms) {
        clearInterval(check);
        resolve(cond());
      }
    }, 200);
  });
// Everyone connects first; reporting starts after (the connection storm of 2,000 collectors
// is not what the steady phase measures).
await until(() => connected === collectors.length, 120_000);
emit('connected', { connected, of: collectors.length, ms: Date.now() - started });
for (const s of sims) s.begin();
// One interval of ramp-up: by then every collector reports.
await new Promise((r) => setTimeout(r, INTERVAL));
emit('steady-start', {});
const steadyFrom = Date.now();
const sentAtStart = stats.sent;
const ackedAtStart = stats.acked;
const progress = setInterval(() => emit('progress', { ...stats, p95: percentile(0.95) }), 5000);
await new Promise((r) => setTimeout(r, DURATION));
stopping = true;
for (const s of sims) s.stop();
const steadyS = (Date.now() - steadyFrom) / 1000;
emit('steady-end', {
  seconds: steadyS,
  sent: stats.sent - sentAtStart,
  acked: stats.acked - ackedAtStart,
});
// Drain: wait for the last acks, sending what stays unacknowledged again once.
const pendingCount = () => sims.reduce((n, s) => n + s.pending.size, 0);
if (!(await until(() => pendingCount() === 0, Math.min(DRAIN, RESEND_MS)))) {
  for (const s of sims) s.resendAll();
  await until(() => pendingCount() === 0, DRAIN);
}
clearInterval(progress);
const result = {
  collectors: collectors.length,
  connected,
  packs: PACKS,
  interval_ms: INTERVAL,
  steady_s: Math.round(steadyS * 10) / 10,
  sent: stats.sent,
  acked: stats.acked,
  lost: pendingCount(),
  resent: stats.resent,
  refused: stats.refused,
  bytes: stats.bytes,
  samples: stats.samples,
  points: stats.points,
  lag_p50_ms: percentile(0.5),
  lag_p95_ms: percentile(0.95),
  lag_max_ms: lagMax,
};
await Promise.all(sims.map((s) => s.end()));
process.stdout.write(`result ${JSON.stringify(result)}\n`);
process.exit(0);
