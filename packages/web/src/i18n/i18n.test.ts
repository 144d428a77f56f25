// Every string is translated: the same keys in English and Chinese, nothing empty, the same
// {{placeholders}} on both sides, and every alarm code of the core taxonomy has a name.
import { ALARM_CODES } from '@openbms/core';
import { describe, expect, it } from 'vitest';
import { NAMESPACES } from './resources';
import type { StringTree } from './types';

function flatten(t: StringTree, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(t)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'string') out.set(key, v);
    else for (const [k2, v2] of flatten(v, key)) out.set(k2, v2);
  }
  return out;
}

const placeholders = (s: string): string[] =>
  [...s.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]!).sort();

describe('translations', () => {
  for (const [ns, s] of Object.entries(NAMESPACES)) {
    it(`${ns}: English and Chinese have the same keys, none empty, same placeholders`, () => {
      const en = flatten(s.en);
      const zh = flatten(s.zh);
      expect([...zh.keys()].sort()).toEqual([...en.keys()].sort());
      for (const [k, v] of en) {
        expect(v.trim(), `${ns}:${k} (en) is empty`).not.toBe('');
        expect(zh.get(k)!.trim(), `${ns}:${k} (zh) is empty`).not.toBe('');
        expect(placeholders(zh.get(k)!), `${ns}:${k} placeholders`).toEqual(placeholders(v));
      }
    });

    it(`${ns}: the Chinese strings are translations, not copies`, () => {
      const en = flatten(s.en);
      const zh = flatten(s.zh);
      // Brand names, units and symbols may read the same in both languages.
      const same = [...en].filter(
        ([k, v]) => /[a-z]{4,}/i.test(v.replace(/\{\{\w+\}\}/g, '')) && zh.get(k) === v,
      );
      expect(same.length, same.map(([k]) => k).join(', ')).toBeLessThanOrEqual(
        Math.max(2, Math.floor(en.size * 0.1)),
      );
    });
  }

  it('shows no internal jargon: features are named by what they do ("(seed 001)", 种子文档)', () => {
    const jargon = /\bseeds?\b|种子|\bADR\b|taxonomy|canonical|snake_case/i;
    const found: string[] = [];
    for (const [ns, s] of Object.entries(NAMESPACES)) {
      for (const lang of ['en', 'zh'] as const) {
        for (const [k, v] of flatten(s[lang]))
          if (jargon.test(v)) found.push(`${ns}:${k} (${lang})`);
      }
    }
    expect(found).toEqual([]);
  });

  it('names every alarm code of the core taxonomy in both languages', () => {
    const names = NAMESPACES.alarmNames!;
    for (const a of ALARM_CODES) {
      expect(names.en[a.code], a.code).toBe(a.label);
      expect(typeof names.zh[a.code], a.code).toBe('string');
    }
  });
});
