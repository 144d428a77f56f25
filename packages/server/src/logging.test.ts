import { afterAll, beforeAll, expect, it } from 'vitest';
import { LiveClient } from './testing/ws-client.js';
import { startHarness, type Harness } from './testing/harness.js';
import { redactUrl } from './logging.js';

const lines: string[] = [];
let h: Harness;

beforeAll(async () => {
  h = await startHarness({
    logger: { level: 'trace', stream: { write: (l: string) => void lines.push(l) } },
  });
});
afterAll(() => h.close());

it('never logs passwords, tokens, cookies or the Authorization header', async () => {
  const password = 'Sup3r-Secret-Passw0rd';
  const setup = await h.call('POST', '/api/v1/setup', { body: { username: 'ada', password } });
  const session = setup.body.token as string;
  await h.call('POST', '/api/v1/auth/login', {
    body: { username: 'ada', password: 'Wrong-Secret-Passw0rd' },
  });
  const login = await h.call('POST', '/api/v1/auth/login', { body: { username: 'ada', password } });
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const api = await h.call('POST', '/api/v1/tokens', { token: session, body: { name: 'x' } });
  await h.call('GET', '/api/v1/packs', { cookie });
  await h.call('GET', '/api/v1/packs', { token: api.body.token });
  await h.call('POST', '/api/v1/auth/password', {
    token: session,
    body: { current_password: password, password: 'An0ther-Secret!' },
  });
  const ws = await LiveClient.connect(
    `${h.url.replace('http', 'ws')}/api/v1/live?token=${session}`,
  );
  await ws.next();
  ws.close();
  await ws.closed;

  const log = lines.join('');
  expect(lines.length).toBeGreaterThan(10);
  expect(log).toContain('/api/v1/live?token=[redacted]');
  for (const secret of [
    password,
    'Wrong-Secret-Passw0rd',
    'An0ther-Secret!',
    session,
    login.body.token,
    api.body.token,
  ]) {
    expect(log).not.toContain(secret);
  }
  expect(log).not.toMatch(/authorization|cookie/i);
});

it('masks credential query values', () => {
  expect(redactUrl('/api/v1/live?a=1&token=abc&b=2')).toBe('/api/v1/live?a=1&token=[redacted]&b=2');
  expect(redactUrl('/x?TOKEN=abc')).toBe('/x?TOKEN=[redacted]');
});
