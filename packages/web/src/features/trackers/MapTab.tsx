/** The Map tab: the battery at its last position; a click on it shows its information. */
import { useEffect, useMemo, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { LastPositionView } from '@openbms/contract/api';
import { useApi } from '../../api/hooks';
import { ErrorBox, Spinner } from '../../ui';
import { BatteryInfo, NavigateLinks } from './BatteryInfo';
import { MapView } from './MapView';
import type { TrackerTabProps } from './tabs';

/** How often the last position is asked again while the tab is open. */
const REFRESH_MS = 15_000;

export default function MapTab(props: TrackerTabProps): ReactNode {
  const { t } = useTranslation('trackers');
  const d = props.device;
  const last = useApi<LastPositionView>(`/devices/${encodeURIComponent(d.id)}/position`);
  const [open, setOpen] = useState(false);
  const { reload } = last;
  useEffect(() => {
    const timer = setInterval(reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [reload]);
  const fix = last.data?.fix;
  const markers = useMemo(
    () =>
      fix
        ? [
            {
              id: d.id,
              lat: fix.lat,
              lon: fix.lon,
              label: d.nickname ?? d.serial,
              selected: open,
            },
          ]
        : [],
    [fix, d.id, d.nickname, d.serial, open],
  );
  if (last.loading && !last.data) return <Spinner />;
  if (last.error) return <ErrorBox error={last.error} />;
  return (
    <div className="tracker-map">
      {!fix && (
        <p className="muted" data-testid="no-fix">
          {t('noFix')}
        </p>
      )}
      <MapView
        label={t('mapLabel', { name: d.nickname ?? d.serial })}
        markers={markers}
        fitKey={d.id}
        follow={fix ? [fix.lat, fix.lon] : undefined}
        onMarkerClick={() => setOpen(true)}
        testId="tracker-map"
      />
      {fix && open && (
        <BatteryInfo
          serial={d.serial}
          {...(d.nickname !== undefined ? { nickname: d.nickname } : {})}
          org={d.org_name}
          online={d.online}
          fix={fix}
          onClose={() => setOpen(false)}
        />
      )}
      {fix && !open && <NavigateLinks lat={fix.lat} lon={fix.lon} />}
    </div>
  );
}
