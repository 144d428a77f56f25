/**
 * The Track tab: a battery's positions over a chosen range, played back. The moving marker
 * goes along the drawn track at the chosen speed (1x is a minute of track per second); the
 * slider and the position list follow it, and a click on a row (or a drag of the slider)
 * moves the marker there.
 */
import { useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { PositionView } from '@openbms/contract/api';
import { useApi } from '../../api/hooks';
import { useFmt } from '../../i18n/format';
import { ErrorBox, Spinner } from '../../ui';
import { PLAYBACK_SPEEDS, advance, positionAt } from './geo';
import { MapView, type MapLine, type MapMarker } from './MapView';
import { PRESETS, RangeBar, type Range } from './RangeBar';
import type { TrackerTabProps } from './tabs';

/** Rows of the list shown at once past this many fixes (a window that follows playback). */
const ALL_ROWS = 2000;
const WINDOW = 300;
/** The played part of the track is drawn up to this many fixes (it is redrawn every frame). */
const PLAYED_LINE = 5000;

export default function TrackTab(props: TrackerTabProps): ReactNode {
  const { t } = useTranslation('trackers');
  const fmt = useFmt();
  const d = props.device;
  const [range, setRange] = useState<Range>(() => PRESETS.last24h(Date.now()));
  const list = useApi<PositionView[]>(
    `/devices/${encodeURIComponent(d.id)}/positions?from=${range.from}&to=${range.to}`,
  );
  const fixes = useMemo(() => list.data ?? [], [list.data]);
  const start = fixes[0]?.t ?? 0;
  const end = fixes[fixes.length - 1]?.t ?? 0;
  const [at, setAtState] = useState(0);
  // The playback clock reads the time from here (a frame must not wait for a render).
  const atRef = useRef(0);
  const setAt = (v: number) => {
    atRef.current = v;
    setAtState(v);
  };
  const [playing, setPlaying] = useState(false);
  const [speed, setSpeed] = useState<number>(8);

  // A new track starts at its beginning, paused.
  useEffect(() => {
    atRef.current = start;
    setAtState(start);
    setPlaying(false);
  }, [fixes, start]);

  // The clock of playback: one step per animation frame, by the real time that passed.
  useEffect(() => {
    if (!playing) return;
    let last = performance.now();
    let frame = requestAnimationFrame(function step(now) {
      const next = advance(atRef.current, now - last, speed, end);
      last = now;
      atRef.current = next;
      setAtState(next);
      if (next >= end) setPlaying(false);
      else frame = requestAnimationFrame(step);
    });
    return () => cancelAnimationFrame(frame);
  }, [playing, speed, end]);

  const here = positionAt(fixes, at);
  const index = here?.index ?? -1;
  const lines = useMemo<MapLine[]>(
    () =>
      fixes.length > 1
        ? [{ id: 'track', points: fixes.map((f) => [f.lat, f.lon] as const), color: '#2a6fdb' }]
        : [],
    [fixes],
  );
  const played = useMemo<MapLine[]>(() => {
    if (!here || fixes.length > PLAYED_LINE || index < 0) return [];
    const pts = fixes.slice(0, index + 1).map((f) => [f.lat, f.lon] as const);
    pts.push([here.lat, here.lon]);
    return [{ id: 'played', points: pts, color: '#0f7b55', weight: 5 }];
  }, [fixes, index, here?.lat, here?.lon]); // eslint-disable-line react-hooks/exhaustive-deps
  const allLines = useMemo(() => [...lines, ...played], [lines, played]);
  const markers = useMemo<MapMarker[]>(
    () => (here ? [{ id: 'playback', lat: here.lat, lon: here.lon, selected: true }] : []),
    [here?.lat, here?.lon], // eslint-disable-line react-hooks/exhaustive-deps
  );

  const first =
    fixes.length <= ALL_ROWS ? 0 : Math.max(0, Math.min(index - 20, fixes.length - WINDOW));
  const rows = fixes.length <= ALL_ROWS ? fixes : fixes.slice(first, first + WINDOW);
  const current = useRef<HTMLTableRowElement | null>(null);
  useEffect(() => {
    current.current?.scrollIntoView?.({ block: 'nearest' });
  }, [index]);

  const atEnd = fixes.length > 0 && at >= end;
  return (
    <div className="tracker-track" data-testid="track">
      <RangeBar value={range} onChange={setRange} presets={['today', 'last24h', 'last7d']} />
      {list.loading && !list.data && <Spinner />}
      <ErrorBox error={list.error} />
      {list.data && fixes.length === 0 && (
        <p className="muted" data-testid="track-none">
          {t('track.none')}
        </p>
      )}
      <MapView
        label={t('mapLabel', { name: d.nickname ?? d.serial })}
        markers={markers}
        lines={allLines}
        fitKey={`${range.from}-${range.to}-${fixes.length}`}
        {...(here && playing ? { follow: [here.lat, here.lon] as const } : {})}
        testId="track-map"
      />
      {fixes.length > 0 && (
        <div className="playback" data-testid="playback">
          <button
            type="button"
            className="primary"
            data-testid="play"
            aria-pressed={playing}
            onClick={() => {
              if (!playing && atEnd) setAt(start);
              setPlaying(!playing);
            }}
          >
            {playing ? t('track.pause') : t('track.play')}
          </button>
          <button
            type="button"
            onClick={() => {
              setPlaying(false);
              setAt(start);
            }}
            data-testid="restart"
          >
            {t('track.restart')}
          </button>
          <label className="field inline">
            <span>{t('track.speed')}</span>
            <select
              value={speed}
              onChange={(e) => setSpeed(Number(e.target.value))}
              data-testid="speed"
            >
              {PLAYBACK_SPEEDS.map((s) => (
                <option key={s} value={s}>
                  {s}x
                </option>
              ))}
            </select>
          </label>
          <input
            type="range"
            className="playback-slider"
            min={start}
            max={end}
            step={1000}
            value={Math.round(at)}
            aria-label={t('track.slider')}
            aria-valuetext={fmt.dateTime(at)}
            data-testid="slider"
            onChange={(e) => {
              setPlaying(false);
              setAt(Number(e.target.value));
            }}
          />
          <span className="muted" data-testid="playback-time" data-t={Math.round(at)}>
            {t('track.at', { time: fmt.dateTime(at) })}
          </span>
          <span className="muted">{t('track.count', { count: fixes.length })}</span>
        </div>
      )}
      {fixes.length > 0 && (
        <section className="card" aria-label={t('track.list')}>
          <header className="card-head">
            <h2>{t('track.list')}</h2>
            {fixes.length > ALL_ROWS && (
              <div className="card-actions muted small">
                {t('track.window', {
                  from: first + 1,
                  to: first + rows.length,
                  count: fixes.length,
                })}
              </div>
            )}
          </header>
          <div className="table-wrap fix-list">
            <table className="fix-table" data-testid="fix-table">
              <thead>
                <tr>
                  <th>{t('track.col.time')}</th>
                  <th>{t('track.col.lat')}</th>
                  <th>{t('track.col.lon')}</th>
                  <th>{t('track.col.speed')}</th>
                  <th>{t('track.col.course')}</th>
                  <th>{t('track.col.satellites')}</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((f, i) => {
                  const n = first + i;
                  const on = n === index;
                  return (
                    <tr
                      key={f.t}
                      ref={on ? current : undefined}
                      className={on ? 'current' : undefined}
                      aria-current={on ? 'true' : undefined}
                      data-testid="fix-row"
                      data-index={n}
                      onClick={() => {
                        setPlaying(false);
                        setAt(f.t);
                      }}
                    >
                      <td>{fmt.dateTime(f.t)}</td>
                      <td>{f.lat.toFixed(6)}</td>
                      <td>{f.lon.toFixed(6)}</td>
                      <td>{fmt.num(f.speed_kmh, 1)}</td>
                      <td>{fmt.num(f.course)}</td>
                      <td>{fmt.num(f.satellites)}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        </section>
      )}
    </div>
  );
}
