/**
 * The geofence and tracker alarm pages behind one lazy import (the lead wires them into
 * App.tsx, e.g. `/trackers/geofences` and `/trackers/alarms`).
 */
import type { ReactNode } from 'react';
import GeofencesPage from './GeofencesPage';
import TrackerAlarmsPage from './TrackerAlarmsPage';
import './trackers.css';

export { GeofencesPage, TrackerAlarmsPage };

export default function TrackerAlarmRoutes(props: { page: 'geofences' | 'alarms' }): ReactNode {
  return props.page === 'geofences' ? <GeofencesPage /> : <TrackerAlarmsPage />;
}
