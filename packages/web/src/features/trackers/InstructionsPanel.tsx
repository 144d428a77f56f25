/**
 * A tracker's instructions (issue 17; docs/trackers.md "Instructions"): buttons to locate,
 * arm, disarm, restart and reset it (the reset behind a confirmation; the air upgrade shown
 * but off, with why), its anti-theft state, and the list of instructions with their states
 * and replies (GET /devices/:id/instructions), refreshed every 2 s while one is pending.
 * Self-contained: the tracker page places it with the device's id.
 */
import { useEffect, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { InstructionList, InstructionView } from '@openbms/contract/api';
import { api } from '../../api/client';
import { useAction, useApi } from '../../api/hooks';
import { useFmt } from '../../i18n/format';
import { Badge, Card, Confirm, ErrorBox, type Tone } from '../../ui';

type Kind = InstructionView['kind'];
const SENDABLE: Kind[] = ['locate', 'arm', 'disarm', 'restart', 'factory_reset'];
const TONE: Record<InstructionView['state'], Tone> = {
  queued: 'info',
  sent: 'info',
  replied: 'ok',
  failed: 'bad',
  expired: 'muted',
};
/** How often the list is asked again while an instruction is queued or sent. */
const REFRESH_MS = 2000;

export function InstructionsPanel(props: { deviceId: string }): ReactNode {
  const { t } = useTranslation('trackerInstructions');
  const fmt = useFmt();
  const path = `/devices/${encodeURIComponent(props.deviceId)}/instructions`;
  const list = useApi<InstructionList>(path);
  const [confirmReset, setConfirmReset] = useState(false);
  const send = useAction((kind: Kind) =>
    api<InstructionView>(path, { method: 'POST', body: { kind } }),
  );
  const items = list.data?.instructions ?? [];
  const pending = items.some((i) => i.state === 'queued' || i.state === 'sent');
  const { reload } = list;

  useEffect(() => {
    if (!pending) return;
    const timer = setInterval(reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [pending, reload]);

  const go = async (kind: Kind): Promise<void> => {
    if (await send.run(kind)) reload();
  };

  const armed = list.data?.armed;
  return (
    <Card
      title={t('title')}
      testId="tracker-instructions"
      actions={
        <button type="button" onClick={reload} disabled={list.loading}>
          {t('refresh')}
        </button>
      }
    >
      <p data-testid="tracker-armed" data-armed={armed === undefined ? '' : String(armed)}>
        <Badge tone={armed ? 'warn' : armed === false ? 'muted' : 'info'}>
          {armed ? t('armed') : armed === false ? t('disarmed') : t('armedUnknown')}
        </Badge>{' '}
        {list.data?.armed_at !== undefined && list.data.armed_source !== undefined && (
          <span className="muted">
            {t('armedSince', {
              time: fmt.dateTime(list.data.armed_at),
              source: t(`source.${list.data.armed_source}`),
            })}
          </span>
        )}
      </p>
      <div className="toolbar">
        {SENDABLE.map((kind) => (
          <button
            key={kind}
            type="button"
            data-kind={kind}
            className={kind === 'factory_reset' ? 'danger' : undefined}
            disabled={send.pending}
            onClick={() => (kind === 'factory_reset' ? setConfirmReset(true) : void go(kind))}
          >
            {t(`kind.${kind}`)}
          </button>
        ))}
        <button type="button" data-kind="air_upgrade" disabled title={t('airUpgradeOff')}>
          {t('kind.air_upgrade')}
        </button>
      </div>
      <p className="muted">{t('airUpgradeOff')}</p>
      <p className="muted">{t('offlineNote')}</p>
      <ErrorBox error={send.error ?? list.error} />
      {send.result && (
        <p role="status" className="notice">
          {t('sent', { kind: t(`kind.${send.result.kind}`) })}
        </p>
      )}
      {list.data && items.length === 0 && <p className="muted">{t('none')}</p>}
      {items.length > 0 && (
        <div className="table-wrap">
          <table className="cmd-table">
            <thead>
              <tr>
                <th>{t('col.time')}</th>
                <th>{t('col.kind')}</th>
                <th>{t('col.user')}</th>
                <th>{t('col.state')}</th>
                <th>{t('col.reply')}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((i) => (
                <tr
                  key={i.id}
                  data-testid="instruction-row"
                  data-kind={i.kind}
                  data-state={i.state}
                >
                  <td className="nowrap">{fmt.dateTime(i.created_at)}</td>
                  <td className="nowrap">{t(`kind.${i.kind}`)}</td>
                  <td>{i.created_by}</td>
                  <td>
                    <Badge tone={TONE[i.state]}>{t(`state.${i.state}`)}</Badge>
                  </td>
                  <td>
                    {i.result !== undefined && (
                      <span>{t(`result.${i.result}`, { defaultValue: i.result })}</span>
                    )}
                    {i.reply !== undefined && i.reply !== i.result && (
                      <span className="muted"> {i.reply}</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Confirm
        open={confirmReset}
        danger
        title={t('confirmResetTitle')}
        confirmLabel={t('confirmReset')}
        onCancel={() => setConfirmReset(false)}
        onConfirm={() => {
          setConfirmReset(false);
          void go('factory_reset');
        }}
      >
        <p>{t('confirmResetBody')}</p>
      </Confirm>
    </Card>
  );
}
