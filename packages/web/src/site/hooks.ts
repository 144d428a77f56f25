/** Hooks shared by the overview, the parallel view and the large screen. */
import { useEffect, useMemo, useState } from 'react';
import type { BusView, PackView, SiteView } from '@openbms/contract/api';
import { useTranslation } from 'react-i18next';
import { useApi } from '../api/hooks';
import { siteName } from '../i18n/server-text';
import { live } from '../api/live';
import { useActiveAlarms } from './activeAlarms';
import { packRows, parallelSystems, type PackRow, type SystemRow } from './model';

/**
 * The live pack list, re-rendering at most every `ms`: with a thousand packs the store
 * changes hundreds of times a second, and a page of summaries need not redraw that often.
 * The first change after a quiet spell shows at once.
 */
export function useThrottledPacks(ms = 400): PackView[] {
  const [packs, setPacks] = useState<PackView[]>(live.packs);
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let last = 0;
    const flush = () => {
      timer = undefined;
      last = performance.now();
      setPacks(live.packs());
    };
    const off = live.subscribe(() => {
      if (timer !== undefined) return;
      timer = setTimeout(flush, Math.max(0, last + ms - performance.now()));
    });
    flush();
    return () => {
      off();
      clearTimeout(timer);
    };
  }, [ms]);
  return packs;
}

/** Sites and buses as configured (they change only with the configuration). */
export function useTopology(): {
  sites: SiteView[];
  buses: BusView[];
  loaded: boolean;
  error: ReturnType<typeof useApi>['error'];
} {
  const { i18n } = useTranslation();
  const sites = useApi<SiteView[]>('/sites');
  const buses = useApi<BusView[]>('/buses');
  const named = useMemo(
    () => (sites.data ?? []).map((s) => ({ ...s, name: siteName(i18n, s.name) })),
    // i18n.language: the demo's name follows a change of language.
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [sites.data, i18n, i18n.language],
  );
  return {
    sites: named,
    buses: buses.data ?? [],
    loaded: sites.data !== undefined && buses.data !== undefined,
    error: sites.error ?? buses.error,
  };
}

/** Rows for every pack and every parallel system, with their active alarms. */
export function useSiteModel(ms?: number): {
  rows: PackRow[];
  systems: SystemRow[];
  alarms: ReturnType<typeof useActiveAlarms>;
  topology: ReturnType<typeof useTopology>;
} {
  const packs = useThrottledPacks(ms);
  const alarms = useActiveAlarms();
  const topology = useTopology();
  const rows = useMemo(() => packRows(packs, alarms.alarms), [packs, alarms.alarms]);
  const systems = useMemo(
    () => parallelSystems(topology.buses, topology.sites, rows),
    [topology.buses, topology.sites, rows],
  );
  return { rows, systems, alarms, topology };
}
