/**
 * Ending sessions ends their live streams at once: a real server on port 0, real `ws`
 * clients, and the time from the HTTP call to the client's close event measured (it must
 * be well under a second; before this, a stream outlived its session for up to 61 s).
 */
import { performance } from 'node:perf_hooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LiveClient } from './testing/ws-client.js';
import { startHarness, type Harness } from './testing/harness.js';
import { localScope } from '@openbms/storage';
import { TEST_ORIGIN } from '@openbms/storage/testing';

const S = localScope(TEST_ORIGIN);

let h: Harness;
let admin: string;
let wsUrl: string;

beforeEach(async () => {
  h = await startHarness();
  admin = await h.setupAdmin();
  wsUrl = h.url.replace('http', 'ws') + '/api/v1/live';
});
afterEach(() => h.close());

const login = async (username: string, password = `${username}-password`): Promise<string> => {
  const r = await h.call('POST', '/api/v1/auth/login', { body: { username, password } });
  expect(r.status).toBe(200);
  return r.body.token as string;
};

const apiToken = async (session: string): Promise<{ id: string; token: string }> => {
  const r = await h.call('POST', '/api/v1/tokens', { token: session, body: { name: 'script' } });
  expect(r.status).toBe(201);
  return { id: r.body.id as string, token: r.body.token as string };
};

/** An open, subscribed stream (its hello and subscription taken). */
const stream = async (token: string): Promise<LiveClient> => {
  const c = await LiveClient.connect(`${wsUrl}?token=${token}`);
  expect((await c.next()).type).toBe('hello');
  return c;
};

/** Proves a stream is still open and served: a subscription round trip. */
const stillOpen = async (c: LiveClient): Promise<void> => {
  c.send({ subscribe: ['ghost/1/1'] });
  expect(await c.next()).toMatchObject({ type: 'subscribed', unknown: ['ghost/1/1'] });
};

/** Runs `action` and awaits each stream's close; returns the codes, reasons and time taken. */
async function closedBy(
  action: () => Promise<unknown>,
  streams: LiveClient[],
): Promise<{ codes: number[]; reasons: string[]; ms: number }> {
  const t0 = performance.now();
  await action();
  const closes = await Promise.all(streams.map((s) => s.closedWith));
  return {
    codes: closes.map((c) => c.code),
    reasons: closes.map((c) => c.reason),
    ms: performance.now() - t0,
  };
}

const ok = (r: { status: number; text: string }): void => {
  expect(r.status, r.text).toBe(200);
};

describe('ending a session closes its WebSockets within 1 s', () => {
  it('logout closes the streams of that session only (4401, at once, not after 61 s)', async () => {
    await h.addUser(admin, 'vera', 'viewer');
    const s1 = await login('vera');
    const s2 = await login('vera');
    const a = await stream(s1);
    const a2 = await stream(s1);
    const b = await stream(s2);

    const r = await closedBy(
      async () => ok(await h.call('POST', '/api/v1/auth/logout', { token: s1 })),
      [a, a2],
    );
    expect(r.codes).toEqual([4401, 4401]);
    expect(r.reasons).toEqual(['logged out', 'logged out']);
    expect(r.ms).toBeLessThan(1000);
    // The clock did not move: no recheck window was needed.
    await stillOpen(b);
    expect((await h.call('GET', '/api/v1/auth/me', { token: s2 })).status).toBe(200);
    b.close();
  });

  it('revoking an API token closes the streams opened with it', async () => {
    await h.addUser(admin, 'vera', 'viewer');
    const s = await login('vera');
    const t = await apiToken(s);
    const byToken = await stream(t.token);
    const bySession = await stream(s);

    const r = await closedBy(
      async () => ok(await h.call('DELETE', `/api/v1/tokens/${t.id}`, { token: admin })),
      [byToken],
    );
    expect(r.codes).toEqual([4401]);
    expect(r.reasons).toEqual(['token revoked']);
    expect(r.ms).toBeLessThan(1000);
    await stillOpen(bySession);
    bySession.close();
  });

  it('changing your password keeps this session, ends the other sessions and their streams, keeps API tokens', async () => {
    await h.addUser(admin, 'vera', 'viewer'); // logs vera in once
    const here = await login('vera');
    const elsewhere = await login('vera');
    const t = await apiToken(here);
    const hereStream = await stream(here);
    const elsewhereStream = await stream(elsewhere);
    const tokenStream = await stream(t.token);

    const r = await closedBy(async () => {
      ok(
        await h.call('POST', '/api/v1/auth/password', {
          token: here,
          body: { current_password: 'vera-password', password: 'a new long password' },
        }),
      );
    }, [elsewhereStream]);
    expect(r.codes).toEqual([4401]);
    expect(r.reasons).toEqual(['password changed']);
    expect(r.ms).toBeLessThan(1000);

    expect((await h.call('GET', '/api/v1/auth/me', { token: here })).status).toBe(200);
    expect((await h.call('GET', '/api/v1/auth/me', { token: elsewhere })).status).toBe(401);
    expect((await h.call('GET', '/api/v1/auth/me', { token: t.token })).status).toBe(200);
    await stillOpen(hereStream);
    await stillOpen(tokenStream);
    expect((await h.stores.audit.list(S, { user: 'vera' }))[0]).toMatchObject({
      action: 'user.password',
      detail: '2 other session(s) ended', // `elsewhere` and addUser's login
    });
    hereStream.close();
    tokenStream.close();
  });

  it("an admin's password reset ends every session and API token of the user, and their streams", async () => {
    const s1 = await h.addUser(admin, 'vera', 'viewer');
    const s2 = await login('vera');
    const t = await apiToken(s1);
    const streams = [await stream(s1), await stream(s2), await stream(t.token)];
    const adminStream = await stream(admin);

    const r = await closedBy(async () => {
      ok(
        await h.call('PATCH', '/api/v1/users/vera', {
          token: admin,
          body: { password: 'reset by the admin' },
        }),
      );
    }, streams);
    expect(r.codes).toEqual([4401, 4401, 4401]);
    expect(new Set(r.reasons)).toEqual(new Set(['password reset by an admin']));
    expect(r.ms).toBeLessThan(1000);
    for (const tok of [s1, s2, t.token]) {
      expect((await h.call('GET', '/api/v1/auth/me', { token: tok })).status).toBe(401);
    }
    expect(await h.stores.users.listTokens(S, 'vera')).toEqual([]);
    await stillOpen(adminStream);
    // The new password works.
    await login('vera', 'reset by the admin');
    adminStream.close();
  });

  it("a role change ends the user's sessions (streams closed) and re-authorises streams of API tokens", async () => {
    const s = await h.addUser(admin, 'olga', 'operator');
    const t = await apiToken(s);
    const sessionStream = await stream(s);
    const tokenStream = await stream(t.token);

    const r = await closedBy(async () => {
      ok(await h.call('PATCH', '/api/v1/users/olga', { token: admin, body: { role: 'viewer' } }));
    }, [sessionStream]);
    expect(r.codes).toEqual([4401]);
    expect(r.reasons).toEqual(['role changed: log in again']);
    expect(r.ms).toBeLessThan(1000);
    // The token's stream stays and acts with the new role from now on.
    expect(await tokenStream.next()).toEqual({ type: 'role', role: 'viewer' });
    await stillOpen(tokenStream);
    expect((await h.call('GET', '/api/v1/auth/me', { token: s })).status).toBe(401);
    const me = await h.call('GET', '/api/v1/auth/me', { token: t.token });
    expect(me.body.role).toBe('viewer');
    // A demoted operator's token can no longer acknowledge alarms.
    expect((await h.call('POST', '/api/v1/alarms/1/ack', { token: t.token })).status).toBe(403);
    tokenStream.close();
  });

  it('deleting a user closes all their streams', async () => {
    const s = await h.addUser(admin, 'vera', 'viewer');
    const t = await apiToken(s);
    const streams = [await stream(s), await stream(t.token)];
    const r = await closedBy(
      async () => ok(await h.call('DELETE', '/api/v1/users/vera', { token: admin })),
      streams,
    );
    expect(r.codes).toEqual([4401, 4401]);
    expect(r.reasons).toEqual(['user deleted', 'user deleted']);
    expect(r.ms).toBeLessThan(1000);
  });

  it('an admin changing their own role or password keeps the session doing it', async () => {
    await h.addUser(admin, 'ada', 'admin');
    const other = await login('admin', 'correct horse');
    const otherStream = await stream(other);
    const ownStream = await stream(admin);

    const r = await closedBy(async () => {
      ok(
        await h.call('PATCH', '/api/v1/users/admin', {
          token: admin,
          body: { role: 'operator', password: 'my new admin password' },
        }),
      );
    }, [otherStream]);
    expect(r.codes).toEqual([4401]);
    expect(r.ms).toBeLessThan(1000);
    expect(await ownStream.next()).toEqual({ type: 'role', role: 'operator' });
    await stillOpen(ownStream);
    const me = await h.call('GET', '/api/v1/auth/me', { token: admin });
    expect(me.body).toMatchObject({ username: 'admin', role: 'operator' });
    expect((await h.call('GET', '/api/v1/auth/me', { token: other })).status).toBe(401);
    ownStream.close();
  });

  it('a stream whose token was deleted outside the server still closes at the first event after a minute', async () => {
    await h.addUser(admin, 'vera', 'viewer');
    const s = await login('vera');
    const c = await stream(s);
    c.send({ subscribe: '*' });
    await c.next();
    // Another process on the same database (here: the store directly) ends the session.
    await h.stores.users.deleteUserTokens(S, 'vera');
    h.clock.advance(61_000);
    h.gateway.emit({
      type: 'snapshot',
      packId: 'home/bus1/1',
      ts: h.clock.now(),
      snapshot: { soc_pct: 1 },
    });
    expect(await c.closed).toBe(4401);
  });
});
