/**
 * The approval inbox (seed 002 "Group users for approval"): the unbind requests the caller may
 * decide (approve or reject, with a reason), the ones they asked for, and those decided.
 */
import { useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'wouter';
import type { Account, ApprovalView, OrgView } from '@openbms/contract/api';
import { api, type ApiError } from '../../api/client';
import { useApi } from '../../api/hooks';
import { useFmt } from '../../i18n/format';
import { Badge, Card, ErrorBox, Spinner } from '../../ui';
import './devices.css';

export default function ApprovalsPage(): ReactNode {
  const { t } = useTranslation('devices');
  const list = useApi<ApprovalView[]>('/approvals');
  const orgs = useApi<OrgView[]>('/orgs');
  const account = useApi<Account>('/auth/account');
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const names = new Map((orgs.data ?? []).map((o) => [o.id, o.name]));
  const orgName = (id: string) => names.get(id) ?? t('approvals.above');
  const all = list.data ?? [];
  const me = account.data?.username;
  const toDecide = all.filter((a) => a.can_decide === true);
  const mine = all.filter((a) => !a.can_decide && a.requested_by === me && a.state === 'pending');
  const decided = all.filter((a) => !toDecide.includes(a) && !mine.includes(a));
  const section = (title: string, rows: ApprovalView[], testId: string, decide: boolean) => (
    <Card title={title} testId={testId}>
      {rows.length === 0 ? (
        <p className="muted">{t('approvals.none')}</p>
      ) : (
        <div className="table-wrap">
          <table className="device-table approvals-table">
            <thead>
              <tr>
                <th>{t('approvals.device')}</th>
                <th>{t('approvals.from')}</th>
                <th>{t('approvals.to')}</th>
                <th>{t('approvals.askedBy')}</th>
                <th>{t('approvals.askedAt')}</th>
                <th>{t('approvals.reason')}</th>
                <th>{t('approvals.state')}</th>
                {decide && <th>{t('approvals.decision')}</th>}
              </tr>
            </thead>
            <tbody>
              {rows.map((a) => (
                <ApprovalRow
                  key={a.id}
                  a={a}
                  from={orgName(a.from_org)}
                  to={orgName(a.to_org)}
                  decide={decide}
                  onDone={(msg) => {
                    setNotice(msg);
                    list.reload();
                  }}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
  return (
    <div className="page devices-page" data-testid="approvals">
      <div className="page-head">
        <h1>{t('approvals.title')}</h1>
        <div className="toolbar">
          <Link href="/devices">{t('title')}</Link>
        </div>
      </div>
      <p className="muted">{t('approvals.intro')}</p>
      {notice && (
        <p className="notice" role="status" data-testid="approval-notice">
          {notice}
        </p>
      )}
      <ErrorBox error={list.error} />
      {list.loading && !list.data && <Spinner />}
      {list.data && (
        <>
          {section(t('approvals.toDecide'), toDecide, 'to-decide', true)}
          {section(t('approvals.mine'), mine, 'my-requests', false)}
          {section(t('approvals.decided'), decided, 'decided', false)}
        </>
      )}
    </div>
  );
}

function ApprovalRow(props: {
  a: ApprovalView;
  from: string;
  to: string;
  decide: boolean;
  onDone: (msg: string) => void;
}): ReactNode {
  const { t } = useTranslation('devices');
  const fmt = useFmt();
  const a = props.a;
  const [reason, setReason] = useState('');
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const decide = async (verdict: 'approve' | 'reject') => {
    setBusy(true);
    setError(undefined);
    try {
      await api(`/approvals/${encodeURIComponent(a.id)}/${verdict}`, {
        body: reason.trim() !== '' ? { reason: reason.trim() } : {},
      });
      props.onDone(
        t(verdict === 'approve' ? 'approvals.approved' : 'approvals.rejected', {
          serial: a.serial,
        }),
      );
    } catch (e) {
      setError(e as ApiError);
    } finally {
      setBusy(false);
    }
  };
  const col = (k: string) => ({ 'data-label': t(`approvals.${k}`) });
  const tone = a.state === 'approved' ? 'ok' : a.state === 'rejected' ? 'bad' : 'warn';
  return (
    <tr data-testid={`approval-${a.serial}`}>
      <td {...col('device')}>
        <code>{a.serial}</code>
      </td>
      <td {...col('from')}>{props.from}</td>
      <td {...col('to')}>{props.to}</td>
      <td {...col('askedBy')}>{a.requested_by}</td>
      <td {...col('askedAt')}>{fmt.dateTime(a.requested_at)}</td>
      <td {...col('reason')}>{a.reason ?? ''}</td>
      <td {...col('state')}>
        <Badge tone={tone}>{t(`approvals.states.${a.state}`)}</Badge>
        {a.decided_by && (
          <div className="muted small">
            {t('approvals.by', { name: a.decided_by })}
            {a.decision_reason ? `: ${a.decision_reason}` : ''}
          </div>
        )}
      </td>
      {props.decide && (
        <td {...col('decision')} className="device-actions">
          <input
            aria-label={t('approvals.decisionReason')}
            placeholder={t('approvals.decisionReason')}
            maxLength={500}
            value={reason}
            onChange={(e) => setReason(e.target.value)}
          />
          <button
            type="button"
            className="primary"
            disabled={busy}
            onClick={() => void decide('approve')}
          >
            {t('approvals.approve')}
          </button>
          <button type="button" disabled={busy} onClick={() => void decide('reject')}>
            {t('approvals.reject')}
          </button>
          <ErrorBox error={error} />
        </td>
      )}
    </tr>
  );
}
