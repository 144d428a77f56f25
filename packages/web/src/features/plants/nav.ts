/**
 * Whether the shell lists Plants: when I see a plant (mine or shared), or more than one
 * organisation (a fleet). The single box, with its one organisation and no plant, keeps its
 * menu as it was; its administrator reaches the page from the Organisations page.
 */
import { useApi } from '../../api/hooks';
import type { OrgView, PlantView } from '@openbms/contract/api';

export function useShowPlants(): boolean {
  const plants = useApi<PlantView[]>('/plants');
  const orgs = useApi<OrgView[]>('/orgs');
  return (plants.data?.length ?? 0) > 0 || (orgs.data?.length ?? 0) > 1;
}
