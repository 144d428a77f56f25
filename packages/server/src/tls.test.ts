/**
 * Native TLS and the Secure cookie, against a real server: HTTPS with a self-signed
 * certificate made by openssl (the client trusts it as its CA), plain HTTP, and plain HTTP
 * behind a proxy that is or is not trusted to say the client used HTTPS.
 */
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selfSignedCert, type TestCert } from '@openbms/gateway/testing';
import { startHarness, type Harness } from './testing/harness.js';
import { LiveClient } from './testing/ws-client.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** POST/GET over HTTPS trusting only `ca`. */
function httpsCall(
  url: string,
  ca: string,
  opts: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const req = request(
      url,
      {
        method: opts.method ?? 'GET',
        ca,
        headers: {
          ...opts.headers,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const sessionCookie = (setCookie: string | string[] | null | undefined): string[] => {
  const all = Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : [];
  const c = all.find((s) => s.startsWith('openbms_session='));
  expect(c).toBeDefined();
  return c!.split(';').map((p) => p.trim().toLowerCase());
};

describe('native TLS', () => {
  let cert: TestCert;
  let h: Harness;
  beforeAll(async () => {
    cert = selfSignedCert();
    h = await startHarness({ https: { cert: cert.cert, key: cert.key } });
  });
  afterAll(() => h.close());

  it('serves HTTPS; the session cookie is Secure and HSTS is sent', async () => {
    expect(h.url).toMatch(/^https:\/\//);
    const setup = await httpsCall(`${h.url}/api/v1/setup`, cert.cert, {
      method: 'POST',
      body: { username: 'admin', password: 'correct horse' },
    });
    expect(setup.status).toBe(201);
    expect(sessionCookie(setup.headers['set-cookie'])).toEqual(
      expect.arrayContaining(['secure', 'httponly', 'samesite=strict']),
    );
    expect(setup.headers['strict-transport-security']).toBe('max-age=31536000');
    const login = await httpsCall(`${h.url}/api/v1/auth/login`, cert.cert, {
      method: 'POST',
      body: { username: 'admin', password: 'correct horse' },
    });
    expect(sessionCookie(login.headers['set-cookie'])).toContain('secure');
    const logout = await httpsCall(`${h.url}/api/v1/auth/logout`, cert.cert, {
      method: 'POST',
      headers: { authorization: `Bearer ${JSON.parse(login.body).token as string}` },
    });
    expect(sessionCookie(logout.headers['set-cookie'])).toContain('secure');
    // An unknown path too: every answer over TLS carries HSTS.
    expect(
      (await httpsCall(`${h.url}/api/v1/nope`, cert.cert)).headers['strict-transport-security'],
    ).toBe('max-age=31536000');
  });

  it('serves the live WebSocket over wss, its own https origin accepted', async () => {
    const login = await httpsCall(`${h.url}/api/v1/auth/login`, cert.cert, {
      method: 'POST',
      body: { username: 'admin', password: 'correct horse' },
    });
    const token = JSON.parse(login.body).token as string;
    const c = await LiveClient.connect(
      `${h.url.replace('https', 'wss')}/api/v1/live?token=${token}`,
      { origin: h.url },
      { ca: cert.cert },
    );
    expect(await c.next()).toMatchObject({ type: 'hello', user: 'admin' });
    c.close();
    await c.closed;
  });

  it('refuses a client that does not trust the certificate (no silent downgrade)', async () => {
    const other = selfSignedCert('other');
    await expect(httpsCall(`${h.url}/api/v1/health`, other.cert)).rejects.toThrow();
  });
});

describe('the Secure cookie on plain HTTP', () => {
  const login = async (h: Harness, headers: Record<string, string> = {}) => {
    await h.setupAdmin();
    const r = await h.call('POST', '/api/v1/auth/login', {
      body: { username: 'admin', password: 'correct horse' },
      headers,
    });
    expect(r.status).toBe(200);
    return r;
  };

  it('is not set on plain HTTP, and no HSTS', async () => {
    const h = await startHarness();
    try {
      const r = await login(h);
      expect(sessionCookie(r.headers.get('set-cookie'))).not.toContain('secure');
      expect(r.headers.get('strict-transport-security')).toBeNull();
    } finally {
      await h.close();
    }
  });

  it('ignores X-Forwarded-Proto from a proxy that is not trusted', async () => {
    const h = await startHarness(); // trustProxy defaults to false
    try {
      const r = await login(h, { 'x-forwarded-proto': 'https' });
      expect(sessionCookie(r.headers.get('set-cookie'))).not.toContain('secure');
      expect(r.headers.get('strict-transport-security')).toBeNull();
    } finally {
      await h.close();
    }
    const elsewhere = await startHarness({ trustProxy: ['10.9.8.7'] });
    try {
      const r = await login(elsewhere, { 'x-forwarded-proto': 'https' });
      expect(sessionCookie(r.headers.get('set-cookie'))).not.toContain('secure');
    } finally {
      await elsewhere.close();
    }
  });

  it('is set behind a trusted proxy that says https, with HSTS; not when it says http', async () => {
    const h = await startHarness({ trustProxy: ['127.0.0.1'] });
    try {
      const r = await login(h, { 'x-forwarded-proto': 'https' });
      expect(sessionCookie(r.headers.get('set-cookie'))).toContain('secure');
      expect(r.headers.get('strict-transport-security')).toBe('max-age=31536000');
      const plain = await h.call('POST', '/api/v1/auth/login', {
        body: { username: 'admin', password: 'correct horse' },
        headers: { 'x-forwarded-proto': 'http' },
      });
      expect(sessionCookie(plain.headers.get('set-cookie'))).not.toContain('secure');
    } finally {
      await h.close();
    }
  });

  it('is always set with secureCookie: true', async () => {
    const h = await startHarness({ secureCookie: true });
    try {
      expect(sessionCookie((await login(h)).headers.get('set-cookie'))).toContain('secure');
    } finally {
      await h.close();
    }
  });
});
