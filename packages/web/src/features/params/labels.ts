/**
 * Parameter names in the current language, by catalog id: protections are built from their
 * name, level and role (`cell_ov_l2_recover_mv` -> "Cell over-voltage level 2 recovery"),
 * function parameters have their own entry; anything else falls back to the API's label.
 */
import { useCallback } from 'react';
import { useTranslation } from 'react-i18next';

const PROTECTION = /^([a-z]+_[a-z]+)_l([123])_(.+)$/;

function roleOf(rest: string): 'threshold' | 'recovery' | 'delay' | 'recovery_delay' {
  if (rest.startsWith('recover_delay')) return 'recovery_delay';
  if (rest.startsWith('recover')) return 'recovery';
  if (rest.startsWith('delay')) return 'delay';
  return 'threshold';
}

export function useParamLabel(): (id: string, fallback?: string) => string {
  const { t, i18n } = useTranslation('params');
  return useCallback(
    (id: string, fallback?: string) => {
      const m = PROTECTION.exec(id);
      if (m && i18n.exists(`params:prot.${m[1]}`)) {
        return t(`role.${roleOf(m[3]!)}`, { name: t(`prot.${m[1]}`), level: m[2] });
      }
      if (i18n.exists(`params:fn.${id}`)) return t(`fn.${id}`);
      return fallback ?? id;
    },
    [t, i18n],
  );
}
