/** Users (admin): list, add, change role, reset password, delete. */
import { useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { api, type ApiError } from '../../api/client';
import { useApi } from '../../api/hooks';
import { passwordSchema, userCreateBody, type Role, type UserView } from '@openbms/contract/api';
import { useAuth } from '../../app/auth';
import { useFmt } from '../../i18n/format';
import { Badge, Card, Confirm, ErrorBox, Spinner } from '../../ui';
import { SelectField, SettingsForm, TextField, useDraft } from './form';
import type { Obj } from './types';

/** The roles, least rights first (the API's list). */
const ROLES: readonly Role[] = [...userCreateBody.properties.role.enum].reverse();
const NEW_USER: Obj = { username: '', role: 'viewer', password: '' };

function AddUser(props: { onAdded: (u: UserView) => void }): ReactNode {
  const { t } = useTranslation('settings');
  const draft = useDraft<Obj>(NEW_USER);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  return (
    <SettingsForm
      draft={draft}
      prefix=""
      schema={userCreateBody}
      testId="add-user"
      onSubmit={async () => {
        setBusy(true);
        setError(undefined);
        try {
          const u = await api<UserView>('/users', { body: draft.value });
          props.onAdded(u);
        } catch (e) {
          setError(e as ApiError);
        } finally {
          setBusy(false);
        }
      }}
    >
      <h3>{t('users.add')}</h3>
      <div className="row3">
        <TextField
          path="username"
          label={t('users.name')}
          required
          patternMsg={t('v.username')}
          keepEmpty
        />
        <SelectField
          path="role"
          label={t('users.role')}
          options={ROLES.map((r) => ({ value: r, label: t(`common:role.${r}`) }))}
        />
        <TextField
          path="password"
          type="password"
          label={t('users.password')}
          autoComplete="new-password"
          required
          keepEmpty
          validate={(v) => passwordProblem(v, t)}
        />
      </div>
      <ErrorBox error={error} />
      <button type="submit" className="primary" disabled={busy} data-testid="add-user-submit">
        {t('users.addButton')}
      </button>
    </SettingsForm>
  );
}

function passwordProblem(v: unknown, t: (k: string, o?: Record<string, unknown>) => string) {
  if (typeof v !== 'string') return undefined;
  if (v.length < passwordSchema.minLength) return t('v.password');
  if (v.length > passwordSchema.maxLength) return t('v.maxLen', { max: passwordSchema.maxLength });
  return undefined;
}

function ResetPassword(props: {
  user: string | undefined;
  onDone: (msg: string) => void;
  onClose: () => void;
}): ReactNode {
  const { t } = useTranslation('settings');
  const [password, setPassword] = useState('');
  const [shown, setShown] = useState(false);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const problem = passwordProblem(password, t);
  const close = () => {
    setPassword('');
    setShown(false);
    setError(undefined);
    props.onClose();
  };
  return (
    <Confirm
      open={props.user !== undefined}
      title={t('users.resetTitle', { user: props.user ?? '' })}
      confirmLabel={t('users.reset')}
      onCancel={close}
      onConfirm={async () => {
        setShown(true);
        if (problem || !props.user) return;
        try {
          await api(`/users/${encodeURIComponent(props.user)}`, {
            method: 'PATCH',
            body: { password },
          });
          props.onDone(t('users.resetDone', { user: props.user }));
          close();
        } catch (e) {
          setError(e as ApiError);
        }
      }}
    >
      <div className="field">
        <label htmlFor="reset-password">{t('users.newPassword')}</label>
        <input
          id="reset-password"
          type="password"
          autoComplete="new-password"
          value={password}
          data-testid="reset-password"
          aria-invalid={shown && problem ? true : undefined}
          onChange={(e) => setPassword(e.target.value)}
        />
        {shown && problem && <small className="field-error">{problem}</small>}
      </div>
      <p className="muted small">{t('users.resetHint')}</p>
      <ErrorBox error={error} />
    </Confirm>
  );
}

export function UsersSection(): ReactNode {
  const { t } = useTranslation('settings');
  const fmt = useFmt();
  const { me } = useAuth();
  const users = useApi<UserView[]>('/users');
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [resetting, setResetting] = useState<string | undefined>(undefined);
  const [deleting, setDeleting] = useState<string | undefined>(undefined);
  const [formKey, setFormKey] = useState(0);
  const done = (msg: string) => {
    setError(undefined);
    setNotice(msg);
    users.reload();
  };
  const fail = (e: unknown) => {
    setNotice(undefined);
    setError(e as ApiError);
  };
  return (
    <div className="section-body" data-testid="section-users">
      <Card title={t('users.title')}>
        <p className="muted">{t('users.intro')}</p>
        {users.loading && !users.data && <Spinner />}
        <ErrorBox error={users.error} />
        {users.data && (
          <div className="table-wrap">
            <table data-testid="users-table" className="stack-table">
              <thead>
                <tr>
                  <th>{t('users.name')}</th>
                  <th>{t('users.role')}</th>
                  <th>{t('users.created')}</th>
                  <th>
                    <span className="sr-only">{t('users.actions')}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {users.data.map((u) => (
                  <tr key={u.username} data-testid={`user-${u.username}`}>
                    <td data-label={t('users.name')}>
                      {u.username}{' '}
                      {u.username === me?.username && <Badge tone="info">{t('users.you')}</Badge>}
                    </td>
                    <td data-label={t('users.role')}>
                      <select
                        aria-label={t('users.roleOf', { user: u.username })}
                        value={u.role}
                        data-testid={`role-${u.username}`}
                        onChange={async (e) => {
                          const role = e.target.value as Role;
                          try {
                            await api(`/users/${encodeURIComponent(u.username)}`, {
                              method: 'PATCH',
                              body: { role },
                            });
                            done(
                              t('users.roleDone', {
                                user: u.username,
                                role: t(`common:role.${role}`),
                              }),
                            );
                          } catch (err) {
                            fail(err);
                            users.reload();
                          }
                        }}
                      >
                        {ROLES.map((r) => (
                          <option key={r} value={r}>
                            {t(`common:role.${r}`)}
                          </option>
                        ))}
                      </select>
                    </td>
                    <td data-label={t('users.created')}>{fmt.dateTime(u.created_at)}</td>
                    <td data-label={t('users.actions')} className="row-actions">
                      <button type="button" onClick={() => setResetting(u.username)}>
                        {t('users.reset')}
                      </button>
                      <button
                        type="button"
                        className="danger-outline"
                        onClick={() => setDeleting(u.username)}
                        data-testid={`delete-${u.username}`}
                      >
                        {t('common:delete')}
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {notice && (
          <p className="notice" role="status" data-testid="users-notice">
            {notice}
          </p>
        )}
        <ErrorBox error={error} />
      </Card>
      <Card>
        <AddUser
          key={formKey}
          onAdded={(u) => {
            setFormKey((k) => k + 1);
            done(t('users.added', { user: u.username, role: t(`common:role.${u.role}`) }));
          }}
        />
      </Card>
      <ResetPassword user={resetting} onDone={done} onClose={() => setResetting(undefined)} />
      <Confirm
        open={deleting !== undefined}
        danger
        title={t('users.deleteTitle', { user: deleting ?? '' })}
        confirmLabel={t('users.deleteButton', { user: deleting ?? '' })}
        onCancel={() => setDeleting(undefined)}
        onConfirm={async () => {
          const u = deleting;
          setDeleting(undefined);
          if (!u) return;
          try {
            await api(`/users/${encodeURIComponent(u)}`, { method: 'DELETE' });
            done(t('users.deleted', { user: u }));
          } catch (e) {
            fail(e);
          }
        }}
      >
        <p>{t('users.deleteHint', { user: deleting ?? '' })}</p>
      </Confirm>
    </div>
  );
}
