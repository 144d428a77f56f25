/**
 * The e-mail address and its mailed 6-digit code, as sign-up, password reset and the change of
 * address on My account ask for them: the address, "Send code" (then "Resend in N s", for the
 * server's retry time when it answers 429), the notice saying where the code went, the code.
 */
import { useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { api, type ApiError } from '../../api/client';
import { Field, useCountdown, type FormError } from '../../ui/fields';

export function EmailCodeFields(props: {
  /** The route that mails a code: `POST <path> {email}`. */
  path: string;
  label: string;
  email: string;
  onEmail: (email: string) => void;
  code: string;
  onCode: (code: string) => void;
  error: FormError;
  onError: (e: FormError) => void;
  /** The form is being sent: no code is asked for meanwhile. */
  busy?: boolean;
  autoFocus?: boolean;
  /** Called when a code was sent (to clear a form's other notices). */
  onSent?: () => void;
}): ReactNode {
  const { t } = useTranslation('account');
  const [sentTo, setSentTo] = useState<string | undefined>(undefined);
  const [sending, setSending] = useState(false);
  const countdown = useCountdown();
  const send = async () => {
    props.onError(undefined);
    setSending(true);
    try {
      await api(props.path, { body: { email: props.email } });
      setSentTo(props.email);
      countdown.start(60);
      props.onSent?.();
    } catch (e) {
      const ae = e as ApiError;
      props.onError(ae);
      const wait = (ae.details as { retry_after_s?: unknown } | undefined)?.retry_after_s;
      if (typeof wait === 'number') countdown.start(wait);
    } finally {
      setSending(false);
    }
  };
  return (
    <>
      <div className="code-row">
        <Field
          label={props.label}
          field="email"
          error={props.error}
          type="email"
          autoComplete="email"
          value={props.email}
          onChange={(e) => props.onEmail(e.target.value)}
          required
          autoFocus={props.autoFocus}
        />
        <button
          type="button"
          data-testid="send-code"
          disabled={props.busy === true || sending || countdown.left > 0 || !props.email}
          onClick={() => void send()}
        >
          {countdown.left > 0 ? t('resendIn', { s: countdown.left }) : t('sendCode')}
        </button>
      </div>
      {sentTo && <p className="notice">{t('codeSent', { email: sentTo })}</p>}
      <Field
        label={t('code')}
        field="code"
        error={props.error}
        inputMode="numeric"
        autoComplete="one-time-code"
        pattern="[0-9]{6}"
        maxLength={6}
        value={props.code}
        onChange={(e) => props.onCode(e.target.value.trim())}
        required
      />
    </>
  );
}
