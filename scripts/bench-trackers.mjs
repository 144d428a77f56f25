// The tracker figures of `npm run bench` (docs/trackers.md "Measured"), also runnable alone
// (`node scripts/bench-trackers.mjs`, after `npm run build`):
//
// - tracker_positions_per_s: a real `openbms cloud --no-demo` (SQLite) with a JT/T 808
//   server, and a load generator in another process (scripts/bench-trackers-load.mjs) holding
//   10,000 trackers on real TCP connections, each reporting every 10 s (about 1,000 positions
//   a second) for TRACKER_BENCH_S seconds. Printed: positions stored per second (rows counted
//   in the database), connections held, acks received, lost (sent and not acked, must be 0),
//   and the server process's CPU (all its threads) and resident memory.
// - track_1day_ms: one battery's day of positions (8,640 fixes, one every 10 s, uploaded by
//   the generator as 0x0704 batches) read through GET /api/v1/devices/:id/positions: the
//   median of 7 reads.
//
// Both processes get the hard limit of open files as their soft limit (10,000 sockets each).
// The trackers are registered first through the import route (as a maker does), so the run
// measures reporting, not the device list's growth.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const COUNT = Number(process.env.TRACKER_BENCH_COUNT ?? 10_000);
const SECONDS = Number(process.env.TRACKER_BENCH_S ?? 60);
const INTERVAL_MS = 10_000;
const DAY = 86_400_000;

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

export async function trackerBench() {
  const dir = mkdtempSync(join(tmpdir(), 'openbms-trackers-bench-'));
  const config = join(dir, 'cloud.yaml');
  writeFileSync(
    config,
    [
      'version: 1',
      'trackers:',
      '  jt808: { port: 0, host: 127.0.0.1 }',
      '  limits: { max_connections: 20000, max_per_ip: 20000, idle_s: 600 }',
      '',
    ].join('\n'),
  );
  const server = spawnRaised(
    [
      process.execPath,
      'packages/cli/bin/openbms.js',
      'cloud',
      '--broker-port',
      '0',
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
  // The server's log (a line per request) is kept for a failure's message, not printed.
  const log = [];
  createInterface({ input: server.stderr }).on('line', (l) => {
    log.push(l);
    if (log.length > 40) log.shift();
  });
  let load;
  try {
    const out = createInterface({ input: server.stdout });
    const lines = out[Symbol.asyncIterator]();
    const port = Number((await waitFor(lines, /^trackers: jt808 (\d+)/, 'trackers'))[1]);
    const url = (await waitFor(lines, /^OpenBMS cloud listening on (http:\/\/\S+) /, 'listen'))[1];
    const account = /^ {2}(admin@\S+)\s+(\S+)\s/m.exec(
      readFileSync(join(dir, 'cloud-accounts.txt'), 'utf8'),
    );
    const login = await fetch(`${url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: account[1], password: account[2] }),
    });
    const { token } = await login.json();
    const auth = { authorization: `Bearer ${token}` };
    // The batteries, registered as a maker would (JT/T 808: the phone digits are the serial).
    const csv = ['serial,type,activation'];
    for (let i = 0; i < COUNT; i++) csv.push(`${13800000000 + i},tracker,enabled`);
    const imp = await fetch(`${url}/api/v1/devices/import`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'text/csv' },
      body: `${csv.join('\n')}\n`,
    });
    if (imp.status !== 201) throw new Error(`import: ${imp.status} ${await imp.text()}`);

    const dayFrom = Math.floor(Date.now() / DAY) * DAY - 30 * DAY;
    load = spawnRaised(
      [
        process.execPath,
        'scripts/bench-trackers-load.mjs',
        '--port',
        String(port),
        '--count',
        String(COUNT),
        '--interval',
        String(INTERVAL_MS),
        '--duration',
        String(SECONDS * 1000),
        '--day-from',
        String(dayFrom),
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let cpu0 = 0;
    let at0 = 0;
    let steady;
    let result;
    let connected;
    for await (const line of createInterface({ input: load.stdout })) {
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
        }
        if (name === 'steady-end') {
          const cpu = cpuTicks(server.pid) - cpu0;
          const s = (performance.now() - at0) / 1000;
          steady = { ...data, cpuPct: Math.round(cpu / s), rss: rssMb(server.pid) };
        }
        if (name === 'connect-failed') console.log(`trackers load: ${line}`);
      }
    }
    if (!result || !steady) throw new Error('the load generator ended without a result');

    // Rows stored in the steady phase, counted in the database (the day's upload lies a month
    // back, before the bound).
    const db = new Database(join(dir, 'openbms.sqlite'), { readonly: true, fileMustExist: true });
    const stored = db
      .prepare('SELECT count(*) AS n FROM positions WHERE t >= ?')
      .get(dayFrom + 2 * DAY).n;
    const dev = db.prepare('SELECT id FROM devices WHERE serial = ?').get(String(13800000000));
    db.close();

    // The generator has closed its 10,000 connections: let the server settle (under 10 % of a
    // core for half a second, at most 20 s) before timing reads.
    for (let k = 0, last = cpuTicks(server.pid); k < 40; k++) {
      await new Promise((r) => setTimeout(r, 500));
      const now = cpuTicks(server.pid);
      if (now - last <= 5) break;
      last = now;
    }
    // One battery's day through the API: the median of 7 reads (after one unmeasured).
    const times = [];
    let fixes = 0;
    for (let k = -1; k < 7; k++) {
      const t = performance.now();
      const r = await fetch(
        `${url}/api/v1/devices/${dev.id}/positions?from=${dayFrom}&to=${dayFrom + DAY}`,
        { headers: auth },
      );
      const body = await r.json();
      if (k >= 0) times.push(performance.now() - t);
      fixes = body.length;
    }
    times.sort((x, y) => x - y);
    const figures = {
      tracker_connections: connected.open,
      tracker_connections_held: result.held,
      tracker_positions_sent: result.sent,
      tracker_acks: result.acked,
      tracker_lost: result.lost,
      tracker_positions_stored: stored,
      tracker_positions_per_s: Math.round(stored / (steady.seconds || 1)),
      tracker_connect_s: Math.round(connected.seconds * 10) / 10,
      tracker_server_cpu_pct: steady.cpuPct,
      tracker_server_rss_mb: steady.rss,
      track_1day_fixes: fixes,
      track_1day_ms: Math.round(times[3] * 10) / 10,
    };
    return figures;
  } catch (e) {
    throw new Error(
      `${e instanceof Error ? e.message : e}\nthe server's last log lines:\n${log.join('\n')}`,
    );
  } finally {
    load?.kill('SIGTERM');
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const f = await trackerBench();
  for (const [k, v] of Object.entries(f))
    console.log(`tracker ${k.padEnd(28)} ${String(v).padStart(9)}`);
  console.log(JSON.stringify(f));
}
