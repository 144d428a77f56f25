/**
 * Parameter names in the current language, by catalog id: protections are built from their
 * name, level and role (`cell_ov_l2_recover_mv` -> "Cell over-voltage level 2 recovery"),
 * function parameters have their own entry; anything else falls back to the API's label.
 */
import { createContext, useCallback, useContext } from 'react';
import { useTranslation } from 'react-i18next';

const PROTECTION = /^([a-z]+_[a-z]+)_l([123])_(.+)$/;

/** The protection a catalog id belongs to (`cell_ov_l2_recover_mv` -> `cell_ov`). */
export function protectionOf(id: string): string | undefined {
  return PROTECTION.exec(id)?.[1];
}

/**
 * The protections a family writes at one level only (JK: one threshold per protection,
 * filed under catalog level 2): their labels and the level column say no level.
 */
export function singleLevelProtections(ids: readonly string[]): Set<string> {
  const levels = new Map<string, Set<string>>();
  for (const id of ids) {
    const m = PROTECTION.exec(id);
    if (!m) continue;
    const set = levels.get(m[1]!) ?? new Set<string>();
    set.add(m[2]!);
    levels.set(m[1]!, set);
  }
  return new Set([...levels].filter(([, l]) => l.size === 1).map(([k]) => k));
}

/** The pack's single-level protections, for the components of the parameters tab. */
export const SingleLevelContext = createContext<ReadonlySet<string>>(new Set());

function roleOf(rest: string): 'threshold' | 'recovery' | 'delay' | 'recovery_delay' {
  if (rest.startsWith('recover_delay')) return 'recovery_delay';
  if (rest.startsWith('recover')) return 'recovery';
  if (rest.startsWith('delay')) return 'delay';
  return 'threshold';
}

export function useParamLabel(
  single?: ReadonlySet<string>,
): (id: string, fallback?: string) => string {
  const { t, i18n } = useTranslation('params');
  const fromContext = useContext(SingleLevelContext);
  const one = single ?? fromContext;
  return useCallback(
    (id: string, fallback?: string) => {
      const m = PROTECTION.exec(id);
      if (m && i18n.exists(`params:prot.${m[1]}`)) {
        const role = roleOf(m[3]!);
        if (one.has(m[1]!)) return t(`roleOne.${role}`, { name: t(`prot.${m[1]}`) });
        return t(`role.${role}`, { name: t(`prot.${m[1]}`), level: m[2] });
      }
      if (i18n.exists(`params:fn.${id}`)) return t(`fn.${id}`);
      return fallback ?? id;
    },
    [t, i18n, one],
  );
}
