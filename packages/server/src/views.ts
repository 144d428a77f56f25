/** Domain objects -> API JSON (snake_case, times in ms, absent values left out). */
import type { AlarmEvent, AuditEntry, User } from '@openbms/storage';
import type { PackStatus } from './gateway-api.js';

function defined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

export function packView(p: PackStatus): Record<string, unknown> {
  return defined({
    id: p.id,
    name: p.name,
    site: p.site,
    bus: p.bus,
    address: p.address,
    protocol: p.protocol,
    chemistry: p.chemistry,
    variant: p.variant,
    online: p.online,
    last_seen: p.lastSeen ?? null,
    snapshot: p.snapshot ?? null,
    link: defined({
      requests: p.link.requests,
      replies: p.link.replies,
      retries: p.link.retries,
      timeouts: p.link.timeouts,
      checksum_errors: p.link.checksum_errors,
      polls: p.link.polls,
      failures: p.link.failures,
      last_error: p.link.lastError,
    }),
  });
}

export function alarmView(a: AlarmEvent): Record<string, unknown> {
  return defined({
    id: a.id,
    pack_id: a.packId,
    code: a.code,
    severity: a.severity,
    level: a.level,
    origin: a.origin,
    rule_id: a.ruleId,
    raised_at: a.raisedAt,
    cleared_at: a.clearedAt,
    acknowledged_at: a.acknowledgedAt,
    acknowledged_by: a.acknowledgedBy,
    value: a.value,
    message: a.message,
  });
}

export function auditView(e: AuditEntry): Record<string, unknown> {
  return defined({
    id: e.id,
    at: e.at,
    user: e.user,
    pack_id: e.packId,
    action: e.action,
    old: e.old,
    new: e.new,
    result: e.result,
    detail: e.detail,
  });
}

export function userView(u: User): Record<string, unknown> {
  return { username: u.username, role: u.role, created_at: u.createdAt };
}
