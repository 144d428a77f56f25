/**
 * The fleet map (seed 003 "Map"): every tracker battery the caller sees at its last position
 * (GET /trackers/positions), by status; a click on one shows its information and a link to
 * its page. Thousands of markers are drawn on one canvas (MapView); the list beside the map
 * shows the first LIST_ROWS that match the search.
 */
import { useEffect, useMemo, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'wouter';
import type { FleetPositionsView } from '@openbms/contract/api';
import { useApi } from '../../api/hooks';
import { useFmt } from '../../i18n/format';
import { Badge, ErrorBox, Spinner } from '../../ui';
import { BatteryInfo } from './BatteryInfo';
import { MapView, type MapMarker } from './MapView';
import { trackerPath } from './TrackerPage';
import './trackers.css';

const STATUSES = ['all', 'online', 'offline', 'expiring', 'expired', 'not_enabled'] as const;
type Status = (typeof STATUSES)[number];
const REFRESH_MS = 15_000;
const LIST_ROWS = 200;

export default function FleetMapPage(): ReactNode {
  const { t } = useTranslation('trackers');
  const td = useTranslation('devices').t;
  const fmt = useFmt();
  const [status, setStatus] = useState<Status>('all');
  const [q, setQ] = useState('');
  const [picked, setPicked] = useState<string | undefined>(undefined);
  const r = useApi<FleetPositionsView>(`/trackers/positions?status=${status}`);
  const { reload } = r;
  useEffect(() => {
    const timer = setInterval(reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [reload]);
  const trackers = useMemo(() => r.data?.trackers ?? [], [r.data]);
  const markers = useMemo<MapMarker[]>(
    () =>
      trackers.map((x) => ({
        id: x.device_id,
        lat: x.fix.lat,
        lon: x.fix.lon,
        label: x.nickname ?? x.serial,
        color: x.online ? '#1a9d63' : '#8a97a3',
        selected: x.device_id === picked,
      })),
    [trackers, picked],
  );
  const chosen = trackers.find((x) => x.device_id === picked);
  const needle = q.trim().toLowerCase();
  const matching = needle
    ? trackers.filter(
        (x) =>
          x.serial.toLowerCase().includes(needle) ||
          (x.nickname ?? '').toLowerCase().includes(needle),
      )
    : trackers;
  return (
    <div className="page fleet-map-page" data-testid="fleet-map">
      <div className="page-head">
        <h1>{t('fleet.title')}</h1>
        <div className="toolbar">
          <label className="field inline">
            <span>{t('fleet.status')}</span>
            <select
              value={status}
              onChange={(e) => setStatus(e.target.value as Status)}
              data-testid="fleet-status"
            >
              {STATUSES.map((s) => (
                <option key={s} value={s}>
                  {td(`tabs.${s}`)}
                </option>
              ))}
            </select>
          </label>
        </div>
      </div>
      <p className="muted">{t('fleet.intro')}</p>
      {r.loading && !r.data && <Spinner />}
      <ErrorBox error={r.error} />
      {r.data && (
        <p className="muted" data-testid="fleet-count" data-count={trackers.length}>
          {trackers.length === 0 ? t('fleet.none') : t('fleet.count', { count: trackers.length })}
          {r.data.truncated && <> {t('fleet.truncated')}</>}
        </p>
      )}
      <div className="fleet-map-layout">
        <MapView
          className="tall"
          label={t('fleetMapLabel')}
          markers={markers}
          fitKey={`${status}-${r.data ? 'data' : 'none'}`}
          onMarkerClick={setPicked}
          testId="fleet-map-view"
        />
        {chosen && (
          <BatteryInfo
            serial={chosen.serial}
            {...(chosen.nickname !== undefined ? { nickname: chosen.nickname } : {})}
            org={chosen.org_name}
            online={chosen.online}
            fix={chosen.fix}
            href={trackerPath(chosen.device_id)}
            onClose={() => setPicked(undefined)}
          />
        )}
      </div>
      {trackers.length > 0 && (
        <section className="card" aria-label={t('fleet.list')}>
          <header className="card-head">
            <h2>{t('fleet.list')}</h2>
            <div className="card-actions">
              <input
                type="search"
                value={q}
                placeholder={t('fleet.search')}
                aria-label={t('fleet.search')}
                onChange={(e) => setQ(e.target.value)}
                data-testid="fleet-search"
              />
            </div>
          </header>
          <div className="table-wrap">
            <table data-testid="fleet-table">
              <thead>
                <tr>
                  <th>{t('fleet.col.serial')}</th>
                  <th>{t('fleet.col.nickname')}</th>
                  <th>{t('fleet.col.org')}</th>
                  <th>{t('fleet.col.status')}</th>
                  <th>{t('fleet.col.soc')}</th>
                  <th>{t('fleet.col.reported')}</th>
                </tr>
              </thead>
              <tbody>
                {matching.slice(0, LIST_ROWS).map((x) => (
                  <tr
                    key={x.device_id}
                    data-testid={`fleet-row-${x.serial}`}
                    className={x.device_id === picked ? 'current' : undefined}
                  >
                    <td>
                      <button
                        type="button"
                        className="linkish"
                        onClick={() => setPicked(x.device_id)}
                      >
                        <code>{x.serial}</code>
                      </button>{' '}
                      <Link href={trackerPath(x.device_id)}>{t('mapLink')}</Link>
                    </td>
                    <td>{x.nickname ?? ''}</td>
                    <td>{x.org_name}</td>
                    <td>
                      <Badge tone={x.online ? 'ok' : 'muted'}>
                        {t(x.online ? 'info.online' : 'info.offline')}
                      </Badge>
                    </td>
                    <td>{fmt.pct(x.fix.soc)}</td>
                    <td>{fmt.dateTime(x.fix.t)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {matching.length > LIST_ROWS && (
            <p className="muted small">{t('fleet.more', { count: matching.length - LIST_ROWS })}</p>
          )}
        </section>
      )}
    </div>
  );
}
