/**
 * One error shape for the whole API: `{error, code, field?}`. Coded errors map to HTTP
 * statuses; schema violations become 400 REQUEST_INVALID naming the field; Fastify's own
 * errors (body too large, wrong content type, bad URL, a path segment too long) and the
 * HTTP parser's (headers too large, malformed request) get the same shape; anything else is
 * a 500 whose body says nothing about the inside. Every 5xx is logged with its stack, at
 * error level (at warn for answers about a device, such as CAPABILITY_MISSING).
 */
import type { Duplex } from 'node:stream';
import { STATUS_CODES } from 'node:http';
import { isBmsError, type ErrorCode } from '@openbms/core';
import type {
  FastifyBaseLogger,
  FastifyError,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
} from 'fastify';

const STATUS: Partial<Record<ErrorCode, number>> = {
  AUTH_REQUIRED: 401,
  AUTH_INVALID: 401,
  CAPTCHA_REQUIRED: 401,
  CAPTCHA_WRONG: 401,
  FORBIDDEN: 403,
  SIGNUP_DISABLED: 403,
  CODE_INVALID: 400,
  NOT_FOUND: 404,
  RATE_LIMITED: 429,
  LIMIT_REACHED: 403,
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
  // A gateway that did not answer in time (a remote one: the outcome of a command is unknown).
  GATEWAY_UNAVAILABLE: 504,
  // Remote collectors (routes/collectors.ts).
  CONFLICT: 409,
  UPLINK_UNAVAILABLE: 503,
  // Storage (the disk or the database, not the request).
  STORAGE_FULL: 507,
  STORAGE_CORRUPT: 503,
  STORAGE_UNAVAILABLE: 503,
};

/** Statuses >= 500 that are answers about the device, not failures of the server: logged at warn. */
const EXPECTED = new Set<ErrorCode>(['CAPABILITY_MISSING']);

export function statusOf(code: ErrorCode): number {
  return STATUS[code] ?? 500;
}

/** The code of a client error that carries none of ours (Fastify's, the HTTP parser's). */
function codeOfStatus(status: number): ErrorCode {
  if (status === 401) return 'AUTH_REQUIRED';
  if (status === 403) return 'FORBIDDEN';
  if (status === 404) return 'NOT_FOUND';
  if (status === 429) return 'RATE_LIMITED';
  return 'REQUEST_INVALID';
}

export interface ErrorBody {
  error: string;
  code: ErrorCode;
  field?: string;
  retry_after_s?: number;
  /** RATE_LIMITED / LIMIT_REACHED by an organisation's limit: its name (`requests_per_minute`, `users`, `devices`). */
  limit?: string;
  /** A refused login: the next attempt must solve a captcha. */
  captcha_required?: boolean;
  /** A refused or part-failed parameter write (see writeDetails). */
  issues?: unknown[];
  rolled_back?: unknown[];
  not_restored?: unknown[];
  parameters?: unknown;
}

/** What to answer for an error, and how loudly to log it (undefined: not at all). */
export interface ErrorAnswer {
  status: number;
  body: ErrorBody;
  log?: 'error' | 'warn';
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

/**
 * What a refused or failed parameter write tells beyond its message: every broken rule, and
 * after a failure part-way what was put back and what the pack holds now.
 */
function writeDetails(d: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!d) return {};
  const out: Record<string, unknown> = {};
  if (Array.isArray(d['issues'])) out['issues'] = d['issues'];
  if (Array.isArray(d['rolled_back'])) out['rolled_back'] = d['rolled_back'];
  if (Array.isArray(d['not_restored'])) out['not_restored'] = d['not_restored'];
  if (typeof d['parameters'] === 'object' && d['parameters'] !== null) {
    out['parameters'] = d['parameters'];
  }
  return out;
}

/** Longest path parameter (as sent, %-escapes included); longer: 414. Schemas limit the decoded value. */
export const MAX_PARAM_LENGTH = 1000;

/** A header value quoted in a message: printable and short. */
const quoted = (v: unknown): string =>
  JSON.stringify(
    String(v ?? '')
      .replace(/[^\x20-\x7e]/g, '?')
      .slice(0, 100),
  );

/** Fastify's own client errors in words that say what to change; field when one is at fault. */
function fastifyClientError(
  err: FastifyError,
  req: FastifyRequest,
): { message: string; field?: string } {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE': {
      const limit = req.routeOptions.bodyLimit;
      const size =
        limit === undefined
          ? ''
          : ` (${limit % 1024 === 0 ? `${limit / 1024} kB` : `${limit} bytes`})`;
      return { message: `body: larger than this route accepts${size}`, field: 'body' };
    }
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return {
        message: `body: content-type ${quoted(req.headers['content-type'])} is not accepted here; send JSON as application/json`,
        field: 'body',
      };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { message: 'body: its length differs from the Content-Length header', field: 'body' };
    case 'FST_ERR_BAD_URL':
      return { message: `path: ${quoted(req.url)} is not a valid URL (a bad %-escape)` };
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return { message: `path: a path segment is longer than ${MAX_PARAM_LENGTH} characters` };
    default:
      return { message: err.message };
  }
}

/** The answer for any error a route, a hook, a body parser or Fastify itself raised. */
export function errorAnswer(err: FastifyError, req: FastifyRequest): ErrorAnswer {
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
    return {
      status: 400,
      body: {
        error: `${where} field "${field || '(root)'}" ${what}`,
        code: 'REQUEST_INVALID',
        field: field || where,
      },
    };
  }
  if (isBmsError(err)) {
    const status = statusOf(err.code);
    const field = err.details?.['field'];
    const retry = err.details?.['retry_after_s'];
    return {
      status,
      body: {
        error: err.message,
        code: err.code,
        ...(typeof field === 'string' ? { field } : {}),
        ...(typeof retry === 'number' ? { retry_after_s: retry } : {}),
        ...(typeof err.details?.['limit'] === 'string' ? { limit: err.details['limit'] } : {}),
        ...(err.details?.['captcha_required'] === true ? { captcha_required: true } : {}),
        ...writeDetails(err.details),
      },
      ...(status >= 500 ? { log: EXPECTED.has(err.code) ? ('warn' as const) : 'error' } : {}),
    };
  }
  const status = typeof err.statusCode === 'number' ? err.statusCode : 500;
  if (status >= 400 && status < 500) {
    const { message, field } = fastifyClientError(err, req);
    return {
      status,
      body: { error: message, code: codeOfStatus(status), ...(field ? { field } : {}) },
    };
  }
  return {
    status: 500,
    body: {
      error: `internal server error (request ${req.id}; see the server log)`,
      code: 'INTERNAL',
    },
    log: 'error',
  };
}

/** Logs (5xx, with the stack) and sends an error in the API's shape. */
export function sendError(
  err: FastifyError,
  req: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  const a = errorAnswer(err, req);
  if (a.log) req.log[a.log]({ err }, 'request failed');
  if (a.body.retry_after_s !== undefined)
    void reply.header('retry-after', String(a.body.retry_after_s));
  return reply.status(a.status).send(a.body);
}

/**
 * Errors of the HTTP parser, before Fastify sees a request (Fastify's `clientErrorHandler`):
 * the answer is written on the socket by hand, in the API's shape, and the connection closed.
 * Node cannot tell a long URL from long headers: both are "the request head is too large".
 */
export function clientErrorHandler(
  this: { log: FastifyBaseLogger },
  err: Error & { code?: string },
  socket: Duplex,
): void {
  // A reset connection is gone; there is nobody to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  let status = 400;
  let error = `malformed HTTP request (${err.code ?? err.message})`;
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    status = 431;
    error =
      'the request line and headers are larger than the server accepts (16 KiB; a very long URL counts too)';
  } else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    status = 408;
    error = 'the request did not arrive completely in time';
  }
  this.log.debug({ err }, 'client error');
  const body = JSON.stringify({ error, code: 'REQUEST_INVALID' } satisfies ErrorBody);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/**
 * An error inside a WebSocket handler, as the message sent to the client
 * (`{type: "error", error, code}`), logged like an HTTP error. `closeCode` is what to close
 * with when the connection cannot go on (1011 for a server failure, 1008 otherwise).
 */
export function wsError(
  err: unknown,
  req: FastifyRequest,
): { message: { type: 'error' } & ErrorBody; closeCode: number } {
  const e = (err instanceof Error ? err : new Error(String(err))) as FastifyError;
  const a = errorAnswer(e, req);
  if (a.log) req.log[a.log]({ err: e }, 'websocket handler failed');
  return { message: { type: 'error', ...a.body }, closeCode: a.status >= 500 ? 1011 : 1008 };
}

/** The part of a `ws` WebSocket the error handler uses. */
interface ErrorSocket {
  readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
}

/**
 * @fastify/websocket's `errorHandler`: an error thrown by a WebSocket handler (or emitted by
 * its socket). The client's own link failures (a reset, a frame over the size limit) close
 * the socket quietly; anything else is answered like wsError, then the socket is closed.
 */
export function wsErrorHandler(err: unknown, socket: ErrorSocket, req: FastifyRequest): void {
  const code = (err as { code?: unknown } | null)?.code;
  const linkFailure =
    (typeof code === 'string' && code.startsWith('WS_ERR_')) ||
    (err !== null && typeof err === 'object' && 'syscall' in err);
  if (linkFailure) {
    req.log.debug({ err }, 'websocket connection failed');
    socket.terminate();
    return;
  }
  const { message, closeCode } = wsError(err, req);
  if (socket.readyState === 1) socket.send(JSON.stringify(message));
  socket.close(closeCode, closeCode === 1011 ? 'server error' : 'request refused');
}

export function installErrorHandlers(
  app: FastifyInstance,
  opts: { spa?: () => boolean } = {},
): void {
  app.setErrorHandler((err: FastifyError, req, reply) => sendError(err, req, reply));

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
