/** Password reset by mailed code: e-mail → code → new password (twice). */
import { useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'wouter';
import { api, type ApiError } from '../../api/client';
import { useApi } from '../../api/hooks';
import type { SignupTerms } from '@openbms/contract/api';
import { Spinner } from '../../ui';
import { Field, FormErrorBox, type FormError } from '../../ui/fields';
import { EmailCodeFields } from './EmailCodeFields';

export function ResetPage(props: { onDone: () => void }): ReactNode {
  const { t } = useTranslation('account');
  const info = useApi<SignupTerms>('/auth/signup');
  const [email, setEmail] = useState('');
  const [code, setCode] = useState('');
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [error, setError] = useState<FormError>(undefined);
  const [busy, setBusy] = useState(false);

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
      <EmailCodeFields
        path="/auth/reset/code"
        label={t('email')}
        email={email}
        onEmail={setEmail}
        code={code}
        onCode={setCode}
        error={error}
        onError={setError}
        busy={busy}
        autoFocus
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
