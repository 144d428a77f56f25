/**
 * Checks on the shape of untrusted data once it is parsed (a JSON request body, an uploaded
 * YAML config) and before anything walks it: how deeply it nests and whether it holds keys
 * that poison prototypes. Validators and mergers downstream (zod, Ajv, the settings' secret
 * merge) recurse once per level, so a 20,000-deep array would overflow their stack; here the
 * walk is iterative, so no input can overflow it.
 *
 * secure-json-parse (what Fastify uses) refuses the same keys, but it neither names where
 * they are nor limits depth, and the YAML side needs the same rule; hence this walk.
 */

/** Deepest nesting accepted: a config section, the deepest legitimate body, nests 5 levels. */
export const MAX_NESTING = 32;

export interface ShapeProblem {
  /** Where: dotted keys and [index] (`values.__proto__`, `channels[2].headers`); '' = the top. */
  path: string;
  reason: 'depth' | 'prototype_key';
  /** The problem in words, without the path. */
  message: string;
}

const join = (path: string, key: string | number): string =>
  typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key;

/**
 * A problem of `value` (the first one met), or undefined. Depth counts containers:
 * `{}` and `[]` are 1 deep, `{"a": [1]}` is 2. Refused keys: `__proto__`, and `prototype`
 * inside a `constructor` object (both can change the prototype of objects built from it).
 */
export function shapeProblem(
  value: unknown,
  maxDepth: number = MAX_NESTING,
): ShapeProblem | undefined {
  const stack: { v: unknown; path: string; depth: number; inConstructor: boolean }[] = [
    { v: value, path: '', depth: 1, inConstructor: false },
  ];
  while (stack.length > 0) {
    const { v, path, depth, inConstructor } = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth > maxDepth) {
      return {
        path,
        reason: 'depth',
        message: `nests deeper than ${maxDepth} levels (objects and arrays inside each other)`,
      };
    }
    const children: { v: unknown; path: string; depth: number; inConstructor: boolean }[] = [];
    if (Array.isArray(v)) {
      v.forEach((x, i) =>
        children.push({ v: x, path: join(path, i), depth: depth + 1, inConstructor: false }),
      );
    } else {
      for (const key of Object.keys(v)) {
        const here = join(path, key);
        if (key === '__proto__' || (inConstructor && key === 'prototype')) {
          const name = key === '__proto__' ? '__proto__' : 'constructor.prototype';
          return {
            path: here,
            reason: 'prototype_key',
            message: `the key "${name}" is refused: it could change the prototype of every object (prototype poisoning)`,
          };
        }
        children.push({
          v: (v as Record<string, unknown>)[key],
          path: here,
          depth: depth + 1,
          inConstructor: key === 'constructor',
        });
      }
    }
    // Reversed, so that the first child is looked at first (document order).
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
  }
  return undefined;
}
