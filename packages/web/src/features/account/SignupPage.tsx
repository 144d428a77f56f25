/**
 * Sign-up (seed 000 "Registration & Login"): e-mail → a mailed 6-digit code (resend after a
 * countdown) → name, password twice, time zone (the browser's by default), phone, the
 * organisation's code and the agreement to the terms (GET /auth/signup gives their texts) →
 * the login name name@ORGCODE, then the login page.
 */
import { useRef, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'wouter';
import { api, type ApiError } from '../../api/client';
import { useApi } from '../../api/hooks';
import type { SignupResult, SignupTerms } from '@openbms/contract/api';
import { Spinner } from '../../ui';
import { browserZone, Field, FormErrorBox, ZoneField, type FormError } from '../../ui/fields';
import { EmailCodeFields } from './EmailCodeFields';

const FIELDS = ['email', 'code', 'name', 'password', 'timezone', 'phone', 'org_code', 'agree'];

export function SignupPage(props: { onDone: (login: string) => void }): ReactNode {
  const { t } = useTranslation('account');
  const info = useApi<SignupTerms>('/auth/signup');
  const [email, setEmail] = useState('');
  const [code, setCode] = useState('');
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [zone, setZone] = useState(browserZone);
  const [phone, setPhone] = useState('');
  const [orgCode, setOrgCode] = useState('');
  const [agree, setAgree] = useState(false);
  const [error, setError] = useState<FormError>(undefined);
  const [busy, setBusy] = useState(false);

  if (info.loading) return <Spinner />;
  if (!info.data?.signup)
    return (
      <div className="card auth-card">
        <h1>{t('signupTitle')}</h1>
        <p>{t('closed')}</p>
        <Link href="/">{t('backToLogin')}</Link>
      </div>
    );

  return (
    <form
      className="card auth-card"
      data-testid="signup"
      onSubmit={async (e) => {
        e.preventDefault();
        if (password.length < 8) return setError({ message: t('tooShort'), field: 'password' });
        if (password !== repeat) return setError({ message: t('mismatch'), field: 'repeat' });
        if (!agree) return setError({ message: t('agreeNeeded'), field: 'agree' });
        setBusy(true);
        setError(undefined);
        try {
          const r = await api<SignupResult>('/auth/signup', {
            body: {
              email,
              code,
              name,
              password,
              timezone: zone,
              ...(phone ? { phone } : {}),
              org_code: orgCode,
              agree: true,
            },
          });
          props.onDone(r.login);
        } catch (err) {
          setError(err as ApiError);
        } finally {
          setBusy(false);
        }
      }}
    >
      <h1>{t('signupTitle')}</h1>
      <EmailCodeFields
        path="/auth/signup/code"
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
        label={t('name')}
        field="name"
        error={error}
        help={t('nameHelp')}
        autoComplete="username"
        maxLength={64}
        value={name}
        onChange={(e) => setName(e.target.value)}
        required
      />
      <Field
        label={t('password')}
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
      <ZoneField label={t('timezone')} value={zone} onChange={setZone} error={error} />
      <Field
        label={t('phone')}
        field="phone"
        error={error}
        type="tel"
        autoComplete="tel"
        value={phone}
        onChange={(e) => setPhone(e.target.value)}
      />
      <Field
        label={t('orgCode')}
        field="org_code"
        error={error}
        help={t('orgCodeHelp')}
        autoCapitalize="characters"
        spellCheck={false}
        maxLength={6}
        value={orgCode}
        onChange={(e) => setOrgCode(e.target.value.trim())}
        required
      />
      <Agreement terms={info.data} checked={agree} onChange={setAgree} error={error} />
      <FormErrorBox error={error} fields={[...FIELDS, 'repeat']} />
      <button type="submit" className="primary" disabled={busy} data-testid="signup-submit">
        {t('create')}
      </button>
      <p>
        <Link href="/">{t('backToLogin')}</Link>
      </p>
    </form>
  );
}

/** The agreement checkbox with the two terms, each opened in a dialog. */
function Agreement(props: {
  terms: SignupTerms;
  checked: boolean;
  onChange: (v: boolean) => void;
  error: FormError;
}): ReactNode {
  const { t } = useTranslation('account');
  const [open, setOpen] = useState<'service' | 'privacy' | undefined>(undefined);
  const ref = useRef<HTMLDialogElement>(null);
  const show = (which: 'service' | 'privacy') => {
    setOpen(which);
    ref.current?.showModal();
  };
  const mine = props.error?.field === 'agree';
  return (
    <div className="agree">
      <label>
        <input
          type="checkbox"
          name="agree"
          checked={props.checked}
          aria-invalid={mine || undefined}
          onChange={(e) => props.onChange(e.target.checked)}
        />{' '}
        {t('agreePrefix')}{' '}
        <button type="button" className="link" onClick={() => show('service')}>
          {t('terms.service')}
        </button>{' '}
        {t('agreeAnd')}{' '}
        <button type="button" className="link" onClick={() => show('privacy')}>
          {t('terms.privacy')}
        </button>
        {t('agreeSuffix')}
      </label>
      {mine && (
        <small className="field-error" role="alert" data-testid="agree-error">
          {props.error?.message}
        </small>
      )}
      <dialog ref={ref} className="dialog terms" aria-label={open && t(`terms.${open}`)}>
        {open && (
          <>
            <h2>{t(`terms.${open}`)}</h2>
            <div className="terms-text" data-testid="terms-text">
              {props.terms[open] ?? t('terms.none')}
            </div>
          </>
        )}
        <div className="dialog-actions">
          <button type="button" onClick={() => ref.current?.close()}>
            {t('common:close')}
          </button>
        </div>
      </dialog>
    </div>
  );
}
