/**
 * Domain objects -> API JSON (snake_case, times in ms, absent values left out), typed by the
 * contract's types, which are derived from the very schemas the responses go through.
 */
import type { AlarmView, AuditView, LinkView, PackView, UserView } from '@openbms/contract/api';
import type { AlarmEvent, AuditEntry, User } from '@openbms/storage';
import type { PackStatus } from './gateway-api.js';
import { filterSnapshot, type PointFilter } from './policy.js';

/** `o` without its undefined values. */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** A pack as the API shows it, its snapshot with only the points `shown` (policy.ts). */
export function packView(p: PackStatus, shown: PointFilter): PackView {
  return defined<PackView>({
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
    snapshot: p.snapshot ? filterSnapshot(p.snapshot, shown) : null,
    link: defined<LinkView>({
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

/**
 * The v1 API names an alarm event and an audit entry by their gateway's number (`localId`),
 * the integer id it always had; the fleet-wide ULID stays inside.
 */
export function alarmView(a: AlarmEvent): AlarmView {
  return defined<AlarmView>({
    id: a.localId,
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

export function auditView(e: AuditEntry): AuditView {
  return defined<AuditView>({
    id: e.localId,
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

export function userView(u: Pick<User, 'username' | 'role' | 'createdAt'>): UserView {
  return { username: u.username, role: u.role, created_at: u.createdAt };
}
