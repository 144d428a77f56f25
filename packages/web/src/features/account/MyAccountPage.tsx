/**
 * My account (seed 003 "Mine"): the login name, e-mail (changed by a code mailed to the new
 * address), phone, time zone, language, notification settings (alarm e-mails), the password,
 * and log out everywhere.
 */
import { useEffect, useId, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { api, type ApiError } from '../../api/client';
import { useApi } from '../../api/hooks';
import type { Account } from '@openbms/contract/api';
import { useAuth } from '../../app/auth';
import { LANGUAGES, setLanguage, type Lang } from '../../i18n';
import { Card, Confirm, ErrorBox, Spinner } from '../../ui';
import { Field, FormErrorBox, ZoneField, type FormError } from '../../ui/fields';
import { EmailCodeFields } from './EmailCodeFields';

export default function MyAccountPage(): ReactNode {
  const { t } = useTranslation('account');
  const account = useApi<Account>('/auth/account');
  const [shown, setShown] = useState<Account | undefined>(undefined);
  useEffect(() => setShown(account.data), [account.data]);
  return (
    <div className="page narrow account-page" data-testid="my-account">
      <h1>{t('mine.title')}</h1>
      {account.loading && !shown && <Spinner />}
      {account.error && account.error.status === 404 && <p>{t('mine.noProfile')}</p>}
      {account.error && account.error.status !== 404 && <ErrorBox error={account.error} />}
      {shown && (
        <>
          <p>
            {t('mine.loginAs')} <strong data-testid="login-name">{shown.login}</strong>
          </p>
          <ProfileCard account={shown} onSaved={setShown} />
          <EmailCard account={shown} onChanged={setShown} />
          <NotifyCard account={shown} onSaved={setShown} />
        </>
      )}
      <PasswordCard />
      <SessionsCard />
    </div>
  );
}

function ProfileCard(props: { account: Account; onSaved: (a: Account) => void }): ReactNode {
  const { t } = useTranslation('account');
  const [phone, setPhone] = useState(props.account.phone ?? '');
  const [zone, setZone] = useState(props.account.timezone ?? '');
  const [lang, setLang] = useState<string>(props.account.language ?? '');
  const [error, setError] = useState<FormError>(undefined);
  const [saved, setSaved] = useState(false);
  const langId = useId();
  return (
    <Card title={t('mine.profile')} testId="profile">
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          setError(undefined);
          setSaved(false);
          try {
            const a = await api<Account>('/auth/account', {
              method: 'PATCH',
              body: {
                phone: phone || null,
                timezone: zone || null,
                language: lang === 'en' || lang === 'zh' ? lang : null,
              },
            });
            if (a.language) setLanguage(a.language as Lang);
            props.onSaved(a);
            setSaved(true);
          } catch (err) {
            setError(err as ApiError);
          }
        }}
      >
        <Field
          label={t('phone')}
          field="phone"
          error={error}
          type="tel"
          autoComplete="tel"
          value={phone}
          onChange={(e) => setPhone(e.target.value)}
        />
        <ZoneField label={t('timezone')} value={zone} onChange={setZone} error={error} />
        <div className="field">
          <label htmlFor={langId}>{t('mine.language')}</label>
          <select
            id={langId}
            name="language"
            data-testid="profile-language"
            value={lang}
            aria-invalid={error?.field === 'language' || undefined}
            onChange={(e) => setLang(e.target.value)}
          >
            <option value="">{t('mine.languageBrowser')}</option>
            {LANGUAGES.map((l) => (
              <option key={l.id} value={l.id}>
                {l.label}
              </option>
            ))}
          </select>
        </div>
        <FormErrorBox error={error} fields={['phone', 'timezone']} />
        {saved && <p className="notice">{t('mine.saved')}</p>}
        <button type="submit" className="primary" data-testid="profile-save">
          {t('common:save')}
        </button>
      </form>
    </Card>
  );
}

const SEVERITIES = ['warning', 'protection', 'fault'] as const;

/** Alarm e-mails: on or off, the least severity, and whether clears are mailed too. */
function NotifyCard(props: { account: Account; onSaved: (a: Account) => void }): ReactNode {
  const { t } = useTranslation('account');
  const [n, setN] = useState(props.account.notify);
  const [error, setError] = useState<FormError>(undefined);
  const [saved, setSaved] = useState(false);
  const sevId = useId();
  return (
    <Card title={t('mine.notifyTitle')} testId="notify">
      <p className="muted">{t('mine.notifyHelp')}</p>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          setError(undefined);
          setSaved(false);
          try {
            const a = await api<Account>('/auth/account', { method: 'PATCH', body: { notify: n } });
            props.onSaved(a);
            setN(a.notify);
            setSaved(true);
          } catch (err) {
            setError(err as ApiError);
          }
        }}
      >
        <div className="field">
          <label>
            <input
              type="checkbox"
              name="alarms_email"
              data-testid="notify-alarms-email"
              checked={n.alarms_email}
              aria-invalid={error?.field === 'notify.alarms_email' || undefined}
              onChange={(e) => setN({ ...n, alarms_email: e.target.checked })}
            />{' '}
            {t('mine.alarmsEmail')}
          </label>
        </div>
        <div className="field">
          <label htmlFor={sevId}>{t('mine.minSeverity')}</label>
          <select
            id={sevId}
            name="min_severity"
            data-testid="notify-min-severity"
            value={n.min_severity}
            onChange={(e) =>
              setN({ ...n, min_severity: e.target.value as (typeof SEVERITIES)[number] })
            }
          >
            {SEVERITIES.map((s) => (
              <option key={s} value={s}>
                {t(`mine.severity.${s}`)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label>
            <input
              type="checkbox"
              name="alarm_cleared"
              data-testid="notify-alarm-cleared"
              checked={n.alarm_cleared}
              onChange={(e) => setN({ ...n, alarm_cleared: e.target.checked })}
            />{' '}
            {t('mine.alarmCleared')}
          </label>
        </div>
        <FormErrorBox error={error} fields={[]} />
        {saved && <p className="notice">{t('mine.saved')}</p>}
        <button type="submit" className="primary" data-testid="notify-save">
          {t('common:save')}
        </button>
      </form>
    </Card>
  );
}

function EmailCard(props: { account: Account; onChanged: (a: Account) => void }): ReactNode {
  const { t } = useTranslation('account');
  const [email, setEmail] = useState('');
  const [code, setCode] = useState('');
  // A new key after a change starts the code fields afresh (no notice, no countdown).
  const [round, setRound] = useState(0);
  const [error, setError] = useState<FormError>(undefined);
  const [done, setDone] = useState<string | undefined>(undefined);
  return (
    <Card title={t('mine.emailTitle')} testId="email">
      <p data-testid="current-email">{props.account.email ?? t('mine.emailNone')}</p>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          setError(undefined);
          try {
            const a = await api<Account>('/auth/account/email', { body: { email, code } });
            props.onChanged(a);
            setDone(a.email ?? email);
            setRound((r) => r + 1);
            setEmail('');
            setCode('');
          } catch (err) {
            setError(err as ApiError);
          }
        }}
      >
        <EmailCodeFields
          key={round}
          path="/auth/account/email/code"
          label={t('mine.newEmail')}
          email={email}
          onEmail={setEmail}
          code={code}
          onCode={setCode}
          error={error}
          onError={setError}
          onSent={() => setDone(undefined)}
        />
        <FormErrorBox error={error} fields={['email', 'code']} />
        {done && <p className="notice">{t('mine.emailChanged', { email: done })}</p>}
        <button type="submit" className="primary" data-testid="email-confirm">
          {t('mine.confirmEmail')}
        </button>
      </form>
    </Card>
  );
}

function PasswordCard(): ReactNode {
  const { t } = useTranslation();
  const [current, setCurrent] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<FormError>(undefined);
  const [done, setDone] = useState(false);
  return (
    <Card title={t('auth.changePassword')} testId="password">
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          setDone(false);
          if (password.length < 8)
            return setError({ message: t('auth.tooShort'), field: 'password' });
          try {
            await api('/auth/password', { body: { current_password: current, password } });
            setError(undefined);
            setDone(true);
            setCurrent('');
            setPassword('');
          } catch (err) {
            setError(err as ApiError);
          }
        }}
      >
        <Field
          label={t('auth.current')}
          type="password"
          field="current_password"
          error={error}
          autoComplete="current-password"
          value={current}
          onChange={(e) => setCurrent(e.target.value)}
          required
        />
        <Field
          label={t('auth.newPassword')}
          type="password"
          field="password"
          error={error}
          autoComplete="new-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          required
        />
        <FormErrorBox error={error} fields={['current_password', 'password']} />
        {done && <p className="notice">{t('auth.changed')}</p>}
        <button type="submit" className="primary" data-testid="password-save">
          {t('auth.changePassword')}
        </button>
      </form>
    </Card>
  );
}

function SessionsCard(): ReactNode {
  const { t } = useTranslation('account');
  const { loggedOut } = useAuth();
  const [asking, setAsking] = useState(false);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  return (
    <Card title={t('mine.sessions')} testId="sessions">
      <p className="muted">{t('mine.sessionsHelp')}</p>
      <ErrorBox error={error} />
      <button
        type="button"
        className="danger"
        data-testid="logout-all"
        onClick={() => setAsking(true)}
      >
        {t('mine.logoutAll')}
      </button>
      <Confirm
        open={asking}
        title={t('mine.logoutAllConfirm')}
        confirmLabel={t('mine.logoutAll')}
        danger
        onCancel={() => setAsking(false)}
        onConfirm={async () => {
          setAsking(false);
          try {
            await api('/auth/logout/all', { method: 'POST' });
            loggedOut();
          } catch (err) {
            setError(err as ApiError);
          }
        }}
      />
    </Card>
  );
}
