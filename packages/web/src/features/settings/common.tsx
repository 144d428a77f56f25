/**
 * What the integration sections share: the settings view (GET /settings) as context, the
 * save and test actions of one config section (422 issues go to the fields), and the
 * status / result panels.
 */
import { createContext, useContext, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { api, type ApiError } from '../../api/client';
import { useAction } from '../../api/hooks';
import { useFmt } from '../../i18n/format';
import { Badge, ErrorBox } from '../../ui';
import { issuesOf, useFormCheck, useFormSubmitter, type Draft } from './form';
import type {
  IntegrationStatus,
  SettingsTestResult as TestResult,
  SettingsUpdate,
  SettingsView,
} from '@openbms/contract/api';
import type { Obj } from './types';

export interface SettingsData {
  view: SettingsView | undefined;
  error: ApiError | undefined;
  loading: boolean;
  reload: () => void;
}

export const SettingsContext = createContext<SettingsData>({
  view: undefined,
  error: undefined,
  loading: false,
  reload: () => undefined,
});

export const useSettings = (): SettingsData => useContext(SettingsContext);

/** PUT /settings/{section}; a 422 puts its issues on the draft's fields. */
export function useSave(section: string, draft: Draft | undefined, onSaved?: () => void) {
  const { reload } = useSettings();
  const a = useAction(async (value: unknown) => {
    try {
      const r = await api<SettingsUpdate>(`/settings/${section}`, { method: 'PUT', body: value });
      reload();
      onSaved?.();
      return r;
    } catch (e) {
      draft?.setIssues(issuesOf(e as ApiError));
      throw e;
    }
  });
  return a;
}

/** POST /settings/{section}/test with the form's current value. */
export function useTest(section: string, draft: Draft | undefined) {
  return useAction(async (value: unknown) => {
    try {
      return await api<TestResult>(`/settings/${section}/test`, {
        body: value === undefined ? {} : { value },
      });
    } catch (e) {
      draft?.setIssues(issuesOf(e as ApiError));
      throw e;
    }
  });
}

/** What a save answered, in words. */
export function SaveResult(props: {
  result: SettingsUpdate | undefined;
  error: ApiError | undefined;
}): ReactNode {
  const { t } = useTranslation('settings');
  const { result, error } = props;
  if (error) {
    const issues = Object.keys(issuesOf(error)).length;
    return (
      <div className="error-box" role="alert" data-testid="save-result" data-state="error">
        {issues > 0 ? t('save.invalid', { count: issues }) : error.message}
      </div>
    );
  }
  if (!result) return null;
  const state = result.error
    ? 'failed'
    : result.restart_required
      ? 'restart'
      : result.applied
        ? 'applied'
        : 'saved';
  return (
    <div
      className={`result-box ${state === 'failed' ? 'bad' : state === 'restart' ? 'warn' : 'ok'}`}
      role="status"
      data-testid="save-result"
      data-state={state}
    >
      {t(`save.${state}`)}
      {result.error ? `: ${result.error}` : ''}
    </div>
  );
}

/** What a test answered: ok and the round trip, or the problem in words. */
export function TestResultBox(props: {
  result: TestResult | undefined;
  error: ApiError | undefined;
}): ReactNode {
  const { t } = useTranslation('settings');
  const fmt = useFmt();
  const { result, error } = props;
  if (error) {
    const issues = Object.keys(issuesOf(error)).length;
    return (
      <div className="error-box" role="alert" data-testid="test-result" data-ok="false">
        {issues > 0 ? t('save.invalid', { count: issues }) : error.message}
      </div>
    );
  }
  if (!result) return null;
  return (
    <div
      className={`result-box ${result.ok ? 'ok' : 'bad'}`}
      role="status"
      data-testid="test-result"
      data-ok={String(result.ok)}
    >
      <strong>{result.ok ? t('test.ok') : t('test.failed')}</strong>{' '}
      <span data-testid="test-message">{result.message}</span>
      {result.round_trip_ms !== undefined && (
        <span className="muted" data-testid="test-rtt">
          {' '}
          · {t('test.roundTrip')} {fmt.unit(result.round_trip_ms, 'ms', 1)}
        </span>
      )}
      {result.values !== undefined && (
        <span className="muted">
          {' '}
          · {t('test.values')} {result.values.join(', ')}
        </span>
      )}
    </div>
  );
}

/**
 * The Save / Test / Remove buttons of a section form with their answers. `value` builds
 * the JSON sent (cleaned of empty optional parts).
 */
export function SectionActions(props: {
  section: string;
  draft: Draft;
  value: () => Obj | Obj[];
  canTest?: boolean;
  configured: boolean;
  extra?: ReactNode;
  onSaved?: () => void;
}): ReactNode {
  const { t } = useTranslation('settings');
  const check = useFormCheck();
  const save = useSave(props.section, props.draft, props.onSaved);
  const test = useTest(props.section, props.draft);
  const remove = useSave(props.section, props.draft, props.onSaved);
  const [confirming, setConfirming] = useState(false);
  const { view } = useSettings();
  const readOnly = view !== undefined && !view.writable;
  const doSave = (): void => {
    test.reset();
    if (!readOnly && check()) void save.run(props.value());
  };
  useFormSubmitter(doSave);
  return (
    <>
      <div className="form-actions">
        <button
          type="submit"
          className="primary"
          disabled={save.pending || readOnly}
          data-testid="save"
        >
          {save.pending ? t('saving') : t('common:save')}
        </button>
        {props.canTest !== false && (
          <button
            type="button"
            disabled={test.pending}
            data-testid="test"
            onClick={() => {
              save.reset();
              if (check()) void test.run(props.value());
            }}
          >
            {test.pending ? t('testing') : t('common:test')}
          </button>
        )}
        {props.extra}
        {props.configured && !confirming && (
          <button
            type="button"
            className="link-button"
            disabled={readOnly}
            onClick={() => setConfirming(true)}
            data-testid="remove-section"
          >
            {t('removeSection')}
          </button>
        )}
        {confirming && (
          <span className="inline-confirm" role="group" aria-label={t('removeSection')}>
            {t('removeSectionQ')}{' '}
            <button
              type="button"
              className="danger"
              onClick={() => {
                setConfirming(false);
                void remove.run(null);
              }}
            >
              {t('common:delete')}
            </button>{' '}
            <button type="button" onClick={() => setConfirming(false)}>
              {t('common:cancel')}
            </button>
          </span>
        )}
        {props.draft.dirty && (
          <span className="muted dirty" data-testid="dirty">
            {t('unsaved')}
          </span>
        )}
      </div>
      <SaveResult result={save.result} error={save.error} />
      <SaveResult result={remove.result} error={remove.error} />
      <TestResultBox result={test.result} error={test.error} />
    </>
  );
}

/** The live state of an integration from GET /settings. */
export function StatusPanel(props: {
  status: IntegrationStatus | undefined;
  kind: 'broker' | 'server' | 'client' | 'plain';
  children?: ReactNode;
}): ReactNode {
  const { t } = useTranslation('settings');
  const { reload, loading } = useSettings();
  const s = props.status;
  let tone: 'ok' | 'warn' | 'bad' | 'muted' = 'muted';
  let word = t('status.notConfigured');
  if (s?.configured) {
    if (!s.enabled) word = t('status.disabled');
    else if (props.kind === 'broker' || props.kind === 'client') {
      tone = s.connected ? 'ok' : s.last_error ? 'bad' : 'warn';
      word = s.connected ? t('status.connected') : t('status.disconnected');
    } else if (props.kind === 'server') {
      tone = s.running ? 'ok' : 'bad';
      word = s.running ? t('status.listening', { on: s.listening ?? '' }) : t('status.stopped');
    } else {
      tone = s.running ? 'ok' : 'bad';
      word = s.running ? t('status.running') : t('status.stopped');
    }
  }
  return (
    <div className="status-panel" data-testid="status-panel" aria-live="polite">
      <div className="status-line">
        <span className="muted">{t('status.title')}</span>{' '}
        <Badge tone={tone}>
          <span data-testid="status-word">{word}</span>
        </Badge>
        <button
          type="button"
          className="link-button"
          onClick={reload}
          disabled={loading}
          data-testid="status-refresh"
        >
          {t('common:refresh')}
        </button>
      </div>
      {s?.last_error && (
        <div className="status-error" data-testid="status-error">
          {t('status.lastError')}: {s.last_error}
        </div>
      )}
      {props.children}
    </div>
  );
}

/** The settings page's banners: config file, not writable, restart needed. */
export function ConfigBanner(): ReactNode {
  const { t } = useTranslation('settings');
  const { view } = useSettings();
  if (!view) return null;
  return (
    <div className="config-banner">
      <p className="muted small">
        {t('config.file')} <code>{view.path}</code>
        {!view.exists && ` · ${t('config.notYet')}`}
      </p>
      {!view.writable && (
        <ErrorBox error={`${t('config.readOnly')} ${view.writable_reason ?? ''}`} />
      )}
      {view.restart_required && (
        <div className="result-box warn" role="status" data-testid="restart-banner">
          {t('config.restart', { sections: (view.pending_restart ?? []).join(', ') })}
        </div>
      )}
    </div>
  );
}
