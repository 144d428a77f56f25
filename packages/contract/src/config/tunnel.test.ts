import { describe, expect, it } from 'vitest';
import { allowed, parseCidr } from './cidr.js';
import { tunnelConfigSchema } from './tunnel.js';

describe('tunnel config', () => {
  it('fills defaults and rejects unknown keys and bad values with clear messages', () => {
    expect(tunnelConfigSchema.parse({ bus: 'home/rs485-1' })).toEqual({
      enabled: false,
      bus: 'home/rs485-1',
      host: '127.0.0.1',
      port: 6790,
      timeout_s: 120,
      allow: [],
    });
    const bad = (v: unknown): string =>
      tunnelConfigSchema
        .safeParse(v)
        .error?.issues.map((i) => i.message)
        .join('; ') ?? '';
    expect(bad({ bus: 'rs485-1' })).toMatch(/<site>\/<bus>/);
    expect(bad({ bus: 'a/b', port: 70000 })).toMatch(/0\.\.65535/);
    expect(bad({ bus: 'a/b', timeout_s: 0 })).toMatch(/more than 0/);
    expect(bad({ bus: 'a/b', allow: ['10.0.0.0/33'] })).toMatch(/"10\.0\.0\.0\/33" is not an IPv4/);
    expect(bad({ bus: 'a/b', password: 'x' })).toMatch(/password/);
  });

  it('matches IPv4 addresses and CIDR blocks, IPv4-mapped IPv6 too', () => {
    const list = ['127.0.0.1', '192.168.1.0/24', '10.0.0.0/8'].map((s) => parseCidr(s)!);
    expect(allowed(list, '127.0.0.1')).toBe(true);
    expect(allowed(list, '::ffff:192.168.1.200')).toBe(true);
    expect(allowed(list, '192.168.2.1')).toBe(false);
    expect(allowed(list, '10.255.1.2')).toBe(true);
    expect(allowed(list, '11.0.0.1')).toBe(false);
    expect(allowed(list, '::1')).toBe(false);
    expect(allowed([], '::1')).toBe(true);
    expect(allowed([parseCidr('0.0.0.0/0')!], '8.8.8.8')).toBe(true);
    expect(parseCidr('256.1.1.1')).toBeUndefined();
    expect(parseCidr('1.2.3.4/24/1')).toBeUndefined();
  });
});
