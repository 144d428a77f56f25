/**
 * The SQL row shapes of alarm events, audit entries, organisations and memberships, which both
 * adapters' tables share
 * (storage-sqlite and storage-postgres use the same column names), and their mapping to the
 * port's records: NULL columns become absent optional fields.
 */
import type { AlarmEvent, AuditEntry } from './index.js';
import type { Membership, Org, OrgRole } from './orgs.js';

export interface AlarmRow {
  id: string;
  local_id: number;
  org_id: string;
  gateway_id: string;
  pack_id: string;
  code: string;
  severity: AlarmEvent['severity'];
  level: number | null;
  origin: AlarmEvent['origin'];
  rule_id: string | null;
  raised_at: number;
  cleared_at: number | null;
  acknowledged_at: number | null;
  acknowledged_by: string | null;
  value: number | null;
  message: string;
}

export function alarmFromRow(r: AlarmRow): AlarmEvent {
  const e: AlarmEvent = {
    id: r.id,
    localId: r.local_id,
    orgId: r.org_id,
    gatewayId: r.gateway_id,
    packId: r.pack_id,
    code: r.code,
    severity: r.severity,
    origin: r.origin,
    raisedAt: r.raised_at,
    message: r.message,
  };
  if (r.level !== null) e.level = r.level;
  if (r.rule_id !== null) e.ruleId = r.rule_id;
  if (r.cleared_at !== null) e.clearedAt = r.cleared_at;
  if (r.acknowledged_at !== null) e.acknowledgedAt = r.acknowledged_at;
  if (r.acknowledged_by !== null) e.acknowledgedBy = r.acknowledged_by;
  if (r.value !== null) e.value = r.value;
  return e;
}

/** An audit row without its user-name column (`user` in SQLite, `user_name` in PostgreSQL). */
export interface AuditRow {
  id: string;
  local_id: number;
  org_id: string;
  gateway_id: string;
  at: number;
  user_id: string | null;
  pack_id: string | null;
  action: string;
  old_json: string | null;
  new_json: string | null;
  result: AuditEntry['result'];
  detail: string | null;
}

export function auditFromRow(r: AuditRow, user: string): AuditEntry {
  const e: AuditEntry = {
    id: r.id,
    localId: r.local_id,
    orgId: r.org_id,
    gatewayId: r.gateway_id,
    at: r.at,
    user,
    action: r.action,
    result: r.result,
  };
  if (r.user_id !== null) e.userId = r.user_id;
  if (r.pack_id !== null) e.packId = r.pack_id;
  if (r.old_json !== null) e.old = JSON.parse(r.old_json) as unknown;
  if (r.new_json !== null) e.new = JSON.parse(r.new_json) as unknown;
  if (r.detail !== null) e.detail = r.detail;
  return e;
}

export interface OrgRow {
  id: string;
  parent_id: string | null;
  kind: Org['kind'];
  name: string;
  code: string;
  depth: number;
  created_at: number;
}

export interface MemberRow {
  user_id: string;
  org_id: string;
  role: OrgRole;
  created_at: number;
  username?: string;
}

export function orgFromRow(r: OrgRow): Org {
  const o: Org = {
    id: r.id,
    kind: r.kind,
    name: r.name,
    code: r.code,
    depth: r.depth,
    createdAt: r.created_at,
  };
  if (r.parent_id !== null) o.parentId = r.parent_id;
  return o;
}

export function membershipFromRow(r: MemberRow): Membership {
  return { userId: r.user_id, orgId: r.org_id, role: r.role, createdAt: r.created_at };
}
