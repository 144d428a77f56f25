export { AlarmEngine, type AlarmEngineOptions } from './engine.js';
export {
  BUILTIN_RULES,
  RULE_METRICS,
  alarmRuleSchema,
  defaultRuleCode,
  parseAlarmRules,
  ruleApplies,
  type AlarmRule,
  type AlarmRuleInput,
} from './rules.js';
export { stepRule, type RulePhase, type RuleTrack } from './evaluate.js';
