/** A time range: from/to pickers with presets, applied by the Query button (tracks, mileage). */
import { useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { fromLocalInput, toLocalInput } from '../../ui/datetime';

export interface Range {
  from: number;
  to: number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export const PRESETS = {
  today: (now: number) => {
    const d = new Date(now);
    return { from: new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime(), to: now };
  },
  last24h: (now: number) => ({ from: now - DAY, to: now }),
  last7d: (now: number) => ({ from: now - 7 * DAY, to: now }),
  last30d: (now: number) => ({ from: now - 30 * DAY, to: now }),
  thisYear: (now: number) => ({ from: now - 365 * DAY, to: now }),
} as const;
export type Preset = keyof typeof PRESETS;

export function RangeBar(props: {
  value: Range;
  onChange: (r: Range) => void;
  presets: readonly Preset[];
  children?: ReactNode;
}): ReactNode {
  const { t } = useTranslation('trackers');
  const [from, setFrom] = useState(toLocalInput(props.value.from));
  // The end is shown a minute later than the instant, so the range includes the minute shown.
  const [to, setTo] = useState(toLocalInput(props.value.to + 60_000));
  const a = fromLocalInput(from);
  const b = fromLocalInput(to);
  const bad = !Number.isFinite(a) || !Number.isFinite(b) || a >= b;
  const pick = (p: Preset) => {
    const r = PRESETS[p](Date.now());
    setFrom(toLocalInput(r.from));
    setTo(toLocalInput(r.to + 60_000));
    props.onChange(r);
  };
  return (
    <form
      className="range-bar"
      onSubmit={(e) => {
        e.preventDefault();
        if (!bad) props.onChange({ from: a, to: b });
      }}
    >
      <label className="field">
        <span>{t('range.from')}</span>
        <input
          type="datetime-local"
          value={from}
          onChange={(e) => setFrom(e.target.value)}
          data-testid="range-from"
        />
      </label>
      <label className="field">
        <span>{t('range.to')}</span>
        <input
          type="datetime-local"
          value={to}
          onChange={(e) => setTo(e.target.value)}
          data-testid="range-to"
        />
      </label>
      <button type="submit" className="primary" disabled={bad} data-testid="range-query">
        {t('range.query')}
      </button>
      {props.presets.map((p) => (
        <button key={p} type="button" onClick={() => pick(p)} data-testid={`range-${p}`}>
          {t(`range.${p}`)}
        </button>
      ))}
      {props.children}
      {bad && (
        <span className="muted small" role="status">
          {t('range.bad')}
        </span>
      )}
    </form>
  );
}
