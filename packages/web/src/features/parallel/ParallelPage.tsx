/**
 * One parallel system (/parallel/:site/:bus), as the wall battery's PC client and EMS show
 * it (seed 002): bus current, pack count and system state, the master's information, then
 * every pack by address with its role, and the group's active alarms. Live from the
 * WebSocket store; any bus opens here, even with one pack.
 */
import { useFmt } from '../../i18n/format';
import { lazy, Suspense, useMemo, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'wouter';
import { packPath } from '../../api/client';
import { useLiveState } from '../../api/live';
import type { AlarmView } from '@openbms/contract/api';
import { Badge, Card, ErrorBox, severityTone, SocGauge, Spinner, Stat } from '../../ui';
import {
  AlarmBadge,
  OnlineBadge,
  SocBar,
  StateBadge,
  fmtPower,
  fmtTempRange,
  powerClass,
} from '../../site/bits';
import { useSiteModel } from '../../site/hooks';
import { hasMasterByAddress, systemOf, type PackRow, type SystemRow } from '../../site/model';
import '../../site/site.css';
import './parallel.css';

const EnergyChart = lazy(() => import('../../energy/EnergyChart'));

const hex = (n: number): string => `0x${n.toString(16).toUpperCase().padStart(2, '0')}`;

export default function ParallelPage(props: { site: string; bus: string }): ReactNode {
  const { t } = useTranslation('parallel');
  const { loaded } = useLiveState();
  const { rows, alarms, topology } = useSiteModel();
  const bus = topology.buses.find((b) => b.site === props.site && b.id === props.bus);
  const siteName = topology.sites.find((s) => s.id === props.site)?.name ?? props.site;
  const system = useMemo(() => {
    if (!bus) return undefined;
    return systemOf(bus, siteName, new Map(rows.map((r) => [r.pack.id, r])));
  }, [bus, siteName, rows]);
  const groupAlarms = useMemo(() => {
    const ids = new Set(bus?.packs ?? []);
    return alarms.alarms.filter((a) => ids.has(a.pack_id));
  }, [bus, alarms.alarms]);

  if (topology.error) return <ErrorBox error={topology.error} />;
  if (!topology.loaded || (!loaded && rows.length === 0)) return <Spinner />;
  if (!system) {
    return (
      <div className="page">
        <p role="alert">{t('unknown', { site: props.site, bus: props.bus })}</p>
        <Link href="/">{t('back')}</Link>
      </div>
    );
  }
  return (
    <div className="page parallel" data-testid="parallel-page">
      <div className="page-head">
        <h1>{t('title', { bus: system.bus })}</h1>
        <div className="muted">
          {t('where', { site: system.siteName, protocol: system.protocol, port: system.port })}
          {' · '}
          <Link href="/">{t('back')}</Link>
        </div>
      </div>
      <ErrorBox error={alarms.error} />
      <div className="pl-top">
        <SystemCard system={system} />
        <MasterCard system={system} />
      </div>
      <PackTable system={system} />
      <Suspense fallback={null}>
        <EnergyChart
          path={`/sites/${encodeURIComponent(props.site)}/energy`}
          query={`bus=${encodeURIComponent(props.bus)}`}
          exportTarget={`site=${encodeURIComponent(props.site)}`}
          title={t('energy:systemTitle')}
          testId="system-energy"
        />
      </Suspense>
      <GroupAlarms alarms={groupAlarms} rows={system.rows} loaded={alarms.loaded} />
    </div>
  );
}

function SystemCard(props: { system: SystemRow }): ReactNode {
  const { t } = useTranslation('parallel');
  const fmt = useFmt();
  const s = props.system;
  const tot = s.totals;
  const on = s.rows.filter((r) => r.online);
  const remaining = on.reduce((a, r) => a + (r.pack.snapshot?.remaining_ah ?? 0), 0);
  const full = on.reduce((a, r) => a + (r.capacity ?? 0), 0);
  return (
    <Card title={t('system.label')} className="pl-system" testId="system">
      <div className="pl-system-body">
        <SocGauge soc={tot.soc} size={150} label={`${t('system.soc')} ${fmt.pct(tot.soc, 1)}`} />
        <div className="stats">
          <Stat
            testId="bus-current"
            label={t('system.busCurrent')}
            value={fmt.unit(tot.current, 'A', 1)}
            sub={t('system.busCurrentHint')}
          />
          <Stat
            testId="pack-count"
            label={t('system.packs')}
            value={<span data-count={tot.packs}>{fmt.num(tot.packs)}</span>}
            sub={t('system.packsValue', { online: tot.online, total: tot.packs })}
          />
          <Stat
            testId="system-state"
            label={t('system.state')}
            value={
              tot.online > 0 && tot.state !== undefined ? (
                <StateBadge state={tot.state} online />
              ) : (
                fmt.num(undefined)
              )
            }
          />
          <Stat
            testId="system-soc"
            label={t('system.soc')}
            value={fmt.pct(tot.soc, 1)}
            sub={t('system.socHint')}
          />
          <Stat
            testId="system-power"
            label={t('system.power')}
            value={<span className={powerClass(tot.power)}>{fmtPower(fmt, tot.power)}</span>}
          />
          <Stat
            testId="system-voltage"
            label={t('system.voltage')}
            value={fmt.unit(tot.voltage, 'V', 2)}
          />
          <Stat
            label={t('system.remaining')}
            value={
              full > 0
                ? `${fmt.num(remaining, 1)} / ${fmt.unit(full, 'Ah', 0)}`
                : fmt.num(undefined)
            }
          />
          <Stat label={t('system.temp')} value={fmtTempRange(fmt, tot.tmin, tot.tmax)} />
          <Stat label={t('system.delta')} value={fmt.unit(tot.deltaMax, 'mV', 0)} />
        </div>
      </div>
    </Card>
  );
}

function MasterCard(props: { system: SystemRow }): ReactNode {
  const { t } = useTranslation('parallel');
  const s = props.system;
  const master = s.rows.find((r) => r.pack.id === s.master);
  return (
    <Card title={t('master.title')} className="pl-master" testId="master">
      {!hasMasterByAddress(s.protocol) || !master ? (
        <p className="muted">{t('master.none')}</p>
      ) : (
        <>
          <dl className="pl-kv">
            <dt>{t('master.pack')}</dt>
            <dd>
              <Link href={packPath(master.pack.id)}>{master.pack.name}</Link>
            </dd>
            <dt>{t('master.address')}</dt>
            <dd>
              {master.pack.address} ({hex(master.pack.address)})
            </dd>
            <dt>{t('master.barcode')}</dt>
            <dd className="pl-mono">{master.identity.barcode ?? '—'}</dd>
            <dt>{t('master.serial')}</dt>
            <dd className="pl-mono">{master.identity.serial ?? '—'}</dd>
            <dt>{t('master.version')}</dt>
            <dd>{master.pack.snapshot?.info?.sw_version ?? '—'}</dd>
          </dl>
          <p className="muted pl-rule">{t('master.rule')}</p>
        </>
      )}
    </Card>
  );
}

function PackTable(props: { system: SystemRow }): ReactNode {
  const { t } = useTranslation('parallel');
  const fmt = useFmt();
  const s = props.system;
  const roles = hasMasterByAddress(s.protocol);
  const role = (r: PackRow) =>
    r.pack.id === s.master ? (
      <Badge tone="info">{t('role.master')}</Badge>
    ) : (
      <Badge tone="muted">{t('role.slave')}</Badge>
    );
  return (
    <Card title={t('table.title')} testId="pack-table">
      <div className="table-wrap">
        <table className="pl-table">
          <thead>
            <tr>
              {roles && <th>{t('table.role')}</th>}
              <th>{t('table.address')}</th>
              <th>{t('table.pack')}</th>
              <th>{t('table.status')}</th>
              <th>{t('table.soc')}</th>
              <th className="num">{t('table.soh')}</th>
              <th className="num">{t('table.voltage')}</th>
              <th className="num">{t('table.current')}</th>
              <th className="num">{t('table.power')}</th>
              <th className="num">{t('table.capacity')}</th>
              <th className="num">{t('table.cycles')}</th>
              <th className="num pl-cells">{t('table.cells')}</th>
              <th className="num">{t('table.delta')}</th>
              <th className="num">{t('table.temp')}</th>
              <th>{t('table.alarms')}</th>
            </tr>
          </thead>
          <tbody>
            {s.rows.map((r) => {
              const sn = r.pack.snapshot;
              return (
                <tr
                  key={r.pack.id}
                  data-testid="parallel-row"
                  data-pack-id={r.pack.id}
                  data-role={roles ? (r.pack.id === s.master ? 'master' : 'slave') : undefined}
                  className={r.online ? '' : 'is-offline'}
                >
                  {roles && <td>{role(r)}</td>}
                  <td className="pl-mono" data-field="address">
                    {r.pack.address} <span className="muted">({hex(r.pack.address)})</span>
                  </td>
                  <td>
                    <Link href={packPath(r.pack.id)} data-testid="pack-link">
                      {r.pack.name}
                    </Link>
                  </td>
                  <td>
                    {r.online ? (
                      <StateBadge state={r.state} online={r.online} />
                    ) : (
                      <OnlineBadge online={r.online} />
                    )}
                  </td>
                  <td>
                    <div className="pl-soc">
                      <SocBar soc={r.soc} />
                      <span className="num" data-field="soc">
                        {fmt.pct(r.soc, 1)}
                      </span>
                    </div>
                  </td>
                  <td className="num">{fmt.pct(sn?.soh_pct, 0)}</td>
                  <td className="num" data-field="voltage">
                    {fmt.unit(r.voltage, 'V', 2)}
                  </td>
                  <td className="num" data-field="current">
                    {fmt.unit(r.current, 'A', 1)}
                  </td>
                  <td className="num" data-field="power">
                    {fmtPower(fmt, r.power)}
                  </td>
                  <td className="num">
                    {sn?.remaining_ah === undefined
                      ? fmt.num(undefined)
                      : `${fmt.num(sn.remaining_ah, 1)} / ${fmt.unit(r.capacity, 'Ah', 0)}`}
                  </td>
                  <td className="num">{fmt.num(sn?.cycles)}</td>
                  <td className="num pl-cells">
                    {sn?.min_cell_mv === undefined || sn.max_cell_mv === undefined
                      ? fmt.num(undefined)
                      : `${fmt.num(sn.min_cell_mv)} / ${fmt.unit(sn.max_cell_mv, 'mV')}`}
                  </td>
                  <td className="num" data-field="delta">
                    {fmt.unit(r.delta, 'mV', 0)}
                  </td>
                  <td className="num" data-field="temp">
                    {fmtTempRange(fmt, r.tmin, r.tmax)}
                  </td>
                  <td>
                    <AlarmBadge alarms={r.alarms} />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </Card>
  );
}

function GroupAlarms(props: { alarms: AlarmView[]; rows: PackRow[]; loaded: boolean }): ReactNode {
  const { t } = useTranslation('parallel');
  const fmt = useFmt();
  const names = new Map(props.rows.map((r) => [r.pack.id, r.pack.name]));
  return (
    <Card
      title={t('alarms.title')}
      testId="group-alarms"
      actions={<Link href="/alarms">{t('alarms.all')}</Link>}
    >
      {!props.loaded ? (
        <Spinner />
      ) : props.alarms.length === 0 ? (
        <p className="muted">{t('alarms.none')}</p>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th>{t('alarms.time')}</th>
                <th>{t('alarms.pack')}</th>
                <th>{t('alarms.alarm')}</th>
                <th>{t('alarms.severity')}</th>
              </tr>
            </thead>
            <tbody>
              {props.alarms.map((a) => (
                <tr key={a.id} data-testid="group-alarm">
                  <td className="pl-nowrap">{fmt.dateTime(a.raised_at)}</td>
                  <td className="pl-nowrap">
                    <Link href={packPath(a.pack_id)}>{names.get(a.pack_id) ?? a.pack_id}</Link>
                  </td>
                  <td>
                    {t(`alarmNames:${a.code}`, { defaultValue: a.code })}
                    {a.level !== undefined && (
                      <span className="muted"> · {t('alarms.level', { level: a.level })}</span>
                    )}
                    {a.acknowledged_at !== undefined && (
                      <span className="muted"> · {t('alarms.acknowledged')}</span>
                    )}
                  </td>
                  <td className="pl-nowrap">
                    <Badge tone={severityTone(a.severity)}>
                      {t(`common:severity.${a.severity}`)}
                    </Badge>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}
