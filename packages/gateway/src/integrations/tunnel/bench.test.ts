import { expect, it } from 'vitest';
import { bench } from '../../testing/bench/tunnel.js';

it('bench returns the tunnel figures', async () => {
  const r = await bench();
  expect(Object.keys(r).sort()).toEqual([
    'tunnel_first_reply_ms',
    'tunnel_polling_resume_ms',
    'tunnel_requests_per_s',
    'tunnel_roundtrip_p50_ms',
    'tunnel_roundtrip_p95_ms',
  ]);
  expect(r.tunnel_requests_per_s).toBeGreaterThan(10);
});
