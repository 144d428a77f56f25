/** Routes. Pages other than the overview load on demand (smaller first download). */
import { lazy, Suspense, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, Route, Switch } from 'wouter';
import { OverviewPage } from '../features/overview/OverviewPage';
import { Spinner } from '../ui';
import { AuthGate } from './auth';
import { PrefsBar, Shell } from './Shell';

const PackPage = lazy(() => import('./PackPage'));
const AlarmsPage = lazy(() => import('../features/alarms/AlarmsPage'));
const ParallelPage = lazy(() => import('../features/parallel/ParallelPage'));
const WallPage = lazy(() => import('../features/wall/WallPage'));
const FilesPage = lazy(() => import('../features/files/FilesPage'));
const SettingsPage = lazy(() => import('../features/settings/SettingsPage'));
const BusesPage = lazy(() => import('../features/buses/BusesPage'));
const MyAccountPage = lazy(() => import('../features/account/MyAccountPage'));
const OrgsPage = lazy(() => import('../features/orgs/OrgsPage'));
const MembersPage = lazy(() => import('../features/orgs/MembersPage'));
const PlantsPage = lazy(() => import('../features/plants/PlantsPage'));
const PlantPage = lazy(() => import('../features/plants/PlantPage'));
const PointGroupsPage = lazy(() => import('../features/points/PointGroupsPage'));
const Devices = lazy(() => import('../features/devices/routes'));
const Trackers = lazy(() => import('../features/trackers/routes'));
const TrackerAlarms = lazy(() => import('../features/trackers/alarm-routes'));

/** A route parameter as the id it encodes (pack ids hold slashes: "demo/rack/2"). */
export function decodeParam(s: string | undefined): string {
  if (s === undefined) return '';
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function NotFound(): ReactNode {
  const { t } = useTranslation();
  return (
    <div className="page">
      <p>{t('notFound')}</p>
      <Link href="/">{t('backHome')}</Link>
    </div>
  );
}

export function App(): ReactNode {
  return (
    <AuthGate header={<PrefsBar standalone />}>
      <Switch>
        <Route path="/wall/:site?">
          {(p) => (
            <Suspense fallback={<Spinner />}>
              <WallPage site={p.site ? decodeParam(p.site) : undefined} />
            </Suspense>
          )}
        </Route>
        <Route path="/fleet-screen">
          <Suspense fallback={<Spinner />}>
            <Devices page="screen" />
          </Suspense>
        </Route>
        <Route>
          <Shell>
            <Suspense fallback={<Spinner />}>
              <Switch>
                <Route path="/" component={OverviewPage} />
                <Route path="/packs/:id/:tab?">
                  {(p) => <PackPage id={decodeParam(p.id)} tab={p.tab} />}
                </Route>
                <Route path="/parallel/:site/:bus">
                  {(p) => <ParallelPage site={decodeParam(p.site)} bus={decodeParam(p.bus)} />}
                </Route>
                <Route path="/alarms" component={AlarmsPage} />
                <Route path="/files" component={FilesPage} />
                <Route path="/settings/:section?">
                  {(p) => <SettingsPage section={p.section} />}
                </Route>
                <Route path="/buses" component={BusesPage} />
                <Route path="/account" component={MyAccountPage} />
                <Route path="/orgs" component={OrgsPage} />
                <Route path="/orgs/:id">{(p) => <MembersPage id={decodeParam(p.id)} />}</Route>
                <Route path="/orgs/:id/points">
                  {(p) => <PointGroupsPage id={decodeParam(p.id)} />}
                </Route>
                <Route path="/plants" component={PlantsPage} />
                <Route path="/plants/:id">{(p) => <PlantPage id={decodeParam(p.id)} />}</Route>
                <Route path="/devices">{() => <Devices page="list" />}</Route>
                <Route path="/approvals">{() => <Devices page="approvals" />}</Route>
                <Route path="/geofences">{() => <TrackerAlarms page="geofences" />}</Route>
                <Route path="/tracker-alarms">{() => <TrackerAlarms page="alarms" />}</Route>
                <Route path="/trackers">{() => <Trackers />}</Route>
                <Route path="/trackers/:id/:tab?">
                  {(p) => <Trackers id={decodeParam(p.id)} {...(p.tab ? { tab: p.tab } : {})} />}
                </Route>
                <Route component={NotFound} />
              </Switch>
            </Suspense>
          </Shell>
        </Route>
      </Switch>
    </AuthGate>
  );
}
