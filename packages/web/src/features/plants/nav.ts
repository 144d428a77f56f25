/**
 * Whether the shell lists Plants: when I see a plant (mine or shared), or more than one
 * organisation (a fleet). The single box, with its one organisation and no plant, keeps its
 * menu as it was; its administrator reaches the page from the Organisations page.
 */
import { useEffect, useRef } from 'react';
import { useLocation } from 'wouter';
import { useApi } from '../../api/hooks';
import type { OrgView, PlantView } from '@openbms/contract/api';

export function useShowPlants(): boolean {
  const plants = useApi<PlantView[]>('/plants');
  const orgs = useApi<OrgView[]>('/orgs');
  const show = (plants.data?.length ?? 0) > 0 || (orgs.data?.length ?? 0) > 1;
  // Until there is one, ask again on each page change (the first plant was just made, or
  // shared): one small request per navigation, on the single box only.
  const [location] = useLocation();
  const seen = useRef(location);
  const reload = plants.reload;
  useEffect(() => {
    if (location === seen.current) return;
    seen.current = location;
    if (!show) reload();
  }, [location, show, reload]);
  return show;
}
