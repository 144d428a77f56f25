/**
 * GET /api/v1/link: the collector's serial and claim code for the box's admins only, never
 * its credentials; 404 when the box is not a collector.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './testing/harness.js';

const VIEW = {
  serial: 'OB0123456789',
  claim_code: 'ABCD2345',
  claimed: false,
  cloud_url: 'https://cloud.example.com',
};

let h: Harness;
let plain: Harness;
let admin: string;

beforeAll(async () => {
  // The view is built by the CLI from collector.json; the route must not add to it.
  h = await startHarness({
    collectorLink: () => ({ ...VIEW, password: 'must-not-leak' }) as typeof VIEW,
  });
  plain = await startHarness();
  admin = await h.setupAdmin();
});

afterAll(async () => {
  await h?.close();
  await plain?.close();
});

describe('GET /api/v1/link', () => {
  it('answers an admin with the serial, claim code, claimed and cloud URL only', async () => {
    const r = await h.call('GET', '/api/v1/link', { token: admin });
    expect(r.status).toBe(200);
    expect(r.body).toEqual(VIEW);
    expect(r.text).not.toContain('must-not-leak');
  });

  it('refuses operators, viewers and strangers', async () => {
    for (const role of ['operator', 'viewer'] as const) {
      const token = await h.addUser(admin, `u-${role}`, role);
      expect((await h.call('GET', '/api/v1/link', { token })).status).toBe(403);
    }
    expect((await h.call('GET', '/api/v1/link')).status).toBe(401);
  });

  it('is 404 on a box that is not a collector', async () => {
    const a = await plain.setupAdmin();
    const r = await plain.call('GET', '/api/v1/link', { token: a });
    expect(r.status).toBe(404);
    expect(r.body.code).toBe('NOT_FOUND');
  });
});
