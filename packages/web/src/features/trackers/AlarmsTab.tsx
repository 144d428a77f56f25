/** The Alarms tab of a tracker battery: the alarm list of this battery, each at its place. */
import type { ReactNode } from 'react';
import TrackerAlarmsPage from './TrackerAlarmsPage';
import type { TrackerTabProps } from './tabs';

export default function AlarmsTab(props: TrackerTabProps): ReactNode {
  return <TrackerAlarmsPage device={props.device} />;
}
