// Polling under export load, for `npm run bench` (scripts/bench.mjs calls exportBench()):
// `openbms start` (the built CLI) polls one simulated pack every second, on a data directory
// seeded with 7 days of that pack's samples at 1 Hz. After a warm-up (a history query and an
// hour's CSV: the storage's threads are up, as in a gateway whose console is in use):
//  1. a CSV then an XLSX export of the 7 days, alone: export_peak_rss_mb is the largest rise
//     of the process's resident set (/proc, every 100 ms) over its level just before;
//  2. both exports at once with 50 clients asking the pack's last 24 h of history (16 cell
//     series) in a loop: poll_gap_under_export_ratio is the largest gap between two polls of
//     the pack (the `ts` of its snapshots on the live WebSocket) divided by the poll
//     interval, history_24h_p99_under_load_ms the 99th percentile of those history answers.
// Everything goes through the HTTP API, so the same script measures any version of the code.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';
import { prng } from '@openbms/core';
import { openSqliteStorage } from '@openbms/storage-sqlite';

const WebSocket = createRequire(import.meta.url)('ws');
const PACK = 'bench/rack/2';
const POLL_MS = 1000;
const DAYS = Number(process.env.OPENBMS_BENCH_EXPORT_DAYS ?? 7);
const HISTORY_CLIENTS = 50;
const USER = 'bench';
const PASSWORD = 'bench-password';

/** A random walk of plausible 16S snapshots (about 40 series each, as a real pack gives). */
function snapshotPool(n) {
  const r = prng(42);
  const cells = Array.from({ length: 16 }, () => 3300 + Math.floor(r() * 20));
  let current = 10;
  let soc = 60;
  const out = [];
  for (let i = 0; i < n; i++) {
    current = Math.max(-80, Math.min(80, current + (r() - 0.5) * 4));
    soc = Math.max(5, Math.min(100, soc + current / 2000));
    for (let c = 0; c < 16; c++) cells[c] += Math.round((r() - 0.5) * 4);
    const cell_mv = [...cells];
    const max = Math.max(...cell_mv);
    const min = Math.min(...cell_mv);
    const voltage = Math.round(cell_mv.reduce((a, b) => a + b, 0) / 10) / 100;
    out.push({
      protocol: 'pylontech',
      address: 2,
      voltage_v: voltage,
      current_a: Math.round(current * 100) / 100,
      power_w: Math.round(voltage * current * 10) / 10,
      soc_pct: Math.round(soc),
      soh_pct: 99,
      remaining_ah: Math.round(soc * 10) / 10,
      full_ah: 100,
      cycles: 312,
      state: current > 0.5 ? 'charging' : current < -0.5 ? 'discharging' : 'idle',
      cell_mv,
      max_cell_mv: max,
      min_cell_mv: min,
      delta_cell_mv: max - min,
      avg_cell_mv: Math.round(cell_mv.reduce((a, b) => a + b, 0) / 16),
      temps_c: [0, 1, 2, 3].map((k) => Math.round((24 + k + r() * 2) * 10) / 10),
      mos_temp_c: Math.round((30 + r() * 3) * 10) / 10,
      charge_mos: true,
      discharge_mos: true,
      balancing: r() < 0.2,
      alarms: [],
    });
  }
  return out;
}

/** Writes DAYS of 1 Hz samples of the pack, ending `endMs`, through the storage adapter. */
async function seed(dataDir, endMs) {
  const storage = await openSqliteStorage({ dataDir });
  const pool = snapshotPool(4096);
  const start = endMs - DAYS * 86_400_000;
  const batch = 3600;
  try {
    for (let t = start, i = 0; t < endMs; t += batch * 1000) {
      const samples = [];
      for (let k = 0; k < batch && t + k * 1000 < endMs; k++, i++)
        samples.push({ packId: PACK, ts: t + k * 1000, snapshot: pool[i % pool.length] });
      await writeSamples(storage, samples);
    }
    await storage.telemetry.rollup(endMs);
  } finally {
    await storage.close();
  }
}

/** The adapter's write, whatever the version: the async port takes the local origin first. */
async function writeSamples(storage, samples) {
  if (storage.identity) await storage.telemetry.writeSamples(storage.identity, samples);
  else await storage.telemetry.writeSamples(samples);
}

function rssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024;
}

/** Downloads a URL to nowhere; returns the bytes and seconds it took (or the failure). */
async function download(url, headers) {
  const t0 = performance.now();
  let bytes = 0;
  try {
    const res = await fetch(url, { headers });
    if (res.status !== 200) throw new Error(`HTTP ${res.status} ${await res.text()}`);
    for await (const chunk of res.body) bytes += chunk.length;
  } catch (e) {
    return { bytes, s: (performance.now() - t0) / 1000, error: String(e?.message ?? e) };
  }
  return { bytes, s: (performance.now() - t0) / 1000 };
}

/** Runs `fn` while sampling the RSS every 100 ms; returns its result and the peak rise. */
async function withRss(pid, fn) {
  const base = rssMb(pid);
  let peak = base;
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rssMb(pid));
    } catch {
      // the process ended: the run reports the failure
    }
  }, 100);
  try {
    const result = await fn();
    peak = Math.max(peak, rssMb(pid));
    return { result, rise: peak - base };
  } finally {
    clearInterval(timer);
  }
}

export async function exportBench() {
  const dir = mkdtempSync(join(tmpdir(), 'openbms-export-bench-'));
  const config = join(dir, 'openbms.yaml');
  writeFileSync(
    config,
    `version: 1\nsites:\n  - id: bench\n    buses:\n      - id: rack\n        port: sim\n        protocol: pylontech\n        poll_interval_s: 1\n        packs:\n          - { address: 2 }\n`,
  );
  const now = Date.now();
  const tSeed = performance.now();
  await seed(dir, now - 2000);
  const seedS = (performance.now() - tSeed) / 1000;
  const child = spawn(
    process.execPath,
    ['packages/cli/bin/openbms.js', 'start', '--config', config, '--data-dir', dir, '--port', '0'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, OPENBMS_ADMIN_USER: USER, OPENBMS_ADMIN_PASSWORD: PASSWORD },
    },
  );
  // The server's log: the last lines are shown when an export fails.
  let log = '';
  child.stderr.on('data', (d) => (log = (log + d).slice(-4000)));
  let ws;
  try {
    let base;
    for await (const line of createInterface({ input: child.stdout })) {
      const m = /^OpenBMS listening on (\S+)/.exec(line);
      if (m) {
        base = m[1];
        break;
      }
    }
    if (!base) throw new Error('openbms start did not come up');
    const login = await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: USER, password: PASSWORD }),
    });
    const { token } = await login.json();
    const headers = { authorization: `Bearer ${token}` };

    // Poll times of the pack, from its snapshots on the live stream.
    const polls = [];
    ws = new WebSocket(`${base.replace(/^http/, 'ws')}/api/v1/live?token=${token}`);
    ws.on('message', (data) => {
      const m = JSON.parse(String(data));
      if (m.type === 'snapshot' && m.pack_id === PACK) polls.push(m.ts);
    });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    ws.send(JSON.stringify({ subscribe: [PACK] }));
    const settle = polls.length;
    while (polls.length < settle + 5) await new Promise((r) => setTimeout(r, 200));
    const maxGap = (from) => {
      let gap = 0;
      for (let i = Math.max(1, from); i < polls.length; i++)
        gap = Math.max(gap, polls[i] - polls[i - 1]);
      return gap;
    };

    const range = `pack=${encodeURIComponent(PACK)}&from=${now - DAYS * 86_400_000}&to=${now}`;
    const csvUrl = `${base}/api/v1/exports/csv?${range}`;
    const xlsxUrl = `${base}/api/v1/exports/xlsx?${range}`;

    // Warm-up, as a console in use has done: a day of history and an hour's CSV, so the
    // storage's reader threads are up (each thread is an isolate of ~15-35 MB, started at the
    // first read) and what follows measures the exports themselves.
    await download(
      `${base}/api/v1/packs/${encodeURIComponent(PACK)}/history?fields=cell_mv`,
      headers,
    );
    await download(
      `${base}/api/v1/exports/csv?pack=${encodeURIComponent(PACK)}&from=${now - 3_600_000}&to=${now}`,
      headers,
    );

    // 1. Memory: each export alone.
    const aloneFrom = polls.length;
    const csv = await withRss(child.pid, () => download(csvUrl, headers));
    const xlsx = await withRss(child.pid, () => download(xlsxUrl, headers));
    const aloneGap = maxGap(aloneFrom);
    console.error(
      `export alone: csv ${JSON.stringify(csv)}, xlsx ${JSON.stringify(xlsx)}, largest poll gap ${aloneGap} ms`,
    );

    // 2. Polling: both exports and 50 history clients at once.
    const loadFrom = polls.length;
    const latencies = [];
    let exporting = true;
    const historyUrl = `${base}/api/v1/packs/${encodeURIComponent(PACK)}/history?fields=cell_mv`;
    let historyErrors = 0;
    const client = async () => {
      for (let i = 0; i < 20 && exporting; i++) {
        const t0 = performance.now();
        try {
          const res = await fetch(historyUrl, { headers });
          await res.arrayBuffer();
          if (res.status !== 200) throw new Error(`history: HTTP ${res.status}`);
          latencies.push(performance.now() - t0);
        } catch {
          historyErrors++;
          if (child.exitCode !== null) return;
        }
      }
    };
    const clients = Array.from({ length: HISTORY_CLIENTS }, client);
    const both = await Promise.all([download(xlsxUrl, headers), download(csvUrl, headers)]);
    exporting = false;
    await Promise.all(clients);
    // One more poll after the load, so a stall at its very end is counted too.
    const after = polls.length;
    const waitUntil = Date.now() + 30_000;
    while (polls.length < after + 2 && child.exitCode === null && Date.now() < waitUntil)
      await new Promise((r) => setTimeout(r, 200));
    const serverExited = child.exitCode !== null;
    const loadGap = maxGap(loadFrom);
    latencies.sort((a, b) => a - b);
    const failures = [csv.result, xlsx.result, ...both].filter((r) => r.error);
    if (failures.length > 0) {
      console.error(`export failures: ${failures.map((f) => f.error).join('; ')}`);
      console.error(`server log (end):\n${log}`);
    }
    const p99 = latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))];
    return {
      poll_gap_under_export_ratio: Math.round((loadGap / POLL_MS) * 100) / 100,
      poll_gap_export_alone_ratio: Math.round((aloneGap / POLL_MS) * 100) / 100,
      export_peak_rss_mb: Math.round(Math.max(csv.rise, xlsx.rise)),
      export_csv_rss_mb: Math.round(csv.rise),
      export_xlsx_rss_mb: Math.round(xlsx.rise),
      export_csv_7d_s: Math.round(csv.result.s * 10) / 10,
      export_xlsx_7d_s: Math.round(xlsx.result.s * 10) / 10,
      export_csv_7d_mb: Math.round(csv.result.bytes / 1e5) / 10,
      export_xlsx_7d_mb: Math.round(xlsx.result.bytes / 1e5) / 10,
      export_under_load_s: Math.round(Math.max(both[0].s, both[1].s) * 10) / 10,
      history_24h_p99_under_load_ms: Math.round(p99 ?? NaN),
      history_requests_under_load: latencies.length,
      export_bench_seed_s: Math.round(seedS),
      export_failures: failures.length,
      history_errors_under_load: historyErrors,
      server_exited_under_load: serverExited,
    };
  } finally {
    ws?.close();
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
    rmSync(dir, { recursive: true, force: true });
  }
}

// Run alone: `node scripts/bench-export.mjs` (after `npm run build`).
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  console.log(JSON.stringify(await exportBench()));
}
