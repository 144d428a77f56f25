/** Small shared pieces: cards, badges, tabs, errors, confirmations, the SOC gauge. */
import { useEffect, useId, useRef, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { ApiError } from '../api/client';

export function Card(props: {
  title?: ReactNode;
  actions?: ReactNode;
  children: ReactNode;
  className?: string;
  testId?: string;
}): ReactNode {
  return (
    <section className={`card ${props.className ?? ''}`} data-testid={props.testId}>
      {(props.title !== undefined || props.actions !== undefined) && (
        <header className="card-head">
          {props.title !== undefined && <h2>{props.title}</h2>}
          {props.actions !== undefined && <div className="card-actions">{props.actions}</div>}
        </header>
      )}
      {props.children}
    </section>
  );
}

export type Tone = 'ok' | 'warn' | 'bad' | 'info' | 'muted';

export function Badge(props: { tone: Tone; children: ReactNode; title?: string }): ReactNode {
  return (
    <span className={`badge badge-${props.tone}`} title={props.title}>
      {props.children}
    </span>
  );
}

/** The severity colour of an alarm. */
export function severityTone(s: string): Tone {
  return s === 'fault' ? 'bad' : s === 'protection' ? 'warn' : 'info';
}

export function ErrorBox(props: { error: ApiError | Error | string | undefined }): ReactNode {
  if (!props.error) return null;
  const msg = typeof props.error === 'string' ? props.error : props.error.message;
  return (
    <div className="error-box" role="alert">
      {msg}
    </div>
  );
}

export function Spinner(): ReactNode {
  const { t } = useTranslation();
  return (
    <div className="spinner" role="status">
      {t('loading')}
    </div>
  );
}

export function Stat(props: {
  label: ReactNode;
  value: ReactNode;
  sub?: ReactNode;
  testId?: string;
}): ReactNode {
  return (
    <div className="stat" data-testid={props.testId}>
      <div className="stat-label">{props.label}</div>
      <div className="stat-value">{props.value}</div>
      {props.sub !== undefined && <div className="stat-sub">{props.sub}</div>}
    </div>
  );
}

/**
 * Keyboard-accessible tabs (arrow keys, Home and End move between them, as WAI-ARIA
 * describes). With `panelId`, each tab is `<panelId>-tab-<id>` and controls that panel, which
 * should carry `aria-labelledby` = the selected tab's id.
 */
export function Tabs<K extends string>(props: {
  tabs: { id: K; label: ReactNode }[];
  value: K;
  onChange: (k: K) => void;
  label: string;
  panelId?: string;
}): ReactNode {
  const refs = useRef<(HTMLButtonElement | null)[]>([]);
  const idx = props.tabs.findIndex((t) => t.id === props.value);
  // On a phone the tab row scrolls sideways: keep the selected tab in view (a deep link to
  // /records would otherwise show a row where no tab looks selected).
  useEffect(() => {
    refs.current[idx]?.scrollIntoView?.({ block: 'nearest', inline: 'nearest' });
  }, [idx]);
  const move = (d: number, to?: number) => {
    const n = to ?? (idx + d + props.tabs.length) % props.tabs.length;
    props.onChange(props.tabs[n]!.id);
    refs.current[n]?.focus();
  };
  return (
    <div className="tabs" role="tablist" aria-label={props.label}>
      {props.tabs.map((t, i) => (
        <button
          key={t.id}
          ref={(el) => {
            refs.current[i] = el;
          }}
          role="tab"
          type="button"
          id={props.panelId ? `${props.panelId}-tab-${t.id}` : undefined}
          aria-controls={props.panelId && t.id === props.value ? props.panelId : undefined}
          aria-selected={t.id === props.value}
          tabIndex={t.id === props.value ? 0 : -1}
          className={t.id === props.value ? 'tab active' : 'tab'}
          onClick={() => props.onChange(t.id)}
          onKeyDown={(e) => {
            if (e.key === 'ArrowRight') move(1);
            else if (e.key === 'ArrowLeft') move(-1);
            else if (e.key === 'Home') move(0, 0);
            else if (e.key === 'End') move(0, props.tabs.length - 1);
            else return;
            e.preventDefault();
          }}
        >
          {t.label}
        </button>
      ))}
    </div>
  );
}

/**
 * A confirmation dialog (native <dialog>: focus trap and Escape for free). With
 * `typeToConfirm`, the confirm button stays disabled until that text (the pack's name) is
 * typed, for the irreversible commands.
 */
export function Confirm(props: {
  open: boolean;
  title: ReactNode;
  children?: ReactNode;
  confirmLabel?: ReactNode;
  danger?: boolean;
  typeToConfirm?: string;
  onConfirm: () => void;
  onCancel: () => void;
}): ReactNode {
  const { t } = useTranslation();
  const ref = useRef<HTMLDialogElement>(null);
  const [typed, setTyped] = useState('');
  const id = useId();
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (props.open && !d.open) {
      setTyped('');
      d.showModal();
    } else if (!props.open && d.open) d.close();
  }, [props.open]);
  const ok = props.typeToConfirm === undefined || typed === props.typeToConfirm;
  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby={id}
      onCancel={(e) => {
        e.preventDefault();
        props.onCancel();
      }}
    >
      <h2 id={id}>{props.title}</h2>
      {props.children}
      {props.typeToConfirm !== undefined && (
        <label className="field">
          <span>{t('typeToConfirm', { name: props.typeToConfirm })}</span>
          <input value={typed} onChange={(e) => setTyped(e.target.value)} autoFocus />
        </label>
      )}
      <div className="dialog-actions">
        <button type="button" onClick={props.onCancel}>
          {t('cancel')}
        </button>
        <button
          type="button"
          className={props.danger ? 'danger' : 'primary'}
          disabled={!ok}
          onClick={props.onConfirm}
        >
          {props.confirmLabel ?? t('confirm')}
        </button>
      </div>
    </dialog>
  );
}

/** The SOC gauge: a 270° arc, coloured by level. */
export function SocGauge(props: { soc: number | undefined; size?: number; label?: string }) {
  const size = props.size ?? 160;
  const soc = props.soc === undefined ? 0 : Math.max(0, Math.min(100, props.soc));
  const r = 42;
  const c = 2 * Math.PI * r;
  const arc = c * 0.75;
  const tone = soc < 15 ? 'var(--bad)' : soc < 30 ? 'var(--warn)' : 'var(--ok)';
  return (
    <svg
      width={size}
      height={size}
      viewBox="0 0 100 100"
      role="img"
      aria-label={props.label ?? `SOC ${props.soc ?? '—'} %`}
      className="gauge"
    >
      <circle
        cx="50"
        cy="50"
        r={r}
        fill="none"
        stroke="var(--track)"
        strokeWidth="9"
        strokeDasharray={`${arc} ${c}`}
        transform="rotate(135 50 50)"
        strokeLinecap="round"
      />
      <circle
        cx="50"
        cy="50"
        r={r}
        fill="none"
        stroke={tone}
        strokeWidth="9"
        strokeDasharray={`${(arc * soc) / 100} ${c}`}
        transform="rotate(135 50 50)"
        strokeLinecap="round"
      />
      <text x="50" y="54" textAnchor="middle" className="gauge-text">
        {props.soc === undefined ? '—' : `${Math.round(props.soc)}%`}
      </text>
    </svg>
  );
}
