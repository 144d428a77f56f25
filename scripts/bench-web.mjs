// Web console figures for `npm run bench` (issue 5):
// - web_js_gzip_kb: the JavaScript the first page load needs (the entry script and its
//   modulepreloads in dist/index.html), gzipped;
// - live_latency_p95_ms: from a snapshot leaving the gateway (the WebSocket message's
//   `sent_at`; `ts` is when the pack was read, a whole read cycle earlier) to the browser's DOM
//   showing it (after React's commit, reported by the page's live store), p95 on the overview;
// - history_render_ms: the History tab's cell chart drawing 16 cells x ~2,000 points (one
//   year of stored history, seeded before start), from the page's performance.measure.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { gzipSync } from 'node:zlib';

const DIST = 'packages/web/dist';

export function initialJsGzipKb() {
  const html = readFileSync(join(DIST, 'index.html'), 'utf8');
  const files = [
    ...html.matchAll(/<script[^>]+type="module"[^>]+src="([^"]+)"/g),
    ...html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="([^"]+)"/g),
  ].map((m) => m[1]);
  let bytes = 0;
  for (const f of new Set(files))
    bytes += gzipSync(readFileSync(join(DIST, f)), { level: 9 }).length;
  return Math.round(bytes / 102.4) / 10;
}

/** A year of 16-cell history for the JK demo pack, rolled up (raw ages out; 1h stays). */
async function seedYear(dataDir, packId) {
  const { openSqliteStorage } = await import('@openbms/storage-sqlite');
  // The port is asynchronous (ADR 0010): every call is awaited, writes name their origin.
  const s = await openSqliteStorage({ dataDir });
  const now = Date.now();
  const step = 15 * 60_000;
  const batch = [];
  for (let ts = now - 365 * 86_400_000; ts < now - 3_600_000; ts += step) {
    const day = (ts / 86_400_000) % 1;
    const cell_mv = Array.from({ length: 16 }, (_, i) =>
      Math.round(3300 + 60 * Math.sin(day * 2 * Math.PI) + ((i * 7) % 11)),
    );
    batch.push({
      packId,
      ts,
      snapshot: {
        voltage_v: cell_mv.reduce((a, b) => a + b, 0) / 1000,
        current_a: 20 * Math.sin(day * 2 * Math.PI),
        soc_pct: 50 + 40 * Math.sin(day * 2 * Math.PI),
        cell_mv,
        temps_c: [25, 26],
      },
    });
    if (batch.length === 5000) await s.telemetry.writeSamples(s.identity, batch.splice(0));
  }
  await s.telemetry.writeSamples(s.identity, batch);
  await s.telemetry.rollup(now);
  await s.close();
}

export async function webBench() {
  const out = { web_js_gzip_kb: initialJsGzipKb() };
  const { chromium } = await import('playwright-core');
  const dir = mkdtempSync(join(tmpdir(), 'openbms-webbench-'));
  await seedYear(dir, 'demo/jk/1');
  const child = spawn(
    process.execPath,
    ['packages/cli/bin/openbms.js', 'start', '--data-dir', dir, '--port', '0'],
    {
      cwd: process.cwd(),
      stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        ...process.env,
        OPENBMS_ADMIN_USER: 'bench',
        OPENBMS_ADMIN_PASSWORD: 'bench-password',
      },
    },
  );
  let url;
  for await (const line of createInterface({ input: child.stdout })) {
    const m = /listening on (http:\/\/\S+) /.exec(line);
    if (m) {
      url = m[1];
      break;
    }
  }
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
    ],
  });
  try {
    const context = await browser.newContext({
      baseURL: url,
      viewport: { width: 1280, height: 800 },
    });
    await context.request.post('/api/v1/auth/login', {
      data: { username: 'bench', password: 'bench-password' },
    });
    // The page's live store reports, per snapshot, the time from `sent_at` to just after
    // React committed the re-render it caused (src/api/live.ts).
    await context.addInitScript(() => {
      window.__openbmsLatency = [];
    });
    const page = await context.newPage();
    await page.goto('/');
    const samples = Number(process.env.OPENBMS_BENCH_LIVE_SAMPLES ?? 60);
    await page.waitForFunction((n) => window.__openbmsLatency.length >= n, samples, {
      timeout: 120_000,
    });
    const lat = (await page.evaluate(() => window.__openbmsLatency)).sort((a, b) => a - b);
    out.live_latency_p95_ms = lat[Math.min(lat.length - 1, Math.floor(lat.length * 0.95))];

    const renders = [];
    for (let i = 0; i < 3; i++) {
      await page.goto(`/packs/${encodeURIComponent('demo/jk/1')}/history`);
      await page.waitForFunction(() => performance.getEntriesByName('history-render').length > 0);
      await page.evaluate(() => performance.clearMeasures('history-render'));
      await page.getByTestId('range-1y').click();
      const ms = await page.waitForFunction(
        () => performance.getEntriesByName('history-render').at(-1)?.duration,
        undefined,
        { timeout: 60_000 },
      );
      renders.push(await ms.jsonValue());
    }
    out.history_render_ms = Math.round(Math.min(...renders) * 10) / 10;
  } finally {
    await browser.close();
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
