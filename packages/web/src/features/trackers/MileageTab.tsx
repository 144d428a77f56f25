/**
 * The Mileage tab: kilometres per UTC day or month over a chosen range (GET
 * /devices/:id/mileage), as bars and a table, with the total.
 */
import { useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { MileageView } from '@openbms/contract/api';
import { useApi } from '../../api/hooks';
import { useFmt } from '../../i18n/format';
import { ErrorBox, Spinner, Stat } from '../../ui';
import { MileageBars } from './MileageBars';
import { PRESETS, RangeBar, type Range } from './RangeBar';
import type { TrackerTabProps } from './tabs';

export default function MileageTab(props: TrackerTabProps): ReactNode {
  const { t } = useTranslation('trackers');
  const fmt = useFmt();
  const d = props.device;
  const [range, setRange] = useState<Range>(() => PRESETS.last7d(Date.now()));
  const [step, setStep] = useState<'day' | 'month'>('day');
  const r = useApi<MileageView>(
    `/devices/${encodeURIComponent(d.id)}/mileage?from=${range.from}&to=${range.to}&step=${step}`,
  );
  const periods = r.data?.periods ?? [];
  const label = (from: number) =>
    step === 'day'
      ? new Date(from).toLocaleDateString(fmt.locale, {
          timeZone: 'UTC',
          month: 'short',
          day: 'numeric',
        })
      : new Date(from).toLocaleDateString(fmt.locale, {
          timeZone: 'UTC',
          year: 'numeric',
          month: 'short',
        });
  return (
    <div className="tracker-mileage" data-testid="mileage">
      <RangeBar value={range} onChange={setRange} presets={['last7d', 'last30d', 'thisYear']}>
        <label className="field">
          <span>{t('mileage.step')}</span>
          <select
            value={step}
            onChange={(e) => setStep(e.target.value as 'day' | 'month')}
            data-testid="mileage-step"
          >
            <option value="day">{t('mileage.day')}</option>
            <option value="month">{t('mileage.month')}</option>
          </select>
        </label>
      </RangeBar>
      {r.loading && !r.data && <Spinner />}
      <ErrorBox error={r.error} />
      {r.data && (
        <>
          <div className="stats">
            <Stat
              label={t('mileage.total')}
              value={fmt.unit(r.data.total_km, 'km', 2)}
              testId="mileage-total"
            />
          </div>
          <span hidden data-testid="mileage-total-km" data-km={r.data.total_km} />
          {r.data.total_km === 0 && <p className="muted">{t('mileage.none')}</p>}
          <MileageBars
            label={t('mileage.chart')}
            bars={periods.map((p) => ({ key: p.from, label: label(p.from), km: p.km }))}
          />
          <div className="table-wrap">
            <table data-testid="mileage-table">
              <thead>
                <tr>
                  <th>{t('mileage.period')}</th>
                  <th>{t('mileage.km')}</th>
                </tr>
              </thead>
              <tbody>
                {periods.map((p) => (
                  <tr key={p.from} data-testid="mileage-row">
                    <td>{label(p.from)}</td>
                    <td>{fmt.num(p.km, 2)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </div>
  );
}
