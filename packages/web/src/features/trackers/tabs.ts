/**
 * The tabs of a tracker's page, in order: one array, so a feature adds its panel here (an
 * id, its label's i18n key, a lazily loaded panel) and TrackerPage shows it.
 */
import { lazy, type ComponentType, type LazyExoticComponent } from 'react';
import type { DeviceView } from '@openbms/contract/api';

/** What every tab's panel gets. */
export interface TrackerTabProps {
  device: DeviceView;
}

export interface TrackerTab {
  /** The URL's last part: /trackers/:id/:tab. */
  id: string;
  /** i18n key of its label, with its namespace ("trackers:tab.map"). */
  label: string;
  Panel: LazyExoticComponent<ComponentType<TrackerTabProps>>;
}

export const TRACKER_TABS: readonly TrackerTab[] = [
  { id: 'map', label: 'trackers:tab.map', Panel: lazy(() => import('./MapTab')) },
  { id: 'track', label: 'trackers:tab.track', Panel: lazy(() => import('./TrackTab')) },
  { id: 'mileage', label: 'trackers:tab.mileage', Panel: lazy(() => import('./MileageTab')) },
  { id: 'bms', label: 'trackers:tab.bms', Panel: lazy(() => import('../../app/TrackerBmsTab')) },
  { id: 'alarms', label: 'trackers:tab.alarms', Panel: lazy(() => import('./AlarmsTab')) },
  {
    id: 'instructions',
    label: 'trackers:tab.instructions',
    Panel: lazy(() => import('./InstructionsTab')),
  },
];
