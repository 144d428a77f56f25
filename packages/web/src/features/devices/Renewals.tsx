/**
 * Renewals in the device list (seed 003 "renewal": 1 year, 2 years, lifetime;
 * docs/trackers.md "Renewals"): the Renew dialog for the selected devices, showing each one's
 * expiry now and after, and a device's renewal history. The server decides and records
 * (POST /devices/renew, all or none); the preview uses its rule: a period counts from the
 * later of now and the current expiry, lifetime never expires.
 */
import { useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { DeviceView, RenewResult, RenewalView } from '@openbms/contract/api';
import { api } from '../../api/client';
import { useApi } from '../../api/hooks';
import { useFmt } from '../../i18n/format';
import { ErrorBox, Spinner } from '../../ui';
import { FormErrorBox } from '../../ui/fields';
import { Buttons, useSubmit } from './DeviceForms';
import { Modal } from '../../ui/Modal';

export const PERIODS = ['1y', '2y', 'lifetime'] as const;
export type Period = (typeof PERIODS)[number];

/** The expiry after renewing (the server's rule); undefined: never expires. */
export function renewedExpiry(
  current: number | undefined,
  period: Period,
  now: number,
): number | undefined {
  if (period === 'lifetime') return undefined;
  const d = new Date(Math.max(now, current ?? now));
  d.setUTCFullYear(d.getUTCFullYear() + (period === '1y' ? 1 : 2));
  return d.getTime();
}

export function RenewForm(props: {
  devices: DeviceView[];
  onClose: () => void;
  onDone: (r: RenewResult) => void;
}): ReactNode {
  const { t } = useTranslation('devices');
  const fmt = useFmt();
  const [period, setPeriod] = useState<Period>('1y');
  const [now] = useState(() => Date.now());
  const [submit, error, busy] = useSubmit(async () => {
    const r = await api<RenewResult>('/devices/renew', {
      body: { ids: props.devices.map((d) => d.id), period },
    });
    props.onDone(r);
  });
  const until = (ms: number | undefined) => (ms === undefined ? t('renew.never') : fmt.date(ms));
  return (
    <Modal
      className="device-dialog"
      title={t('renew.title', { count: props.devices.length })}
      onClose={props.onClose}
      testId="renew-dialog"
    >
      <form onSubmit={submit} className="device-form">
        <fieldset className="renew-periods">
          <legend>{t('renew.period')}</legend>
          {PERIODS.map((p) => (
            <label key={p} className="check">
              <input
                type="radio"
                name="period"
                value={p}
                checked={period === p}
                onChange={() => setPeriod(p)}
              />{' '}
              {t(`renew.${p}`)}
            </label>
          ))}
        </fieldset>
        <div className="table-wrap">
          <table className="renew-table">
            <thead>
              <tr>
                <th>{t('col.serial')}</th>
                <th>{t('renew.current')}</th>
                <th>{t('renew.new')}</th>
              </tr>
            </thead>
            <tbody>
              {props.devices.map((d) => (
                <tr key={d.id} data-testid={`renew-${d.serial}`}>
                  <td>
                    <code>{d.serial}</code>
                  </td>
                  <td>
                    {d.expires_at === undefined
                      ? t('renew.unset')
                      : `${fmt.date(d.expires_at)}${d.expired ? ` (${t('activation.expired')})` : ''}`}
                  </td>
                  <td data-testid="renew-new">{until(renewedExpiry(d.expires_at, period, now))}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <p className="muted small">{t('renew.rule')}</p>
        <FormErrorBox error={error} fields={[]} />
        <Buttons
          onClose={props.onClose}
          label={t('renew.submit')}
          busy={busy}
          testId="renew-submit"
        />
      </form>
    </Modal>
  );
}

export function RenewalHistory(props: { device: DeviceView; onClose: () => void }): ReactNode {
  const { t } = useTranslation('devices');
  const fmt = useFmt();
  const list = useApi<RenewalView[]>(
    `/devices/${encodeURIComponent(props.device.id)}/renewals?from=0`,
  );
  const until = (ms: number | undefined) => (ms === undefined ? t('renew.never') : fmt.date(ms));
  return (
    <Modal
      className="device-dialog"
      title={t('renew.historyTitle', { serial: props.device.serial })}
      onClose={props.onClose}
      testId="renewals-dialog"
    >
      <ErrorBox error={list.error} />
      {list.loading && !list.data && <Spinner />}
      {list.data &&
        (list.data.length === 0 ? (
          <p data-testid="no-renewals">{t('renew.noHistory')}</p>
        ) : (
          <div className="table-wrap">
            <table className="renew-table">
              <thead>
                <tr>
                  <th>{t('renew.when')}</th>
                  <th>{t('renew.period')}</th>
                  <th>{t('renew.current')}</th>
                  <th>{t('renew.new')}</th>
                  <th>{t('renew.by')}</th>
                </tr>
              </thead>
              <tbody>
                {list.data.map((r) => (
                  <tr key={r.id} data-testid="renewal-row">
                    <td>{fmt.dateTime(r.at)}</td>
                    <td>{t(`renew.${r.period}`)}</td>
                    <td>
                      {r.previous_expires_at === undefined
                        ? t('renew.unset')
                        : fmt.date(r.previous_expires_at)}
                    </td>
                    <td>{until(r.expires_at)}</td>
                    <td>{r.by}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))}
      <div className="dialog-actions">
        <button type="button" onClick={props.onClose}>
          {t('close')}
        </button>
      </div>
    </Modal>
  );
}
