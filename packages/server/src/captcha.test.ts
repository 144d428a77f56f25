/**
 * The login's captcha on the real server over a real SQLite store (accounts.captcha):
 * `always` asks every login; `after_failures` asks after 3 wrong passwords for a name (or from
 * an address) and a successful login starts the count again; a wrong answer is refused and
 * uses the challenge up; a challenge older than two minutes is void; `off` never asks. The
 * answers come from the test-only `revealAnswerForTests` hook (captcha.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localScope } from '@openbms/storage';
import { TEST_ORIGIN } from '@openbms/storage/testing';
import { openSqliteStorage } from '@openbms/storage-sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import type { CaptchaOptions } from './captcha.js';
import { startHarness, type Harness } from './testing/harness.js';

let h: Harness | undefined;
let storage: Awaited<ReturnType<typeof openSqliteStorage>> | undefined;
let dir: string | undefined;
const answers = new Map<string, string>();

afterEach(async () => {
  await h?.close();
  await storage?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  h = storage = dir = undefined;
  answers.clear();
});

async function start(captcha: CaptchaOptions): Promise<Harness> {
  dir = mkdtempSync(join(tmpdir(), 'openbms-captcha-'));
  storage = await openSqliteStorage({ dataDir: dir, identity: TEST_ORIGIN });
  h = await startHarness({
    storage,
    identity: TEST_ORIGIN,
    captcha: { ...captcha, revealAnswerForTests: (id, a) => answers.set(id, a) },
  });
  await h.setupAdmin('ada', 'correct horse');
  return h;
}

const login = (s: Harness, body: Record<string, unknown>) =>
  s.call('POST', '/api/v1/auth/login', { body: { username: 'ada', ...body } });

async function challenge(s: Harness): Promise<{ id: string; answer: string }> {
  const r = await s.call('GET', '/api/v1/auth/captcha');
  expect(r.status).toBe(200);
  expect(r.headers.get('cache-control')).toBe('no-store');
  expect(r.body.svg).toMatch(/^<svg[\s\S]*<\/svg>$/);
  const answer = answers.get(r.body.id);
  expect(answer).toMatch(/^[A-Z0-9]{4}$/);
  // The image does not carry its answer as text.
  expect(r.body.svg).not.toContain(answer);
  return { id: r.body.id, answer: answer ?? '' };
}

describe('accounts.captcha: always', () => {
  it('refuses a login without a captcha naming the field, and lets in a right answer in any case', async () => {
    const s = await start({ mode: 'always' });
    expect((await s.call('GET', '/api/v1/setup')).body.captcha).toBe('always');
    const bare = await login(s, { password: 'correct horse' });
    expect(bare.status).toBe(401);
    expect(bare.body).toMatchObject({
      code: 'CAPTCHA_REQUIRED',
      field: 'captcha_id',
      captcha_required: true,
    });
    const c = await challenge(s);
    const noAnswer = await login(s, { password: 'correct horse', captcha_id: c.id });
    expect(noAnswer.body).toMatchObject({ code: 'CAPTCHA_REQUIRED', field: 'captcha' });
    const ok = await login(s, {
      password: 'correct horse',
      captcha_id: c.id,
      captcha: c.answer.toLowerCase(),
    });
    expect(ok.status).toBe(200);
    expect(ok.body.user.username).toBe('ada');
  });

  it('a wrong answer is refused and uses the challenge up; so does a right one', async () => {
    const s = await start({ mode: 'always' });
    const c = await challenge(s);
    const wrong = await login(s, { password: 'correct horse', captcha_id: c.id, captcha: 'zzzz' });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toMatchObject({ code: 'CAPTCHA_WRONG', field: 'captcha' });
    // The right answer no longer helps: the challenge was consumed by the wrong one.
    const late = await login(s, { password: 'correct horse', captcha_id: c.id, captcha: c.answer });
    expect(late.body.code).toBe('CAPTCHA_WRONG');
    // Refusals are audited, with the code and the address.
    const log = await storage!.audit.list(localScope(TEST_ORIGIN), { user: 'ada' });
    expect(
      log.filter((e) => e.action === 'login' && e.result === 'refused').map((e) => e.detail),
    ).toEqual(['CAPTCHA_WRONG (127.0.0.1)', 'CAPTCHA_WRONG (127.0.0.1)']);

    const d = await challenge(s);
    expect(
      (await login(s, { password: 'correct horse', captcha_id: d.id, captcha: d.answer })).status,
    ).toBe(200);
    const replay = await login(s, {
      password: 'correct horse',
      captcha_id: d.id,
      captcha: d.answer,
    });
    expect(replay.body.code).toBe('CAPTCHA_WRONG');
    const unknown = await login(s, {
      password: 'correct horse',
      captcha_id: 'nope',
      captcha: 'ABCD',
    });
    expect(unknown.body.code).toBe('CAPTCHA_WRONG');
  });

  it('a challenge expires after two minutes', async () => {
    const s = await start({ mode: 'always' });
    const c = await challenge(s);
    s.clock.advance(120_000);
    const r = await login(s, { password: 'correct horse', captcha_id: c.id, captcha: c.answer });
    expect(r.body.code).toBe('CAPTCHA_WRONG');
    const d = await challenge(s);
    s.clock.advance(119_000);
    expect(
      (await login(s, { password: 'correct horse', captcha_id: d.id, captcha: d.answer })).status,
    ).toBe(200);
  });

  it('refuses captcha fields of the wrong type, naming them (no coercion)', async () => {
    const s = await start({ mode: 'always' });
    const r = await login(s, { password: 'correct horse', captcha_id: 'x', captcha: 1234 });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ code: 'REQUEST_INVALID', field: 'captcha' });
  });
});

describe('accounts.captcha: after_failures', () => {
  it('asks after 3 wrong passwords for the name; a solved login resets the count', async () => {
    const s = await start({ mode: 'after_failures', after: 3 });
    expect((await s.call('GET', '/api/v1/setup')).body.captcha).toBe('after_failures');
    const first = await login(s, { password: 'wrong one' });
    expect(first.body).toEqual({ error: 'wrong user name or password', code: 'AUTH_INVALID' });
    await login(s, { password: 'wrong two' });
    const third = await login(s, { password: 'wrong three' });
    expect(third.body).toMatchObject({ code: 'AUTH_INVALID', captcha_required: true });
    // The right password alone is not enough now.
    const bare = await login(s, { password: 'correct horse' });
    expect(bare.body.code).toBe('CAPTCHA_REQUIRED');
    // A right captcha with a wrong password: still AUTH_INVALID, still asked.
    const c = await challenge(s);
    const bad = await login(s, { password: 'wrong four', captcha_id: c.id, captcha: c.answer });
    expect(bad.body).toMatchObject({ code: 'AUTH_INVALID', captcha_required: true });
    const d = await challenge(s);
    expect(
      (await login(s, { password: 'correct horse', captcha_id: d.id, captcha: d.answer })).status,
    ).toBe(200);
    // Counted again from zero.
    expect((await login(s, { password: 'correct horse' })).status).toBe(200);
  });

  it('counts failures per address too (spraying names), and forgets them after the window', async () => {
    const s = await start({ mode: 'after_failures', after: 3 });
    for (const u of ['bob', 'cy', 'dee'])
      expect(
        (await s.call('POST', '/api/v1/auth/login', { body: { username: u, password: 'x' } })).body
          .code,
      ).toBe('AUTH_INVALID');
    expect((await login(s, { password: 'correct horse' })).body.code).toBe('CAPTCHA_REQUIRED');
    s.clock.advance(15 * 60_000);
    expect((await login(s, { password: 'correct horse' })).status).toBe(200);
  });
});

describe('accounts.captcha: off', () => {
  it('never asks, whatever the failures', async () => {
    const s = await start({ mode: 'off' });
    expect((await s.call('GET', '/api/v1/setup')).body.captcha).toBe('off');
    for (let i = 0; i < 4; i++) {
      const r = await login(s, { password: 'wrong' });
      expect(r.body).toEqual({ error: 'wrong user name or password', code: 'AUTH_INVALID' });
    }
    expect((await login(s, { password: 'correct horse' })).status).toBe(200);
  });
});

describe('GET /auth/captcha', () => {
  it('is rate limited per client address and keeps a bounded number of challenges', async () => {
    const s = await start({ mode: 'always', perAddressPerMinute: 5, maxOutstanding: 3 });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await challenge(s)).id);
    const limited = await s.call('GET', '/api/v1/auth/captcha');
    expect(limited.status).toBe(429);
    expect(limited.body.code).toBe('RATE_LIMITED');
    // Only the 3 newest are kept: the first is gone.
    const first = ids[0] ?? '';
    const r = await login(s, {
      password: 'correct horse',
      captcha_id: first,
      captcha: answers.get(first),
    });
    expect(r.body.code).toBe('CAPTCHA_WRONG');
    const last = ids[4] ?? '';
    expect(
      (await login(s, { password: 'correct horse', captcha_id: last, captcha: answers.get(last) }))
        .status,
    ).toBe(200);
    s.clock.advance(60_000);
    expect((await s.call('GET', '/api/v1/auth/captcha')).status).toBe(200);
  });
});
