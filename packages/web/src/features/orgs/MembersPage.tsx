/**
 * An organisation's members: list, add (by name, name@CODE or e-mail), change a role (its
 * manager only; naming another manager hands the role over) and remove.
 */
import { useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'wouter';
import { api, type ApiError } from '../../api/client';
import { useApi } from '../../api/hooks';
import { orgRoleSchema, type Account, type MemberView, type OrgView } from '@openbms/contract/api';
import { useFmt } from '../../i18n/format';
import { Card, Confirm, ErrorBox, Spinner } from '../../ui';
import { Field, FormErrorBox, type FormError } from '../../ui/fields';
import { canManage, isManager } from './rights';
import './orgs.css';

type OrgRole = MemberView['role'];
const ROLES = orgRoleSchema.enum;

export default function MembersPage(props: { id: string }): ReactNode {
  const { t } = useTranslation('orgs');
  const fmt = useFmt();
  const orgs = useApi<OrgView[]>('/orgs');
  const account = useApi<Account>('/auth/account');
  const path = `/orgs/${encodeURIComponent(props.id)}/members`;
  const members = useApi<MemberView[]>(path);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const [removing, setRemoving] = useState<MemberView | undefined>(undefined);
  const [handing, setHanding] = useState<MemberView | undefined>(undefined);
  const org = orgs.data?.find((o) => o.id === props.id);
  const manage = canManage(orgs.data ?? [], account.data, props.id);
  const manager = isManager(account.data, props.id);
  const who = (m: MemberView) => m.username ?? m.user_id;

  const setRole = async (m: MemberView, role: OrgRole) => {
    setError(undefined);
    setNotice(undefined);
    try {
      await api(`${path}/${encodeURIComponent(m.user_id)}`, { method: 'PATCH', body: { role } });
      setNotice(t('roleChanged', { user: who(m), role: t(`roles.${role}`) }));
      members.reload();
      account.reload(); // a hand-over changes my own role
    } catch (e) {
      setError(e as ApiError);
    }
  };

  if (orgs.data && !org && !orgs.loading)
    return (
      <div className="page">
        <p>{t('notFound')}</p>
        <Link href="/orgs">{t('back')}</Link>
      </div>
    );
  return (
    <div className="page" data-testid="members">
      <p>
        <Link href="/orgs">{t('back')}</Link>
        {' · '}
        <Link href={`/orgs/${encodeURIComponent(props.id)}/points`}>{t('points:link')}</Link>
      </p>
      <h1>
        {org ? t('membersOf', { name: org.name }) : t('members')}{' '}
        {org && <code className="muted">{org.code}</code>}
      </h1>
      <ErrorBox error={members.error ?? error} />
      {notice && (
        <p className="notice" role="status" data-testid="members-notice">
          {notice}
        </p>
      )}
      {!manager && members.data && members.data.length > 0 && (
        <p className="muted">{t('onlyManager')}</p>
      )}
      {members.loading && !members.data && <Spinner />}
      {members.data && (
        <Card>
          <div className="table-wrap">
            <table className="members">
              <thead>
                <tr>
                  <th>{t('user')}</th>
                  <th>{t('role')}</th>
                  <th>{t('since')}</th>
                  {manage && <th />}
                </tr>
              </thead>
              <tbody>
                {members.data.map((m) => (
                  <tr key={m.user_id} data-testid={`member-${who(m)}`}>
                    <td>{who(m)}</td>
                    <td>
                      {manager && m.role !== 'manager' ? (
                        <select
                          aria-label={t('role')}
                          data-testid={`role-${who(m)}`}
                          value={m.role}
                          onChange={(e) => {
                            const role = e.target.value as OrgRole;
                            if (role === 'manager') setHanding(m);
                            else void setRole(m, role);
                          }}
                        >
                          {ROLES.map((r) => (
                            <option key={r} value={r}>
                              {t(`roles.${r}`)}
                            </option>
                          ))}
                        </select>
                      ) : (
                        t(`roles.${m.role}`)
                      )}
                    </td>
                    <td>{fmt.dateTime(m.created_at)}</td>
                    {manage && (
                      <td>
                        {m.role !== 'manager' && (
                          <button type="button" className="danger" onClick={() => setRemoving(m)}>
                            {t('remove')}
                          </button>
                        )}
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </Card>
      )}
      {manage && (
        <AddMember
          path={path}
          onAdded={(u) => (setNotice(t('added', { user: u })), members.reload())}
        />
      )}
      <Confirm
        open={handing !== undefined}
        title={t('roles.manager')}
        confirmLabel={t('common:confirm')}
        onCancel={() => setHanding(undefined)}
        onConfirm={() => {
          const m = handing;
          setHanding(undefined);
          if (m) void setRole(m, 'manager');
        }}
      >
        <p>{handing && t('handOver', { user: who(handing) })}</p>
      </Confirm>
      <Confirm
        open={removing !== undefined}
        title={removing ? t('removeConfirm', { user: who(removing), org: org?.name ?? '' }) : ''}
        confirmLabel={t('remove')}
        danger
        onCancel={() => setRemoving(undefined)}
        onConfirm={async () => {
          const m = removing;
          setRemoving(undefined);
          if (!m) return;
          setError(undefined);
          try {
            await api(`${path}/${encodeURIComponent(m.user_id)}`, { method: 'DELETE' });
            setNotice(t('removed', { user: who(m) }));
            members.reload();
          } catch (e) {
            setError(e as ApiError);
          }
        }}
      />
    </div>
  );
}

function AddMember(props: { path: string; onAdded: (user: string) => void }): ReactNode {
  const { t } = useTranslation('orgs');
  const [username, setUsername] = useState('');
  const [role, setRole] = useState<OrgRole>('general_user');
  const [error, setError] = useState<FormError>(undefined);
  return (
    <Card title={t('add')} testId="add-member">
      <form
        className="member-add"
        onSubmit={async (e) => {
          e.preventDefault();
          setError(undefined);
          try {
            await api(props.path, { body: { username: username.trim(), role } });
            props.onAdded(username.trim());
            setUsername('');
          } catch (err) {
            setError(err as ApiError);
          }
        }}
      >
        <Field
          label={t('addUser')}
          field="username"
          error={error}
          autoComplete="off"
          maxLength={254}
          value={username}
          onChange={(e) => setUsername(e.target.value)}
          required
        />
        <label className="field">
          <span>{t('role')}</span>
          <select
            name="role"
            value={role}
            aria-invalid={error?.field === 'role' || undefined}
            onChange={(e) => setRole(e.target.value as OrgRole)}
          >
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {t(`roles.${r}`)}
              </option>
            ))}
          </select>
        </label>
        <FormErrorBox error={error} fields={['username']} />
        <button type="submit" className="primary" data-testid="add-member-submit">
          {t('addButton')}
        </button>
      </form>
    </Card>
  );
}
