/**
 * PostgreSQL failures as coded errors. A server that cannot be reached, refuses or drops
 * connections (shut down, restarting, too many clients, a terminated backend) is
 * STORAGE_UNAVAILABLE: nothing was written, the caller keeps what it meant to store and tries
 * again. A full disk is STORAGE_FULL, a read-only server STORAGE_READ_ONLY, anything else
 * STORAGE_FAILED. A BmsError thrown on the way (REQUEST_INVALID, NOT_FOUND) passes unchanged.
 */
import { BmsError, isBmsError } from '@openbms/core';

/** Node's socket error codes meaning the server is not there (or went away). */
const NET = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

export function isUnavailable(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown };
  const code = typeof err?.code === 'string' ? err.code : '';
  // SQLSTATE class 08 (connection exception), 57P01-57P03 (admin shutdown, crash shutdown,
  // cannot connect now), 53300 (too many connections).
  if (/^08/.test(code) || /^57P0[123]$/.test(code) || code === '53300' || NET.has(code))
    return true;
  const message = typeof err?.message === 'string' ? err.message : '';
  return /Connection terminated|connection timeout|Client has encountered a connection error|not queryable|timeout exceeded when trying to connect/i.test(
    message,
  );
}

/** The coded error for a failure of `what`; the message never holds the connection URL. */
export function pgError(e: unknown, what: string): BmsError {
  if (isBmsError(e)) return e;
  const err = e as { code?: unknown; message?: unknown };
  const code = typeof err?.code === 'string' ? err.code : '';
  const reason = typeof err?.message === 'string' && err.message ? err.message : String(e);
  if (isUnavailable(e))
    return new BmsError('STORAGE_UNAVAILABLE', `${what}: PostgreSQL is unavailable (${reason})`);
  if (code === '53100') return new BmsError('STORAGE_FULL', `${what}: ${reason}`);
  if (code === '25006') return new BmsError('STORAGE_READ_ONLY', `${what}: ${reason}`);
  return new BmsError('STORAGE_FAILED', `${what}: ${reason}`);
}
