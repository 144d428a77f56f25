/**
 * The BMS clock (seed 004 system configuration "Date time", seed 002): what the BMS shows now
 * (read on demand: it is a request on the bus), its drift from this computer, and setting it
 * to this computer's time. BMS clocks keep local time: the gateway converts with the site's
 * time zone, which is named here.
 */
import type { ClockView, CommandOutcome } from '@openbms/contract/api';
import { useEffect, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { api, type ApiError } from '../../api/client';
import { useFmt } from '../../i18n/format';
import { Card, Confirm, ErrorBox } from '../../ui';

export function ClockCard(props: {
  base: string;
  packName: string;
  canRead: boolean;
  /** Why setting is disabled (family, role, switch), or undefined. */
  setWhy: string | undefined;
  busy: boolean;
  onCommand: () => void;
}): ReactNode {
  const { t } = useTranslation('control');
  const fmt = useFmt();
  const [clock, setClock] = useState<ClockView | undefined>(undefined);
  const [reading, setReading] = useState(false);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [ask, setAsk] = useState(false);
  const [sending, setSending] = useState(false);
  const [done, setDone] = useState<string | undefined>(undefined);

  const read = async (): Promise<void> => {
    setReading(true);
    setError(undefined);
    try {
      setClock(await api<ClockView>(`${props.base}/clock`));
    } catch (e) {
      setError(e as ApiError);
    } finally {
      setReading(false);
    }
  };

  useEffect(() => {
    if (props.canRead) void read();
    // Read once when the card opens; the button reads again.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [props.canRead, props.base]);

  const set = async (): Promise<void> => {
    setAsk(false);
    setSending(true);
    setError(undefined);
    setDone(undefined);
    try {
      const o = await api<CommandOutcome>(`${props.base}/commands/clock`, {
        body: { ms: Date.now() },
      });
      const back = o.readback?.['bms_time'];
      setDone(typeof back === 'string' ? t('clock.doneReadback', { time: back }) : t('clock.done'));
      if (props.canRead) await read();
    } catch (e) {
      setError(e as ApiError);
    } finally {
      setSending(false);
      props.onCommand();
    }
  };

  const drift = clock ? Math.round(clock.drift_ms / 1000) : undefined;
  return (
    <Card title={t('clock.title')} testId="clock-card">
      {props.canRead ? (
        <div className="clock-now">
          <p>
            {t('clock.bms')}{' '}
            <strong data-testid="clock-bms" data-value={clock?.bms_time ?? ''}>
              {clock ? clock.bms_time : reading ? t('clock.reading') : '—'}
            </strong>
          </p>
          {clock && drift !== undefined && (
            <p className="muted small" data-testid="clock-drift" data-value={drift}>
              {Math.abs(drift) <= 2
                ? t('clock.inStep', { zone: clock.time_zone })
                : t(drift > 0 ? 'clock.ahead' : 'clock.behind', {
                    s: fmt.duration(Math.abs(drift)),
                    zone: clock.time_zone,
                  })}
            </p>
          )}
          <button
            type="button"
            disabled={reading || sending}
            onClick={() => void read()}
            data-testid="clock-read"
          >
            {t('clock.read')}
          </button>
        </div>
      ) : (
        <p className="muted small">{t('clock.noRead')}</p>
      )}
      <p>{t('clock.browser', { time: fmt.dateTime(Date.now()) })}</p>
      <button
        type="button"
        disabled={props.setWhy !== undefined || props.busy || sending}
        data-testid="clock-set"
        onClick={() => setAsk(true)}
      >
        {sending ? t('running') : t('clock.set')}
      </button>
      {props.setWhy && <p className="muted small">{props.setWhy}</p>}
      {done && (
        <p className="notice outcome" role="status" data-testid="clock-outcome" data-ok="true">
          {done}
        </p>
      )}
      <ErrorBox error={error} />
      <Confirm
        open={ask}
        title={t('clock.confirmTitle', { pack: props.packName })}
        confirmLabel={t('clock.set')}
        onConfirm={() => void set()}
        onCancel={() => setAsk(false)}
      >
        <p>{t('clock.confirmBody')}</p>
      </Confirm>
    </Card>
  );
}
