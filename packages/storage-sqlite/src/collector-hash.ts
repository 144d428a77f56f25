/**
 * How remote collectors' claim codes and uplink secrets are kept (storage remote-collectors.ts):
 * `hex(SHA-256("claim:" + code))` and `hex(SHA-256("secret:" + secret))`, compared in constant
 * time. The PostgreSQL adapter has the same file (the port package has no crypto): keep the two
 * alike, so a database moved from one adapter to the other keeps working credentials.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

export const claimHash = (code: string): string => sha256(`claim:${code}`);

export const secretHash = (secret: string): string => sha256(`secret:${secret}`);

/** Two hex digests compared in constant time (false when either is absent or malformed). */
export function sameHash(a: string | null | undefined, b: string | null | undefined): boolean {
  if (typeof a !== 'string' || typeof b !== 'string' || !HEX64.test(a) || !HEX64.test(b))
    return false;
  return timingSafeEqual(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'));
}

const HEX64 = /^[0-9a-f]{64}$/;
