/** Small pieces the overview, the parallel view and the large screen draw the same way. */
import { useEffect, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { Fmt } from '../i18n/format';
import { Badge, severityTone, type Tone } from '../ui';
import type { AlarmSummary, RunState } from './model';

/** Power in W below 10 kW, in kW above ("-1 234 W", "12.4 kW"). */
export function fmtPower(fmt: Fmt, w: number | undefined): string {
  if (w === undefined) return fmt.num(undefined);
  return Math.abs(w) >= 10_000 ? fmt.unit(w / 1000, 'kW', 1) : fmt.unit(w, 'W', 0);
}

/** "24.5 – 26.0 °C", or one value when both ends agree. */
export function fmtTempRange(fmt: Fmt, min: number | undefined, max: number | undefined): string {
  if (min === undefined && max === undefined) return fmt.num(undefined);
  if (min === undefined || max === undefined || min === max) {
    return fmt.unit(min ?? max, '°C', 1);
  }
  return `${fmt.num(min, 1)} – ${fmt.unit(max, '°C', 1)}`;
}

/** "24.1–25.3 °C", for narrow places. */
export function fmtTempCompact(fmt: Fmt, min: number | undefined, max: number | undefined): string {
  if (min === undefined || max === undefined || min === max) return fmtTempRange(fmt, min, max);
  return `${fmt.num(min, 1)}–${fmt.unit(max, '°C', 1)}`;
}

export const socTone = (soc: number | undefined): Tone =>
  soc === undefined ? 'muted' : soc < 15 ? 'bad' : soc < 30 ? 'warn' : 'ok';

const STATE_TONE: Record<RunState, Tone> = {
  charging: 'ok',
  discharging: 'info',
  idle: 'muted',
  fault: 'bad',
};

export function StateBadge(props: { state: RunState | undefined; online: boolean }): ReactNode {
  const { t } = useTranslation('overview');
  // Offline is the online badge's to say; a stale state would mislead.
  if (!props.online || props.state === undefined) return null;
  return (
    <span data-field="state" data-state={props.state}>
      <Badge tone={STATE_TONE[props.state]}>{t(`state.${props.state}`)}</Badge>
    </span>
  );
}

export function OnlineBadge(props: { online: boolean }): ReactNode {
  const { t } = useTranslation('overview');
  return (
    <span data-field="online" data-online={props.online}>
      <Badge tone={props.online ? 'ok' : 'bad'}>
        {props.online ? t('common:online') : t('common:offline')}
      </Badge>
    </span>
  );
}

export function AlarmBadge(props: { alarms: AlarmSummary }): ReactNode {
  const { t } = useTranslation('overview');
  const { count, worst } = props.alarms;
  return (
    <span data-field="alarms" data-count={count}>
      {count === 0 ? (
        <Badge tone="muted">{t('alarms.none')}</Badge>
      ) : (
        <Badge
          tone={severityTone(worst ?? 'warning')}
          title={worst ? t(`common:severity.${worst}`) : undefined}
        >
          {t('alarms.count', { count })}
        </Badge>
      )}
    </span>
  );
}

/** A horizontal SOC bar with its value, coloured by level. */
export function SocBar(props: { soc: number | undefined; label?: string }): ReactNode {
  const { t } = useTranslation('overview');
  const soc = props.soc;
  const w = soc === undefined ? 0 : Math.max(0, Math.min(100, soc));
  return (
    <div
      className={`ov-socbar tone-${socTone(soc)}`}
      role="meter"
      aria-label={props.label ?? t('col.soc')}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={soc === undefined ? undefined : Math.round(soc * 10) / 10}
    >
      <span className="ov-socbar-fill" style={{ width: `${w}%` }} />
    </div>
  );
}

/** Re-renders every `ms` (for "12 s ago" texts and the clock); not a data poll. */
export function useNow(ms: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(id);
  }, [ms]);
  return now;
}

export const powerClass = (w: number | undefined): string =>
  w === undefined ? '' : w > 0 ? 'tone-text-ok' : w < 0 ? 'tone-text-info' : '';
