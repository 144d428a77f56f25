/**
 * Form pieces of the account pages: a labelled input that shows the server's refusal next to
 * the field it names (ApiError.field, snake_case as the API names it), the resend countdown
 * of a mailed code, and the browser's time zones.
 */
import { useEffect, useId, useState, type InputHTMLAttributes, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { ApiError } from '../api/client';
import { errorText } from '../i18n/server-text';

/** The one error a form shows: the server's (with its field) or a check of the page's own. */
export type FormError = ApiError | { message: string; field?: string } | undefined;

export function Field(
  props: {
    label: string;
    /** The API's name of the field: the server's error naming it shows here. */
    field: string;
    error: FormError;
    help?: string;
  } & InputHTMLAttributes<HTMLInputElement>,
): ReactNode {
  const { label, field, error, help, ...input } = props;
  const { i18n } = useTranslation();
  const mine = error?.field === field;
  // The help and the error stay outside the label: the field's name is the label alone.
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        name={field}
        aria-invalid={mine || undefined}
        aria-describedby={mine ? `${id}-error` : help ? `${id}-help` : undefined}
        {...input}
      />
      {mine ? (
        <small
          id={`${id}-error`}
          className="field-error"
          role="alert"
          data-testid={`${field}-error`}
        >
          {'code' in error ? errorText(i18n, error) : error.message}
        </small>
      ) : (
        help && (
          <small id={`${id}-help`} className="muted">
            {help}
          </small>
        )
      )}
    </div>
  );
}

/** An error no field of the form names (shown once, under the form). */
export function FormErrorBox(props: { error: FormError; fields: readonly string[] }): ReactNode {
  const { i18n } = useTranslation();
  const e = props.error;
  if (!e || (e.field !== undefined && props.fields.includes(e.field))) return null;
  return (
    <div className="error-box" role="alert">
      {'code' in e ? errorText(i18n, e) : e.message}
    </div>
  );
}

/** Seconds left before another code may be asked for (the server's gap is 60 s an address). */
export function useCountdown(): { left: number; start: (s: number) => void } {
  const [until, setUntil] = useState(0);
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (until <= now) return;
    const id = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(id);
  }, [until, now]);
  return {
    left: Math.max(0, Math.ceil((until - now) / 1000)),
    start: (s) => {
      const t = Date.now();
      setNow(t);
      setUntil(t + s * 1000);
    },
  };
}

/** The browser's own time zone (the sign-up's default). */
export const browserZone = (): string => {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
};

/** Every IANA zone the browser knows (the server takes Area/City names and UTC). */
export function zones(): string[] {
  const all =
    typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  return ['UTC', ...all.filter((z) => z.includes('/'))];
}

export function ZoneField(props: {
  label: string;
  value: string;
  onChange: (z: string) => void;
  error: FormError;
}): ReactNode {
  const list = zones();
  return (
    <>
      <Field
        label={props.label}
        field="timezone"
        error={props.error}
        list="zones"
        autoComplete="off"
        value={props.value}
        onChange={(e) => props.onChange(e.target.value)}
        required
      />
      <datalist id="zones">
        {list.map((z) => (
          <option key={z} value={z} />
        ))}
      </datalist>
    </>
  );
}
