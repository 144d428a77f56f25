import { describe, expect, it } from 'vitest';
import { MAX_NESTING, shapeProblem } from './untrusted.js';

/** `depth` arrays inside each other, built as JSON.parse would leave them. */
const nested = (depth: number): unknown => JSON.parse('['.repeat(depth) + ']'.repeat(depth));

describe('shapeProblem', () => {
  it(`accepts ${MAX_NESTING} levels and refuses one more, naming where`, () => {
    expect(shapeProblem(nested(MAX_NESTING))).toBeUndefined();
    const p = shapeProblem(nested(MAX_NESTING + 1));
    expect(p?.reason).toBe('depth');
    expect(p?.path).toBe('[0]'.repeat(MAX_NESTING));
    expect(p?.message).toMatch(`deeper than ${MAX_NESTING} levels`);
    expect(shapeProblem({ a: { b: [{ c: 1 }] } }, 3)?.path).toBe('a.b[0]');
    expect(shapeProblem({ a: { b: [{ c: 1 }] } }, 4)).toBeUndefined();
  });

  it('walks a 20,000-deep array (and a 20,000-deep object) without overflowing the stack', () => {
    expect(shapeProblem(nested(20_000))?.reason).toBe('depth');
    const deepObject: unknown = JSON.parse('{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000));
    expect(shapeProblem(deepObject)?.path).toBe(Array(MAX_NESTING).fill('a').join('.'));
  });

  it('refuses __proto__ and constructor.prototype keys wherever they are, with their path', () => {
    const proto = shapeProblem(JSON.parse('{"values":{"__proto__":1}}'));
    expect(proto).toMatchObject({ path: 'values.__proto__', reason: 'prototype_key' });
    expect(proto?.message).toMatch(/"__proto__" is refused.*prototype poisoning/);
    const ctor = shapeProblem(JSON.parse('{"a":[{"constructor":{"prototype":{"x":1}}}]}'));
    expect(ctor).toMatchObject({ path: 'a[0].constructor.prototype', reason: 'prototype_key' });
    expect(ctor?.message).toMatch(/"constructor.prototype" is refused/);
  });

  it('lets harmless look-alikes and scalars through', () => {
    for (const ok of [
      { constructor: 'x', prototype: 1 },
      { constructor: { name: 'x' } },
      { proto: 1, ['__proto']: 2 },
      'text',
      42,
      null,
    ]) {
      expect(shapeProblem(ok)).toBeUndefined();
    }
  });
});
