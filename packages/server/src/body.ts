/**
 * The JSON body parser of every route (it replaces Fastify's default). Each refusal is a 400
 * REQUEST_INVALID that says what is wrong and where:
 *
 * - an empty body sent as application/json, or text that is not JSON (the parser's reason);
 * - nesting deeper than MAX_NESTING: downstream validators and mergers recurse per level,
 *   and a 20,000-deep array would overflow their stack (a 500 before this check);
 * - `__proto__` and `constructor.prototype` keys, refused as Fastify's default parser
 *   refuses them, but named (`values.__proto__`), not reported as "not valid JSON".
 *
 * JSON.parse itself is safe on any of these (it is not recursive in V8 and defines
 * `__proto__` as a plain own key), so the text is parsed first and the result checked.
 */
import { BmsError, MAX_NESTING, shapeProblem } from '@openbms/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';

export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') {
    throw new BmsError(
      'REQUEST_INVALID',
      'body: empty, but the content-type says JSON; send a JSON value or no content-type',
      { field: 'body' },
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new BmsError('REQUEST_INVALID', `body is not valid JSON: ${(e as Error).message}`, {
      field: 'body',
    });
  }
  const problem = shapeProblem(value, MAX_NESTING);
  if (problem) {
    const field = problem.path || 'body';
    throw new BmsError('REQUEST_INVALID', `body field "${field}": ${problem.message}`, { field });
  }
  return value;
}

export function installJsonBodyParser(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'string' },
    (_req: FastifyRequest, body: string | Buffer, done) => {
      try {
        done(null, parseJsonBody(typeof body === 'string' ? body : body.toString('utf8')));
      } catch (e) {
        done(e as Error, undefined);
      }
    },
  );
}
