/**
 * Every error answer of the HTTP server, walked against a real listening server: Fastify's
 * own errors, the HTTP parser's (raw sockets: headers too large, malformed request line),
 * bodies refused by the JSON parser (depth, prototype keys), out-of-range times, and errors
 * inside WebSocket handlers. Each is `{error, code}` (plus `field` where one is at fault) and
 * every 5xx is logged at error level with its stack and request id.
 */
import { connect } from 'node:net';
import { ERROR_CODE_LIST, MAX_NESTING } from '@openbms/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayListener } from './gateway-api.js';
import { LiveClient } from './testing/ws-client.js';
import { startHarness, type Harness } from './testing/harness.js';

const lines: string[] = [];
let h: Harness;
let admin: string;
let viewer: string;
const P1 = encodeURIComponent('home/bus1/1');

beforeAll(async () => {
  h = await startHarness({
    logger: { level: 'info', stream: { write: (l: string) => void lines.push(l) } },
  });
  admin = await h.setupAdmin();
  viewer = await h.addUser(admin, 'vera', 'viewer');
});
afterAll(() => h.close());

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type LogLine = Record<string, any>;
const logged = (): LogLine[] => lines.map((l) => JSON.parse(l) as LogLine);

/** The API's error shape: these keys only, a known code, a message in words. */
function expectErrorShape(body: unknown, what: string): void {
  expect(body, what).toBeTypeOf('object');
  const b = body as Record<string, unknown>;
  expect(
    Object.keys(b).every((k) => ['error', 'code', 'field', 'retry_after_s'].includes(k)),
    what,
  ).toBe(true);
  expect(b['error'], what).toBeTypeOf('string');
  expect((b['error'] as string).length, what).toBeGreaterThan(5);
  expect(ERROR_CODE_LIST, what).toContain(b['code']);
}

/** Sends raw bytes and reads the answer until the server closes (for what fetch cannot send). */
function rawRequest(text: string): Promise<{ status: number; type: string; body: unknown }> {
  const { hostname, port } = new URL(h.url);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = connect(Number(port), hostname, () => s.write(text));
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('error', () => undefined); // a reset after the answer; the answer is what counts
    s.on('close', () => {
      const all = Buffer.concat(chunks).toString('utf8');
      const [head = '', body = ''] = all.split('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
      if (!status) return reject(new Error(`no HTTP answer: ${JSON.stringify(all)}`));
      const type = /^content-type: (.*)$/im.exec(head)?.[1] ?? '';
      resolve({ status, type, body: JSON.parse(body) as unknown });
    });
  });
}

describe('every error answer is {error, code}', () => {
  it('answers Fastify-level errors (404, bad JSON, 413, 414, 415, bad URL) in the API shape', async () => {
    const big = JSON.stringify({ username: 'x', password: 'y'.repeat(1024 * 1024) });
    const cases: {
      name: string;
      path: string;
      init?: RequestInit;
      status: number;
      code: string;
      field?: string;
      error: RegExp;
    }[] = [
      {
        name: 'unknown route',
        path: '/nothing',
        status: 404,
        code: 'NOT_FOUND',
        error: /no route GET \/nothing/,
      },
      {
        name: 'unknown API route with a body',
        path: '/api/v1/nothing',
        init: { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' },
        status: 404,
        code: 'NOT_FOUND',
        error: /no route POST/,
      },
      {
        name: 'text that is not JSON',
        path: '/api/v1/auth/login',
        init: { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{bad' },
        status: 400,
        code: 'REQUEST_INVALID',
        field: 'body',
        error: /^body is not valid JSON: .*position 1/,
      },
      {
        name: 'an empty JSON body',
        path: '/api/v1/auth/login',
        init: { method: 'POST', headers: { 'content-type': 'application/json' }, body: '' },
        status: 400,
        code: 'REQUEST_INVALID',
        field: 'body',
        error: /body: empty/,
      },
      {
        name: 'a body over the limit',
        path: '/api/v1/auth/login',
        init: { method: 'POST', headers: { 'content-type': 'application/json' }, body: big },
        status: 413,
        code: 'REQUEST_INVALID',
        field: 'body',
        error: /larger than this route accepts \(1024 kB\)/,
      },
      {
        name: 'a content type nobody parses',
        path: '/api/v1/auth/login',
        init: { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<a/>' },
        status: 415,
        code: 'REQUEST_INVALID',
        field: 'body',
        error: /content-type "application\/xml" is not accepted/,
      },
      {
        name: 'a path segment over the length limit',
        path: `/api/v1/packs/${'a'.repeat(1001)}`,
        status: 414,
        code: 'REQUEST_INVALID',
        error: /longer than 1000 characters/,
      },
      {
        name: 'a bad %-escape',
        path: '/api/v1/packs/%E0%A4%A',
        status: 400,
        code: 'REQUEST_INVALID',
        error: /not a valid URL/,
      },
      {
        name: 'no credentials',
        path: '/api/v1/packs',
        status: 401,
        code: 'AUTH_REQUIRED',
        error: /./,
      },
    ];
    for (const c of cases) {
      const r = await fetch(h.url + c.path, c.init);
      expect(r.status, c.name).toBe(c.status);
      expect(r.headers.get('content-type'), c.name).toMatch(/^application\/json/);
      const body = (await r.json()) as Record<string, unknown>;
      expectErrorShape(body, c.name);
      expect(body['code'], c.name).toBe(c.code);
      expect(body['error'], c.name).toMatch(c.error);
      if (c.field !== undefined) expect(body['field'], c.name).toBe(c.field);
    }
  });

  it('answers the HTTP parser: 431 for headers or a URL over 16 KiB, 400 for a malformed request', async () => {
    const header = await rawRequest(
      `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    const url = await rawRequest(`GET /${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    for (const r of [header, url]) {
      expect(r.status).toBe(431);
      expect(r.type).toMatch(/^application\/json/);
      expectErrorShape(r.body, '431');
      expect(r.body).toMatchObject({
        code: 'REQUEST_INVALID',
        error: /larger than the server accepts/,
      });
    }
    const garbage = await rawRequest('HELLO THERE\r\n\r\n');
    expect(garbage.status).toBe(400);
    expectErrorShape(garbage.body, 'malformed');
    expect(garbage.body).toMatchObject({
      code: 'REQUEST_INVALID',
      error: /malformed HTTP request/,
    });
  });

  it('refuses a 20,000-deep body with a 400 naming where, not a 500', async () => {
    for (const body of [
      '['.repeat(20_000) + ']'.repeat(20_000),
      '{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000),
    ]) {
      const r = await h.call('POST', '/api/v1/auth/login', { body });
      expect(r.status).toBe(400);
      expectErrorShape(r.body, 'deep');
      expect(r.body.code).toBe('REQUEST_INVALID');
      expect(r.body.error).toMatch(`deeper than ${MAX_NESTING} levels`);
      expect(r.body.field).toMatch(/^(\[0\]|a\.)/);
    }
  });

  it('refuses prototype keys saying which key and why, not "not valid JSON"', async () => {
    const cases: [string, string, string][] = [
      [
        '{"username":"a","password":"b","__proto__":{"admin":true}}',
        '__proto__',
        '"__proto__" is refused',
      ],
      ['{"values":{"__proto__":1}}', 'values.__proto__', '"__proto__" is refused'],
      [
        '{"constructor":{"prototype":{"admin":true}}}',
        'constructor.prototype',
        '"constructor.prototype" is refused',
      ],
    ];
    for (const [body, field, words] of cases) {
      const r = await h.call('POST', '/api/v1/auth/login', { body });
      expect(r.status, body).toBe(400);
      expect(r.body, body).toMatchObject({ code: 'REQUEST_INVALID', field });
      expect(r.body.error, body).toContain(words);
      expect(r.body.error, body).toContain('prototype poisoning');
      expect(r.body.error, body).not.toMatch(/valid JSON/);
    }
    expect(({} as Record<string, unknown>)['admin']).toBeUndefined();
  });

  it('says the accepted range of times, naming the field', async () => {
    const cases: [string, string, RegExp][] = [
      [
        'from=1926-01-01',
        'from',
        /"from": 1926-01-01 is before 1970-01-01T00:00:00Z; accepted: 1970-01-01 to 9999-12-31 \(UTC\), or 0 to 253402300799999 ms/,
      ],
      [
        'to=999999999999999',
        'to',
        /"to": 999999999999999 is after 9999-12-31T23:59:59\.999Z; accepted: 1970-01-01 to 9999-12-31/,
      ],
      ['from=1969-12-31T23:59:59Z&to=1000', 'from', /is before 1970-01-01/],
    ];
    for (const [q, field, error] of cases) {
      const r = await h.call('GET', `/api/v1/packs/${P1}/history?${q}`, { token: viewer });
      expect(r.status, q).toBe(400);
      expect(r.body, q).toMatchObject({ code: 'REQUEST_INVALID', field });
      expect(r.body.error, q).toMatch(error);
    }
    const alarms = await h.call('GET', '/api/v1/alarms?from=1926-01-01', { token: viewer });
    expect(alarms.status).toBe(400);
    expect(alarms.body.error).toMatch(/before 1970-01-01/);
    // The ends themselves are accepted.
    const ok = await h.call(
      'GET',
      `/api/v1/packs/${P1}/history?from=0&to=9999-12-31T23:59:59.999Z`,
      { token: viewer },
    );
    expect(ok.status).toBe(200);
  });
});

describe('5xx are logged with their stack and request id', () => {
  it('a store that throws: 500 INTERNAL naming the request, an error line with stack and reqId', async () => {
    const before = lines.length;
    const original = h.telemetry.dailyFiles.bind(h.telemetry);
    h.telemetry.dailyFiles = () => {
      throw new Error('disk on fire');
    };
    try {
      const r = await h.call('GET', '/api/v1/exports/daily?pack=x', { token: viewer });
      expect(r.status).toBe(500);
      expectErrorShape(r.body, '500');
      expect(r.body.code).toBe('INTERNAL');
      expect(r.text).not.toContain('disk on fire'); // nothing of the inside in the answer
      const reqId = /request (req-[\w-]+)/.exec(r.body.error as string)?.[1];
      expect(reqId).toBeDefined();
      const mine = logged()
        .slice(before)
        .filter((l) => l['reqId'] === reqId);
      const failure = mine.find((l) => l['level'] === 50);
      expect(failure?.['err']?.message).toBe('disk on fire');
      expect(failure?.['err']?.stack).toMatch(/Error: disk on fire\n\s+at /);
      // The request's own lines share the id: where it came in, how it ended.
      expect(mine.some((l) => l['req']?.url === '/api/v1/exports/daily?pack=x')).toBe(true);
      expect(mine.some((l) => l['res']?.statusCode === 500)).toBe(true);
    } finally {
      h.telemetry.dailyFiles = original;
    }
  });

  it('4xx answers are not logged as errors', async () => {
    const before = lines.length;
    await h.call('POST', '/api/v1/auth/login', { body: '{bad' });
    await h.call('GET', '/api/v1/packs');
    await fetch(`${h.url}/api/v1/packs/${'a'.repeat(1001)}`);
    expect(
      logged()
        .slice(before)
        .filter((l) => l['level'] >= 50),
    ).toEqual([]);
  });
});

describe('errors inside WebSocket handlers', () => {
  const wsUrl = (): string => `${h.url.replace('http', 'ws')}/api/v1/live?token=${viewer}`;

  it('a failure while answering a message: an error message, logged, and the stream goes on', async () => {
    const c = await LiveClient.connect(wsUrl());
    expect((await c.next())['type']).toBe('hello');
    const before = lines.length;
    const packs = h.gateway.packs.bind(h.gateway);
    h.gateway.packs = () => {
      throw new Error('gateway lost');
    };
    try {
      c.send({ subscribe: '*' });
      const m = await c.next();
      expect(m).toMatchObject({ type: 'error', code: 'INTERNAL' });
      expect(m['error']).toMatch(/internal server error/);
      expect(JSON.stringify(m)).not.toContain('gateway lost');
      const line = logged()
        .slice(before)
        .find((l) => l['level'] === 50);
      expect(line?.['err']?.stack).toMatch(/Error: gateway lost\n\s+at /);
      expect(line?.['reqId']).toMatch(/^req-/);
    } finally {
      h.gateway.packs = packs;
    }
    c.send({ subscribe: ['home/bus1/1'] });
    expect(await c.next()).toMatchObject({ type: 'subscribed', packs: ['home/bus1/1'] });
    c.close();
    await c.closed;
  });

  it('a failure of the connection handler: an error message, then close code 1011', async () => {
    const events = h.gateway.events as { on: (l: GatewayListener) => () => void };
    const on = events.on;
    events.on = () => {
      throw new Error('event bus gone');
    };
    const before = lines.length;
    try {
      const c = await LiveClient.connect(wsUrl());
      expect(await c.next()).toMatchObject({ type: 'error', code: 'INTERNAL' });
      expect(await c.closed).toBe(1011);
    } finally {
      events.on = on;
    }
    const line = logged()
      .slice(before)
      .find((l) => l['level'] === 50);
    expect(line?.['err']?.stack).toMatch(/Error: event bus gone\n\s+at /);
  });
});
