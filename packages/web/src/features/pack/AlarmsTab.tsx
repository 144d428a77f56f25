/**
 * One pack's alarms: what is active now, the protection counters (seed 003 "Stats": how
 * many times each protection tripped) and the history, all kept current by the live
 * socket; the counters are read again when this pack raises an alarm.
 */
import { useEffect, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { useApi } from '../../api/hooks';
import { live } from '../../api/live';
import { useFmt } from '../../i18n/format';
import { Card, ErrorBox, Spinner } from '../../ui';
import { AlarmTable } from '../../alarm-list/AlarmTable';
import { useAlarmFeed } from '../../alarm-list/useAlarmFeed';
import type { TabProps } from '../../app/pack-tab';
import './pack.css';

/** The counters seed 003 always lists (0 when never tripped), in its order. */
const ALWAYS_COUNTED = [
  'cell_ov',
  'cell_uv',
  'pack_ov',
  'pack_uv',
  'chg_oc',
  'dsg_oc',
  'short_circuit',
  'chg_ot',
  'chg_ut',
  'dsg_ot',
  'dsg_ut',
  'mos_ot',
];

export default function AlarmsTab(props: TabProps): ReactNode {
  const { t } = useTranslation('pack');
  const id = props.pack.id;
  const feed = useAlarmFeed(id);
  const active = feed.alarms.filter((a) => a.cleared_at === undefined);
  return (
    <div className="pack-alarms" data-testid="alarms-tab">
      <ErrorBox error={feed.error} />
      <div className="pack-cols wide-first">
        <Card title={t('alarmsTab.active')}>
          {feed.loading ? (
            <Spinner />
          ) : (
            <AlarmTable
              alarms={active}
              empty={t('alarms:noActive')}
              testId="pack-alarms-active"
              onAck={feed.ack}
            />
          )}
        </Card>
        <Counts pack={id} />
      </div>
      <Card title={t('alarmsTab.history')}>
        {feed.loading ? (
          <Spinner />
        ) : (
          <>
            <AlarmTable
              alarms={feed.alarms.filter((a) => a.cleared_at !== undefined)}
              empty={t('alarms:none')}
              testId="pack-alarms-history"
              onAck={feed.ack}
            />
            {feed.hasMore && (
              <div className="alarm-more">
                <button
                  type="button"
                  onClick={() => void feed.loadOlder()}
                  disabled={feed.loadingOlder}
                  data-testid="load-older"
                >
                  {t('alarms:loadOlder')}
                </button>
              </div>
            )}
          </>
        )}
      </Card>
    </div>
  );
}

function Counts(props: { pack: string }): ReactNode {
  const { t } = useTranslation('pack');
  const fmt = useFmt();
  const counts = useApi<Record<string, number>>(
    `/alarms/counts?pack=${encodeURIComponent(props.pack)}`,
  );
  const { reload } = counts;
  useEffect(
    () =>
      live.onAlarm((state, a) => {
        if (state === 'raised' && a.pack_id === props.pack) reload();
      }),
    [props.pack, reload],
  );
  const data = counts.data ?? {};
  const codes = [
    ...ALWAYS_COUNTED,
    ...Object.keys(data).filter((c) => !ALWAYS_COUNTED.includes(c)),
  ];
  return (
    <Card title={t('alarmsTab.counts')} testId="alarm-counts">
      <p className="muted small">{t('alarmsTab.countsHelp')}</p>
      <ErrorBox error={counts.error} />
      {counts.data === undefined ? (
        counts.loading && <Spinner />
      ) : (
        <table className="counts-table" data-testid="alarm-counts-table">
          <thead>
            <tr>
              <th scope="col">{t('alarmsTab.alarm')}</th>
              <th scope="col" className="num">
                {t('alarmsTab.count')}
              </th>
            </tr>
          </thead>
          <tbody>
            {codes.map((c) => (
              <tr key={c} data-code={c} data-count={data[c] ?? 0} className={data[c] ? 'hit' : ''}>
                <td>{t(`alarmNames:${c}`, { defaultValue: c })}</td>
                <td className="num">{fmt.num(data[c] ?? 0)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Card>
  );
}
