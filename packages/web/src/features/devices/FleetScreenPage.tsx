/**
 * The fleet large screen (/fleet-screen; seed 002 "LargeScreen"): every device the caller sees
 * by status, the active alarms, the energy charged and discharged (today and the last 30
 * days, summed over the visible sites) and a map of the plants. Outside the console frame,
 * dark, with a full-screen button; it reads everything again every 30 s on its own
 * (`?refresh=N` seconds).
 */
import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'wouter';
import type {
  AlarmView,
  DevicePageView,
  EnergyView,
  PlantView,
  SiteView,
} from '@openbms/contract/api';
import { api, type ApiError } from '../../api/client';
import { useFmt } from '../../i18n/format';
import { ErrorBox, Spinner, severityTone } from '../../ui';
import { PlantMap } from './PlantMap';
import '../../site/site.css';
import './devices.css';

export const REFRESH_MS = 30_000;

/** `?refresh=N` (seconds, 5..3600) sets how often a wall display reads again; else 30 s. */
export function refreshMs(search: string): number {
  const n = Number(new URLSearchParams(search).get('refresh'));
  return Number.isInteger(n) && n >= 5 && n <= 3600 ? n * 1000 : REFRESH_MS;
}
const MAX_ALARMS = 10;

interface Energy {
  todayIn: number;
  todayOut: number;
  monthIn: number;
  monthOut: number;
  /** Sites whose energy the caller may not see (a hidden energy point) or that failed. */
  left: number;
}

interface Screen {
  counts: DevicePageView['counts'];
  alarms: AlarmView[];
  energy: Energy;
  plants: PlantView[];
  at: number;
}

async function energyOf(sites: SiteView[]): Promise<Energy> {
  const out: Energy = { todayIn: 0, todayOut: 0, monthIn: 0, monthOut: 0, left: 0 };
  const answers = await Promise.allSettled(
    sites.map((s) =>
      api<EnergyView>(`/sites/${encodeURIComponent(s.id)}/energy?period=day&count=30`),
    ),
  );
  for (const a of answers) {
    if (a.status === 'rejected') {
      out.left++;
      continue;
    }
    const rows = a.value.total;
    const last = rows[rows.length - 1];
    out.todayIn += last?.charged_kwh ?? 0;
    out.todayOut += last?.discharged_kwh ?? 0;
    for (const r of rows) {
      out.monthIn += r.charged_kwh;
      out.monthOut += r.discharged_kwh;
    }
  }
  return out;
}

async function load(): Promise<Screen> {
  const [page, alarms, sites, plants] = await Promise.all([
    api<DevicePageView>('/devices?limit=1'),
    api<AlarmView[]>('/alarms?active=true&limit=1000'),
    api<SiteView[]>('/sites'),
    api<PlantView[]>('/plants'),
  ]);
  return { counts: page.counts, alarms, energy: await energyOf(sites), plants, at: Date.now() };
}

export default function FleetScreenPage(): ReactNode {
  const { t } = useTranslation('devices');
  const fmt = useFmt();
  const [screen, setScreen] = useState<Screen | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const refresh = useCallback(() => {
    load().then(
      (s) => {
        setScreen(s);
        setError(undefined);
      },
      (e: ApiError) => setError(e),
    );
  }, []);
  useEffect(() => {
    refresh();
    const timer = setInterval(refresh, refreshMs(window.location.search));
    return () => clearInterval(timer);
  }, [refresh]);
  const full = typeof document.documentElement.requestFullscreen === 'function';
  return (
    <div className="fleet-screen" data-theme="dark" data-testid="fleet-screen">
      <header className="fs-head">
        <div className="fs-title">
          <span className="logo" aria-hidden="true" />
          <h1>{t('fleet.title')}</h1>
          {screen && (
            <span className="fs-sub" data-testid="fleet-updated">
              {t('fleet.updated', { time: fmt.time(screen.at) })}
            </span>
          )}
        </div>
        <div className="fleet-head-actions">
          {full && (
            <button
              type="button"
              onClick={() => void document.documentElement.requestFullscreen().catch(() => {})}
            >
              {t('fleet.fullscreen')}
            </button>
          )}
          <Link href="/devices" className="fs-exit">
            {t('fleet.exit')}
          </Link>
        </div>
      </header>
      {!screen ? (
        <div>{error ? <ErrorBox error={error} /> : <Spinner />}</div>
      ) : (
        <main className="fleet-main">
          {error && (
            <div className="fleet-error">
              <ErrorBox error={error} />
            </div>
          )}
          <DevicePanel counts={screen.counts} />
          <AlarmPanel alarms={screen.alarms} />
          <EnergyPanel energy={screen.energy} />
          <section className="fs-panel fleet-map" aria-label={t('fleet.map')}>
            <h2>
              {t('fleet.map')}{' '}
              <span className="fs-big-inline" data-testid="fleet-plant-count">
                {fmt.num(screen.plants.length)}
              </span>
            </h2>
            {screen.plants.some((p) => p.lat !== undefined) ? (
              <PlantMap plants={screen.plants} label={t('fleet.map')} />
            ) : (
              <p className="muted">{t('fleet.noPlants')}</p>
            )}
          </section>
        </main>
      )}
    </div>
  );
}

function DevicePanel(props: { counts: DevicePageView['counts'] }): ReactNode {
  const { t } = useTranslation('devices');
  const fmt = useFmt();
  const c = props.counts;
  const parts = [
    ['online', 'ok'],
    ['offline', 'muted'],
    ['expired', 'bad'],
    ['not_enabled', 'warn'],
  ] as const;
  return (
    <section className="fs-panel fleet-devices" aria-label={t('fleet.devices')}>
      <h2>{t('fleet.devices')}</h2>
      <div className="fleet-total">
        <span className="fs-big" data-testid="fleet-count-all">
          {fmt.num(c.all)}
        </span>
        <span className="muted">{t('fleet.total')}</span>
      </div>
      <div className="fleet-bar" aria-hidden="true">
        {c.all > 0 &&
          (['online', 'offline'] as const).map((k) => (
            <span
              key={k}
              className={`fleet-bar-${k}`}
              style={{ width: `${(100 * c[k]) / c.all}%` }}
            />
          ))}
      </div>
      <dl className="fs-kv fleet-kv">
        {parts.map(([k, tone]) => (
          <div key={k}>
            <dt>{t(`tabs.${k}`)}</dt>
            <dd className={`tone-text-${tone}`} data-testid={`fleet-count-${k}`}>
              {fmt.num(c[k])}
            </dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

function AlarmPanel(props: { alarms: AlarmView[] }): ReactNode {
  const { t } = useTranslation('devices');
  const { t: ta } = useTranslation('alarmNames');
  const fmt = useFmt();
  const shown = props.alarms.slice(0, MAX_ALARMS);
  return (
    <section className="fs-panel fleet-alarms" aria-label={t('fleet.alarms')}>
      <h2>
        {t('fleet.alarms')}{' '}
        <span className="fs-big-inline" data-testid="fleet-alarm-count">
          {fmt.num(props.alarms.length)}
        </span>
      </h2>
      {shown.length === 0 ? (
        <p className="muted">{t('fleet.noAlarms')}</p>
      ) : (
        <ul className="fleet-alarm-list">
          {shown.map((a) => (
            <li key={a.id} className={`tone-border-${severityTone(a.severity)}`}>
              <strong>{ta(a.code, { defaultValue: a.code })}</strong>{' '}
              <span className="muted">{a.pack_id}</span>{' '}
              <span className="muted">{fmt.ago(a.raised_at)}</span>
            </li>
          ))}
          {props.alarms.length > shown.length && (
            <li className="muted">
              {t('fleet.more', { count: props.alarms.length - shown.length })}
            </li>
          )}
        </ul>
      )}
    </section>
  );
}

function EnergyPanel(props: { energy: Energy }): ReactNode {
  const { t } = useTranslation('devices');
  const fmt = useFmt();
  const e = props.energy;
  const kwh = (v: number) => fmt.unit(v, 'kWh', v < 100 ? 2 : 0);
  return (
    <section className="fs-panel fleet-energy" aria-label={t('fleet.energy')}>
      <h2>{t('fleet.energy')}</h2>
      <table className="fleet-energy-table">
        <thead>
          <tr>
            <th />
            <th>{t('fleet.charged')}</th>
            <th>{t('fleet.discharged')}</th>
          </tr>
        </thead>
        <tbody>
          <tr>
            <th scope="row">{t('fleet.today')}</th>
            <td className="tone-text-ok" data-testid="fleet-today-in">
              {kwh(e.todayIn)}
            </td>
            <td className="tone-text-info" data-testid="fleet-today-out">
              {kwh(e.todayOut)}
            </td>
          </tr>
          <tr>
            <th scope="row">{t('fleet.days30')}</th>
            <td className="tone-text-ok">{kwh(e.monthIn)}</td>
            <td className="tone-text-info">{kwh(e.monthOut)}</td>
          </tr>
        </tbody>
      </table>
      {e.left > 0 && <p className="muted">{t('fleet.sitesLeft', { count: e.left })}</p>}
    </section>
  );
}
