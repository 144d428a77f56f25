/** Organisation codes (drawn from a given random source, retried when taken) and the role mapping. */
import { describe, expect, it } from 'vitest';
import { isBmsError } from '@openbms/core';
import {
  ORG_CODE_ALPHABET,
  ORG_ROLES,
  localRole,
  newOrgCode,
  orgRoleOf,
  withFreshCode,
} from './index.js';

describe('organisation codes', () => {
  it('maps each random byte to one of 32 letters by its low five bits', () => {
    expect(newOrgCode(() => Uint8Array.from([0, 1, 2, 3, 4, 5]))).toBe('012345');
    expect(newOrgCode(() => Uint8Array.from([14, 12, 32, 3, 11, 255]))).toBe('EC03BZ');
    expect(ORG_CODE_ALPHABET).toHaveLength(32);
    expect(ORG_CODE_ALPHABET).not.toMatch(/[ILOU]/);
  });

  it('draws again while the store says the code is taken, and gives up after eight tries', async () => {
    const drawn = ['AAAAAA', 'AAAAAA', 'BBBBBB'];
    const tried: string[] = [];
    const code = await withFreshCode(
      () => drawn.shift()!,
      (k) => {
        tried.push(k);
        return k !== 'AAAAAA';
      },
    );
    expect(code).toBe('BBBBBB');
    expect(tried).toEqual(['AAAAAA', 'AAAAAA', 'BBBBBB']);
    let attempts = 0;
    const err = await withFreshCode(
      () => 'AAAAAA',
      () => (attempts++, false),
    ).catch((e: unknown) => e);
    expect(isBmsError(err) && err.code).toBe('STORAGE_FAILED');
    expect(attempts).toBe(8);
  });
});

describe('roles', () => {
  it("maps the single box's roles onto seed 000's and back to the same rank", () => {
    expect(orgRoleOf('admin')).toBe('administrator');
    expect(orgRoleOf('operator')).toBe('operation_manager');
    expect(orgRoleOf('viewer')).toBe('general_user');
    for (const r of ['admin', 'operator', 'viewer'] as const)
      expect(localRole(orgRoleOf(r))).toBe(r);
    expect(ORG_ROLES.map(localRole)).toEqual([
      'admin',
      'admin',
      'operator',
      'operator',
      'operator',
      'viewer',
      'viewer',
      'viewer',
    ]);
  });
});
