/**
 * Cells (seeds 001/002/003): one bar per cell with its voltage, the highest in the --max
 * colour and the lowest in --min, balancing cells marked, and the summary (highest and
 * lowest with their cell numbers, difference, average). Bars share one scale, 50 mV beyond
 * the extremes, so a 5 mV spread looks small and a 200 mV one does not.
 */
import { useMemo, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { useFmt, type Fmt } from '../../i18n/format';
import { Badge, Card, Stat } from '../../ui';
import type { TabProps } from '../../app/pack-tab';
import { cellScale, cellStats } from './readings';
import './pack.css';

type Unit = 'V' | 'mV';
const UNIT_KEY = 'openbms.cellUnit';

function savedUnit(): Unit {
  try {
    return localStorage.getItem(UNIT_KEY) === 'mV' ? 'mV' : 'V';
  } catch {
    return 'V';
  }
}

/** mV without digit grouping ("3312 mV", as BMS tools write it), or V with 3 decimals. */
function cellText(fmt: Fmt, mv: number, unit: Unit): string {
  return unit === 'mV' ? `${Math.round(mv)} mV` : fmt.unit(mv / 1000, 'V', 3);
}

export function CellsTab(props: TabProps): ReactNode {
  const { t } = useTranslation('pack');
  const fmt = useFmt();
  const [unit, setUnitState] = useState<Unit>(savedUnit);
  const setUnit = (u: Unit) => {
    setUnitState(u);
    try {
      localStorage.setItem(UNIT_KEY, u);
    } catch {
      // private mode: the choice lasts for this page only
    }
  };
  const s = props.pack.snapshot;
  const stats = useMemo(() => (s ? cellStats(s) : undefined), [s]);
  if (!s || !stats) return <p className="muted">{t('noData')}</p>;
  if (stats.cells.length === 0) return <p className="muted">{t('cells.none')}</p>;
  const { lo, hi } = cellScale(stats.min!, stats.max!);
  const spread = stats.max! > stats.min!;
  const signed = (d: number) => `${d > 0 ? '+' : d < 0 ? '−' : '±'}${Math.abs(Math.round(d))} mV`;

  return (
    <div className="pack-cells" data-testid="cells-tab" data-ts={s.ts ?? ''}>
      <Card>
        <div className="stats">
          <Stat
            testId="cells-max"
            label={t('cells.highest')}
            value={<span className="tone-max">{cellText(fmt, stats.max!, unit)}</span>}
            sub={t('cells.atCell', { n: stats.maxIndex })}
          />
          <Stat
            testId="cells-min"
            label={t('cells.lowest')}
            value={<span className="tone-min">{cellText(fmt, stats.min!, unit)}</span>}
            sub={t('cells.atCell', { n: stats.minIndex })}
          />
          <Stat
            testId="cells-delta"
            label={t('cells.delta')}
            value={`${Math.round(stats.delta!)} mV`}
          />
          <Stat
            testId="cells-avg"
            label={t('cells.average')}
            value={
              unit === 'mV' ? fmt.unit(stats.avg!, 'mV', 1) : fmt.unit(stats.avg! / 1000, 'V', 4)
            }
          />
          <Stat testId="cells-count" label={t('cells.count')} value={stats.cells.length} />
          {s.balancing !== undefined && (
            <Stat
              testId="cells-balancer"
              label={t('cells.balancer')}
              value={
                <Badge tone={s.balancing ? 'info' : 'muted'}>
                  {s.balancing ? t('status.balancing') : t('status.notBalancing')}
                </Badge>
              }
              sub={
                s.balance_current_a !== undefined
                  ? `${t('cells.balanceCurrent')} ${fmt.unit(s.balance_current_a, 'A', 3)}`
                  : undefined
              }
            />
          )}
        </div>
      </Card>
      <Card
        title={t('cells.title')}
        actions={
          <div className="seg" role="group" aria-label={t('cells.unit')}>
            {(['V', 'mV'] as const).map((u) => (
              <button
                key={u}
                type="button"
                aria-pressed={unit === u}
                className={unit === u ? 'seg-on' : ''}
                onClick={() => setUnit(u)}
              >
                {u}
              </button>
            ))}
          </div>
        }
      >
        <p className="cells-legend muted" aria-label={t('cells.legend')}>
          <span>
            <i className="swatch swatch-max" aria-hidden="true" /> {t('cells.highest')}
          </span>
          <span>
            <i className="swatch swatch-min" aria-hidden="true" /> {t('cells.lowest')}
          </span>
          <span>
            <span className="bal-mark" aria-hidden="true">
              ⇄
            </span>{' '}
            {t('cells.balancing')}
          </span>
          <span>{t('cells.scale', { lo: `${lo} mV`, hi: `${hi} mV` })}</span>
        </p>
        <ol className="cell-grid" data-count={stats.cells.length}>
          {stats.cells.map((mv, i) => {
            const n = i + 1;
            const isMax = spread && n === stats.maxIndex;
            const isMin = spread && n === stats.minIndex;
            const bal = stats.balancing[i] === true;
            const pct = Math.max(2, Math.min(100, ((mv - lo) / (hi - lo)) * 100));
            const text = cellText(fmt, mv, unit);
            const cls = [
              'cell',
              isMax ? 'cell-max' : '',
              isMin ? 'cell-min' : '',
              bal ? 'cell-bal' : '',
            ]
              .filter(Boolean)
              .join(' ');
            return (
              <li
                key={n}
                className={cls}
                data-testid={`cell-${n}`}
                data-mv={mv}
                data-extreme={isMax ? 'max' : isMin ? 'min' : undefined}
                data-balancing={bal || undefined}
                title={t('cells.vsAvg', { d: signed(mv - stats.avg!) })}
              >
                <div className="cell-line">
                  <span className="cell-no">{n}</span>
                  <span className="cell-v num" data-testid={`cell-${n}-value`}>
                    {text}
                  </span>
                  {isMax && <span className="cell-tag tag-max">{t('cells.max')}</span>}
                  {isMin && <span className="cell-tag tag-min">{t('cells.min')}</span>}
                  {bal && (
                    <span className="cell-tag tag-bal" title={t('cells.balancing')}>
                      <span aria-hidden="true">⇄</span>
                      <span className="sr-only">{t('cells.balancing')}</span>
                    </span>
                  )}
                </div>
                <div className="cell-track" aria-hidden="true">
                  <div className="cell-fill" style={{ width: `${pct}%` }} />
                </div>
              </li>
            );
          })}
        </ol>
      </Card>
    </div>
  );
}
