// `npm run bench`: decode throughput per protocol family on one core, from the recorded
// vectors (fixtures). Prints one line per figure and, as the last line, one JSON object of
// named figures that later work extends. Figures are rates; compare ratios between runs
// (the machine is shared and absolute times wander).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { PROTOCOLS, hexToBytes, modbus } from '@openbms/protocols';
import { DEVICES, ManualClock, createSimulation } from '@openbms/simulator';

const MIN_MS = Number(process.env.OPENBMS_BENCH_MS ?? 1000);

/**
 * Loads a package's bench module (`packages/<pkg>/src/testing/bench/*.ts`). Test and bench
 * code is not part of any package's build (ADR 0008), so the bench bundles its own entry with
 * esbuild: the module and the package-internal files it reaches, compiled from source; every
 * other package (`@openbms/*`, npm) stays an import of its built dist, as the product runs it.
 * The bundle goes under node_modules/.cache so those imports resolve from the repository.
 */
const BENCH_OUT = fileURLToPath(new URL('../node_modules/.cache/openbms-bench/', import.meta.url));
/**
 * `@openbms/<pkg>/testing` (test helpers, in no package's exports; vitest aliases it the same
 * way) is bundled from its source; everything else stays external. The storage's helpers
 * come from `memory.ts` alone: its index also exports the contract suites, which load vitest.
 */
const TESTING_ENTRY = { storage: 'memory.ts' };
const testHelpers = {
  name: 'openbms-testing',
  setup(b) {
    b.onResolve({ filter: /^@openbms\/[a-z-]+\/testing$/ }, (a) => {
      const pkg = a.path.split('/')[1];
      const file = TESTING_ENTRY[pkg] ?? 'index.ts';
      return {
        path: fileURLToPath(new URL(`../packages/${pkg}/src/testing/${file}`, import.meta.url)),
      };
    });
  },
};
async function benchModule(src) {
  const entry = fileURLToPath(new URL(`../packages/${src}`, import.meta.url));
  const outfile = join(BENCH_OUT, `${src.replace(/[^a-z0-9]+/gi, '-')}.mjs`);
  await build({
    entryPoints: [entry],
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    logLevel: 'warning',
    plugins: [testHelpers],
  });
  return import(pathToFileURL(outfile).href);
}

function optionsOf(v) {
  const o = {};
  if (v.request_hex) o.request = hexToBytes(v.request_hex);
  else if (typeof v.context?.request_cid2 === 'string') {
    o.request = hexToBytes(v.context.request_cid2 + (v.context.request_info_hex ?? ''));
  } else if (
    typeof v.context?.start_register === 'string' &&
    typeof v.context.function === 'number'
  ) {
    // Modbus (Seplos V3): the request a reply answers, rebuilt from the context as the
    // conformance tests do (protocols/src/testing/vectors.ts).
    const count = v.context.register_count ?? v.context.coil_count;
    if (typeof count === 'number') {
      o.request = modbus.encodeModbusRequest({
        unit: hexToBytes(v.response_hex)[0] ?? 0,
        fn: v.context.function,
        start: parseInt(v.context.start_register, 16),
        count,
      });
    }
  }
  if (v.variant) o.variant = v.variant;
  if (typeof v.context?.cell_count === 'number') o.cells = v.context.cell_count;
  if (typeof v.context?.temp_sensor_count === 'number') o.tempSensors = v.context.temp_sensor_count;
  return o;
}

/** Frames per second decoding `cases` round-robin for at least MIN_MS. */
function rate(def, cases) {
  let frames = 0;
  let sink = 0;
  // Warm-up so the JIT has compiled the decoders before timing.
  for (let i = 0; i < 20_000; i++)
    sink += Object.keys(
      def.decode(cases[i % cases.length].bytes, cases[i % cases.length].opts),
    ).length;
  const start = performance.now();
  let now = start;
  while (now - start < MIN_MS) {
    for (let i = 0; i < 5_000; i++) {
      const c = cases[i % cases.length];
      sink += Object.keys(def.decode(c.bytes, c.opts)).length;
    }
    frames += 5_000;
    now = performance.now();
  }
  if (sink < 0) console.log(sink);
  return Math.round((frames * 1000) / (now - start));
}

/** Bytes per second through the stream framer, the replies fed in 64-byte chunks. */
function framerRate(def, cases) {
  const stream = Buffer.concat(cases.map((c) => c.bytes));
  const framer = def.createFramer();
  let bytes = 0;
  const start = performance.now();
  let now = start;
  while (now - start < MIN_MS / 2) {
    for (let o = 0; o < stream.length; o += 64) framer.push(stream.subarray(o, o + 64));
    framer.end();
    bytes += stream.length;
    now = performance.now();
  }
  return Math.round((bytes * 1000) / (now - start));
}

const figures = {};
for (const def of PROTOCOLS) {
  const file = JSON.parse(
    readFileSync(
      new URL(`../packages/protocols/src/${def.id}/fixtures/vectors.json`, import.meta.url),
      'utf8',
    ),
  );
  const all = file.vectors
    .filter((v) => v.expected.error !== true)
    .map((v) => ({ id: v.id, bytes: hexToBytes(v.response_hex), opts: optionsOf(v) }));
  // JK: the 300-byte 55AA records are the figure the targets name; others separately.
  const groups =
    def.id === 'jk'
      ? {
          jk: all.filter((c) => c.bytes.length >= 300 && c.bytes[0] === 0x55),
          jk_4e57: all.filter((c) => c.bytes[0] === 0x4e),
        }
      : { [def.id.replace(/-/g, '_')]: all };
  for (const [name, cases] of Object.entries(groups)) {
    if (!cases.length) continue;
    const avg = Math.round(cases.reduce((n, c) => n + c.bytes.length, 0) / cases.length);
    const fps = rate(def, cases);
    figures[`decode_${name}_fps`] = fps;
    console.log(
      `decode ${name.padEnd(12)} ${String(fps).padStart(9)} frames/s  (${cases.length} recorded replies, avg ${avg} bytes)`,
    );
  }
  const bps = framerRate(def, all);
  figures[`framer_${def.id.replace(/-/g, '_')}_mbps`] = Math.round(bps / 1e4) / 100;
  console.log(`framer ${def.id.padEnd(12)} ${(bps / 1e6).toFixed(2).padStart(9)} MB/s`);
}

// Simulator: how many packs one process can serve at 1 poll per pack per second. One
// simulated second = one physics step per pack plus one full read cycle answered per pack
// (request framing and reply building; the reader's side is not the simulator's cost).
/** The requests of one full read cycle of each pack (the reader runs it once here). */
function cycleRequests(def, sim) {
  return sim.packs.map((pack) => {
    const requests = [];
    const session = def.readSession({ address: pack.address });
    for (let step = session.next(); step; step = session.next()) {
      requests.push(step.request);
      const r = sim.bus.respond(step.request);
      if (!r) continue;
      const f = def.createFramer();
      const frames = r.pieces
        .flatMap((p) => f.push(p))
        .filter((ev) => ev.type === 'frame')
        .map((ev) => ev.bytes);
      session.accept(
        step,
        frames.filter((x) => step.accepts(x)),
      );
    }
    return requests;
  });
}
function simRound(sim, requests) {
  sim.clock.advance(1000);
  for (const perPack of requests) for (const req of perPack) sim.bus.respond(req);
}
let worst = Infinity;
for (const device of DEVICES) {
  const def = PROTOCOLS.find((p) => p.id === device.id);
  const packs = device.id === 'jbd' ? 1 : 16;
  const sim = createSimulation({
    protocol: device.id,
    packs,
    clock: new ManualClock(),
    profile: 'solar',
    turnaroundMs: 0,
  });
  const requests = cycleRequests(def, sim);
  for (let i = 0; i < 20; i++) simRound(sim, requests);
  const start = performance.now();
  let rounds = 0;
  while (performance.now() - start < MIN_MS / 2) {
    simRound(sim, requests);
    rounds++;
  }
  const perPackMs = (performance.now() - start) / rounds / packs;
  const perCore = Math.floor(1000 / perPackMs);
  worst = Math.min(worst, perCore);
  figures[`sim_${device.id.replace(/-/g, '_')}_packs_per_core`] = perCore;
  console.log(
    `sim    ${device.id.padEnd(12)} ${String(perCore).padStart(9)} packs/core at 1 poll/s (${(perPackMs * 1000).toFixed(0)} µs per pack-second)`,
  );
}
figures.sim_packs_per_core = worst;
if (globalThis.gc) {
  globalThis.gc();
  const before = process.memoryUsage().heapUsed;
  const sims = [];
  for (let i = 0; i < 32; i++)
    sims.push(createSimulation({ protocol: 'pylontech', packs: 16, clock: new ManualClock() }));
  for (const s of sims) s.bus.advance();
  globalThis.gc();
  const perPack = (process.memoryUsage().heapUsed - before) / (32 * 16);
  figures.sim_memory_per_pack_kb = Math.round(perPack / 102.4) / 10;
  console.log(
    `sim    memory       ${figures.sim_memory_per_pack_kb.toFixed(1).padStart(9)} kB per simulated 16S pack`,
  );
  if (sims.length < 0) console.log(sims);
}

// Gateway: the bus scheduler's poll cycle against bytes on the wire (16 packs, 9600 baud).
const { bench: schedulerBench } = await benchModule('gateway/src/testing/bench/scheduler.ts');
Object.assign(figures, await schedulerBench());
console.log(
  `gateway poll/wire  ${figures.poll_wire_ratio.toFixed(3).padStart(9)} (poll-cycle time / bytes-on-wire time, 16 packs at 9600 baud)`,
);

// MQTT: state messages per second delivered through the local Mosquitto (100 packs).
const { bench: mqttBench } = await benchModule('gateway/src/testing/bench/mqtt.ts');
try {
  const m = await mqttBench();
  Object.assign(figures, m);
  for (const [k, v] of Object.entries(m))
    console.log(`mqtt    ${k.padEnd(24)} ${String(v).padStart(9)}`);
} catch (e) {
  console.log(
    `mqtt    skipped: ${e instanceof Error ? e.message : e} (is Mosquitto running on 127.0.0.1:1883?)`,
  );
}

// Modbus TCP: block reads per second one client gets from the server (16 packs).
const { bench: modbusBench } = await benchModule('gateway/src/testing/bench/modbus.ts');
const mb = await modbusBench();
Object.assign(figures, mb);
for (const [k, v] of Object.entries(mb))
  console.log(`modbus  ${k.padEnd(24)} ${String(v).padStart(9)}`);

// Storage: ingest rate, history query times, bytes per raw sample (SQLite file in a temp dir),
// through the port: each call goes to the storage's worker threads, whose script is the built
// package's (the bundled bench module has none beside it).
process.env.OPENBMS_SQLITE_WORKER ??= fileURLToPath(
  new URL('../packages/storage-sqlite/dist/sqlite-worker.js', import.meta.url),
);
const { bench: storageBench } = await benchModule('storage-sqlite/src/testing/bench.ts');
const storage = await storageBench(mkdtempSync(join(tmpdir(), 'openbms-bench-')));
Object.assign(figures, storage);
for (const [k, v] of Object.entries(storage))
  console.log(`storage ${k.padEnd(24)} ${String(v).padStart(9)}`);

// PostgreSQL (127.0.0.1:5432, a database of its own, dropped after): sustained ingest in data
// points (stored values) per second beside SQLite's, and the same history queries.
const { bench: pgBench } = await benchModule('storage-postgres/src/testing/bench.ts');
const pgFigures = await pgBench();
Object.assign(figures, pgFigures);
for (const [k, v] of Object.entries(pgFigures))
  console.log(`storage ${k.padEnd(28)} ${String(v).padStart(9)}`);
console.log(
  `storage ingest data points/s: PostgreSQL ${figures.pg_ingest_datapoints_per_s}, SQLite ${figures.sqlite_ingest_datapoints_per_s}`,
);

// The fleet's device list: 100,000 devices in a 5,556-organisation tree on PostgreSQL, the
// first page with a status filter and a search, list and counts (goal <= 50 ms).
const { benchDevices } = await benchModule('storage-postgres/src/testing/bench-devices.ts');
const fleet = await benchDevices();
Object.assign(figures, fleet);
for (const [k, v] of Object.entries(fleet))
  console.log(`fleet   ${k.padEnd(28)} ${String(v).padStart(9)} ms`);

// The fleet API under load: GET of a device list page by 50 concurrent clients against the
// real server on PostgreSQL (10,000 devices, the platform's whole fleet in scope).
const { benchApi } = await benchModule('server/src/testing/bench-api.ts');
const api = await benchApi();
Object.assign(figures, api);
for (const [k, v] of Object.entries(api))
  console.log(
    `fleet   ${k.padEnd(28)} ${String(v).padStart(9)}${k.endsWith('_ms') ? ' ms' : ' requests/s'}`,
  );

// GPS trackers: `openbms cloud --no-demo` holding 10,000 JT/T 808 trackers over real TCP,
// each reporting every 10 s, from a load generator in another process; then one battery's
// day of positions through the API (scripts/bench-trackers.mjs).
const { trackerBench } = await import('./bench-trackers.mjs');
const tr = await trackerBench();
Object.assign(figures, tr);
for (const [k, v] of Object.entries(tr))
  console.log(`tracker ${k.padEnd(28)} ${String(v).padStart(9)}`);

// Collector uplink: `openbms cloud --no-demo` with its embedded MQTT broker, 2,000 collectors
// × 16 packs every 5 s from a load generator speaking the real uplink protocol in another
// process, then the rate raised to the ceiling (scripts/bench-uplink.mjs).
const { uplinkBench } = await import('./bench-uplink.mjs');
const up = await uplinkBench();
Object.assign(figures, up.figures);
for (const s of up.steps)
  console.log(
    `uplink  every ${String(s.interval).padStart(5)} ms: ${s.dps} data points/s, lag p95 ${s.p95} ms, lost ${s.lost}${s.behind ? ', acks behind' : ''}`,
  );
for (const [k, v] of Object.entries(up.figures))
  console.log(`uplink  ${k.padEnd(32)} ${String(v).padStart(9)}`);

// Gateway RSS: `openbms start` with 16 simulated packs on one bus, measured after a minute of
// simulated polling (the process's own resident set, from /proc).
async function gatewayRss() {
  const dir = mkdtempSync(join(tmpdir(), 'openbms-rss-'));
  const config = join(dir, 'openbms.yaml');
  const packs = Array.from({ length: 16 }, (_, i) => `          - { address: ${2 + i} }`).join(
    '\n',
  );
  writeFileSync(
    config,
    `version: 1\nsites:\n  - id: bench\n    buses:\n      - id: rack\n        port: sim\n        protocol: pylontech\n        poll_interval_s: 1\n        simulator: { speed: 60 }\n        packs:\n${packs}\n`,
  );
  const child = spawn(
    process.execPath,
    ['packages/cli/bin/openbms.js', 'start', '--config', config, '--data-dir', dir, '--port', '0'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        ...process.env,
        OPENBMS_ADMIN_USER: 'bench',
        OPENBMS_ADMIN_PASSWORD: 'bench-password',
      },
    },
  );
  for await (const line of createInterface({ input: child.stdout }))
    if (line.startsWith('OpenBMS listening')) break;
  await new Promise((r) => setTimeout(r, Number(process.env.OPENBMS_BENCH_RSS_S ?? 20) * 1000));
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  child.kill('SIGTERM');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return Math.round(kb / 102.4) / 10;
}
figures.gateway_rss_mb_16_packs = await gatewayRss();
console.log(
  `gateway rss        ${String(figures.gateway_rss_mb_16_packs).padStart(9)} MB with 16 packs polled`,
);

// Polling under export load: a 7-day 1 Hz export (XLSX and CSV) and 50 history clients
// against `openbms start` (scripts/bench-export.mjs).
const { exportBench } = await import('./bench-export.mjs');
const ex = await exportBench();
Object.assign(figures, ex);
for (const [k, v] of Object.entries(ex))
  console.log(`export  ${k.padEnd(32)} ${String(v).padStart(9)}`);

// Web console: initial JS size, live latency to the DOM, history chart render.
const { webBench } = await import('./bench-web.mjs');
const web = await webBench();
Object.assign(figures, web);
for (const [k, v] of Object.entries(web))
  console.log(`web ${k.padEnd(28)} ${String(v).padStart(9)}`);
console.log(JSON.stringify(figures));
