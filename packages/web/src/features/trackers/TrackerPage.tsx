/**
 * One GPS-tracked battery (seed 003): its tabs (tabs.ts: Map, Track, Mileage and what other
 * features add), the tab in the URL (/trackers/:id/:tab).
 */
import { Suspense, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useLocation } from 'wouter';
import type { DeviceView } from '@openbms/contract/api';
import { useApi } from '../../api/hooks';
import { Badge, ErrorBox, Spinner, Tabs } from '../../ui';
import { TRACKER_TABS } from './tabs';

export const trackerPath = (id: string, tab?: string): string =>
  `/trackers/${encodeURIComponent(id)}${tab ? `/${tab}` : ''}`;

export default function TrackerPage(props: { id: string; tab?: string }): ReactNode {
  const { t } = useTranslation('trackers');
  const [, navigate] = useLocation();
  const dev = useApi<DeviceView>(`/devices/${encodeURIComponent(props.id)}`);
  const tab = TRACKER_TABS.find((x) => x.id === props.tab) ?? TRACKER_TABS[0]!;
  const d = dev.data;
  const panelId = 'tracker-panel';
  return (
    <div className="page tracker-page" data-testid="tracker-page">
      <div className="page-head">
        <h1>
          {d ? (d.nickname ?? d.serial) : props.id}{' '}
          {d && (
            <Badge tone={d.online ? 'ok' : 'muted'}>
              {t(d.online ? 'info.online' : 'info.offline')}
            </Badge>
          )}
        </h1>
        <div className="toolbar">
          <Link href="/trackers">{t('fleet.title')}</Link>
          <Link href="/devices">{t('back')}</Link>
        </div>
      </div>
      {d && (
        <p className="muted">
          <code>{d.serial}</code> · {d.org_name}
        </p>
      )}
      {dev.loading && !d && <Spinner />}
      <ErrorBox error={dev.error} />
      {d && d.type !== 'tracker' && <p className="muted">{t('notTracker')}</p>}
      {d && (
        <>
          <Tabs
            label={t('tabsLabel')}
            panelId={panelId}
            tabs={TRACKER_TABS.map((x) => ({ id: x.id, label: t(x.label) }))}
            value={tab.id}
            onChange={(k) => navigate(trackerPath(props.id, k))}
          />
          <div
            id={panelId}
            role="tabpanel"
            aria-labelledby={`${panelId}-tab-${tab.id}`}
            className="tab-panel"
          >
            <Suspense fallback={<Spinner />}>
              <tab.Panel key={`${d.id}/${tab.id}`} device={d} />
            </Suspense>
          </div>
        </>
      )}
    </div>
  );
}
