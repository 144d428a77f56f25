/**
 * A small form kit for the settings sections. A form edits one JSON value (a config
 * section) addressed by paths ("tls.ca", "writes[0].register"); every field checks its own
 * value as the user types (required, range, pattern) and shows the server's 422 issues for
 * its path. Nothing is sent while a field is invalid: the submit and test buttons focus the
 * first bad field instead.
 *
 * The limits come from the section's schema: a form is given the section's JSON Schema
 * (`@openbms/contract/forms`, generated from the zod schema the gateway checks the file
 * with) and each field reads its minimum, maximum, whole-number rule, length, pattern and
 * accepted values at its own path. A field states only what the schema cannot (required in
 * this form, a friendlier message, a check of its own).
 */
import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useId,
  useMemo,
  useRef,
  useState,
  type ReactNode,
  type RefObject,
} from 'react';
import { useTranslation } from 'react-i18next';
import type { ApiError } from '../../api/client';
import { Badge } from '../../ui';
import { SECRET_MARKER, type ConfigIssue } from '@openbms/contract/api';
import { limitsAt, type FieldLimits, type JsonSchema } from '@openbms/contract/forms';
import type { Obj } from './types';

// ------------------------------------------------------------------------- paths

type Seg = string | number;

export function parsePath(path: string): Seg[] {
  const out: Seg[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    if (m[2] !== undefined) out.push(Number(m[2]));
    else if (m[1] !== undefined) out.push(m[1]);
  }
  return out;
}

export function joinPath(prefix: string, rel: string): string {
  if (!prefix) return rel;
  if (!rel) return prefix;
  return rel.startsWith('[') ? `${prefix}${rel}` : `${prefix}.${rel}`;
}

export function getIn(o: unknown, path: string): unknown {
  let cur: unknown = o;
  for (const s of parsePath(path)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[s];
  }
  return cur;
}

/** A copy of `o` with `path` set to `v` (undefined removes an object key). */
export function setIn<T>(o: T, path: string, v: unknown): T {
  const segs = parsePath(path);
  const walk = (cur: unknown, i: number): unknown => {
    const s = segs[i]!;
    const last = i === segs.length - 1;
    if (typeof s === 'number') {
      const arr = Array.isArray(cur) ? [...(cur as unknown[])] : [];
      arr[s] = last ? v : walk(arr[s], i + 1);
      return arr;
    }
    const obj: Obj =
      cur !== null && typeof cur === 'object' && !Array.isArray(cur) ? { ...(cur as Obj) } : {};
    const next = last ? v : walk(obj[s], i + 1);
    if (next === undefined) delete obj[s];
    else obj[s] = next;
    return obj;
  };
  return (segs.length === 0 ? v : walk(o, 0)) as T;
}

/** `a` is `b` or lies inside it ("mqtt.tls.ca" is inside "mqtt.tls"). */
export function within(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}.`) || a.startsWith(`${b}[`);
}

/** The server's 422 issues (CONFIG_INVALID) of an API error, keyed by path. */
export function issuesOf(e: ApiError | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!e || !Array.isArray(e.details)) return out;
  for (const i of e.details as Partial<ConfigIssue>[]) {
    if (typeof i?.path === 'string' && typeof i.message === 'string' && !(i.path in out)) {
      out[i.path] = i.message;
    }
  }
  return out;
}

// ------------------------------------------------------------------------- the form

interface FormApi {
  value: Obj;
  set: (path: string, v: unknown) => void;
  /** Prefix of the server's issue paths for this form ("mqtt", "notifications[2]"). */
  prefix: string;
  /** The JSON Schema of the value the form edits: where its fields read their limits. */
  schema: JsonSchema | undefined;
  issues: Record<string, string>;
  /** Show every field's own error (after a submit attempt), not only the touched ones. */
  showAll: boolean;
  readOnly: boolean;
  /** Fields report the issue paths they show; the rest is listed at the bottom. */
  claimed: Set<string>;
  /** True when every field is valid; otherwise shows the errors and focuses the first. */
  check: () => boolean;
  /** What Enter in a field does when the form has no onSubmit (the section's Save). */
  submitter: { current: (() => void) | undefined };
}

const FormCtx = createContext<FormApi | null>(null);

function useFormApi(): FormApi {
  const f = useContext(FormCtx);
  if (!f) throw new Error('settings fields must be inside <SettingsForm>');
  return f;
}

export interface Draft<T extends Obj = Obj> {
  value: T;
  set: (path: string, v: unknown) => void;
  replace: (v: T) => void;
  issues: Record<string, string>;
  setIssues: (i: Record<string, string>) => void;
  showAll: boolean;
  setShowAll: (b: boolean) => void;
  dirty: boolean;
}

/**
 * The state of one form: its value, the server's issues and whether it changed. The value
 * starts over when `initial` changes (a save answered, another tab saved).
 */
export function useDraft<T extends Obj>(initial: T): Draft<T> {
  const key = JSON.stringify(initial);
  const [state, setState] = useState({ key, value: initial, base: initial });
  const [issues, setIssues] = useState<Record<string, string>>({});
  const [showAll, setShowAll] = useState(false);
  let cur = state;
  if (state.key !== key) {
    cur = { key, value: initial, base: initial };
    setState(cur);
    setIssues({});
    setShowAll(false);
  }
  const set = useCallback((path: string, v: unknown) => {
    setState((s) => ({ ...s, value: setIn(s.value, path, v) }));
    setIssues((old) => {
      const keys = Object.keys(old).filter((k) => within(k, path) || k.endsWith(`.${path}`));
      if (keys.length === 0) return old;
      const next = { ...old };
      for (const k of keys) delete next[k];
      return next;
    });
  }, []);
  const replace = useCallback((v: T) => setState((s) => ({ ...s, value: v })), []);
  return {
    value: cur.value,
    set,
    replace,
    issues,
    setIssues,
    showAll,
    setShowAll,
    dirty: JSON.stringify(cur.value) !== JSON.stringify(cur.base),
  };
}

/** A <form> bound to a draft. `onSubmit` runs only when every field is valid. */
export function SettingsForm(props: {
  draft: Draft<Obj> | Draft;
  prefix: string;
  /** The section's schema (FORM_SCHEMAS.mqtt, channelSchema(type)...). */
  schema?: JsonSchema;
  readOnly?: boolean;
  /** Default: the Save of the form's SectionActions. */
  onSubmit?: () => void;
  testId?: string;
  children: ReactNode;
  className?: string;
}): ReactNode {
  const ref = useRef<HTMLFormElement>(null);
  const d = props.draft as Draft;
  const claimed = useMemo(() => new Set<string>(), []);
  const submitter = useRef<(() => void) | undefined>(undefined);
  claimed.clear();
  const check = useCallback(() => checkForm(ref, d.setShowAll), [d.setShowAll]);
  const api: FormApi = {
    value: d.value,
    set: d.set,
    prefix: props.prefix,
    schema: props.schema,
    issues: d.issues,
    showAll: d.showAll,
    readOnly: props.readOnly ?? false,
    claimed,
    check,
    submitter,
  };
  return (
    <FormCtx.Provider value={api}>
      <form
        ref={ref}
        noValidate
        className={`settings-form ${props.className ?? ''}`}
        data-testid={props.testId}
        onSubmit={(e) => {
          e.preventDefault();
          if (api.readOnly) return;
          if (props.onSubmit) {
            if (check()) props.onSubmit();
          } else submitter.current?.();
        }}
      >
        {props.children}
      </form>
    </FormCtx.Provider>
  );
}

function checkForm(
  ref: RefObject<HTMLFormElement | null>,
  setShowAll: (b: boolean) => void,
): boolean {
  setShowAll(true);
  const bad = ref.current?.querySelector<HTMLElement>('[data-invalid="true"]');
  if (bad) {
    const details = bad.closest('details');
    if (details && !details.open) details.open = true;
    bad.focus();
    return false;
  }
  return true;
}

/** The form's check (for buttons that send the value without submitting, e.g. Test). */
export function useFormCheck(): () => boolean {
  return useFormApi().check;
}

/** Makes `f` what Enter in a field of the form does. */
export function useFormSubmitter(f: () => void): void {
  const api = useFormApi();
  api.submitter.current = f;
}

/** The current value of the form (for sections that show parts conditionally). */
export function useFormValue(path = ''): unknown {
  const f = useFormApi();
  return path ? getIn(f.value, path) : f.value;
}

export function useFormSet(): (path: string, v: unknown) => void {
  return useFormApi().set;
}

export function useReadOnly(): boolean {
  return useFormApi().readOnly;
}

/** The server's issues no field showed, listed with their paths (bottom of a form). */
export function OtherIssues(): ReactNode {
  const f = useFormApi();
  const rest = Object.entries(f.issues).filter(([k]) => ![...f.claimed].some((c) => within(k, c)));
  if (rest.length === 0) return null;
  return (
    <ul className="error-box issue-list" role="alert" data-testid="other-issues">
      {rest.map(([k, m]) => (
        <li key={k}>
          <code>{k}</code>: {m}
        </li>
      ))}
    </ul>
  );
}

// ------------------------------------------------------------------------- fields

interface Rules extends FieldLimits {
  required?: boolean;
  patternMsg?: string;
  validate?: (v: unknown) => string | undefined;
}

/** Select options: the values `schema` accepts at `path`, each with its label. */
export function optionsOf<V extends string | number>(
  schema: JsonSchema,
  path: string,
  label: (v: V) => ReactNode,
): { value: V; label: ReactNode }[] {
  return ((limitsAt(schema, path).values ?? []) as V[]).map((value) => ({
    value,
    label: label(value),
  }));
}

/** The limits the form's schema sets at `path`. */
export function useLimits(path: string): FieldLimits {
  const f = useFormApi();
  return f.schema ? limitsAt(f.schema, path) : {};
}

function useRuleCheck(): (v: unknown, r: Rules) => string | undefined {
  const { t } = useTranslation('settings');
  return useCallback(
    (v: unknown, r: Rules) => {
      const empty = v === undefined || v === null || v === '';
      if (empty) return r.required ? t('v.required') : v === '' ? r.validate?.(v) : undefined;
      if (typeof v === 'number') {
        if (!Number.isFinite(v)) return t('v.number');
        if (r.integer && !Number.isInteger(v)) return t('v.integer');
        if (r.min !== undefined && r.max !== undefined && (v < r.min || v > r.max)) {
          return t('v.range', { min: r.min, max: r.max });
        }
        if (r.min !== undefined && v < r.min) return t('v.min', { min: r.min });
        if (r.max !== undefined && v > r.max) return t('v.max', { max: r.max });
        if (r.above !== undefined && v <= r.above) return t('v.above', { min: r.above });
        if (r.below !== undefined && v >= r.below) return t('v.below', { max: r.below });
      }
      if (typeof v === 'string' && v !== SECRET_MARKER) {
        if (r.maxLength !== undefined && v.length > r.maxLength) {
          return t('v.maxLen', { max: r.maxLength });
        }
        if (r.pattern && !r.pattern.test(v)) return r.patternMsg ?? t('v.format');
      }
      if (r.values && !r.values.includes(v as string | number | boolean | null)) {
        return t('v.format');
      }
      return r.validate?.(v);
    },
    [t],
  );
}

interface FieldState {
  id: string;
  full: string;
  value: unknown;
  set: (v: unknown) => void;
  /** The error to show now (server's, or the field's own once touched). */
  error: string | undefined;
  /** The field's own error, shown or not (blocks sending). */
  invalid: boolean;
  touch: () => void;
  readOnly: boolean;
  describedBy: string | undefined;
  hintId: string;
  errId: string;
}

function useField(path: string, rules: Rules, hint: boolean): FieldState {
  const f = useFormApi();
  const id = useId();
  const full = joinPath(f.prefix, path);
  f.claimed.add(full);
  const [touched, setTouched] = useState(false);
  const value = getIn(f.value, path);
  // The schema's limits, then what the field adds (its own pattern message, required...).
  const own = useRuleCheck()(value, { ...useLimits(path), ...rules });
  const server = Object.entries(f.issues).find(([k]) => within(k, full))?.[1];
  const error = server ?? (touched || f.showAll ? own : undefined);
  const hintId = `${id}-hint`;
  const errId = `${id}-err`;
  const ids = [hint ? hintId : '', error ? errId : ''].filter(Boolean).join(' ');
  return {
    id,
    full,
    value,
    set: (v) => {
      setTouched(true);
      f.set(path, v);
    },
    error,
    invalid: own !== undefined,
    touch: () => setTouched(true),
    readOnly: f.readOnly,
    describedBy: ids || undefined,
    hintId,
    errId,
  };
}

function FieldFrame(props: {
  s: FieldState;
  label: ReactNode;
  hint?: ReactNode;
  children: ReactNode;
  className?: string;
}): ReactNode {
  const { s } = props;
  return (
    <div className={`field ${props.className ?? ''}`}>
      <label htmlFor={s.id}>{props.label}</label>
      {props.children}
      {props.hint !== undefined && (
        <small id={s.hintId} className="field-hint">
          {props.hint}
        </small>
      )}
      {s.error !== undefined && (
        <small id={s.errId} className="field-error" data-testid={`error-${s.full}`}>
          {s.error}
        </small>
      )}
    </div>
  );
}

const inputProps = (s: FieldState) => ({
  id: s.id,
  'aria-invalid': s.error !== undefined ? true : undefined,
  'aria-describedby': s.describedBy,
  'data-invalid': s.invalid ? 'true' : undefined,
  'data-testid': `field-${s.full}`,
  disabled: s.readOnly,
  onBlur: s.touch,
});

export function TextField(
  props: Rules & {
    path: string;
    label: ReactNode;
    hint?: ReactNode;
    placeholder?: string;
    type?: 'text' | 'url' | 'email' | 'time' | 'password';
    autoComplete?: string;
    list?: string;
    /** Keep an empty string instead of removing the key. */
    keepEmpty?: boolean;
    className?: string;
    mono?: boolean;
  },
): ReactNode {
  const s = useField(props.path, props, props.hint !== undefined);
  return (
    <FieldFrame s={s} label={props.label} hint={props.hint} className={props.className}>
      <input
        {...inputProps(s)}
        type={props.type ?? 'text'}
        className={props.mono ? 'mono' : undefined}
        value={typeof s.value === 'string' || typeof s.value === 'number' ? String(s.value) : ''}
        placeholder={props.placeholder}
        autoComplete={props.autoComplete ?? 'off'}
        list={props.list}
        spellCheck={false}
        onChange={(e) =>
          s.set(e.target.value === '' && !props.keepEmpty ? undefined : e.target.value)
        }
      />
    </FieldFrame>
  );
}

export function NumberField(
  props: Rules & {
    path: string;
    label: ReactNode;
    hint?: ReactNode;
    step?: number | 'any';
    unit?: string;
    placeholder?: string;
    className?: string;
  },
): ReactNode {
  const s = useField(props.path, props, props.hint !== undefined);
  const value = s.value;
  const [text, setText] = useState(typeof value === 'number' ? String(value) : '');
  // Follow the value when it changes from outside (reset, another field rebuilt it).
  useEffect(() => {
    const parsed = text.trim() === '' ? undefined : Number(text);
    const same = parsed === value || (Number.isNaN(parsed) && Number.isNaN(value as number));
    if (!same) setText(typeof value === 'number' && Number.isFinite(value) ? String(value) : '');
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [value]);
  return (
    <FieldFrame
      s={s}
      label={props.unit ? `${String(props.label)} (${props.unit})` : props.label}
      hint={props.hint}
      className={props.className}
    >
      <input
        {...inputProps(s)}
        type="text"
        inputMode="decimal"
        className="num-input"
        value={text}
        placeholder={props.placeholder}
        autoComplete="off"
        onChange={(e) => {
          const t = e.target.value;
          setText(t);
          s.set(t.trim() === '' ? undefined : Number(t.replace(',', '.')));
        }}
      />
    </FieldFrame>
  );
}

export function CheckField(props: {
  path: string;
  label: ReactNode;
  hint?: ReactNode;
  /** The value when the key is absent (the schema's default). */
  def?: boolean;
}): ReactNode {
  const s = useField(props.path, {}, props.hint !== undefined);
  const checked = typeof s.value === 'boolean' ? s.value : (props.def ?? false);
  return (
    <div className="field check-field">
      <label className="check">
        <input
          {...inputProps(s)}
          type="checkbox"
          checked={checked}
          onChange={(e) => s.set(e.target.checked)}
        />
        <span>{props.label}</span>
      </label>
      {props.hint !== undefined && (
        <small id={s.hintId} className="field-hint">
          {props.hint}
        </small>
      )}
      {s.error !== undefined && (
        <small id={s.errId} className="field-error" data-testid={`error-${s.full}`}>
          {s.error}
        </small>
      )}
    </div>
  );
}

export function SelectField<V extends string | number>(
  props: Rules & {
    path: string;
    label: ReactNode;
    hint?: ReactNode;
    options: { value: V; label: ReactNode }[];
    /** Offer "—" for an absent value. */
    blank?: ReactNode;
    className?: string;
  },
): ReactNode {
  const s = useField(props.path, props, props.hint !== undefined);
  const idx = props.options.findIndex((o) => o.value === s.value);
  return (
    <FieldFrame s={s} label={props.label} hint={props.hint} className={props.className}>
      <select
        {...inputProps(s)}
        value={idx < 0 ? '' : String(s.value)}
        onChange={(e) => {
          const v = e.target.value;
          s.set(v === '' ? undefined : props.options.find((o) => String(o.value) === v)?.value);
        }}
      >
        {(idx < 0 || props.blank !== undefined) && <option value="">{props.blank ?? '—'}</option>}
        {props.options.map((o) => (
          <option key={String(o.value)} value={String(o.value)}>
            {o.label}
          </option>
        ))}
      </select>
    </FieldFrame>
  );
}

/**
 * A secret (password, token, key): the saved one shows as "set" and is kept unless the user
 * chooses to replace it; the value is never shown or sent back (the marker stands for it).
 */
export function SecretField(
  props: Rules & {
    path: string;
    label: ReactNode;
    hint?: ReactNode;
    /** A path of a file rather than a password (shown in clear while typed). */
    plain?: boolean;
    autoComplete?: string;
  },
): ReactNode {
  const { t } = useTranslation('settings');
  const [saved, setSaved] = useState(false);
  const s = useField(
    props.path,
    {
      ...props,
      validate: (v) => (saved && v === '' ? t('secret.typeOrKeep') : props.validate?.(v)),
    },
    props.hint !== undefined,
  );
  const isSet = s.value === SECRET_MARKER;
  // Once the saved secret was seen, the field offers to keep it.
  if (isSet && !saved) setSaved(true);
  if (isSet) {
    return (
      <FieldFrame s={s} label={props.label} hint={props.hint}>
        <div className="secret-set">
          <input
            id={s.id}
            readOnly
            value={t('secret.set')}
            aria-describedby={s.describedBy}
            data-testid={`field-${s.full}`}
            data-secret="set"
            className="secret-display"
          />
          {!s.readOnly && (
            <>
              <button type="button" onClick={() => s.set('')} data-testid={`replace-${s.full}`}>
                {t('secret.replace')}
              </button>
              {!props.required && (
                <button type="button" onClick={() => s.set(undefined)}>
                  {t('secret.remove')}
                </button>
              )}
            </>
          )}
        </div>
      </FieldFrame>
    );
  }
  return (
    <FieldFrame
      s={s}
      label={props.label}
      hint={props.hint ?? (saved ? undefined : !props.required ? t('secret.notSet') : undefined)}
    >
      <div className="secret-set">
        <input
          {...inputProps(s)}
          type={props.plain ? 'text' : 'password'}
          value={typeof s.value === 'string' ? s.value : ''}
          autoComplete={props.autoComplete ?? 'new-password'}
          spellCheck={false}
          onChange={(e) => s.set(e.target.value === '' && saved ? '' : e.target.value || undefined)}
        />
        {saved && !s.readOnly && (
          <button type="button" onClick={() => s.set(SECRET_MARKER)}>
            {t('secret.keep')}
          </button>
        )}
      </div>
    </FieldFrame>
  );
}

/** A list of short strings, one per line (or comma separated). */
export function ListField(
  props: Rules & {
    path: string;
    label: ReactNode;
    hint?: ReactNode;
    placeholder?: string;
    /** Checks one item; the message names it. */
    item?: (s: string) => string | undefined;
    /** Send an empty list as [] (default: remove the key). */
    keepEmpty?: boolean;
  },
): ReactNode {
  const { item } = props;
  const s = useField(
    props.path,
    {
      ...props,
      validate: (v) => {
        if (!Array.isArray(v)) return props.validate?.(v);
        for (const x of v as string[]) {
          const m = item?.(x);
          if (m) return m;
        }
        return props.validate?.(v);
      },
    },
    props.hint !== undefined,
  );
  const list = Array.isArray(s.value) ? (s.value as string[]) : [];
  const [text, setText] = useState(list.join('\n'));
  useEffect(() => {
    const parsed = split(text);
    if (parsed.join('\n') !== list.join('\n')) setText(list.join('\n'));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [list.join('\n')]);
  return (
    <FieldFrame s={s} label={props.label} hint={props.hint}>
      <textarea
        {...inputProps(s)}
        rows={Math.min(6, Math.max(2, list.length + 1))}
        value={text}
        placeholder={props.placeholder}
        spellCheck={false}
        onChange={(e) => {
          setText(e.target.value);
          const items = split(e.target.value);
          s.set(items.length === 0 && !props.keepEmpty ? undefined : items);
        }}
      />
    </FieldFrame>
  );
}

const split = (text: string): string[] =>
  text
    .split(/[\n,]+/)
    .map((x) => x.trim())
    .filter((x) => x !== '');

/** The server's issue for a group of fields (e.g. "mqtt.tls: cert and key go together"). */
/**
 * A list setting that is either "all" (the key left out) or a chosen subset: two radios, then
 * one checkbox per option; an empty subset is flagged.
 */
export function SubsetField(props: {
  path: string;
  legend: ReactNode;
  allLabel: ReactNode;
  chosenLabel: ReactNode;
  noneLabel: ReactNode;
  /** What "chosen" starts with. */
  initial: readonly string[];
  options: readonly string[];
  label: (option: string) => ReactNode;
  testId?: string;
  wide?: boolean;
}): ReactNode {
  const value = useFormValue(props.path);
  const set = useFormSet();
  const readOnly = useReadOnly();
  const chosen = Array.isArray(value) ? (value as string[]) : undefined;
  const radios = `${props.path}-mode`;
  return (
    <fieldset className="subgroup" data-testid={props.testId}>
      <legend>{props.legend}</legend>
      <label className="check">
        <input
          type="radio"
          name={radios}
          checked={chosen === undefined}
          disabled={readOnly}
          onChange={() => set(props.path, undefined)}
        />
        <span>{props.allLabel}</span>
      </label>
      <label className="check">
        <input
          type="radio"
          name={radios}
          checked={chosen !== undefined}
          disabled={readOnly}
          onChange={() => set(props.path, [...props.initial])}
        />
        <span>{props.chosenLabel}</span>
      </label>
      {chosen !== undefined && (
        <div className={props.wide ? 'check-grid wide' : 'check-grid'}>
          {props.options.map((o) => (
            <label key={o} className="check">
              <input
                type="checkbox"
                checked={chosen.includes(o)}
                disabled={readOnly}
                data-invalid={chosen.length === 0 ? 'true' : undefined}
                onChange={(e) =>
                  set(props.path, e.target.checked ? [...chosen, o] : chosen.filter((x) => x !== o))
                }
              />
              {props.label(o)}
            </label>
          ))}
        </div>
      )}
      {chosen !== undefined && chosen.length === 0 && (
        <p className="field-error">{props.noneLabel}</p>
      )}
      <GroupIssue path={props.path} />
    </fieldset>
  );
}

export function GroupIssue(props: { path: string }): ReactNode {
  const f = useFormApi();
  const full = joinPath(f.prefix, props.path);
  f.claimed.add(full);
  const msg = f.issues[full];
  if (msg === undefined) return null;
  return (
    <p className="field-error" data-testid={`error-${full}`} role="alert">
      {msg}
    </p>
  );
}

/** "Set" / "not set" for a secret in a read-only list. */
export function SecretBadge(props: { set: boolean }): ReactNode {
  const { t } = useTranslation('settings');
  return (
    <Badge tone={props.set ? 'ok' : 'muted'}>
      {props.set ? t('secret.set') : t('secret.notSet')}
    </Badge>
  );
}
