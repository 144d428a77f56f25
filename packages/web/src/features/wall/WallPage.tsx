/**
 * The large screen (/wall, /wall/:site), after the EMS "large screen monitoring" of seed
 * 002: outside the console frame, always dark, filling the screen with numbers readable
 * from across a room — the power flow, the combined SOC, one tile per pack and the active
 * alarms, with a clock. Live from the WebSocket store; up to 16 packs fit 1920×1080
 * without scrolling (the tiles shrink to fit; more than that scroll inside their panel).
 */
import { useFmt } from '../../i18n/format';
import { memo, useMemo, type CSSProperties, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'wouter';
import type { AlarmView } from '@openbms/contract/api';
import { SocGauge, Spinner, severityTone } from '../../ui';
import { useLiveState } from '../../api/live';
import {
  AlarmBadge,
  SocBar,
  fmtPower,
  fmtTempCompact,
  fmtTempRange,
  socTone,
  useNow,
} from '../../site/bits';
import { useSiteModel } from '../../site/hooks';
import {
  parallelSystems,
  totals,
  type PackRow,
  type SystemRow,
  type Totals,
} from '../../site/model';
import '../../site/site.css';
import './wall.css';

/** Columns for n tiles on a wide screen: 4 → 2×2, 6 → 3×2, 16 → 4×4. */
export function tileColumns(n: number): number {
  if (n <= 1) return 1;
  if (n <= 4) return 2;
  if (n <= 9) return 3;
  if (n <= 16) return 4;
  return Math.ceil(Math.sqrt(n * 1.3));
}

const MAX_ALARMS = 12;

export default function WallPage(props: { site: string | undefined }): ReactNode {
  const { t } = useTranslation('wall');
  const { loaded } = useLiveState();
  const { rows, alarms, topology } = useSiteModel(500);
  const siteRows = useMemo(
    () =>
      rows
        .filter((r) => props.site === undefined || r.pack.site === props.site)
        .sort(
          (a, b) =>
            a.pack.site.localeCompare(b.pack.site) ||
            a.pack.bus.localeCompare(b.pack.bus) ||
            a.pack.address - b.pack.address,
        ),
    [rows, props.site],
  );
  const ids = useMemo(() => new Set(siteRows.map((r) => r.pack.id)), [siteRows]);
  const siteAlarms = useMemo(
    () => alarms.alarms.filter((a) => ids.has(a.pack_id)),
    [alarms.alarms, ids],
  );
  const systems = useMemo(
    () =>
      parallelSystems(
        topology.buses.filter((b) => props.site === undefined || b.site === props.site),
        topology.sites,
        siteRows,
      ),
    [topology.buses, topology.sites, siteRows, props.site],
  );
  const tot = useMemo(() => totals(siteRows), [siteRows]);
  const site = topology.sites.find((s) => s.id === props.site);
  const title =
    props.site !== undefined
      ? (site?.name ?? props.site)
      : topology.sites.length === 1
        ? topology.sites[0]!.name
        : t('allSites');

  return (
    <div className="wall" data-theme="dark" data-testid="wall">
      <header className="wall-head">
        <div className="wall-title">
          <span className="logo" aria-hidden="true" />
          <h1>{title}</h1>
          <span className="wall-sub">{t('title')}</span>
        </div>
        <Clock />
        <Link href="/" className="wall-exit">
          {t('exit')}
        </Link>
      </header>
      {!loaded && rows.length === 0 ? (
        <Spinner />
      ) : props.site !== undefined && topology.loaded && !site ? (
        <p className="wall-empty" role="alert">
          {t('unknownSite', { site: props.site })}
        </p>
      ) : (
        <main className="wall-main">
          <section className="wall-left">
            <PowerFlow totals={tot} systems={systems} />
            <SocPanel totals={tot} rows={siteRows} />
          </section>
          <Tiles rows={siteRows} />
          <AlarmPanel alarms={siteAlarms} rows={siteRows} />
        </main>
      )}
    </div>
  );
}

function Clock(): ReactNode {
  const fmt = useFmt();
  const now = useNow(1000);
  return (
    <div className="wall-clock" data-testid="wall-clock">
      <time dateTime={new Date(now).toISOString()}>{fmt.time(now)}</time>
      <span className="wall-date">{fmt.date(now)}</span>
    </div>
  );
}

function PowerFlow(props: { totals: Totals; systems: SystemRow[] }): ReactNode {
  const { t } = useTranslation('wall');
  const fmt = useFmt();
  const p = props.totals.power;
  const dir = p === undefined || Math.abs(p) < 1 ? 'idle' : p > 0 ? 'charging' : 'discharging';
  return (
    <section className="wall-panel wall-flow" aria-label={t('flow.title')} data-flow={dir}>
      <h2>{t('flow.title')}</h2>
      <div className="wall-flow-row">
        <div className="wall-node">
          <span className="wall-node-icon wall-icon-bus" aria-hidden="true" />
          <span>{t('flow.bus')}</span>
        </div>
        <div className={`wall-wire wall-wire-${dir}`} aria-hidden="true">
          <span />
        </div>
        <div className="wall-node">
          <span className="wall-node-icon wall-icon-battery" aria-hidden="true" />
          <span>{t('flow.batteries')}</span>
        </div>
      </div>
      <div className="wall-flow-value" data-testid="wall-power">
        <span
          className={`wall-big tone-text-${dir === 'charging' ? 'ok' : dir === 'discharging' ? 'info' : 'muted'}`}
        >
          {fmtPower(fmt, p === undefined ? undefined : Math.abs(p))}
        </span>
        <span className="wall-flow-dir">
          {t(`flow.${dir}`)}
          {dir !== 'idle' &&
            ` · ${dir === 'charging' ? t('flow.intoBatteries') : t('flow.fromBatteries')}`}
        </span>
      </div>
      <dl className="wall-kv">
        <div>
          <dt>{t('flow.charging')}</dt>
          <dd className="tone-text-ok">{fmtPower(fmt, props.totals.charging)}</dd>
        </div>
        <div>
          <dt>{t('flow.discharging')}</dt>
          <dd className="tone-text-info">{fmtPower(fmt, props.totals.discharging)}</dd>
        </div>
        {props.systems.map((s) => (
          <div key={`${s.site}/${s.bus}`}>
            <dt>{t('busCurrent', { bus: s.bus })}</dt>
            <dd>{fmt.unit(s.totals.current, 'A', 1)}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

function SocPanel(props: { totals: Totals; rows: PackRow[] }): ReactNode {
  const { t } = useTranslation('wall');
  const fmt = useFmt();
  const tot = props.totals;
  const energy = props.rows
    .filter((r) => r.online)
    .reduce<number | undefined>((a, r) => {
      const s = r.pack.snapshot;
      if (s?.remaining_ah === undefined || s.voltage_v === undefined) return a;
      return (a ?? 0) + (s.remaining_ah * s.voltage_v) / 1000;
    }, undefined);
  return (
    <section className="wall-panel wall-socpanel" aria-label={t('soc')}>
      <h2>{t('soc')}</h2>
      <div className="wall-gauge" data-testid="wall-soc">
        <SocGauge soc={tot.soc} size={220} label={`${t('soc')} ${fmt.pct(tot.soc, 1)}`} />
      </div>
      <dl className="wall-kv">
        <div>
          <dt>{t('packsOnline')}</dt>
          <dd data-testid="wall-online">
            {tot.online} / {tot.packs}
          </dd>
        </div>
        <div>
          <dt>{t('energy')}</dt>
          <dd>{fmt.unit(energy, 'kWh', 1)}</dd>
        </div>
        <div>
          <dt>{t('voltage')}</dt>
          <dd>{fmt.unit(tot.voltage, 'V', 1)}</dd>
        </div>
        <div>
          <dt>{t('temp')}</dt>
          <dd>{fmtTempRange(fmt, tot.tmin, tot.tmax)}</dd>
        </div>
        <div>
          <dt>{t('delta')}</dt>
          <dd>{fmt.unit(tot.deltaMax, 'mV', 0)}</dd>
        </div>
      </dl>
    </section>
  );
}

function Tiles(props: { rows: PackRow[] }): ReactNode {
  const { t } = useTranslation('wall');
  const n = props.rows.length;
  const cols = tileColumns(n);
  const lines = Math.max(1, Math.ceil(n / cols));
  const style = {
    '--cols': cols,
    '--lines': lines,
  } as CSSProperties;
  return (
    <section
      className={n > 16 ? 'wall-tiles wall-tiles-many' : 'wall-tiles'}
      aria-label={t('packs')}
      style={style}
      data-testid="wall-tiles"
    >
      {n === 0 && <p className="wall-empty">{t('noPacks')}</p>}
      {props.rows.map((r) => (
        <Tile key={r.pack.id} row={r} />
      ))}
    </section>
  );
}

const Tile = memo(function Tile(props: { row: PackRow }): ReactNode {
  const { t } = useTranslation('overview');
  const fmt = useFmt();
  const r = props.row;
  return (
    <article
      className={`wall-tile${r.online ? '' : ' is-offline'}${r.alarms.count > 0 ? ` has-alarm tone-${severityTone(r.alarms.worst ?? 'warning')}` : ''}`}
      data-testid="wall-tile"
      data-pack-id={r.pack.id}
    >
      <h3 className="wall-tile-name">{r.pack.name}</h3>
      <span className={`wall-tile-soc tone-text-${socTone(r.soc)}`} data-field="soc">
        {fmt.pct(r.soc, 0)}
      </span>
      <SocBar soc={r.soc} label={`${r.pack.name} SOC`} />
      <dl className="wall-tile-kv">
        <div>
          <dt>{t('col.voltage')}</dt>
          <dd data-field="voltage">{fmt.unit(r.voltage, 'V', 1)}</dd>
        </div>
        <div>
          <dt>{t('col.current')}</dt>
          <dd data-field="current">{fmt.unit(r.current, 'A', 1)}</dd>
        </div>
        <div>
          <dt>{t('col.temp')}</dt>
          <dd data-field="temp">{fmtTempCompact(fmt, r.tmin, r.tmax)}</dd>
        </div>
      </dl>
      <footer className="wall-tile-foot">
        <span className={`wall-state wall-state-${r.online ? (r.state ?? 'idle') : 'offline'}`}>
          {r.online ? (r.state ? t(`state.${r.state}`) : '') : t('state.offline')}
        </span>
        <AlarmBadge alarms={r.alarms} />
      </footer>
    </article>
  );
});

function AlarmPanel(props: { alarms: AlarmView[]; rows: PackRow[] }): ReactNode {
  const { t } = useTranslation('wall');
  const fmt = useFmt();
  const names = new Map(props.rows.map((r) => [r.pack.id, r.pack.name]));
  const shown = props.alarms.slice(0, MAX_ALARMS);
  const more = props.alarms.length - shown.length;
  return (
    <aside
      className="wall-panel wall-alarms"
      aria-label={t('alarms.title')}
      data-testid="wall-alarms"
    >
      <h2>
        {t('alarms.title')} <span className="wall-count">{props.alarms.length}</span>
      </h2>
      {shown.length === 0 ? (
        <p className="wall-none">{t('alarms.none')}</p>
      ) : (
        <ol className="wall-alarm-list">
          {shown.map((a) => (
            <li key={a.id} className={`tone-${severityTone(a.severity)}`}>
              <span className="wall-alarm-name">
                {t(`alarmNames:${a.code}`, { defaultValue: a.code })}
              </span>
              <span className="wall-alarm-meta">
                {names.get(a.pack_id) ?? a.pack_id} · {t(`common:severity.${a.severity}`)} ·{' '}
                {fmt.time(a.raised_at)}
              </span>
            </li>
          ))}
        </ol>
      )}
      {more > 0 && <p className="wall-more">{t('alarms.more', { count: more })}</p>}
    </aside>
  );
}
