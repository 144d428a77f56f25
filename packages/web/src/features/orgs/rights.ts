/**
 * What the console offers on an organisation, from my fleet memberships (GET /auth/account).
 * The server decides (policy.ts): this only hides what it would refuse. Members and child
 * organisations: a manager or administrator of it or of one above; roles: its own manager.
 */
import type { Account, OrgView } from '@openbms/contract/api';

export function ancestry(orgs: readonly OrgView[], id: string): string[] {
  const byId = new Map(orgs.map((o) => [o.id, o]));
  const out: string[] = [];
  for (let o = byId.get(id); o; o = o.parent_id ? byId.get(o.parent_id) : undefined) out.push(o.id);
  return out;
}

export function canManage(
  orgs: readonly OrgView[],
  account: Account | undefined,
  id: string,
): boolean {
  if (!account) return false;
  const up = new Set(ancestry(orgs, id));
  return account.memberships.some(
    (m) => up.has(m.org_id) && (m.role === 'manager' || m.role === 'administrator'),
  );
}

export function isManager(account: Account | undefined, id: string): boolean {
  return !!account?.memberships.some((m) => m.org_id === id && m.role === 'manager');
}

/** The tree in reading order (each organisation followed by those under it), by name. */
export function treeOrder(orgs: readonly OrgView[]): OrgView[] {
  const ids = new Set(orgs.map((o) => o.id));
  const kids = new Map<string | undefined, OrgView[]>();
  for (const o of orgs) {
    const parent = o.parent_id !== undefined && ids.has(o.parent_id) ? o.parent_id : undefined;
    kids.set(parent, [...(kids.get(parent) ?? []), o]);
  }
  const out: OrgView[] = [];
  const walk = (parent: string | undefined) => {
    for (const o of (kids.get(parent) ?? []).sort((a, b) => a.name.localeCompare(b.name))) {
      out.push(o);
      walk(o.id);
    }
  };
  walk(undefined);
  return out;
}
