/**
 * The BMS tab of a tracker battery (composed here in app/: it shows other features' pack tabs) (seed 003: BMS status, settings, control, stats): the pack
 * its tracker carries, polled through the tracker's pass-through (docs/trackers.md "BMS
 * through the tracker"), shown with the pack page's own tabs. The pack is read over HTTP and
 * asked again every few seconds rather than taken from the live socket: a dealer's battery is
 * polled by the node's gateway, which the live socket (gateway-wide) does not send them.
 */
import { Suspense, lazy, useEffect, useState, type ComponentType, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { PackView } from '@openbms/contract/api';
import { useApi } from '../api/hooks';
import { Badge, ErrorBox, Spinner, Tabs } from '../ui';
import type { TabProps } from './pack-tab';
import { StatusTab } from '../features/pack/StatusTab';
import { CellsTab } from '../features/pack/CellsTab';
import type { TrackerTabProps } from '../features/trackers/tabs';

const AlarmsTab = lazy(() => import('../features/pack/AlarmsTab'));
const ParamsTab = lazy(() => import('../features/params/ParamsTab'));
const ControlTab = lazy(() => import('../features/control/ControlTab'));

/** Seed 003's four BMS screens (status with the cells, settings, control, stats). */
const SUBTABS: {
  id: 'status' | 'cells' | 'settings' | 'control' | 'alarms';
  Tab: ComponentType<TabProps>;
}[] = [
  { id: 'status', Tab: StatusTab },
  { id: 'cells', Tab: CellsTab },
  { id: 'settings', Tab: ParamsTab },
  { id: 'control', Tab: ControlTab },
  { id: 'alarms', Tab: AlarmsTab },
];

/** How often the pack is read again while the tab is open. */
const REFRESH_MS = 5_000;

export default function BmsTab(props: TrackerTabProps): ReactNode {
  const { t } = useTranslation('trackers');
  const { t: tp } = useTranslation('pack');
  const packId = props.device.pack_id;
  const pack = useApi<PackView>(packId ? `/packs/${encodeURIComponent(packId)}` : undefined);
  const [sub, setSub] = useState<(typeof SUBTABS)[number]['id']>('status');
  const { reload } = pack;
  useEffect(() => {
    if (!packId) return;
    const timer = setInterval(reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [reload, packId]);

  if (!packId) return <p className="muted">{t('bms.noLink')}</p>;
  if (pack.loading && !pack.data && !pack.error) return <Spinner />;
  if (pack.error?.status === 404)
    return (
      <p className="muted" data-testid="bms-none">
        {t('bms.none')}
      </p>
    );
  const p = pack.data;
  const current = SUBTABS.find((x) => x.id === sub)!;
  return (
    <div className="tracker-bms" data-testid="tracker-bms">
      <ErrorBox error={pack.error} />
      {p && (
        <>
          <p className="muted">
            {p.protocol} ·{' '}
            {p.online ? (
              <Badge tone="ok">{t('info.online')}</Badge>
            ) : (
              <Badge tone="muted">{t('info.offline')}</Badge>
            )}
          </p>
          <Tabs
            label={t('bms.tabsLabel')}
            panelId="tracker-bms-panel"
            tabs={SUBTABS.map((x) => ({ id: x.id, label: tp(`tabs.${x.id}`) }))}
            value={sub}
            onChange={setSub}
          />
          <div
            id="tracker-bms-panel"
            role="tabpanel"
            aria-labelledby={`tracker-bms-panel-tab-${sub}`}
            className="tabpanel"
          >
            <Suspense fallback={<Spinner />}>
              <current.Tab key={sub} pack={p} />
            </Suspense>
          </div>
        </>
      )}
    </div>
  );
}
