/**
 * A plant's remote collectors (issue 15): the sites' gateways linked to this cloud by serial
 * number and claim code, with their state, link (online / offline / unknown when this node
 * cannot tell), software version and last contact; "Add collector" and "Revoke" for the
 * plant's administrators. Their batteries are listed with the plant's collectors below.
 */
import { useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { RemoteCollectorView } from '@openbms/contract/api';
import { api, type ApiError } from '../../api/client';
import { useApi } from '../../api/hooks';
import { useFmt } from '../../i18n/format';
import { Badge, Card, Confirm, ErrorBox, Spinner } from '../../ui';
import { AddCollectorDialog } from './AddCollector';

type Link = 'online' | 'offline' | 'unknown';
const linkOf = (c: RemoteCollectorView): Link =>
  c.online === true ? 'online' : c.online === false ? 'offline' : 'unknown';
const stateTone = { claimed: 'ok', unclaimed: 'info', revoked: 'muted' } as const;

export function RemoteCollectors(props: {
  plantId: string;
  admin: boolean;
  /** Called when one is added or revoked (the plant's other lists may change). */
  onChange?: () => void;
}): ReactNode {
  const { t } = useTranslation('plants');
  const fmt = useFmt();
  const list = useApi<RemoteCollectorView[]>(
    `/collectors?plant_id=${encodeURIComponent(props.plantId)}`,
  );
  const [adding, setAdding] = useState(false);
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [revoking, setRevoking] = useState<RemoteCollectorView | undefined>(undefined);
  const rows = list.data;
  // A server that takes no collectors (a single box, not a cloud): nothing to show.
  if (list.error?.status === 404 || list.error?.status === 503) return null;
  return (
    <Card
      title={t('remote.title')}
      testId="remote-collectors"
      actions={
        props.admin ? (
          <button
            type="button"
            className="primary"
            data-testid="add-collector"
            onClick={() => (setAdding(true), setNotice(undefined))}
          >
            {t('add.button')}
          </button>
        ) : undefined
      }
    >
      <ErrorBox error={list.error} />
      {list.loading && !rows && <Spinner />}
      {notice && (
        <p className="notice" role="status" data-testid="collector-notice">
          {notice}
        </p>
      )}
      {rows && rows.length === 0 && (
        <p className="muted">{t(props.admin ? 'remote.none' : 'remote.noneHere')}</p>
      )}
      {rows && rows.length > 0 && (
        <div className="table-wrap">
          <table className="remote-collectors">
            <thead>
              <tr>
                <th>{t('remote.serial')}</th>
                <th>{t('remote.state')}</th>
                <th>{t('remote.link')}</th>
                <th>{t('remote.version')}</th>
                <th>{t('remote.lastSeen')}</th>
                {props.admin && <th />}
              </tr>
            </thead>
            <tbody>
              {rows.map((c) => {
                const link = linkOf(c);
                return (
                  <tr
                    key={c.serial}
                    data-testid={`remote-${c.serial}`}
                    data-state={c.state}
                    data-link={link}
                  >
                    <td data-label={t('remote.serial')}>
                      <code>{c.serial}</code>
                    </td>
                    <td data-label={t('remote.state')}>
                      <Badge tone={stateTone[c.state]}>{t(`remote.states.${c.state}`)}</Badge>
                    </td>
                    <td data-label={t('remote.link')}>
                      <span className={`link-dot link-${link}`} aria-hidden="true" />{' '}
                      {t(`remote.links.${link}`)}
                    </td>
                    <td data-label={t('remote.version')}>{c.version ?? '—'}</td>
                    <td data-label={t('remote.lastSeen')} title={fmt.dateTime(c.last_seen_at)}>
                      {fmt.ago(c.last_seen_at)}
                    </td>
                    {props.admin && (
                      <td>
                        {c.state === 'claimed' && (
                          <button
                            type="button"
                            className="danger"
                            data-testid={`revoke-${c.serial}`}
                            onClick={() => setRevoking(c)}
                          >
                            {t('remote.revoke')}
                          </button>
                        )}
                      </td>
                    )}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <ErrorBox error={error} />
      {adding && (
        <AddCollectorDialog
          plantId={props.plantId}
          onClose={() => setAdding(false)}
          onAdded={(c) => {
            setAdding(false);
            setNotice(t('add.added', { serial: c.serial }));
            list.reload();
            props.onChange?.();
          }}
        />
      )}
      <Confirm
        open={revoking !== undefined}
        title={revoking ? t('remote.revokeConfirm', { serial: revoking.serial }) : ''}
        confirmLabel={t('remote.revoke')}
        danger
        onCancel={() => setRevoking(undefined)}
        onConfirm={async () => {
          const c = revoking;
          setRevoking(undefined);
          if (!c) return;
          setError(undefined);
          try {
            await api(`/collectors/${encodeURIComponent(c.serial)}/revoke`, { method: 'POST' });
            setNotice(t('remote.revoked', { serial: c.serial }));
            list.reload();
            props.onChange?.();
          } catch (e) {
            setError(e as ApiError);
          }
        }}
      >
        <p className="muted">{t('remote.revokeHint')}</p>
      </Confirm>
    </Card>
  );
}
