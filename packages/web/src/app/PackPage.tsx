/** One pack: a header with its live summary and the tabs of seeds 003/004. */
import { lazy, Suspense, type ComponentType, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useLocation } from 'wouter';
import { usePack, useLiveState } from '../api/live';
import { Badge, Spinner, Tabs } from '../ui';
import { CellsTab } from '../features/pack/CellsTab';
import { StatusTab } from '../features/pack/StatusTab';
import type { TabProps } from './pack-tab';

const HistoryTab = lazy(() => import('../features/history/HistoryTab'));
const LiveTab = lazy(() => import('../features/live/LiveTab'));
const AlarmsTab = lazy(() => import('../features/pack/AlarmsTab'));
const ParamsTab = lazy(() => import('../features/params/ParamsTab'));
const ControlTab = lazy(() => import('../features/control/ControlTab'));
const RecordsTab = lazy(() => import('../features/control/RecordsTab'));
const SystemTab = lazy(() => import('../features/pack/SystemTab'));

const TABS: { id: string; component: ComponentType<TabProps> }[] = [
  { id: 'status', component: StatusTab },
  { id: 'cells', component: CellsTab },
  { id: 'live', component: LiveTab },
  { id: 'history', component: HistoryTab },
  { id: 'alarms', component: AlarmsTab },
  { id: 'settings', component: ParamsTab },
  { id: 'control', component: ControlTab },
  { id: 'records', component: RecordsTab },
  { id: 'system', component: SystemTab },
];

export default function PackPage(props: { id: string; tab: string | undefined }): ReactNode {
  const { t } = useTranslation('pack');
  const pack = usePack(props.id);
  const { loaded } = useLiveState();
  const [, navigate] = useLocation();
  const tab = TABS.find((x) => x.id === props.tab) ?? TABS[0]!;
  if (!pack) {
    if (!loaded) return <Spinner />;
    return (
      <div className="page">
        <p role="alert">{t('unknownPack', { id: props.id })}</p>
        <Link href="/">{t('common:backHome')}</Link>
      </div>
    );
  }
  const Tab = tab.component;
  const base = `/packs/${encodeURIComponent(pack.id)}`;
  return (
    <div className="page" data-testid="pack-page">
      <div className="page-head">
        <h1>
          {pack.name}{' '}
          {pack.online ? (
            <Badge tone="ok">{t('common:online')}</Badge>
          ) : (
            <Badge tone="muted">{t('common:offline')}</Badge>
          )}
        </h1>
        <div className="muted">
          {pack.protocol} · {t('address')} {pack.address} · {pack.site}/{pack.bus}
        </div>
      </div>
      <Tabs
        label={t('tabs.label')}
        tabs={TABS.map((x) => ({ id: x.id, label: t(`tabs.${x.id}`) }))}
        value={tab.id}
        onChange={(id) => navigate(`${base}/${id}`)}
        panelId="pack-tabpanel"
      />
      <div
        role="tabpanel"
        id="pack-tabpanel"
        aria-labelledby={`pack-tabpanel-tab-${tab.id}`}
        className="tabpanel"
      >
        <Suspense fallback={<Spinner />}>
          <Tab pack={pack} />
        </Suspense>
      </div>
    </div>
  );
}
