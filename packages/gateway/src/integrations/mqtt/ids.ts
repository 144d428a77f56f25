/**
 * Topic levels and Home Assistant ids of packs and parallel systems: one per id, never shared.
 *
 * Until 0.1 a pack id `site/bus/address` became `site_bus_address`, lower-cased (the "legacy
 * name"). That map is not injective: sites `a_b` + bus `c` and `a` + bus `b_c`, or `Home` and
 * `home`, got one name, so two packs shared topics and unique_ids. The escaped name keeps the
 * case and doubles every `_` inside a part (parts are joined by one `_`; a part never starts
 * with `_`, so a run of underscores reads back unambiguously): it is injective, and equal to the
 * legacy name for every id made of lower-case letters, digits and `-` (most configs). Ids are
 * letters, digits, `_` and `-` (the config's rule for site and bus ids; addresses are numbers).
 *
 * So upgrades keep today's ids: a pack keeps its legacy name unless that name is shared with
 * another configured pack (or equals another's escaped name); then it takes its escaped name.
 * The names of one set are pairwise different (checked in `ids.test.ts` over random sets).
 */

/** The name before 0.2: lower-cased, every run of other characters as one `_`. */
export function legacyName(id: string): string {
  return id.toLowerCase().replace(/[^a-z0-9_-]+/g, '_');
}

/** The injective name: parts joined by `_`, `_` inside a part doubled, case kept. */
export function escapedName(id: string): string {
  return id
    .split('/')
    .map((part) => part.replace(/_/g, '__'))
    .join('_');
}

/**
 * Names for a set of ids (pack ids, or `site/bus` of systems): the legacy name where it is
 * the id's alone, the escaped name otherwise.
 */
export function assignNames(ids: Iterable<string>): Map<string, string> {
  const all = [...new Set(ids)];
  const escaped = new Set<string>();
  const byLegacy = new Map<string, string[]>();
  for (const id of all) {
    const l = legacyName(id);
    byLegacy.set(l, [...(byLegacy.get(l) ?? []), id]);
  }
  for (const group of byLegacy.values())
    if (group.length > 1) group.forEach((id) => escaped.add(id));
  // An id whose legacy name is another's escaped name escapes too (repeat until nothing moves).
  for (let moved = true; moved;) {
    moved = false;
    const taken = new Set([...escaped].map(escapedName));
    for (const id of all) {
      if (!escaped.has(id) && taken.has(legacyName(id))) {
        escaped.add(id);
        moved = true;
      }
    }
  }
  return new Map(all.map((id) => [id, escaped.has(id) ? escapedName(id) : legacyName(id)]));
}

/** The names of one gateway's packs and systems; ids not in the set get their escaped name. */
export class TopicNames {
  private readonly packs: Map<string, string>;
  private readonly systems: Map<string, string>;
  private readonly byName: Map<string, string>;

  constructor(packIds: Iterable<string>) {
    const ids = [...packIds];
    this.packs = assignNames(ids);
    this.systems = assignNames(ids.map((id) => id.split('/').slice(0, 2).join('/')));
    this.byName = new Map([...this.packs].map(([id, name]) => [name, id]));
  }

  pack(id: string): string {
    return this.packs.get(id) ?? escapedName(id);
  }

  system(site: string, bus: string): string {
    const key = `${site}/${bus}`;
    return this.systems.get(key) ?? escapedName(key);
  }

  /** The pack id a topic level names (commands), or undefined. */
  packOf(name: string): string | undefined {
    return this.byName.get(name);
  }
}
