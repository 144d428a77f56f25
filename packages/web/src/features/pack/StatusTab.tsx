/**
 * Status (seeds 003 "State", 004 "Real-time monitoring", 002 detail page): SOC, pack
 * figures, capacities, temperatures by sensor, switches and running state, the BMS's own
 * protection and fault flags in words. Only what the pack reports is shown.
 */
import { lazy, Suspense, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { Alarm } from '@openbms/core';
import { packPath } from '../../api/client';
import { useApi } from '../../api/hooks';
import type { EnergyView, HistoryView, PackView, Snapshot } from '@openbms/contract/api';
import { useFmt } from '../../i18n/format';
import { Badge, Card, SocGauge, Stat, severityTone, type Tone } from '../../ui';
import type { TabProps } from '../../app/pack-tab';
import { alarmLines, rawBool, runState, snapshotTime, temperatureSensors } from './readings';
import { foldSnapshot, localMidnight, todayFromHistory, withEnergy, type Today } from './today';
import { useNow } from './useNow';

const EnergyChart = lazy(() => import('../../energy/EnergyChart'));
import './pack.css';

const STATE_TONE: Record<string, Tone> = {
  charging: 'ok',
  discharging: 'info',
  idle: 'muted',
  fault: 'bad',
};

export function StatusTab(props: TabProps): ReactNode {
  const { t } = useTranslation('pack');
  const s = props.pack.snapshot;
  if (!s) return <p className="muted">{t('noData')}</p>;
  return (
    <div className="pack-status" data-testid="status-tab" data-ts={s.ts ?? ''}>
      <BatteryCard s={s} />
      <div className="pack-cols">
        <AlarmFlags alarms={s.alarms} />
        <Switches s={s} />
        <Temperatures s={s} />
        <Limits s={s} />
        <TodayCard pack={props.pack} />
      </div>
      <Suspense fallback={null}>
        <EnergyChart
          path={`${packPath(props.pack.id)}/energy`}
          exportTarget={`pack=${encodeURIComponent(props.pack.id)}`}
          title={t('energy:title')}
          testId="pack-energy"
        />
      </Suspense>
      <Times s={s} lastSeen={props.pack.last_seen} />
    </div>
  );
}

function BatteryCard({ s }: { s: Snapshot }): ReactNode {
  const { t } = useTranslation('pack');
  const fmt = useFmt();
  const state = runState(s);
  const stats: [string, number | undefined, (v: number) => string][] = [
    ['voltage', s.voltage_v, (v) => fmt.unit(v, 'V', 2)],
    ['current', s.current_a, (v) => fmt.unit(v, 'A', 2)],
    ['power', s.power_w, (v) => fmt.unit(v, 'W', 0)],
    ['remaining', s.remaining_ah, (v) => fmt.unit(v, 'Ah', 1)],
    ['full', s.full_ah, (v) => fmt.unit(v, 'Ah', 1)],
    ['design', s.design_ah, (v) => fmt.unit(v, 'Ah', 1)],
    ['cycles', s.cycles, (v) => fmt.num(v, 0)],
    ['soh', s.soh_pct, (v) => fmt.pct(v, 0)],
    ['cycleAh', s.cycle_ah, (v) => fmt.unit(v, 'Ah', 1)],
    ['runtime', s.runtime_s, (v) => fmt.duration(v)],
  ];
  return (
    <Card title={t('status.battery')}>
      <div className="status-hero">
        <div className="status-gauge" data-testid="status-soc" data-value={s.soc_pct ?? ''}>
          <SocGauge
            soc={s.soc_pct}
            size={150}
            label={`${t('status.soc')} ${fmt.pct(s.soc_pct, 0)}`}
          />
          <span className="sr-only">{fmt.pct(s.soc_pct, 1)}</span>
        </div>
        <div className="status-hero-side">
          {state !== undefined && (
            <div className="status-state">
              <span className="muted">{t('status.runState')}</span>{' '}
              <Badge tone={STATE_TONE[state] ?? 'muted'}>
                <span data-testid="status-state" data-value={state}>
                  {state === 'fault' ? t('status.fault') : t(`common:state.${state}`)}
                </span>
              </Badge>
            </div>
          )}
          <div className="stats">
            {stats.map(([key, v, f]) =>
              v === undefined ? null : (
                <Stat
                  key={key}
                  testId={`status-${key}`}
                  label={t(`status.${key}`)}
                  value={<span data-value={v}>{f(v)}</span>}
                />
              ),
            )}
          </div>
        </div>
      </div>
    </Card>
  );
}

function AlarmFlags({ alarms }: { alarms: Alarm[] | undefined }): ReactNode {
  const { t } = useTranslation('pack');
  if (alarms === undefined) return null;
  const faults = alarms.filter((a) => a.severity === 'fault');
  const others = alarms.filter((a) => a.severity !== 'fault');
  const list = (xs: Alarm[], empty: string, testId: string) => {
    const lines = alarmLines(xs);
    return lines.length === 0 ? (
      <p data-testid={testId} data-count={0}>
        <Badge tone="ok">{empty}</Badge>
      </p>
    ) : (
      <ul className="flag-list" data-testid={testId} data-count={lines.length}>
        {lines.map((a) => (
          <li key={`${a.code}/${a.severity}/${a.level ?? ''}`} data-code={a.code}>
            <Badge tone={severityTone(a.severity)}>{t(`common:severity.${a.severity}`)}</Badge>{' '}
            <span className={`flag-name tone-${severityTone(a.severity)}`}>
              {t(`alarmNames:${a.code}`, { defaultValue: a.code })}
            </span>
            {a.cells.length > 0 && (
              <span data-testid="flag-cells">
                {' · '}
                {t(a.cells.length > 1 ? 'status.cells' : 'status.oneCell', {
                  list: a.cells.join(', '),
                })}
              </span>
            )}
            {a.sensors.length > 0 && (
              <span>
                {' · '}
                {t(a.sensors.length > 1 ? 'status.sensors' : 'status.oneSensor', {
                  list: a.sensors.join(', '),
                })}
              </span>
            )}
            {a.level !== undefined && (
              <span className="muted"> · {t('status.level', { level: a.level })}</span>
            )}
          </li>
        ))}
      </ul>
    );
  };
  return (
    <Card title={t('status.protection')} testId="status-flags">
      {list(others, t('status.normal'), 'status-protection')}
      <h3 className="sub-head">{t('status.faults')}</h3>
      {list(faults, t('status.noFaults'), 'status-faults')}
    </Card>
  );
}

function OnOff(props: { on: boolean; onText?: string; offText?: string }): ReactNode {
  const { t } = useTranslation();
  return (
    <Badge tone={props.on ? 'ok' : 'muted'}>
      {props.on ? (props.onText ?? t('on')) : (props.offText ?? t('off'))}
    </Badge>
  );
}

function Switches({ s }: { s: Snapshot }): ReactNode {
  const { t } = useTranslation('pack');
  const precharge = rawBool(s, 'precharge_mos', 'precharge_mos_on');
  const rows: [string, ReactNode][] = [];
  if (s.charge_mos !== undefined) rows.push(['chargeMos', <OnOff on={s.charge_mos} />]);
  if (s.discharge_mos !== undefined) rows.push(['dischargeMos', <OnOff on={s.discharge_mos} />]);
  if (precharge !== undefined) rows.push(['precharge', <OnOff on={precharge} />]);
  if (s.heater !== undefined) rows.push(['heater', <OnOff on={s.heater} />]);
  if (s.balancing !== undefined)
    rows.push([
      'balancer',
      <OnOff on={s.balancing} onText={t('status.balancing')} offText={t('status.notBalancing')} />,
    ]);
  if (s.charger_connected !== undefined)
    rows.push([
      'charger',
      <OnOff
        on={s.charger_connected}
        onText={t('status.detected')}
        offText={t('status.notDetected')}
      />,
    ]);
  if (s.load_connected !== undefined)
    rows.push([
      'load',
      <OnOff
        on={s.load_connected}
        onText={t('status.detected')}
        offText={t('status.notDetected')}
      />,
    ]);
  if (rows.length === 0) return null;
  return (
    <Card title={t('status.switches')} testId="status-switches">
      <dl className="kv">
        {rows.map(([key, v]) => (
          <div key={key} data-testid={`status-${key}`}>
            <dt>{t(`status.${key}`)}</dt>
            <dd>{v}</dd>
          </div>
        ))}
      </dl>
    </Card>
  );
}

function Temperatures({ s }: { s: Snapshot }): ReactNode {
  const { t } = useTranslation('pack');
  const fmt = useFmt();
  const sensors = temperatureSensors(s);
  if (sensors.length === 0) return null;
  return (
    <Card title={t('status.temperatures')} testId="status-temps">
      <dl className="kv">
        {sensors.map((x) => (
          <div
            key={x.id}
            data-testid={`temp-${x.id}`}
            data-value={x.value}
            data-open={x.open || undefined}
          >
            <dt title={x.kind === 'temp' ? t('status.tnHelp') : undefined}>
              {x.kind === 'temp' ? t('status.tn', { n: x.n }) : t(`status.${x.kind}`)}
            </dt>
            <dd className="num">
              {x.open ? (
                <Badge tone="warn">{t('status.openCircuit')}</Badge>
              ) : (
                fmt.unit(x.value, '°C', 1)
              )}
            </dd>
          </div>
        ))}
      </dl>
    </Card>
  );
}

function Limits({ s }: { s: Snapshot }): ReactNode {
  const { t } = useTranslation('pack');
  const fmt = useFmt();
  const rows: [string, number | undefined, string, number][] = [
    ['chargeVoltageLimit', s.charge_voltage_limit_v, 'V', 2],
    ['dischargeVoltageLimit', s.discharge_voltage_limit_v, 'V', 2],
    ['chargeCurrentLimit', s.charge_current_limit_a, 'A', 1],
    ['dischargeCurrentLimit', s.discharge_current_limit_a, 'A', 1],
  ];
  if (rows.every(([, v]) => v === undefined)) return null;
  return (
    <Card title={t('status.limits')} testId="status-limits">
      <dl className="kv">
        {rows.map(([key, v, unit, d]) =>
          v === undefined ? null : (
            <div key={key}>
              <dt>{t(`status.${key}`)}</dt>
              <dd className="num">{fmt.unit(v, unit, d)}</dd>
            </div>
          ),
        )}
      </dl>
    </Card>
  );
}

function Times(props: { s: Snapshot; lastSeen: number | null }): ReactNode {
  const { t } = useTranslation('pack');
  const fmt = useFmt();
  const now = useNow(5000);
  const at = snapshotTime(props.s);
  return (
    <p className="muted status-times">
      {at !== undefined && (
        <span data-testid="status-reading-time">
          {t('status.readingTime', { time: fmt.dateTime(at) })}
        </span>
      )}
      <span data-testid="status-last-seen">
        {t('status.lastSeen', {
          time:
            props.lastSeen === null
              ? t('status.never')
              : `${fmt.dateTime(props.lastSeen)} (${fmt.ago(props.lastSeen, Math.max(now, props.lastSeen))})`,
        })}
      </span>
    </p>
  );
}

/**
 * Seed 001's "max SOC today" with its time, plus the day's energy (the energy route's today,
 * the same figures as the chart) and worst cell delta.
 */
function TodayCard({ pack }: { pack: PackView }): ReactNode {
  const { t } = useTranslation('pack');
  const fmt = useFmt();
  const from = useMemo(() => localMidnight(Date.now()), []);
  const h = useApi<HistoryView>(
    `${packPath(pack.id)}/history?from=${from}&fields=soc_pct,delta_cell_mv`,
  );
  const e = useApi<EnergyView>(`${packPath(pack.id)}/energy?count=1`);
  const [day, setDay] = useState<Today | undefined>(undefined);
  const { snapshot, last_seen: at } = pack;
  const latest = useRef(snapshot);
  latest.current = snapshot;
  useEffect(() => {
    if (!h.data || !(e.data || e.error)) return;
    setDay(withEnergy(todayFromHistory(h.data), e.data?.total.at(-1), latest.current ?? undefined));
  }, [h.data, e.data, e.error]);
  useEffect(() => {
    if (snapshot && at) setDay((d) => (d ? foldSnapshot(d, snapshot, at) : d));
  }, [snapshot, at]);
  if (!day) return null;
  return (
    <Card title={t('today.title')} testId="status-today">
      <div className="stats">
        <Stat
          label={t('today.maxSoc')}
          value={fmt.pct(day.maxSoc?.pct, 0)}
          sub={day.maxSoc ? fmt.time(day.maxSoc.at) : undefined}
          testId="today-max-soc"
        />
        <Stat
          label={t('today.minSoc')}
          value={fmt.pct(day.minSoc?.pct, 0)}
          sub={day.minSoc ? fmt.time(day.minSoc.at) : undefined}
        />
        <Stat
          label={t('today.charged')}
          value={fmt.unit(day.chargedKwh, 'kWh', 2)}
          testId="today-charged"
        />
        <Stat
          label={t('today.discharged')}
          value={fmt.unit(day.dischargedKwh, 'kWh', 2)}
          testId="today-discharged"
        />
        <Stat label={t('today.worstDelta')} value={fmt.unit(day.worstDeltaMv, 'mV', 0)} />
      </div>
    </Card>
  );
}
