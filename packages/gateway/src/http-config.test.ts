/**
 * The `http:` section: TLS files read and checked at start (CONFIG_INVALID naming the key),
 * trusted proxies and WebSocket origins refused when malformed, naming the key.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isBmsError, type BmsError } from '@openbms/core';
import { validateConfig } from './config.js';
import { loadHttpTls } from './http-config.js';
import { opensslIn, selfSignedCert } from './testing/tls.js';

const errorOf = (fn: () => unknown): BmsError => {
  try {
    fn();
  } catch (e) {
    if (isBmsError(e)) return e;
    throw e;
  }
  throw new Error('no error');
};

describe('http config', () => {
  it('accepts tls, trust_proxy and allowed_origins; leaves them out by default', () => {
    expect(validateConfig({ version: 1 }).http).toEqual({ host: '127.0.0.1', port: 8080 });
    const c = validateConfig({
      version: 1,
      http: {
        port: 8443,
        tls: { cert: '/etc/openbms/cert.pem', key: '/etc/openbms/key.pem' },
        trust_proxy: ['127.0.0.1', '10.0.0.0/8', 'fd00::/8', 'loopback'],
        allowed_origins: ['https://bms.example.com', 'http://192.168.1.5:8080/'],
      },
    });
    expect(c.http).toMatchObject({
      host: '127.0.0.1',
      port: 8443,
      tls: { cert: '/etc/openbms/cert.pem', key: '/etc/openbms/key.pem' },
      trust_proxy: ['127.0.0.1', '10.0.0.0/8', 'fd00::/8', 'loopback'],
    });
    expect(validateConfig({ version: 1, http: { trust_proxy: true } }).http.trust_proxy).toBe(true);
  });

  it('refuses malformed values naming the key', () => {
    const issues = (http: unknown): string[] =>
      (errorOf(() => validateConfig({ version: 1, http })).details?.['issues'] as string[]) ?? [];
    expect(issues({ trust_proxy: ['proxy.lan'] })[0]).toMatch(
      /^http\.trust_proxy\[0\]: "proxy\.lan" is not an IP address/,
    );
    expect(issues({ trust_proxy: ['10.0.0.0/33'] })[0]).toMatch(/^http\.trust_proxy\[0\]/);
    expect(issues({ trust_proxy: 'yes' })[0]).toMatch(/^http\.trust_proxy/);
    expect(issues({ trust_proxy: [] })[0]).toMatch(/^http\.trust_proxy/);
    expect(issues({ allowed_origins: ['https://bms.example.com/app'] })[0]).toMatch(
      /^http\.allowed_origins\[0\]: "https:\/\/bms\.example\.com\/app" is not an origin/,
    );
    expect(issues({ allowed_origins: ['*'] })[0]).toMatch(/^http\.allowed_origins\[0\]/);
    expect(issues({ allowed_origins: ['ftp://x'] })[0]).toMatch(/^http\.allowed_origins\[0\]/);
    expect(issues({ tls: { cert: '/a.pem' } })[0]).toMatch(/^http\.tls\.key/);
    expect(issues({ tls: { cert: '/a.pem', key: '/b.pem', ca: '/c.pem' } })[0]).toMatch(
      /^http\.tls: unknown key "ca"/,
    );
  });
});

describe('loadHttpTls', () => {
  const good = selfSignedCert();

  it('reads a matching PEM certificate and key', () => {
    const t = loadHttpTls({ cert: good.certPath, key: good.keyPath });
    expect(t.cert.toString()).toBe(good.cert);
    expect(t.key.toString()).toBe(good.key);
    expect(t.subject).toContain('CN=localhost');
    expect(t.expiresAt).toBeGreaterThan(Date.now());
  });

  it('names http.tls.cert or http.tls.key when a file is missing, unreadable, not PEM or not the pair', () => {
    const d = good.dir;
    const field = (cert: string, key: string): { field: unknown; message: string } => {
      const e = errorOf(() => loadHttpTls({ cert, key }));
      expect(e.code).toBe('CONFIG_INVALID');
      return { field: e.details?.['field'], message: e.message };
    };
    expect(field(join(d, 'nope.crt'), good.keyPath)).toEqual({
      field: 'http.tls.cert',
      message: `http.tls.cert: cannot read ${join(d, 'nope.crt')}: no such file`,
    });
    expect(field(good.certPath, join(d, 'nope.key')).field).toBe('http.tls.key');
    mkdirSync(join(d, 'adir'));
    expect(field(join(d, 'adir'), good.keyPath).message).toContain('is a directory');

    writeFileSync(join(d, 'text.crt'), 'hello\n');
    expect(field(join(d, 'text.crt'), good.keyPath)).toMatchObject({
      field: 'http.tls.cert',
      message: expect.stringContaining('is not a PEM certificate'),
    });
    opensslIn(d, ['x509', '-in', good.certPath, '-outform', 'DER', '-out', 'der.crt']);
    expect(field(join(d, 'der.crt'), good.keyPath).message).toContain('is not a PEM certificate');
    writeFileSync(
      join(d, 'broken.crt'),
      '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n',
    );
    expect(field(join(d, 'broken.crt'), good.keyPath).message).toContain('no readable certificate');

    // The certificate given as the key.
    expect(field(good.certPath, good.certPath)).toMatchObject({
      field: 'http.tls.key',
      message: expect.stringContaining('is not a PEM private key'),
    });
    opensslIn(d, [
      'pkey',
      '-in',
      good.keyPath,
      '-aes256',
      '-passout',
      'pass:secret',
      '-out',
      'enc.key',
    ]);
    expect(field(good.certPath, join(d, 'enc.key')).message).toContain('is encrypted');
    const other = selfSignedCert('other');
    expect(field(good.certPath, other.keyPath)).toMatchObject({
      field: 'http.tls.key',
      message: expect.stringContaining('is not the private key of the certificate'),
    });
  });

  it('names http.tls.key when the key cannot be read (permission denied)', () => {
    if (process.getuid?.() === 0) {
      // root reads anything: check the message through a path that is a directory instead.
      expect(
        errorOf(() => loadHttpTls({ cert: good.certPath, key: good.dir })).details?.['field'],
      ).toBe('http.tls.key');
      return;
    }
    const p = join(good.dir, 'locked.key');
    writeFileSync(p, good.key);
    chmodSync(p, 0o000);
    expect(errorOf(() => loadHttpTls({ cert: good.certPath, key: p })).message).toContain(
      'permission denied',
    );
  });
});
