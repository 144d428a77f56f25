// The collector uplink figures of `npm run bench` (issue 15, docs/collectors.md), also
// runnable alone (`node scripts/bench-uplink.mjs`, after `npm run build`):
//
// - A real `openbms cloud --no-demo` (SQLite, the embedded MQTT broker on a free port) and the
//   load generator in another process (scripts/bench-uplink-load.mjs) speaking the real uplink
//   protocol over TCP: UPLINK_BENCH_COLLECTORS collectors (default 2,000) × 16 packs, one
//   snapshot per pack every 5 s, for UPLINK_BENCH_S seconds (default 60).
// - Printed: fleet_ingest_datapoints_per_s (samples stored in the steady phase, counted in the
//   database, times the data points of a snapshot, per second), lost (sent and never acked,
//   plus sent and not in the database: must be 0), ack lag p50/p95, uplink_bytes_per_sample
//   (MQTT payload bytes per snapshot, deflated as the collectors send it), cloud_rss_mb and
//   the cloud's CPU.
// - Then the rate is raised (the interval halved, UPLINK_BENCH_STEP_S seconds each) until the
//   lag p95 passes 2 s, or acks fall behind (lost, or more left unacknowledged at the end of
//   the steady phase than 2 s of the offered load), and the highest rate that kept up is
//   printed as the ceiling. When the base rate does not keep up, the interval is doubled
//   instead until a rate does (at most UPLINK_BENCH_STEPS runs; ceiling 0: none did).
//
// Set-up, not the measured path: the collectors are made known, claimed and given credentials
// by writing their rows into the cloud's database (the `remote_collectors` table, hashed as the
// SQLite adapter hashes: collector-hash.ts) while the cloud runs, instead of 2,000 hellos and
// claims through the API. The cloud reads the store on each connection (credentials) and on
// each batch (the claim, cached 10 s), so no restart is needed.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const COLLECTORS = Number(process.env.UPLINK_BENCH_COLLECTORS ?? 2000);
const SECONDS = Number(process.env.UPLINK_BENCH_S ?? 60);
const STEP_S = Number(process.env.UPLINK_BENCH_STEP_S ?? 30);
const PACKS = 16;
/** UPLINK_BENCH_VERBOSE=1: the load generator's events on stderr as they come. */
const VERBOSE = process.env.UPLINK_BENCH_VERBOSE === '1';
const INTERVAL_MS = 5000;
/** The lag p95 a rate must keep to count as sustained (the issue's target). */
const LAG_P95_MAX_MS = 2000;
/** The most runs spent looking for the ceiling. */
const MAX_STEPS = Number(process.env.UPLINK_BENCH_STEPS ?? 4);
/** The shortest interval tried while looking for the ceiling. */
const MIN_INTERVAL_MS = 100;

/** A child under `bash -c 'ulimit -n <hard>; exec ...'`: the same pid, more file descriptors. */
function spawnRaised(args, opts) {
  const quoted = args.map((x) => `'${x.replace(/'/g, `'\\''`)}'`).join(' ');
  return spawn('bash', ['-c', `ulimit -n "$(ulimit -Hn)"; exec ${quoted}`], opts);
}

/** utime + stime of a process and all its threads (clock ticks, 100 per second here). */
function cpuTicks(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return Number(rest[11]) + Number(rest[12]);
}
const rssMb = (pid) =>
  Math.round(
    Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 102.4,
  ) / 10;

/** The first line matching `re` from a readline iterator (left open for the next call). */
async function waitFor(lines, re, what) {
  for (;;) {
    const { value, done } = await lines.next();
    if (done) throw new Error(`${what}: the process ended first`);
    const m = re.exec(value);
    if (m) return m;
  }
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const crockford = (n) => Array.from(randomBytes(n), (b) => CROCKFORD[b & 31]).join('');
const sha256 = (s) => createHash('sha256').update(s, 'utf8').digest('hex');

/**
 * Makes `count` claimed collectors with credentials in the cloud's database (set-up: see the
 * head of this file) and returns them as the load generator reads them.
 */
function makeCollectors(db, count) {
  const org = db.prepare('SELECT id FROM orgs ORDER BY created_at LIMIT 1').get();
  if (!org) throw new Error('the cloud made no organisation');
  const now = Date.now();
  const insert = db.prepare(
    `INSERT INTO remote_collectors (serial, gateway_id, state, org_id, plant_id, claim_hash,
       secret_hash, version, first_seen_at, last_seen_at, claimed_at, claimed_by, credentials_at)
     VALUES (?, ?, 'claimed', ?, ?, ?, ?, 'bench', ?, ?, ?, 'bench', ?)`,
  );
  const out = [];
  db.transaction(() => {
    for (let i = 0; i < count; i++) {
      const c = {
        serial: `OB${crockford(10)}`,
        gatewayId: `01${crockford(24)}`,
        password: randomBytes(32).toString('base64url'),
      };
      insert.run(
        c.serial,
        c.gatewayId,
        org.id,
        'bench-plant',
        sha256(`claim:${crockford(8)}`),
        sha256(`secret:${c.password}`),
        now,
        now,
        now,
        now,
      );
      out.push(c);
    }
  })();
  return out;
}

/** Stored raw samples (every pack here is a collector's: the cloud runs no sites). */
const storedSamples = (db) => db.prepare('SELECT count(*) AS n FROM telemetry_raw').get().n;

/** One run of the load generator; its result and the cloud's CPU and memory over the run. */
async function runLoad(server, db, collectorsFile, broker, count, intervalMs, seconds) {
  const load = spawnRaised(
    [
      process.execPath,
      'scripts/bench-uplink-load.mjs',
      '--collectors',
      collectorsFile,
      '--broker',
      broker,
      '--packs',
      String(PACKS),
      '--interval',
      String(intervalMs),
      '--duration',
      String(seconds * 1000),
      '--drain',
      '60000',
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let cpu0 = 0;
  let at0 = 0;
  let stored0 = 0;
  let steady;
  let result;
  let connected;
  for await (const line of createInterface({ input: load.stdout })) {
    if (VERBOSE) process.stderr.write(`load: ${line}\n`);
    const m = /^(event|result) (?:(\S+) )?(.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === 'result') result = JSON.parse(m[3]);
    else {
      const name = m[2];
      const data = JSON.parse(m[3]);
      if (name === 'connected') connected = data;
      if (name === 'steady-start') {
        cpu0 = cpuTicks(server.pid);
        at0 = performance.now();
        stored0 = storedSamples(db);
      }
      if (name === 'steady-end') {
        const cpu = cpuTicks(server.pid) - cpu0;
        const s = (performance.now() - at0) / 1000;
        steady = {
          ...data,
          stored: storedSamples(db) - stored0,
          cpuPct: Math.round(cpu / s),
          rss: rssMb(server.pid),
        };
      }
    }
  }
  if (!result || !steady) throw new Error('the load generator ended without a result');
  if (connected.connected !== count)
    throw new Error(`only ${connected.connected} of ${count} collectors connected`);
  return { result, steady };
}

export async function uplinkBench() {
  const dir = mkdtempSync(join(tmpdir(), 'openbms-uplink-bench-'));
  const config = join(dir, 'cloud.yaml');
  writeFileSync(config, ['version: 1', 'broker: { port: 0, host: 127.0.0.1 }', ''].join('\n'));
  const server = spawnRaised(
    [
      process.execPath,
      'packages/cli/bin/openbms.js',
      'cloud',
      '--no-demo',
      '--config',
      config,
      '--data-dir',
      dir,
      '--port',
      '0',
    ],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, OPENBMS_ADMIN_USER: '', OPENBMS_ADMIN_PASSWORD: '' },
    },
  );
  // The server's log is kept for a failure's message, not printed.
  const log = [];
  const keep = (l) => {
    if (VERBOSE) process.stderr.write(`cloud: ${l}\n`);
    log.push(l);
    if (log.length > 40) log.shift();
  };
  createInterface({ input: server.stderr }).on('line', keep);
  server.once('exit', (code, signal) => keep(`(the cloud exited: ${signal ?? code})`));
  let db;
  try {
    const lines = createInterface({ input: server.stdout })[Symbol.asyncIterator]();
    const port = Number(
      (await waitFor(lines, /^collectors: embedded MQTT broker on port (\d+)/, 'broker'))[1],
    );
    await waitFor(lines, /^OpenBMS cloud listening on (http:\/\/\S+) /, 'listen');
    // The rest of its output is kept like the log (it must be read, or the pipe fills).
    (async () => {
      for await (const l of { [Symbol.asyncIterator]: () => lines }) keep(l);
    })().catch(() => undefined);
    db = new Database(join(dir, 'openbms.sqlite'), { fileMustExist: true });
    db.pragma('busy_timeout = 10000');
    const collectors = makeCollectors(db, COLLECTORS);
    const file = join(dir, 'collectors.json');
    writeFileSync(file, JSON.stringify(collectors));
    const broker = `mqtt://127.0.0.1:${port}`;

    const base = await runLoad(server, db, file, broker, COLLECTORS, INTERVAL_MS, SECONDS);
    const r = base.result;
    const stored = storedSamples(db);
    const pointsPerSample = r.points / r.samples;
    const figures = {
      uplink_collectors: COLLECTORS,
      uplink_packs: COLLECTORS * PACKS,
      uplink_interval_ms: INTERVAL_MS,
      uplink_samples_sent: r.samples,
      uplink_acks: r.acked,
      uplink_samples_stored: stored,
      // Sent and never acknowledged, and sent but not in the database: both must be 0.
      uplink_lost: r.lost + Math.max(0, r.samples - stored),
      uplink_resent: r.resent,
      uplink_refused: r.refused,
      fleet_ingest_samples_per_s: Math.round(base.steady.stored / base.steady.seconds),
      fleet_ingest_datapoints_per_s: Math.round(
        (base.steady.stored * pointsPerSample) / base.steady.seconds,
      ),
      uplink_offered_datapoints_per_s: Math.round(
        (COLLECTORS * PACKS * pointsPerSample * 1000) / INTERVAL_MS,
      ),
      uplink_lag_p50_ms: r.lag_p50_ms,
      uplink_lag_p95_ms: r.lag_p95_ms,
      uplink_lag_max_ms: r.lag_max_ms,
      uplink_bytes_per_sample: Math.round((r.bytes / (r.samples + r.resent)) * 10) / 10,
      cloud_rss_mb: base.steady.rss,
      cloud_cpu_pct: base.steady.cpuPct,
    };

    // The ceiling: from the base rate, halve the interval until the cloud falls behind; when
    // the base rate is not sustained already, double it until it is (at most MAX_STEPS runs).
    const sustained = (p95, lost, behind) => p95 <= LAG_P95_MAX_MS && lost === 0 && !behind;
    let best = sustained(r.lag_p95_ms, figures.uplink_lost, false)
      ? { interval: INTERVAL_MS, dps: figures.fleet_ingest_datapoints_per_s }
      : undefined;
    const up = best !== undefined;
    let interval = INTERVAL_MS;
    const steps = [];
    for (let k = 0; k < MAX_STEPS; k++) {
      interval = up ? Math.round(interval / 2) : interval * 2;
      if (interval < MIN_INTERVAL_MS) break;
      const before = storedSamples(db);
      const s = await runLoad(server, db, file, broker, COLLECTORS, interval, STEP_S);
      const lost = s.result.lost + Math.max(0, s.result.samples - (storedSamples(db) - before));
      const dps = Math.round((s.steady.stored * pointsPerSample) / s.steady.seconds);
      // Behind: more unacknowledged at the end of the steady phase than 2 s of offered load.
      const offeredPerS = (COLLECTORS * PACKS * 1000) / interval;
      const behind = s.steady.sent - s.steady.acked > (offeredPerS * LAG_P95_MAX_MS) / 1000;
      steps.push({ interval, dps, p95: s.result.lag_p95_ms, lost, behind, rss: s.steady.rss });
      const ok = sustained(s.result.lag_p95_ms, lost, behind);
      if (ok) best = { interval, dps };
      if (up ? !ok : ok) break;
    }
    figures.uplink_ceiling_interval_ms = best?.interval ?? 0;
    figures.uplink_ceiling_datapoints_per_s = best?.dps ?? 0;
    return { figures, steps };
  } catch (e) {
    throw new Error(
      `${e instanceof Error ? e.message : e}\nthe server's last log lines:\n${log.join('\n')}`,
    );
  } finally {
    db?.close();
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { figures, steps } = await uplinkBench();
  for (const s of steps)
    console.log(
      `uplink  step every ${String(s.interval).padStart(5)} ms: ${s.dps} data points/s, lag p95 ${s.p95} ms, lost ${s.lost}${s.behind ? ', acks behind' : ''}, rss ${s.rss} MB`,
    );
  for (const [k, v] of Object.entries(figures))
    console.log(`uplink  ${k.padEnd(32)} ${String(v).padStart(9)}`);
  console.log(JSON.stringify(figures));
}
