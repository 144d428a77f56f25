import { readFileSync } from 'node:fs';
import { metric } from '@openbms/core';
import { describe, expect, it } from 'vitest';
import {
  BLOCK_SIZE,
  DailyMaxSoc,
  REGISTERS,
  encodeValue,
  registerTable,
  widthOf,
} from './index.js';

describe('register map', () => {
  it('has no overlapping rows, fits the block, and takes metric units from the catalog', () => {
    const used = new Set<number>();
    for (const r of REGISTERS) {
      for (let i = 0; i < widthOf(r.type); i++) {
        expect(used.has(r.offset + i), `offset ${r.offset + i}`).toBe(false);
        used.add(r.offset + i);
      }
      expect(r.offset + widthOf(r.type)).toBeLessThanOrEqual(BLOCK_SIZE);
      const key = r.metric?.replace(/\[\d+\]$/, '');
      if (key && key !== 'alarms' && key !== 'cell_count') {
        expect(metric(key)?.unit ?? '', r.name).toBe(r.unit);
      }
    }
  });

  it('is printed in docs/modbus.md as the code has it', () => {
    const doc = readFileSync(new URL('../../../../../docs/modbus.md', import.meta.url), 'utf8');
    // Prettier may re-pad the table: compare cells, not spacing.
    const norm = (t: string): string =>
      t
        .split('\n')
        .map((l) =>
          l
            .trim()
            .replace(/\s*\|\s*/g, '|')
            .replace(/-{3,}/g, '---'),
        )
        .join('\n');
    expect(norm(doc)).toContain(norm(registerTable()));
  });

  it('encodes floats low word first (C D A B), integers saturated and two-complement', () => {
    expect(encodeValue(52.5, 'float')).toEqual([0x0000, 0x4252]);
    expect(encodeValue(52.5, 'float', 1, false)).toEqual([0x4252, 0x0000]);
    expect(encodeValue(-12.34, 's16', 10)).toEqual([0x10000 - 123]);
    expect(encodeValue(-40000, 's16')).toEqual([0x8000]);
    expect(encodeValue(70000, 'u16')).toEqual([0xffff]);
    expect(encodeValue(-1, 'u16')).toEqual([0]);
    expect(encodeValue(undefined, 'float')).toEqual([0, 0]);
    expect(encodeValue(0x12345678, 'u32')).toEqual([0x5678, 0x1234]);
  });
});

describe('max SOC today', () => {
  const H = 3_600_000;
  const day = Date.UTC(2025, 5, 1);
  it('keeps the first time the max is reached and resets at local midnight', () => {
    const d = new DailyMaxSoc(120); // UTC+2
    d.update('p', 50, day + 3 * H, day + 3 * H);
    d.update('p', 80, day + 9 * H, day + 9 * H);
    d.update('p', 80, day + 10 * H, day + 10 * H);
    d.update('p', 70, day + 11 * H, day + 11 * H);
    expect(d.get('p', day + 12 * H)).toEqual({ soc: 80, at: day + 9 * H });
    // 22:00 UTC is 00:00 local (UTC+2): a new day.
    expect(d.get('p', day + 22 * H)).toBeUndefined();
    d.update('p', 40, day + 22 * H, day + 22 * H);
    expect(d.get('p', day + 23 * H)).toEqual({ soc: 40, at: day + 22 * H });
    // A sample from yesterday does not count for today.
    d.update('p', 99, day + 21 * H, day + 23 * H);
    expect(d.get('p', day + 23 * H)?.soc).toBe(40);
  });
});
