/**
 * One error shape for the whole API: `{error, code, field?}`. Coded errors map to HTTP
 * statuses; schema violations become 400 REQUEST_INVALID naming the field; anything else
 * is a 500 whose body says nothing about the inside (the log has the details).
 */
import { isBmsError, type ErrorCode } from '@openbms/core';
import type { FastifyError, FastifyInstance } from 'fastify';

const STATUS: Partial<Record<ErrorCode, number>> = {
  AUTH_REQUIRED: 401,
  AUTH_INVALID: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  RATE_LIMITED: 429,
  REQUEST_INVALID: 400,
  // Safe control (routes/control.ts; see the README's "Control" section).
  PARAM_UNKNOWN: 422,
  PARAM_OUT_OF_RANGE: 422,
  PARAM_STEP: 422,
  PARAM_UNSAFE_FOR_CHEMISTRY: 422,
  PARAM_INCONSISTENT: 422,
  COMMAND_REFUSED: 409,
  CAPABILITY_MISSING: 501,
  READBACK_MISMATCH: 502,
  TRANSPORT_OPEN_FAILED: 503,
  TRANSPORT_CLOSED: 503,
  TRANSPORT_WRITE_FAILED: 503,
  TRANSPORT_TIMEOUT: 504,
  // Storage (the disk or the database, not the request).
  STORAGE_FULL: 507,
  STORAGE_CORRUPT: 503,
};

/** Statuses >= 500 that are answers about the device, not failures of the server: not logged as errors. */
const EXPECTED = new Set<ErrorCode>(['CAPABILITY_MISSING']);

export function statusOf(code: ErrorCode): number {
  return STATUS[code] ?? 500;
}

interface AjvLikeError {
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
}

function fieldOf(e: AjvLikeError): string {
  const path = (e.instancePath ?? '').split('/').filter(Boolean).join('.');
  const extra = e.params?.['missingProperty'] ?? e.params?.['additionalProperty'];
  if (typeof extra === 'string') return path ? `${path}.${extra}` : extra;
  return path;
}

export function installErrorHandlers(
  app: FastifyInstance,
  opts: { spa?: () => boolean } = {},
): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err.validation && err.validation.length > 0) {
      const first = err.validation[0] as AjvLikeError;
      const field = fieldOf(first);
      let what = first.message ?? 'is invalid';
      if (first.params?.['additionalProperty'] !== undefined) what = 'is not a known field';
      if (first.params?.['missingProperty'] !== undefined) what = 'is required';
      if (Array.isArray(first.params?.['allowedValues'])) {
        what += ` (${(first.params['allowedValues'] as unknown[]).join(', ')})`;
      }
      const where = err.validationContext ?? 'request';
      return reply.status(400).send({
        error: `${where} field "${field || '(root)'}" ${what}`,
        code: 'REQUEST_INVALID',
        field: field || where,
      });
    }
    if (isBmsError(err)) {
      const status = statusOf(err.code);
      if (status >= 500 && !EXPECTED.has(err.code)) req.log.error({ err }, 'request failed');
      const field = err.details?.['field'];
      const retry = err.details?.['retry_after_s'];
      if (typeof retry === 'number') void reply.header('retry-after', String(retry));
      return reply.status(status).send({
        error: err.message,
        code: err.code,
        ...(typeof field === 'string' ? { field } : {}),
        ...(typeof retry === 'number' ? { retry_after_s: retry } : {}),
      });
    }
    const status = typeof err.statusCode === 'number' ? err.statusCode : 500;
    if (status >= 400 && status < 500) {
      // Fastify's own client errors: bad JSON, wrong content type, body too large.
      return reply.status(status).send({ error: err.message, code: 'REQUEST_INVALID' });
    }
    req.log.error({ err }, 'request failed');
    return reply.status(500).send({ error: 'internal server error', code: 'INTERNAL' });
  });

  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0] ?? '';
    // The web console's client-side routes (/packs/..., /settings) get its index.html.
    if (
      opts.spa?.() &&
      req.method === 'GET' &&
      !/^\/(api|assets)\//.test(path) &&
      path !== '/metrics'
    ) {
      return reply.header('cache-control', 'no-cache').sendFile('index.html');
    }
    return reply.status(404).send({ error: `no route ${req.method} ${path}`, code: 'NOT_FOUND' });
  });
}
