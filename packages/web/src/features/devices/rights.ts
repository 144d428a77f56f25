/**
 * What the device pages offer, from my fleet memberships (GET /auth/account) and the tree I
 * see (GET /orgs). The server decides (policy.ts, docs/fleet.md "Devices"); this only hides
 * what it would refuse: a device is changed (edit, bind, unbind) by a manager or
 * administrator of its organisation or of one above. (features/orgs has the same rule for
 * members; features do not import each other, so the few lines live here too.)
 */
import type { Account, OrgView } from '@openbms/contract/api';

/** Whether I am manager or administrator of `id` or of an organisation above it. */
export function canManage(
  orgs: readonly OrgView[],
  account: Account | undefined,
  id: string,
): boolean {
  if (!account) return false;
  const byId = new Map(orgs.map((o) => [o.id, o]));
  const up = new Set<string>();
  for (
    let o = byId.get(id);
    o && !up.has(o.id);
    o = o.parent_id ? byId.get(o.parent_id) : undefined
  )
    up.add(o.id);
  return account.memberships.some(
    (m) => up.has(m.org_id) && (m.role === 'manager' || m.role === 'administrator'),
  );
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
  const walk = (parent: string | undefined): void => {
    for (const o of (kids.get(parent) ?? []).sort((a, b) => a.name.localeCompare(b.name))) {
      out.push(o);
      walk(o.id);
    }
  };
  walk(undefined);
  return out;
}
