/** The Instructions tab of a tracker battery: seed 003's instructions and arm/disarm. */
import type { ReactNode } from 'react';
import { InstructionsPanel } from './InstructionsPanel';
import type { TrackerTabProps } from './tabs';

export default function InstructionsTab(props: TrackerTabProps): ReactNode {
  return <InstructionsPanel deviceId={props.device.id} />;
}
