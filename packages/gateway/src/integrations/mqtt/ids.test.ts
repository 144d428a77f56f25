/**
 * Topic names of packs: one per pack id (sites `a_b` + bus `c` and `a` + bus `b_c`, or
 * `Home` and `home`, used to share topics and unique_ids), and the names of upgraded
 * configs stay what they were wherever they did not collide.
 */
import { describe, expect, it } from 'vitest';
import { defaultConfig, packsOf } from '../../config.js';
import { TopicNames, assignNames, escapedName, legacyName } from './ids.js';

/** The map before 0.2, written out as it was (lower-case, other runs as one `_`). */
const before = (id: string): string => id.toLowerCase().replace(/[^a-z0-9_-]+/g, '_');

describe('pack topic names', () => {
  it('keep the names of today for ids that did not collide (migration)', () => {
    const ids = [
      ...packsOf(defaultConfig()).map((p) => p.id),
      'home/rs485-1/2',
      'Garage/bus_1/16', // upper case and "_": alone, so the old name stays
      'shed/can-0/1',
    ];
    const names = assignNames(ids);
    for (const id of ids) expect(names.get(id), id).toBe(before(id));
    expect(names.get('demo/rack/1')).toBe('demo_rack_1');
    expect(names.get('Garage/bus_1/16')).toBe('garage_bus_1_16');
  });

  it('give colliding ids different names (the reported cases)', () => {
    const cases = [
      ['a_b/c/1', 'a/b_c/1'],
      ['Home/b/1', 'home/b/1'],
      ['Home/b/1', 'home/b/1', 'HOME/b/1'],
    ];
    for (const ids of cases) {
      const names = assignNames(ids);
      expect(new Set(names.values()).size, ids.join(' ')).toBe(ids.length);
      for (const n of names.values()) expect(n).toMatch(/^[A-Za-z0-9_-]+$/);
    }
    // A plain id keeps its name even when a look-alike joins it.
    expect(assignNames(['home/b/1', 'Home/b/1']).get('home/b/1')).toBe('home_b_1');
    expect(assignNames(['a/b_c/1', 'a_b/c/1']).get('a/b_c/1')).toBe('a_b__c_1');
  });

  it('are one-to-one over random sets of look-alike ids', () => {
    const parts = ['a', 'A', 'a_', 'a_b', 'b', 'b_c', 'B_c', 'c', 'a__b', 'x-y'];
    let seed = 7;
    const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let round = 0; round < 500; round++) {
      const ids = Array.from(
        { length: 2 + rnd(8) },
        () => `${parts[rnd(parts.length)]}/${parts[rnd(parts.length)]}/${1 + rnd(2)}`,
      );
      const names = assignNames(ids);
      const distinct = new Set(ids);
      expect(new Set(names.values()).size, ids.join(' ')).toBe(distinct.size);
    }
  });

  it('escape injectively and read back through TopicNames', () => {
    expect(escapedName('a_b/c/1')).toBe('a__b_c_1');
    expect(escapedName('a/b_c/1')).toBe('a_b__c_1');
    expect(escapedName('Home/b/1')).toBe('Home_b_1');
    expect(legacyName('Home/b/1')).toBe('home_b_1');
    const t = new TopicNames(['Home/b/1', 'home/b/1']);
    expect(t.packOf(t.pack('Home/b/1'))).toBe('Home/b/1');
    expect(t.packOf(t.pack('home/b/1'))).toBe('home/b/1');
    expect(new TopicNames(['a_b/c/1']).system('a_b', 'c')).toBe('a_b_c');
    const s = new TopicNames(['a_b/c/1', 'a/b_c/1']);
    expect(s.system('a_b', 'c')).not.toBe(s.system('a', 'b_c'));
  });
});
