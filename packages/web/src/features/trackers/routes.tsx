/** The tracker pages behind one lazy import (App.tsx names only this module). */
import type { ReactNode } from 'react';
import FleetMapPage from './FleetMapPage';
import TrackerPage from './TrackerPage';
import './trackers.css';

export default function TrackerRoutes(props: { id?: string; tab?: string }): ReactNode {
  if (props.id === undefined) return <FleetMapPage />;
  return <TrackerPage id={props.id} {...(props.tab !== undefined ? { tab: props.tab } : {})} />;
}
