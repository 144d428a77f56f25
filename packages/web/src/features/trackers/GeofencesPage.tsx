/**
 * Geofences (seed 003 "fence"; docs/trackers.md "Geofences"): the list, and an editor that
 * draws a circle (a click places the centre, the radius is typed) or a polygon (each click
 * adds a corner) on the map (MapView), with the alarm on entering, leaving or both, and the
 * batteries it applies to (or every battery of the organisation). The server checks the shape
 * (radius, corners, no crossing) and names the field it refuses.
 */
import { useMemo, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { DevicePageView, GeofenceView } from '@openbms/contract/api';
import { api } from '../../api/client';
import { useAction, useApi } from '../../api/hooks';
import { Card, Confirm, ErrorBox, Spinner } from '../../ui';
import { MapView, type LatLon, type MapShape } from './MapView';
import './trackers.css';

type Kind = 'circle' | 'polygon';
type Alarm = GeofenceView['alarm'];

interface Draft {
  id?: string;
  name: string;
  kind: Kind;
  centre?: LatLon;
  radiusM: number;
  vertices: LatLon[];
  alarm: Alarm;
  deviceIds: string[];
  orgWide: boolean;
}

const EMPTY: Draft = {
  name: '',
  kind: 'circle',
  radiusM: 300,
  vertices: [],
  alarm: 'both',
  deviceIds: [],
  orgWide: false,
};

function draftOf(g: GeofenceView): Draft {
  const s = g.shape;
  return {
    id: g.id,
    name: g.name,
    kind: s.kind,
    ...(s.kind === 'circle' && s.lat !== undefined && s.lon !== undefined
      ? { centre: [s.lat, s.lon] as LatLon }
      : {}),
    radiusM: s.radius_m ?? 300,
    vertices: (s.vertices ?? []).map((v) => [v[0]!, v[1]!] as LatLon),
    alarm: g.alarm,
    deviceIds: g.device_ids,
    orgWide: g.org_wide,
  };
}

function bodyOf(d: Draft) {
  const shape =
    d.kind === 'circle'
      ? {
          kind: 'circle' as const,
          ...(d.centre ? { lat: d.centre[0], lon: d.centre[1] } : {}),
          radius_m: d.radiusM,
        }
      : { kind: 'polygon' as const, vertices: d.vertices.map((v) => [v[0], v[1]]) };
  return {
    name: d.name,
    shape,
    alarm: d.alarm,
    device_ids: d.deviceIds,
    org_wide: d.orgWide,
  };
}

function shapeOf(id: string, s: GeofenceView['shape'] | Draft, color?: string): MapShape | null {
  if ('radiusM' in s) {
    if (s.kind === 'circle')
      return s.centre
        ? {
            kind: 'circle',
            id,
            lat: s.centre[0],
            lon: s.centre[1],
            radiusM: s.radiusM,
            ...(color ? { color } : {}),
          }
        : null;
    return s.vertices.length >= 2
      ? { kind: 'polygon', id, points: s.vertices, ...(color ? { color } : {}) }
      : null;
  }
  if (s.kind === 'circle' && s.lat !== undefined && s.lon !== undefined && s.radius_m !== undefined)
    return {
      kind: 'circle',
      id,
      lat: s.lat,
      lon: s.lon,
      radiusM: s.radius_m,
      ...(color ? { color } : {}),
    };
  if (s.kind === 'polygon' && s.vertices)
    return {
      kind: 'polygon',
      id,
      points: s.vertices.map((v) => [v[0]!, v[1]!] as LatLon),
      ...(color ? { color } : {}),
    };
  return null;
}

export default function GeofencesPage(): ReactNode {
  const { t } = useTranslation('trackerAlarms');
  const fences = useApi<GeofenceView[]>('/geofences');
  const trackers = useApi<DevicePageView>('/devices?limit=500');
  const [draft, setDraft] = useState<Draft | undefined>(undefined);
  const [deleting, setDeleting] = useState<GeofenceView | undefined>(undefined);
  const save = useAction(async (d: Draft) =>
    d.id
      ? api<GeofenceView>(`/geofences/${encodeURIComponent(d.id)}`, {
          method: 'PATCH',
          body: bodyOf(d),
        })
      : api<GeofenceView>('/geofences', { method: 'POST', body: bodyOf(d) }),
  );
  const remove = useAction(async (id: string) =>
    api<GeofenceView>(`/geofences/${encodeURIComponent(id)}`, { method: 'DELETE' }),
  );
  const devices = useMemo(
    () => (trackers.data?.devices ?? []).filter((d) => d.type === 'tracker'),
    [trackers.data],
  );
  const serialOf = useMemo(() => new Map(devices.map((d) => [d.id, d.serial])), [devices]);

  const shapes = useMemo(() => {
    const out: MapShape[] = [];
    for (const g of fences.data ?? []) {
      if (draft?.id === g.id) continue;
      const s = shapeOf(g.id, g.shape, '#8a97a3');
      if (s) out.push(s);
    }
    if (draft) {
      const s = shapeOf('draft', draft);
      if (s) out.push(s);
    }
    return out;
  }, [fences.data, draft]);
  const markers = useMemo(
    () =>
      draft?.kind === 'polygon'
        ? draft.vertices.map((v, i) => ({
            id: `v${i}`,
            lat: v[0],
            lon: v[1],
            label: String(i + 1),
          }))
        : draft?.centre
          ? [{ id: 'centre', lat: draft.centre[0], lon: draft.centre[1] }]
          : [],
    [draft],
  );

  const click = (lat: number, lon: number) => {
    if (!draft) return;
    if (draft.kind === 'circle') setDraft({ ...draft, centre: [lat, lon] });
    else if (draft.vertices.length < 200)
      setDraft({ ...draft, vertices: [...draft.vertices, [lat, lon]] });
  };
  const submit = async () => {
    if (!draft) return;
    const r = await save.run(draft);
    if (r) {
      setDraft(undefined);
      fences.reload();
    }
  };

  return (
    <div className="page geofences-page" data-testid="geofences-page">
      <div className="page-head">
        <h1>{t('fences.title')}</h1>
        <p className="muted">{t('fences.intro')}</p>
      </div>
      <MapView
        label={t('fences.mapLabel')}
        shapes={shapes}
        markers={markers}
        fitKey={draft ? `edit-${draft.id ?? 'new'}` : `list-${fences.data?.length ?? 0}`}
        onMapClick={click}
        onShapeClick={(id) => {
          const g = fences.data?.find((x) => x.id === id);
          if (g && !draft) setDraft(draftOf(g));
        }}
        testId="geofence-map"
      />
      {draft ? (
        <Card
          title={draft.id ? t('fences.edit', { name: draft.name }) : t('fences.new')}
          testId="geofence-editor"
        >
          <form
            onSubmit={(e) => {
              e.preventDefault();
              void submit();
            }}
          >
            <label className="field">
              <span>{t('fences.name')}</span>
              <input
                value={draft.name}
                maxLength={100}
                required
                onChange={(e) => setDraft({ ...draft, name: e.target.value })}
                data-testid="fence-name"
              />
            </label>
            <fieldset className="field">
              <legend>{t('fences.kind')}</legend>
              {(['circle', 'polygon'] as const).map((k) => (
                <label key={k}>
                  <input
                    type="radio"
                    name="fence-kind"
                    checked={draft.kind === k}
                    onChange={() => setDraft({ ...draft, kind: k })}
                    data-testid={`fence-kind-${k}`}
                  />{' '}
                  {t(`fences.${k}`)}
                </label>
              ))}
            </fieldset>
            <p className="muted small" data-testid="fence-hint">
              {t(`fences.clickHint.${draft.kind}`)}{' '}
              {draft.kind === 'polygon' && t('fences.vertices', { count: draft.vertices.length })}
            </p>
            {draft.kind === 'circle' ? (
              <label className="field">
                <span>{t('fences.radius')}</span>
                <input
                  type="number"
                  min={10}
                  max={100000}
                  value={draft.radiusM}
                  onChange={(e) => setDraft({ ...draft, radiusM: Number(e.target.value) })}
                  data-testid="fence-radius"
                />
              </label>
            ) : (
              <p>
                <button
                  type="button"
                  onClick={() => setDraft({ ...draft, vertices: draft.vertices.slice(0, -1) })}
                >
                  {t('fences.undo')}
                </button>{' '}
                <button type="button" onClick={() => setDraft({ ...draft, vertices: [] })}>
                  {t('fences.clear')}
                </button>
              </p>
            )}
            <label className="field">
              <span>{t('fences.alarm')}</span>
              <select
                value={draft.alarm}
                onChange={(e) => setDraft({ ...draft, alarm: e.target.value as Alarm })}
                data-testid="fence-alarm"
              >
                {(['enter', 'exit', 'both'] as const).map((a) => (
                  <option key={a} value={a}>
                    {t(`fences.alarmOn.${a}`)}
                  </option>
                ))}
              </select>
            </label>
            <label className="field">
              <span>{t('fences.devices')}</span>
              <select
                multiple
                size={Math.min(8, Math.max(3, devices.length))}
                value={draft.deviceIds}
                onChange={(e) =>
                  setDraft({
                    ...draft,
                    deviceIds: [...e.target.selectedOptions].map((o) => o.value),
                  })
                }
                data-testid="fence-devices"
              >
                {devices.map((d) => (
                  <option key={d.id} value={d.id}>
                    {d.serial}
                    {d.nickname ? ` (${d.nickname})` : ''}
                  </option>
                ))}
              </select>
            </label>
            <label>
              <input
                type="checkbox"
                checked={draft.orgWide}
                onChange={(e) => setDraft({ ...draft, orgWide: e.target.checked })}
                data-testid="fence-org-wide"
              />{' '}
              {t('fences.orgWide')}
            </label>
            <ErrorBox error={save.error} />
            <p>
              <button
                type="submit"
                className="primary"
                disabled={save.pending}
                data-testid="fence-save"
              >
                {save.pending ? t('fences.saving') : t('fences.save')}
              </button>{' '}
              <button type="button" onClick={() => setDraft(undefined)}>
                {t('fences.cancel')}
              </button>
            </p>
          </form>
        </Card>
      ) : (
        <p>
          <button
            type="button"
            className="primary"
            onClick={() => {
              save.reset();
              setDraft({ ...EMPTY });
            }}
            data-testid="fence-new"
          >
            {t('fences.new')}
          </button>
        </p>
      )}
      <Card>
        {fences.loading && !fences.data && <Spinner />}
        <ErrorBox error={fences.error ?? remove.error} />
        {fences.data?.length === 0 && <p className="muted">{t('fences.none')}</p>}
        {fences.data && fences.data.length > 0 && (
          <div className="table-wrap">
            <table data-testid="geofence-table">
              <thead>
                <tr>
                  <th>{t('fences.col.name')}</th>
                  <th>{t('fences.col.shape')}</th>
                  <th>{t('fences.col.alarm')}</th>
                  <th>{t('fences.col.devices')}</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {fences.data.map((g) => (
                  <tr key={g.id} data-testid={`fence-row-${g.name}`}>
                    <td>{g.name}</td>
                    <td>
                      {g.shape.kind === 'circle'
                        ? `${t('fences.circle')} ${g.shape.radius_m ?? ''} m`
                        : `${t('fences.polygon')} (${t('fences.vertices', { count: g.shape.vertices?.length ?? 0 })})`}
                    </td>
                    <td>{t(`fences.alarmOn.${g.alarm}`)}</td>
                    <td>
                      {g.org_wide
                        ? t('fences.all')
                        : g.device_ids.map((id) => serialOf.get(id) ?? id).join(', ')}
                    </td>
                    <td>
                      <button
                        type="button"
                        aria-label={t('fences.edit', { name: g.name })}
                        title={t('fences.edit', { name: g.name })}
                        onClick={() => setDraft(draftOf(g))}
                      >
                        ✎
                      </button>{' '}
                      <button type="button" className="danger" onClick={() => setDeleting(g)}>
                        {t('fences.delete')}
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
      <Confirm
        open={deleting !== undefined}
        title={t('fences.confirmDelete', { name: deleting?.name ?? '' })}
        confirmLabel={t('fences.delete')}
        danger
        onCancel={() => setDeleting(undefined)}
        onConfirm={() => {
          const g = deleting;
          setDeleting(undefined);
          if (g) void remove.run(g.id).then(() => fences.reload());
        }}
      />
    </div>
  );
}
