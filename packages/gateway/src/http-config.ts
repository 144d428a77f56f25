/**
 * The `http:` section of the config file: where the API and web console listen, native
 * TLS, which reverse proxies to believe, and which other origins' pages may open the live
 * WebSocket.
 *
 * ```yaml
 * http:
 *   host: 0.0.0.0
 *   port: 8443
 *   tls: { cert: /etc/openbms/cert.pem, key: /etc/openbms/key.pem } # PEM files: HTTPS
 *   trust_proxy: [127.0.0.1] # or true (any), or false (the default)
 *   allowed_origins: [https://bms.example.com]
 * ```
 *
 * `loadHttpTls` reads the certificate and key at start and checks them with node:crypto
 * (a certificate, a private key, and that they belong together), so a wrong file is a
 * CONFIG_INVALID naming the key instead of a TLS error at the first browser visit.
 */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { z } from 'zod';
import { BmsError } from '@openbms/core';

/** proxy-addr's names for address ranges (Fastify's trustProxy accepts them). */
const PROXY_RANGES = ['loopback', 'linklocal', 'uniquelocal'];

/** An IP address, a CIDR range (10.0.0.0/8, fd00::/8) or one of PROXY_RANGES. */
export function isProxyAddress(s: string): boolean {
  if (PROXY_RANGES.includes(s)) return true;
  const [ip = '', bits, ...rest] = s.split('/');
  const v = isIP(ip);
  if (v === 0 || rest.length > 0) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (v === 4 ? 32 : 128);
}

/** Whether `s` is exactly an http(s) origin: scheme, host, optional port; no path. */
export function isOrigin(s: string): boolean {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return false;
  }
  const rest = s.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  return (
    (u.protocol === 'http:' || u.protocol === 'https:') &&
    !u.username &&
    !u.password &&
    !/[/?#]/.test(rest.replace(/\/$/, ''))
  );
}

const tlsSchema = z
  .object({
    /** PEM certificate (the chain may follow the server's certificate in the same file). */
    cert: z.string().min(1),
    /** PEM private key, unencrypted. */
    key: z.string().min(1),
  })
  .strict();

export const httpConfigSchema = z
  .object({
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65_535).default(8080),
    /** Serve HTTPS with these files (read at start). */
    tls: tlsSchema.optional(),
    /**
     * Believe X-Forwarded-For/-Proto/-Host from these proxies (true: from anyone, only when
     * nothing but the proxy can reach the port). Absent: false.
     */
    trust_proxy: z
      .union([
        z.boolean(),
        z
          .array(
            z.string().refine(isProxyAddress, {
              error: (iss) =>
                `"${String(iss.input)}" is not an IP address, a CIDR range such as 10.0.0.0/8, or one of ${PROXY_RANGES.join(', ')}`,
            }),
          )
          .min(1),
      ])
      .optional(),
    /** Origins, besides the server's own, whose pages may open the live WebSocket. */
    allowed_origins: z
      .array(
        z.string().refine(isOrigin, {
          error: (iss) =>
            `"${String(iss.input)}" is not an origin such as https://bms.example.com or http://192.168.1.5:8080 (scheme, host, optional port; no path)`,
        }),
      )
      .optional(),
  })
  .strict();

export type HttpConfig = z.infer<typeof httpConfigSchema>;

/** The certificate and key, read and checked; `expiresAt` is the certificate's end (ms). */
export interface HttpTls {
  cert: Buffer;
  key: Buffer;
  subject: string;
  expiresAt: number;
}

function invalid(field: 'cert' | 'key', message: string): BmsError {
  const path = `http.tls.${field}`;
  return new BmsError('CONFIG_INVALID', `${path}: ${message}`, {
    field: path,
    issues: [{ path, message }],
  });
}

function read(field: 'cert' | 'key', path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as { code?: string }).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES'
          ? 'permission denied (the user running OpenBMS must be able to read it)'
          : code === 'EISDIR'
            ? 'is a directory'
            : (e as Error).message;
    throw invalid(field, `cannot read ${path}: ${why}`);
  }
}

/** Reads and checks `http.tls`; CONFIG_INVALID naming `http.tls.cert` or `.key` otherwise. */
export function loadHttpTls(tls: { cert: string; key: string }): HttpTls {
  const cert = read('cert', tls.cert);
  const key = read('key', tls.key);
  // X509Certificate also takes DER; the files must be PEM (what a web server expects).
  if (!cert.toString('latin1').includes('-----BEGIN CERTIFICATE-----')) {
    throw invalid('cert', `${tls.cert} is not a PEM certificate (no -----BEGIN CERTIFICATE-----)`);
  }
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (e) {
    throw invalid('cert', `${tls.cert} holds no readable certificate: ${(e as Error).message}`);
  }
  const keyText = key.toString('latin1');
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(keyText)) {
    throw invalid(
      'key',
      `${tls.key} is encrypted; give an unencrypted PEM key (openssl pkey -in key.pem -out plain.pem)`,
    );
  }
  let pk: KeyObject;
  try {
    pk = createPrivateKey({ key, format: 'pem' });
  } catch (e) {
    throw invalid(
      'key',
      `${tls.key} is not a PEM private key (-----BEGIN PRIVATE KEY-----): ${(e as Error).message}`,
    );
  }
  if (!x509.checkPrivateKey(pk)) {
    throw invalid('key', `${tls.key} is not the private key of the certificate in ${tls.cert}`);
  }
  return { cert, key, subject: x509.subject, expiresAt: Date.parse(x509.validTo) };
}
