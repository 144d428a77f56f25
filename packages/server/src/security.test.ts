/**
 * Security headers on every kind of response, the CSP against what the web console and
 * /api/docs actually load, and the Origin check of the live WebSocket. A real server on
 * port 0, real `ws` clients.
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_ORIGIN, memoryStorage } from '@openbms/storage/testing';
import { buildServer } from './app.js';
import { FakeGateway } from './testing/fake-gateway.js';
import { FakeTelemetry } from './testing/fake-telemetry.js';
import { startHarness, type Harness } from './testing/harness.js';
import { LiveClient, UpgradeRefused } from './testing/ws-client.js';

const WEB = fileURLToPath(new URL('../../web/', import.meta.url));

/** The directives of a CSP header value, as a map of name to sources. */
function directives(csp: string | null): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const part of (csp ?? '').split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name) m.set(name, sources);
  }
  return m;
}

function expectSecurityHeaders(what: string, headers: Headers): void {
  const csp = directives(headers.get('content-security-policy'));
  expect(csp.get('default-src'), what).toEqual(["'self'"]);
  expect(csp.get('script-src'), what).toEqual(["'self'"]);
  expect(csp.get('object-src'), what).toEqual(["'none'"]);
  expect(csp.get('frame-ancestors'), what).toEqual(["'none'"]);
  expect(csp.has('upgrade-insecure-requests'), what).toBe(false);
  expect(headers.get('x-frame-options'), what).toBe('DENY');
  expect(headers.get('x-content-type-options'), what).toBe('nosniff');
  expect(headers.get('referrer-policy'), what).toBe('no-referrer');
  expect(headers.get('x-powered-by'), what).toBeNull();
  // Plain HTTP: no HSTS (browsers ignore it there, and the install may have no TLS at all).
  expect(headers.get('strict-transport-security'), what).toBeNull();
}

/** What an HTML page loads that a CSP governs; fails on anything inline. */
function pageNeeds(html: string): { scripts: string[]; styles: string[]; images: string[] } {
  expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i); // inline script
  expect(html).not.toMatch(/<style[\s>]/i);
  expect(html).not.toMatch(/\sstyle=/i);
  expect(html).not.toMatch(/\son[a-z]+=/i); // inline event handlers
  const attr = (re: RegExp): string[] => [...html.matchAll(re)].map((m) => m[1]!);
  return {
    scripts: attr(/<script[^>]*\bsrc="([^"]+)"/gi),
    styles: attr(/<link[^>]*rel="stylesheet"[^>]*href="([^"]+)"/gi),
    images: attr(/<link[^>]*rel="icon"[^>]*href="([^"]+)"/gi),
  };
}

describe('security headers', () => {
  let h: Harness;
  let admin: string;
  beforeAll(async () => {
    const webRoot = mkdtempSync(join(tmpdir(), 'openbms-web-'));
    copyFileSync(join(WEB, 'index.html'), join(webRoot, 'index.html'));
    mkdirSync(join(webRoot, 'assets'));
    writeFileSync(join(webRoot, 'assets', 'app-1234.js'), 'export {};\n');
    h = await startHarness({ webRoot });
    admin = await h.setupAdmin();
  });
  afterAll(() => h.close());

  it('are on every response: API, errors, 404, static files, the SPA fallback, docs', async () => {
    const cases: [string, string, number, { body?: string; token?: string }?][] = [
      ['GET', '/api/v1/health', 200],
      ['GET', '/api/v1/packs', 401],
      ['GET', '/api/v1/packs', 200, { token: admin }],
      ['GET', '/api/v1/audit', 401, { token: 'forged' }],
      ['GET', '/api/v1/no-such-route', 404],
      ['POST', '/api/v1/auth/login', 400, { body: '{"username": ' }],
      ['GET', '/', 200],
      ['GET', '/assets/app-1234.js', 200],
      ['GET', '/assets/missing.js', 404],
      ['GET', '/packs/home%2Fbus1%2F1/cells', 200],
      ['GET', '/api/docs', 200],
      ['GET', '/api/docs/openapi.json', 200],
      ['GET', '/api/v1/packs/%E0%A4%A', 400, { token: admin }], // bad percent-encoding
    ];
    for (const [method, path, status, opts] of cases) {
      const r = await h.call(method, path, {
        ...(opts?.token ? { token: opts.token } : {}),
        ...(opts?.body !== undefined
          ? { body: opts.body, headers: { 'content-type': 'application/json' } }
          : {}),
      });
      expect(r.status, `${method} ${path}: ${r.text.slice(0, 200)}`).toBe(status);
      expectSecurityHeaders(`${method} ${path}`, r.headers);
    }
  });

  it("fit the web console's index.html: no inline script or style, scripts and styles from 'self', the data: icon allowed", async () => {
    const policy = directives((await h.call('GET', '/')).headers.get('content-security-policy'));
    // The source page (what Vite turns into dist/index.html) and, when built, the build.
    const pages = [join(WEB, 'index.html'), join(WEB, 'dist', 'index.html')].filter((p) =>
      existsSync(p),
    );
    for (const p of pages) {
      const need = pageNeeds(readFileSync(p, 'utf8'));
      for (const src of [...need.scripts, ...need.styles]) expect(src, p).toMatch(/^\/(?!\/)/);
      for (const src of need.images) {
        if (src.startsWith('data:')) expect(policy.get('img-src')).toContain('data:');
        else expect(src, p).toMatch(/^\/(?!\/)/);
      }
    }
    expect(policy.get('style-src')).toEqual(["'self'"]);
    expect(policy.get('img-src')).toEqual(["'self'", 'data:']);
    expect(policy.get('connect-src')).toEqual(["'self'"]); // the API and the live WebSocket
  });

  it("serve the API docs (Swagger UI) with scripts from 'self' only; inline styles allowed there alone", async () => {
    const r = await h.call('GET', '/api/docs/');
    expect(r.status).toBe(200);
    const policy = directives(r.headers.get('content-security-policy'));
    expect(policy.get('script-src')).toEqual(["'self'"]);
    // Swagger UI injects one <style> at run time (docs-ui.test.ts sees no violation).
    expect(policy.get('style-src')).toEqual(["'self'", "'unsafe-inline'"]);
    // Its files are this server's too: the same policy as the console otherwise.
    const rest = (await h.call('GET', '/api/docs/static/swagger-ui-bundle.js')).headers;
    expect(directives(rest.get('content-security-policy')).get('script-src')).toEqual(["'self'"]);
    const need = pageNeeds(r.text);
    expect(need.scripts.length).toBeGreaterThan(0);
    for (const src of [...need.scripts, ...need.styles]) expect(src).not.toMatch(/^(https?:)?\/\//);
  });
});

describe('WebSocket Origin', () => {
  let h: Harness;
  let token: string;
  let ws: string;
  beforeAll(async () => {
    h = await startHarness({ allowedOrigins: ['https://bms.example.com'] });
    token = await h.setupAdmin();
    ws = `${h.url.replace('http', 'ws')}/api/v1/live?token=${token}`;
  });
  afterAll(() => h.close());

  const opens = async (url: string, headers: Record<string, string>): Promise<void> => {
    const c = await LiveClient.connect(url, headers);
    expect((await c.next()).type).toBe('hello');
    c.close();
    await c.closed;
  };
  const refused = async (url: string, headers: Record<string, string>): Promise<UpgradeRefused> => {
    const e = await LiveClient.connect(url, headers).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(UpgradeRefused);
    return e as UpgradeRefused;
  };

  it('accepts no Origin (non-browser clients), its own origin and a configured one', async () => {
    await opens(ws, {});
    await opens(ws, { origin: h.url });
    await opens(ws, { origin: 'https://bms.example.com' });
    await opens(ws, { origin: 'HTTPS://BMS.example.com:443' }); // the same origin, spelled otherwise
  });

  it("refuses other origins with 403 FORBIDDEN before the upgrade, even another port of the server's host", async () => {
    const port = Number(new URL(h.url).port);
    for (const origin of [
      'http://evil.example',
      `http://127.0.0.1:${port + 1}`,
      `https://127.0.0.1:${port}`,
      'null',
      'https://bms.example.com.evil.example',
    ]) {
      const e = await refused(ws, { origin });
      expect(e.status, origin).toBe(403);
      expect(e.headers['content-type']).toMatch(/^application\/json/);
      const body = JSON.parse(e.body) as { error: string; code: string };
      expect(body.code).toBe('FORBIDDEN');
      expect(body.error).toContain(`origin ${JSON.stringify(origin)} refused`);
      expect(body.error).toContain('http.allowed_origins');
    }
    // Checked before the credentials: no token, foreign origin is still a 403, not a 401.
    const anon = await refused(`${h.url.replace('http', 'ws')}/api/v1/live`, {
      origin: 'http://evil.example',
    });
    expect(anon.status).toBe(403);
    // No stream was started for any of them.
    await h.gateway.untilNoListeners();
  });

  it('believes X-Forwarded-Host/-Proto for its own origin only from a trusted proxy', async () => {
    const proxied = {
      origin: 'https://bms.lan',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'bms.lan',
    };
    expect((await refused(ws, proxied)).status).toBe(403);
    const behind = await startHarness({ trustProxy: ['127.0.0.1'] });
    try {
      const t = await behind.setupAdmin();
      await opens(`${behind.url.replace('http', 'ws')}/api/v1/live?token=${t}`, proxied);
    } finally {
      await behind.close();
    }
  });

  it('refuses a malformed allowed origin at start with CONFIG_INVALID naming it', async () => {
    const stores = memoryStorage();
    await expect(
      buildServer({
        storage: { ...stores, telemetry: new FakeTelemetry() },
        identity: TEST_ORIGIN,
        gateway: new FakeGateway([], stores.alarms, () => 0, TEST_ORIGIN),
        allowedOrigins: ['https://ok.example', 'https://bms.example.com/console'],
      }),
    ).rejects.toMatchObject({ code: 'CONFIG_INVALID', details: { field: 'allowedOrigins[1]' } });
  });
});
