/**
 * A list of alarm events: severity, name in words, where it came from, when it was raised
 * and cleared, and who acknowledged it — with an Acknowledge button for operators. On a
 * phone each row becomes a small card (alarms.css), so the page never scrolls sideways.
 */
import { useState, type ReactNode } from 'react';
import { GATEWAY_ALARM_SCOPE } from '@openbms/core';
import { useTranslation } from 'react-i18next';
import { Link } from 'wouter';
import type { AlarmView } from '@openbms/contract/api';
import type { ApiError } from '../api/client';
import { useAuth } from '../app/auth';
import { useFmt } from '../i18n/format';
import { Badge, ErrorBox, severityTone } from '../ui';
import './alarms.css';

export function AlarmTable(props: {
  alarms: AlarmView[];
  /** Show the pack column, with links; the name comes from here. */
  packName?: (id: string) => string;
  empty: string;
  testId: string;
  onAck: (id: number, user: string) => Promise<ApiError | undefined>;
}): ReactNode {
  const { t, i18n } = useTranslation('alarms');
  const fmt = useFmt();
  const { can, me } = useAuth();
  /** A built-in rule's stock message (English from the server) in the page's language; a
   *  message the user wrote in the config stays as written. */
  const ruleMessage = (a: AlarmView): string => {
    const key = `alarmNames:${a.rule_id ?? ''}`;
    return a.rule_id !== undefined &&
      i18n.exists(key, { lng: 'en' }) &&
      a.message === t(key, { lng: 'en' })
      ? t(key)
      : a.message;
  };
  const [pending, setPending] = useState<Set<number>>(() => new Set());
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const canAck = can('operator');

  const ack = async (id: number) => {
    setPending((p) => new Set(p).add(id));
    const e = await props.onAck(id, me?.username ?? '');
    setError(e);
    setPending((p) => {
      const n = new Set(p);
      n.delete(id);
      return n;
    });
  };

  if (props.alarms.length === 0) {
    return (
      <p className="muted" data-testid={props.testId} data-count={0}>
        {props.empty}
      </p>
    );
  }
  return (
    <>
      <ErrorBox error={error} />
      <table className="alarm-table" data-testid={props.testId} data-count={props.alarms.length}>
        <thead>
          <tr>
            <th scope="col">{t('severity')}</th>
            <th scope="col">{t('alarm')}</th>
            {props.packName && <th scope="col">{t('pack')}</th>}
            <th scope="col">{t('raised')}</th>
            <th scope="col">{t('status')}</th>
            <th scope="col">{t('ackCol')}</th>
          </tr>
        </thead>
        <tbody>
          {props.alarms.map((a) => {
            const active = a.cleared_at === undefined;
            const name = t(`alarmNames:${a.code}`, { defaultValue: a.code });
            return (
              <tr
                key={a.id}
                data-testid={`alarm-${a.id}`}
                data-code={a.code}
                data-active={active}
                data-acked={a.acknowledged_at !== undefined}
                className={active ? `alarm-active sev-${severityTone(a.severity)}` : undefined}
              >
                <td data-label={t('severity')}>
                  <Badge tone={severityTone(a.severity)}>
                    {t(`common:severity.${a.severity}`)}
                  </Badge>
                </td>
                <td data-label={t('alarm')} title={ruleMessage(a)}>
                  <div>
                    <span className={`alarm-name tone-${severityTone(a.severity)}`}>{name}</span>
                    <span className="muted small alarm-meta">
                      {t(`origin.${a.origin}`)}
                      {a.level !== undefined && ` · ${t('level', { level: a.level })}`}
                      {a.origin === 'rule' && ` · ${ruleMessage(a)}`}
                    </span>
                  </div>
                </td>
                {props.packName && (
                  <td data-label={t('pack')}>
                    {a.pack_id === GATEWAY_ALARM_SCOPE ? (
                      // The gateway's own alarms (storage full, database damaged): no pack page.
                      <span>{t('gatewayScope')}</span>
                    ) : (
                      <Link href={`/packs/${encodeURIComponent(a.pack_id)}/alarms`}>
                        {props.packName(a.pack_id)}
                      </Link>
                    )}
                  </td>
                )}
                <td data-label={t('raised')} className="nowrap">
                  {fmt.dateTime(a.raised_at)}
                </td>
                <td data-label={t('status')}>
                  {active ? (
                    <Badge tone={severityTone(a.severity)}>{t('active')}</Badge>
                  ) : (
                    <span>
                      <Badge tone="muted">{t('cleared')}</Badge>{' '}
                      <span className="muted small nowrap">{fmt.dateTime(a.cleared_at)}</span>
                    </span>
                  )}
                </td>
                <td data-label={t('ackCol')}>
                  {a.acknowledged_at !== undefined ? (
                    <span className="small" data-testid="acked">
                      <Badge tone="ok">{t('acknowledged')}</Badge>{' '}
                      <span className="muted nowrap">
                        {t('ackedBy', {
                          user: a.acknowledged_by ?? '',
                          time: fmt.dateTime(a.acknowledged_at),
                        })}
                      </span>
                    </span>
                  ) : canAck ? (
                    <button
                      type="button"
                      onClick={() => void ack(a.id)}
                      disabled={pending.has(a.id)}
                      data-testid="ack"
                      aria-label={`${t('ack')}: ${name}`}
                    >
                      {pending.has(a.id) ? t('acking') : t('ack')}
                    </button>
                  ) : (
                    <span className="muted small">{t('unacknowledged')}</span>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </>
  );
}
