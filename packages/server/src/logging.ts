/**
 * Logger options: Fastify's pino with secrets redacted. Request logs carry the method, the
 * URL with any `token=` query value masked, and the client address; never headers or
 * bodies. Redaction paths also cover objects a handler might log by mistake.
 */
import type { FastifyServerOptions } from 'fastify';

export type LoggerOption =
  | boolean
  | {
      level?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
      stream?: { write(line: string): void };
    };

const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'password',
  'current_password',
  'token',
  'secret',
  '*.password',
  '*.current_password',
  '*.token',
  '*.secret',
  '*.passwordHash',
];

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
