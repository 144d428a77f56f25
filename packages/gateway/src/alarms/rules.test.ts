import { describe, expect, it } from 'vitest';
import { BmsError } from '@openbms/core';
import { alarmRuleSchema, parseAlarmRules, ruleApplies } from './rules.js';

const base = { id: 'spread', name: 'Cell spread', metric: 'delta_cell_mv', op: '>', threshold: 80 };

function configError(raw: unknown): BmsError {
  try {
    parseAlarmRules(raw);
  } catch (e) {
    expect(e).toBeInstanceOf(BmsError);
    expect((e as BmsError).code).toBe('CONFIG_INVALID');
    return e as BmsError;
  }
  throw new Error('expected CONFIG_INVALID');
}

describe('alarm rule schema', () => {
  it('fills defaults: clear = threshold, code from metric and op, all packs, warning', () => {
    const r = alarmRuleSchema.parse(base);
    expect(r).toMatchObject({
      clear: 80,
      code: 'cell_diff',
      packs: 'all',
      severity: 'warning',
      for_s: 0,
      clear_for_s: 0,
      enabled: true,
    });
    expect(alarmRuleSchema.parse({ ...base, metric: 'soc_pct', op: '<' }).code).toBe('soc_low');
  });

  it('adds the soc_full built-in, which a rule with its id overrides field by field', () => {
    const rules = parseAlarmRules([base]);
    expect(rules.map((r) => r.id)).toEqual(['spread', 'soc_full']);
    expect(rules[1]).toMatchObject({ code: 'soc_high', severity: 'warning', clear: 95 });
    const off = parseAlarmRules([{ id: 'soc_full', enabled: false }]);
    expect(off).toHaveLength(1);
    expect(off[0]).toMatchObject({ id: 'soc_full', enabled: false, metric: 'soc_pct' });
    expect(parseAlarmRules([{ id: 'soc_full', clear: 90 }])[0]?.clear).toBe(90);
    expect(parseAlarmRules(undefined).map((r) => r.id)).toEqual(['soc_full']);
  });

  it('rejects malformed rules naming the key and the accepted values', () => {
    const e = configError([
      base,
      { ...base, id: 'b', op: '>=' },
      { ...base, id: 'c', metric: 'cell_mv' },
      { ...base, id: 'd', threshold: undefined },
      { ...base, id: 'e', clear: 90 },
      { ...base, id: 'f', severity: 'critical' },
      { ...base, id: 'g', colour: 'red' },
      { ...base, id: 'h', metric: 'soh_pct', op: '<' },
      { ...base, id: 'i', code: 'on_fire' },
      { ...base, id: 'j', for_s: -1 },
      { ...base, id: 'k', packs: 'some' },
    ]);
    const m = e.message;
    expect(m).toMatch(/alarm_rules\[1\]\.op: must be ">" \(raise above\) or "<"/);
    expect(m).toMatch(
      /alarm_rules\[2\]\.metric: "cell_mv" is not a numeric metric; accepted: .*delta_cell_mv/,
    );
    expect(m).toMatch(/alarm_rules\[3\]\.threshold: is required/);
    expect(m).toMatch(
      /alarm_rules\[4\]\.clear: 90 is on the alarm side: with op ">" clear must be at or below threshold 80/,
    );
    expect(m).toMatch(
      /alarm_rules\[5\]\.severity: invalid value; accepted: warning, protection, fault/,
    );
    expect(m).toMatch(/alarm_rules\[6\]: unknown key "colour"/);
    expect(m).toMatch(/alarm_rules\[7\]\.code: required for "soh_pct <"/);
    expect(m).toMatch(/alarm_rules\[8\]\.code: unknown alarm code "on_fire"; accepted: cell_ov/);
    expect(m).toMatch(/alarm_rules\[9\]\.for_s:/);
    expect(m).toMatch(/alarm_rules\[10\]\.packs: must be "all" or a non-empty list of pack ids/);
    expect(m).not.toMatch(/alarm_rules\[0\]/);
  });

  it('rejects duplicate ids, a non-list, and a rule that is not an object', () => {
    expect(configError([base, base]).message).toMatch(
      /alarm_rules\[1\]\.id: duplicate rule id "spread"/,
    );
    expect(configError({ rules: [] }).message).toMatch(/alarm_rules: must be a list of rules/);
    expect(configError(['x']).message).toMatch(/alarm_rules\[0\]/);
    expect(configError([{ ...base, threshold: 'high' }]).message).toMatch(
      /alarm_rules\[0\]\.threshold: must be a finite number/,
    );
  });

  it('matches packs by id, by prefix with *, or all', () => {
    const r = alarmRuleSchema.parse({ ...base, packs: ['home/bus1/2', 'shed/*'] });
    expect(ruleApplies(r, 'home/bus1/2')).toBe(true);
    expect(ruleApplies(r, 'home/bus1/3')).toBe(false);
    expect(ruleApplies(r, 'shed/rack/7')).toBe(true);
    expect(ruleApplies({ ...r, packs: 'all', enabled: false }, 'x')).toBe(false);
  });
});
