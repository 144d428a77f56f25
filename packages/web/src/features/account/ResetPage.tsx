/** Password reset by mailed code: e-mail → code → new password (twice). */
import { useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'wouter';
import { api, type ApiError } from '../../api/client';
import { useApi } from '../../api/hooks';
import type { SignupTerms } from '@openbms/contract/api';
import { Spinner } from '../../ui';
import { Field, FormErrorBox, useCountdown, type FormError } from '../../ui/fields';

export function ResetPage(props: { onDone: () => void }): ReactNode {
  const { t } = useTranslation('account');
  const info = useApi<SignupTerms>('/auth/signup');
  const [email, setEmail] = useState('');
  const [sentTo, setSentTo] = useState<string | undefined>(undefined);
  const [code, setCode] = useState('');
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [error, setError] = useState<FormError>(undefined);
  const [busy, setBusy] = useState(false);
  const countdown = useCountdown();

  if (info.loading) return <Spinner />;
  if (!info.data?.reset)
    return (
      <div className="card auth-card">
        <h1>{t('resetTitle')}</h1>
        <p>{t('resetClosed')}</p>
        <Link href="/">{t('backToLogin')}</Link>
      </div>
    );
  return (
    <form
      className="card auth-card"
      data-testid="reset"
      onSubmit={async (e) => {
        e.preventDefault();
        if (password.length < 8) return setError({ message: t('tooShort'), field: 'password' });
        if (password !== repeat) return setError({ message: t('mismatch'), field: 'repeat' });
        setBusy(true);
        setError(undefined);
        try {
          await api('/auth/reset', { body: { email, code, password } });
          props.onDone();
        } catch (err) {
          setError(err as ApiError);
        } finally {
          setBusy(false);
        }
      }}
    >
      <h1>{t('resetTitle')}</h1>
      <div className="code-row">
        <Field
          label={t('email')}
          field="email"
          error={error}
          type="email"
          autoComplete="email"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          required
          autoFocus
        />
        <button
          type="button"
          data-testid="send-code"
          disabled={busy || countdown.left > 0 || !email}
          onClick={async () => {
            setError(undefined);
            try {
              await api('/auth/reset/code', { body: { email } });
              setSentTo(email);
              countdown.start(60);
            } catch (err) {
              setError(err as ApiError);
            }
          }}
        >
          {countdown.left > 0 ? t('resendIn', { s: countdown.left }) : t('sendCode')}
        </button>
      </div>
      {sentTo && <p className="notice">{t('codeSent', { email: sentTo })}</p>}
      <Field
        label={t('code')}
        field="code"
        error={error}
        inputMode="numeric"
        autoComplete="one-time-code"
        pattern="[0-9]{6}"
        maxLength={6}
        value={code}
        onChange={(e) => setCode(e.target.value.trim())}
        required
      />
      <Field
        label={t('newPassword')}
        field="password"
        error={error}
        type="password"
        autoComplete="new-password"
        value={password}
        onChange={(e) => setPassword(e.target.value)}
        required
      />
      <Field
        label={t('repeat')}
        field="repeat"
        error={error}
        type="password"
        autoComplete="new-password"
        value={repeat}
        onChange={(e) => setRepeat(e.target.value)}
        required
      />
      <FormErrorBox error={error} fields={['email', 'code', 'password', 'repeat']} />
      <button type="submit" className="primary" disabled={busy} data-testid="reset-submit">
        {t('setPassword')}
      </button>
      <p>
        <Link href="/">{t('backToLogin')}</Link>
      </p>
    </form>
  );
}
