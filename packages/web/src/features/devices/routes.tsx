/** The pages of this folder behind one lazy import (App.tsx names only this module). */
import type { ReactNode } from 'react';
import ApprovalsPage from './ApprovalsPage';
import DevicesPage from './DevicesPage';
import FleetScreenPage from './FleetScreenPage';

export default function DeviceRoutes(props: { page: 'list' | 'approvals' | 'screen' }): ReactNode {
  if (props.page === 'approvals') return <ApprovalsPage />;
  if (props.page === 'screen') return <FleetScreenPage />;
  return <DevicesPage />;
}
