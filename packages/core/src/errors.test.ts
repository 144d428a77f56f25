import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BmsError, ERROR_CODE_LIST, ensure } from './errors.js';

const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
const documented = [...doc.matchAll(/^\|\s*`([A-Z_]+)`\s*\|/gm)].map((m) => m[1]);

describe('error codes', () => {
  it('are each documented once in docs/errors.md, and the doc lists no other code', () => {
    expect([...documented].sort()).toEqual([...ERROR_CODE_LIST].sort());
    expect(new Set(documented).size).toBe(documented.length);
  });

  it('ensure() throws a BmsError with the code and message, and passes otherwise', () => {
    expect(() => ensure(true, 'FRAME_CHECKSUM', 'x')).not.toThrow();
    try {
      ensure(false, 'FRAME_TRUNCATED', 'too short', { n: 3 });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(BmsError);
      expect((e as BmsError).code).toBe('FRAME_TRUNCATED');
      expect((e as BmsError).toJSON()).toEqual({
        error: 'too short',
        code: 'FRAME_TRUNCATED',
        details: { n: 3 },
      });
    }
  });
});
