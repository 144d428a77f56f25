/**
 * Browser tests: a real `openbms start` process on the demo site (simulated packs over
 * TCP, SQLite in a temp dir) and Debian's Chromium driven by playwright-core. Each test file
 * gets its own server and browser; `page()` fails the test on any console error.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const BIN = join(ROOT, 'packages/cli/bin/openbms.js');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const ADMIN = { username: 'admin', password: 'e2e-admin-password' };

export interface Console {
  url: string;
  dataDir: string;
  proc: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
}

/**
 * Starts `openbms start` on a free port. `admin: false` leaves the first-run setup to the
 * test (onboarding); otherwise the admin comes from OPENBMS_ADMIN_USER/PASSWORD.
 */
export async function startConsole(
  opts: { admin?: boolean; config?: string; env?: Record<string, string> } = {},
): Promise<Console> {
  if (!existsSync(join(ROOT, 'packages/web/dist/index.html'))) {
    throw new Error('the web console is not built: run `npm run build` first');
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'openbms-e2e-'));
  // OPENBMS_E2E_PORT: a fixed port for sessions that share the machine (else any free one).
  const port = process.env.OPENBMS_E2E_PORT ?? '0';
  const args = [BIN, 'start', '--data-dir', dataDir, '--port', port];
  if (opts.config !== undefined) {
    const path = join(dataDir, 'openbms.yaml');
    writeFileSync(path, opts.config);
    args.push('--config', path);
  }
  const env: Record<string, string | undefined> = { ...process.env, ...opts.env };
  if (opts.admin !== false) {
    env.OPENBMS_ADMIN_USER = ADMIN.username;
    env.OPENBMS_ADMIN_PASSWORD = ADMIN.password;
  } else {
    delete env.OPENBMS_ADMIN_USER;
    delete env.OPENBMS_ADMIN_PASSWORD;
  }
  const proc = spawn(process.execPath, args, { cwd: dataDir, env, stdio: 'pipe' });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const deadline = setTimeout(
      () => reject(new Error(`openbms start did not listen:\n${out}`)),
      30_000,
    );
    const check = (): void => {
      const m = /listening on (http:\/\/[^\s]+) /.exec(out);
      if (m) {
        clearTimeout(deadline);
        resolve(m[1]!);
      }
    };
    proc.stdout!.on('data', check);
    proc.on('exit', (code) => {
      clearTimeout(deadline);
      reject(new Error(`openbms start exited with ${code}:\n${out}`));
    });
  });
  return {
    url,
    dataDir,
    proc,
    output: () => out,
    stop: async () => {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Chromium, headless; `args` adds switches (a fake camera, say) to the usual ones. */
export async function launchBrowser(args: readonly string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-quic',
      '--no-first-run',
      '--disable-sync',
      ...args,
    ],
  });
}

export interface OpenPage {
  page: Page;
  context: BrowserContext;
  /** Console errors and page errors seen so far (script errors, React warnings...). */
  errors: string[];
  /** HTTP error answers the page received (Chromium logs them to the console too). */
  http: string[];
}

/** A new browser context (own cookies and storage) on the console. */
export async function openPage(
  browser: Browser,
  base: string,
  opts: { width?: number; height?: number; lang?: 'en' | 'zh'; login?: boolean } = {},
): Promise<OpenPage> {
  const context = await browser.newContext({
    baseURL: base,
    viewport: { width: opts.width ?? 1280, height: opts.height ?? 800 },
    locale: 'en-GB',
    acceptDownloads: true,
  });
  await context.addInitScript((lang) => {
    if (lang && !localStorage.getItem('openbms.lang')) localStorage.setItem('openbms.lang', lang);
  }, opts.lang ?? 'en');
  const page = await context.newPage();
  const errors: string[] = [];
  const http: string[] = [];
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    // Chromium logs every 4xx/5xx answer of fetch() as a console error; a refused write
    // (422) or a wrong password (401) is expected behaviour, kept apart in `http`.
    if (m.text().startsWith('Failed to load resource: the server responded with a status of'))
      http.push(m.text());
    else errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  if (opts.login !== false) {
    const r = await context.request.post('/api/v1/auth/login', { data: ADMIN });
    if (!r.ok()) throw new Error(`login failed: ${r.status()} ${await r.text()}`);
  }
  return { page, context, errors, http };
}

/** The first pack id of a protocol in the demo site. */
export const DEMO = {
  /** The PACE rack (Rack 4 allows unverified commands). */
  rack: ['demo/rack/1', 'demo/rack/2', 'demo/rack/3', 'demo/rack/4'],
  pylon: 'demo/pylon/2',
  jk: 'demo/jk/1',
  daly: 'demo/daly/64',
};

export const packUrl = (id: string, tab = 'status'): string =>
  `/packs/${encodeURIComponent(id)}/${tab}`;
