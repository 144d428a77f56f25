/**
 * Logger options: Fastify's pino, one JSON line per event, with secrets redacted. Every line
 * of a request carries its `reqId`; request logs carry the method, the URL with any
 * `token=` query value masked, and the client address; never headers or bodies. Errors are
 * logged under `err` with their stack. Redaction paths also cover objects a handler might
 * log by mistake.
 */
import { BmsError } from '@openbms/core';
import type { FastifyServerOptions } from 'fastify';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type LoggerOption =
  | boolean
  | {
      level?: LogLevel;
      stream?: { write(line: string): void };
    };

const SECRET_KEYS = [
  'password',
  'current_password',
  'passwordHash',
  'token',
  'secret',
  'authorization',
  'cookie',
];

const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((k) => `*.${k}`),
  ...SECRET_KEYS.map((k) => `*.*.${k}`),
];

/** A log level from the environment (OPENBMS_LOG_LEVEL); absent: info. */
export function logLevel(value: string | undefined, name = 'OPENBMS_LOG_LEVEL'): LogLevel {
  if (value === undefined || value === '') return 'info';
  const v = value.trim().toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(v)) return v as LogLevel;
  throw new BmsError(
    'CONFIG_INVALID',
    `${name} must be one of ${LOG_LEVELS.join(', ')} (got "${value}")`,
  );
}

/** Masks credential values in a URL's query (`?token=...`). */
export function redactUrl(url: string): string {
  return url.replace(/([?&](?:token|access_token|password)=)[^&#]*/gi, '$1[redacted]');
}

interface LoggedRequest {
  method: string;
  url: string;
  ip?: string;
  socket?: { remoteAddress?: string };
}

export function loggerOptions(opt: LoggerOption | undefined): FastifyServerOptions['logger'] {
  if (opt === undefined || opt === false) return false;
  const base = opt === true ? {} : opt;
  return {
    level: base.level ?? 'info',
    ...(base.stream ? { stream: base.stream } : {}),
    redact: { paths: REDACT, censor: '[redacted]' },
    serializers: {
      req(req: LoggedRequest) {
        return {
          method: req.method,
          url: redactUrl(req.url),
          remoteAddress: req.ip ?? req.socket?.remoteAddress,
        };
      },
    },
  };
}
