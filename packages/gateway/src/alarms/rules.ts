/**
 * User alarm rules: their schema (zod v4), defaults, the built-in rules, and the parser the
 * config loader calls. A rule watches one numeric canonical metric of a pack's snapshot
 * (`delta_cell_mv > 80`, `soc_pct < 15`...), raises after the condition held `for_s`
 * seconds and clears once the value has been on the safe side of `clear` for `clear_for_s`.
 */
import { z } from 'zod';
import { ALARM_CODES, BmsError, METRICS, isAlarmCode } from '@openbms/core';

/** Numeric scalar metrics a rule may watch (the bus address is not a measurement). */
export const RULE_METRICS: readonly string[] = METRICS.filter(
  (m) => (m.type === 'number' || m.type === 'integer') && m.key !== 'address',
).map((m) => m.key);

/** Taxonomy code a rule gets when it names none: `<metric><op>` → code. */
const DEFAULT_CODES: Record<string, string> = {
  'delta_cell_mv>': 'cell_diff',
  'max_cell_mv>': 'cell_ov',
  'min_cell_mv<': 'cell_uv',
  'avg_cell_mv>': 'cell_ov',
  'avg_cell_mv<': 'cell_uv',
  'voltage_v>': 'pack_ov',
  'voltage_v<': 'pack_uv',
  'soc_pct<': 'soc_low',
  'soc_pct>': 'soc_high',
  'current_a>': 'chg_oc',
  'current_a<': 'dsg_oc',
  'max_temp_c>': 'cell_ot',
  'max_temp_c<': 'cell_ut',
  'min_temp_c>': 'cell_ot',
  'min_temp_c<': 'cell_ut',
  'mos_temp_c>': 'mos_ot',
  'board_temp_c>': 'box_ot',
  'env_temp_c>': 'env_ot',
  'env_temp_c<': 'env_ut',
};

export function defaultRuleCode(metric: string, op: '>' | '<'): string | undefined {
  return DEFAULT_CODES[`${metric}${op}`];
}

const MAX_DURATION_S = 7 * 24 * 3600;
const list = (xs: readonly string[]): string => xs.join(', ');

const finite = (): z.ZodNumber =>
  z.number({ error: (i) => (i.input === undefined ? 'is required' : 'must be a finite number') });

const ruleObject = z.strictObject({
  id: z
    .string()
    .regex(
      /^[a-z0-9][a-z0-9_-]{0,31}$/i,
      'must be 1-32 letters, digits, "-" or "_", starting with a letter or digit',
    ),
  name: z.string().min(1).max(80),
  metric: z.string().refine((m) => RULE_METRICS.includes(m), {
    error: (i) => `"${String(i.input)}" is not a numeric metric; accepted: ${list(RULE_METRICS)}`,
  }),
  op: z.enum(['>', '<'], { error: 'must be ">" (raise above) or "<" (raise below)' }),
  threshold: finite(),
  /** The value on the safe side at which it clears (hysteresis); default = threshold. */
  clear: finite().optional(),
  /** Seconds the condition must hold before the alarm is raised. */
  for_s: z.number().min(0).max(MAX_DURATION_S).default(0),
  /** Seconds the value must stay on the safe side before the alarm clears. */
  clear_for_s: z.number().min(0).max(MAX_DURATION_S).default(0),
  severity: z
    .enum(['warning', 'protection', 'fault'], {
      error: 'invalid value; accepted: warning, protection, fault',
    })
    .default('warning'),
  /** Taxonomy code of the events (defaults from metric and op, e.g. delta_cell_mv > → cell_diff). */
  code: z
    .string()
    .refine(isAlarmCode, {
      error: (i) =>
        `unknown alarm code "${String(i.input)}"; accepted: ${list(ALARM_CODES.map((a) => a.code))}`,
    })
    .optional(),
  /** Pack ids (`site/bus/address`; a trailing `*` matches a prefix) or `all`. */
  packs: z
    .union([z.literal('all'), z.array(z.string().min(1)).min(1)], {
      error:
        'must be "all" or a non-empty list of pack ids ("site/bus/address"; a trailing * matches a prefix)',
    })
    .default('all'),
  message: z.string().min(1).max(200).optional(),
  enabled: z.boolean().default(true),
});

/** One rule as written in the config; the output has every default filled in. */
export const alarmRuleSchema = ruleObject
  .superRefine((r, ctx) => {
    if (r.clear !== undefined) {
      const wrongSide = r.op === '>' ? r.clear > r.threshold : r.clear < r.threshold;
      if (wrongSide) {
        ctx.addIssue({
          code: 'custom',
          path: ['clear'],
          message: `${r.clear} is on the alarm side: with op "${r.op}" clear must be ${
            r.op === '>' ? 'at or below' : 'at or above'
          } threshold ${r.threshold}`,
        });
      }
    }
    if (r.code === undefined && defaultRuleCode(r.metric, r.op) === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['code'],
        message: `required for "${r.metric} ${r.op}" (no default taxonomy code); e.g. fault_other`,
      });
    }
  })
  .transform((r) => ({
    ...r,
    clear: r.clear ?? r.threshold,
    code: r.code ?? defaultRuleCode(r.metric, r.op) ?? 'fault_other',
  }));

export type AlarmRule = z.output<typeof alarmRuleSchema>;
export type AlarmRuleInput = z.input<typeof alarmRuleSchema>;

/**
 * Built-in rules, on unless overridden. A config rule with the same id replaces a field at a
 * time (`{id: soc_full, enabled: false}` turns it off; `{id: soc_full, clear: 90}` moves the
 * clear point). `soc_full` is the notice "SOC reached 100 %": code soc_high, severity
 * warning, raised above 99.9 % and cleared at 95 % so a pack held at full does not flap.
 * Pack offline is not a rule: the engine raises comm_lost from the scheduler's online events.
 */
export const BUILTIN_RULES: readonly AlarmRuleInput[] = [
  {
    id: 'soc_full',
    name: 'SOC reached 100 %',
    metric: 'soc_pct',
    op: '>',
    threshold: 99.9,
    clear: 95,
    severity: 'warning',
    code: 'soc_high',
    message: 'SOC reached 100 %',
  },
];

function pathOf(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (s, k) => (typeof k === 'number' ? `${s}[${k}]` : s ? `${s}.${String(k)}` : String(k)),
    '',
  );
}

/**
 * Checks the config's list of rules and adds the built-ins. Throws CONFIG_INVALID naming
 * every bad key (`alarm_rules[2].op: ...`).
 */
export function parseAlarmRules(
  raw: unknown,
  opts: { source?: string; builtins?: boolean } = {},
): AlarmRule[] {
  const source = opts.source ?? 'alarm_rules';
  const items = raw === undefined || raw === null ? [] : raw;
  if (!Array.isArray(items)) {
    throw new BmsError('CONFIG_INVALID', `${source}: must be a list of rules`);
  }
  const builtins = opts.builtins === false ? [] : BUILTIN_RULES;
  const issues: string[] = [];
  const rules: AlarmRule[] = [];
  const seen = new Set<string>();
  items.forEach((item: unknown, i) => {
    const id =
      typeof item === 'object' && item !== null ? (item as { id?: unknown }).id : undefined;
    const base = builtins.find((b) => b.id === id);
    const r = alarmRuleSchema.safeParse(base ? { ...base, ...(item as object) } : item);
    if (!r.success) {
      for (const issue of r.error.issues) {
        let msg = issue.message;
        if (issue.code === 'unrecognized_keys')
          msg = `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
        else if (issue.code === 'invalid_type' && /received undefined/.test(msg))
          msg = 'is required';
        issues.push(`${source}[${i}]${issue.path.length ? '.' : ''}${pathOf(issue.path)}: ${msg}`);
      }
      return;
    }
    if (seen.has(r.data.id)) {
      issues.push(`${source}[${i}].id: duplicate rule id "${r.data.id}"`);
      return;
    }
    seen.add(r.data.id);
    rules.push(r.data);
  });
  if (issues.length > 0) {
    throw new BmsError('CONFIG_INVALID', `${source} is invalid:\n  ${issues.join('\n  ')}`, {
      issues,
    });
  }
  for (const b of builtins) {
    if (!seen.has(b.id)) rules.push(alarmRuleSchema.parse(b));
  }
  return rules;
}

/** Whether a rule watches a pack: `all`, an exact id, or a prefix ending in `*`. */
export function ruleApplies(rule: Pick<AlarmRule, 'packs' | 'enabled'>, packId: string): boolean {
  if (!rule.enabled) return false;
  if (rule.packs === 'all') return true;
  return rule.packs.some((p) =>
    p.endsWith('*') ? packId.startsWith(p.slice(0, -1)) : p === packId,
  );
}
