/**
 * The `http:` section of the config file (its schema: `@openbms/contract`, config/http.ts).
 *
 * `loadHttpTls` reads the certificate and key at start and checks them with node:crypto
 * (a certificate, a private key, and that they belong together), so a wrong file is a
 * CONFIG_INVALID naming the key instead of a TLS error at the first browser visit.
 */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { BmsError } from '@openbms/core';

// The section's schema is part of the browser-safe contract; re-exported for the gateway's users.
export {
  httpConfigSchema,
  isOrigin,
  isProxyAddress,
  PROXY_RANGES,
  type HttpConfig,
} from '@openbms/contract';

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
