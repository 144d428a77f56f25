import { describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from './passwords.js';
import { FailureLimiter } from './rate-limit.js';
import { hashToken } from './auth.js';
import { TEST_COST } from './testing/harness.js';

describe('passwords', () => {
  it('stores scrypt$N$r$p$salt$hash with a random salt and verifies only the right password', async () => {
    const a = await hashPassword('s3cret-pass', TEST_COST);
    const b = await hashPassword('s3cret-pass', TEST_COST);
    expect(a).toMatch(/^scrypt\$1024\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('s3cret-pass', a)).toBe(true);
    expect(await verifyPassword('s3cret-pasS', a)).toBe(false);
  });

  it('rejects malformed stored hashes instead of throwing', async () => {
    for (const bad of [
      '',
      'plain',
      'scrypt$x$8$1$aa$bb',
      'bcrypt$1$2$3$4$5',
      'scrypt$1024$8$1$$',
    ]) {
      expect(await verifyPassword('x', bad)).toBe(false);
    }
  });
});

describe('FailureLimiter', () => {
  it('blocks after max failures inside the window and frees the key when it slides', () => {
    let now = 0;
    const l = new FailureLimiter({ max: 3, windowMs: 60_000 }, () => now);
    for (let i = 0; i < 3; i++) {
      expect(l.blockedFor('k')).toBe(0);
      l.fail('k');
      now += 1000;
    }
    expect(l.blockedFor('k')).toBe(57_000);
    expect(l.blockedFor('other')).toBe(0);
    now = 60_001;
    expect(l.blockedFor('k')).toBe(0);
  });

  it('keeps at most maxKeys keys', () => {
    const l = new FailureLimiter({ max: 1, windowMs: 1000, maxKeys: 10 }, () => 0);
    for (let i = 0; i < 100; i++) l.fail(`k${i}`);
    expect(l.blockedFor('k99')).toBeGreaterThan(0);
    expect(l.blockedFor('k0')).toBe(0);
  });
});

it('token ids are the sha256 of the secret', () => {
  expect(hashToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});
