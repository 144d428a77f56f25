/**
 * The tracker alarm list (seed 003 "Alarm"; docs/trackers.md "Alarms"): the alarms of every
 * GPS battery the caller sees (GET /tracker-alarms), by period, type and device no.; a click
 * on one shows it on the map at its place (and the geofence it concerns). The alarm settings
 * switch each type on or off for this user (notify.alarm_types through PATCH /auth/account):
 * a type switched off leaves this list and the user's alarm e-mails.
 */
import { useMemo, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { TRACKER_ALARM_CODES } from '@openbms/core';
import type { Account, GeofenceView, TrackerAlarmView } from '@openbms/contract/api';
import { api } from '../../api/client';
import { useAction, useApi } from '../../api/hooks';
import { useFmt } from '../../i18n/format';
import { Badge, Card, ErrorBox, Spinner, severityTone } from '../../ui';
import { fromLocalInput, toLocalInput } from '../../ui/datetime';
import { MapView, type MapShape } from './MapView';
import './trackers.css';

const DAY = 86_400_000;

function AlarmSettings(props: { onSaved: () => void }): ReactNode {
  const { t } = useTranslation('trackerAlarms');
  const account = useApi<Account>('/auth/account');
  const save = useAction(async (types: Record<string, boolean>) => {
    const n = account.data!.notify;
    return api<Account>('/auth/account', {
      method: 'PATCH',
      body: {
        notify: {
          alarms_email: n.alarms_email,
          min_severity: n.min_severity,
          alarm_cleared: n.alarm_cleared,
          alarm_types: types,
        },
      },
    });
  });
  // Shown at once when switched (saved in the background; put back when the save fails).
  const [local, setLocal] = useState<Record<string, boolean> | undefined>(undefined);
  if (!account.data) return <ErrorBox error={account.error} />;
  const stored = save.result?.notify.alarm_types ?? account.data.notify.alarm_types ?? {};
  const types = local ?? stored;
  return (
    <Card title={t('alarms.settings')} testId="alarm-settings">
      <p className="muted small">{t('alarms.settingsIntro')}</p>
      <ul className="alarm-switches">
        {TRACKER_ALARM_CODES.map((a) => {
          const on = types[a.code] !== false;
          return (
            <li key={a.code}>
              <label>
                <input
                  type="checkbox"
                  role="switch"
                  checked={on}
                  aria-checked={on}
                  data-testid={`switch-${a.code}`}
                  onChange={async (e) => {
                    const next = { ...types, [a.code]: e.target.checked };
                    if (e.target.checked) delete next[a.code];
                    setLocal(next);
                    const saved = await save.run(next);
                    setLocal(undefined);
                    if (saved) props.onSaved();
                  }}
                />{' '}
                {t(`code.${a.code}`)}
              </label>
            </li>
          );
        })}
      </ul>
      <ErrorBox error={save.error} />
    </Card>
  );
}

/** The fleet's tracker alarms; with `device`, one battery's (its tracker page's Alarms tab). */
export default function TrackerAlarmsPage(
  props: { device?: { id: string; serial: string } } = {},
): ReactNode {
  const { t } = useTranslation('trackerAlarms');
  const fmt = useFmt();
  const [range, setRange] = useState(() => {
    const to = Date.now() + 60_000;
    return { from: to - 7 * DAY, to };
  });
  const [code, setCode] = useState('');
  const [q, setQ] = useState(props.device?.serial ?? '');
  const [picked, setPicked] = useState<string | undefined>(undefined);
  const list = useApi<TrackerAlarmView[]>(
    `${props.device ? `/devices/${encodeURIComponent(props.device.id)}/alarms` : '/tracker-alarms'}?from=${range.from}&to=${range.to}&limit=1000${code ? `&code=${encodeURIComponent(code)}` : ''}`,
  );
  const shown = useMemo(
    () =>
      (list.data ?? []).filter(
        (a) => q === '' || a.serial.toLowerCase().startsWith(q.toLowerCase()),
      ),
    [list.data, q],
  );
  const chosen = shown.find((a) => a.id === picked);
  const fence = useApi<GeofenceView>(
    chosen?.fence_id ? `/geofences/${encodeURIComponent(chosen.fence_id)}` : undefined,
  );
  const markers = useMemo(
    () =>
      chosen?.lat !== undefined && chosen.lon !== undefined
        ? [
            {
              id: chosen.id,
              lat: chosen.lat,
              lon: chosen.lon,
              selected: true,
              label: t(`code.${chosen.code}`),
            },
          ]
        : [],
    [chosen, t],
  );
  const shapes = useMemo((): MapShape[] => {
    const g = fence.data;
    if (!chosen?.fence_id || !g || g.id !== chosen.fence_id) return [];
    const s = g.shape;
    if (
      s.kind === 'circle' &&
      s.lat !== undefined &&
      s.lon !== undefined &&
      s.radius_m !== undefined
    )
      return [{ kind: 'circle', id: g.id, lat: s.lat, lon: s.lon, radiusM: s.radius_m }];
    if (s.kind === 'polygon' && s.vertices)
      return [
        { kind: 'polygon', id: g.id, points: s.vertices.map((v) => [v[0]!, v[1]!] as const) },
      ];
    return [];
  }, [chosen, fence.data]);

  return (
    <div className="page tracker-alarms-page" data-testid="tracker-alarms-page">
      <div className="page-head">
        <h1>{t('alarms.title')}</h1>
        <p className="muted">{t('alarms.intro')}</p>
      </div>
      <div className="range-bar">
        <label className="field">
          <span>{t('alarms.from')}</span>
          <input
            type="datetime-local"
            value={toLocalInput(range.from)}
            onChange={(e) => {
              const from = fromLocalInput(e.target.value);
              if (Number.isFinite(from) && from < range.to) setRange({ ...range, from });
            }}
          />
        </label>
        <label className="field">
          <span>{t('alarms.to')}</span>
          <input
            type="datetime-local"
            value={toLocalInput(range.to)}
            onChange={(e) => {
              const to = fromLocalInput(e.target.value);
              if (Number.isFinite(to) && to > range.from) setRange({ ...range, to });
            }}
          />
        </label>
        <label className="field">
          <span>{t('alarms.type')}</span>
          <select value={code} onChange={(e) => setCode(e.target.value)} data-testid="alarm-type">
            <option value="">{t('alarms.allTypes')}</option>
            {TRACKER_ALARM_CODES.map((a) => (
              <option key={a.code} value={a.code}>
                {t(`code.${a.code}`)}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>{t('alarms.search')}</span>
          <input
            type="search"
            value={q}
            onChange={(e) => setQ(e.target.value)}
            data-testid="alarm-search"
          />
        </label>
      </div>
      {chosen && (
        <MapView
          label={t('alarms.mapLabel')}
          markers={markers}
          shapes={shapes}
          fitKey={`${chosen.id}-${shapes.length}`}
          testId="alarm-map"
        />
      )}
      <Card>
        {list.loading && !list.data && <Spinner />}
        <ErrorBox error={list.error} />
        {list.data && shown.length === 0 && <p className="muted">{t('alarms.none')}</p>}
        {shown.length > 0 && (
          <div className="table-wrap">
            <table data-testid="tracker-alarm-table" className="fix-table">
              <thead>
                <tr>
                  <th>{t('alarms.col.time')}</th>
                  <th>{t('alarms.col.device')}</th>
                  <th>{t('alarms.col.alarm')}</th>
                  <th>{t('alarms.col.cleared')}</th>
                  <th>{t('alarms.col.place')}</th>
                </tr>
              </thead>
              <tbody>
                {shown.map((a) => (
                  <tr
                    key={a.id}
                    className={a.id === picked ? 'current' : undefined}
                    onClick={() => setPicked(a.id)}
                    data-testid={`alarm-row-${a.code}`}
                  >
                    <td>{fmt.dateTime(a.raised_at)}</td>
                    <td>
                      <code>{a.serial}</code>
                    </td>
                    <td>
                      <Badge tone={severityTone(a.severity)}>{t(`code.${a.code}`)}</Badge>
                    </td>
                    <td>
                      {a.cleared_at !== undefined ? fmt.dateTime(a.cleared_at) : t('alarms.active')}
                    </td>
                    <td>
                      {a.lat !== undefined && a.lon !== undefined
                        ? `${a.lat.toFixed(5)}, ${a.lon.toFixed(5)}`
                        : t('alarms.noPlace')}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
      <AlarmSettings onSaved={list.reload} />
    </div>
  );
}
