/** Prometheus /metrics (`metrics`): served or not, behind a token or public. */
import { defaultsOf, FORM_SCHEMAS } from '@openbms/contract/forms';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Card } from '../../ui';
import { SectionActions, StatusPanel, useSettings } from './common';
import {
  CheckField,
  OtherIssues,
  SettingsForm,
  useDraft,
  useFormSet,
  useFormValue,
  useReadOnly,
} from './form';
import type { Obj } from './types';

const DEFAULTS: Obj = defaultsOf(FORM_SCHEMAS.metrics);

function AuthChoice(): ReactNode {
  const { t } = useTranslation('settings');
  const auth = useFormValue('auth') !== false;
  const set = useFormSet();
  const readOnly = useReadOnly();
  return (
    <fieldset className="subgroup">
      <legend>{t('metrics.access')}</legend>
      <label className="check">
        <input
          type="radio"
          name="metrics-auth"
          checked={auth}
          disabled={readOnly}
          data-testid="metrics-auth-token"
          onChange={() => set('auth', true)}
        />
        <span>{t('metrics.authToken')}</span>
      </label>
      <label className="check">
        <input
          type="radio"
          name="metrics-auth"
          checked={!auth}
          disabled={readOnly}
          data-testid="metrics-auth-public"
          onChange={() => set('auth', false)}
        />
        <span>{t('metrics.authPublic')}</span>
      </label>
    </fieldset>
  );
}

export function MetricsSection(): ReactNode {
  const { t } = useTranslation('settings');
  const { view } = useSettings();
  const saved = (view?.sections.metrics ?? null) as Obj | null;
  const draft = useDraft<Obj>(saved ?? DEFAULTS);
  const status = view?.status.metrics;
  const isPublic = (status?.detail as { public?: boolean } | undefined)?.public;
  return (
    <div className="section-body" data-testid="section-metrics">
      <Card title={t('metrics.title')}>
        <p className="muted">{t('metrics.intro')}</p>
        <StatusPanel status={status} kind="plain">
          {status?.running && (
            <p className="muted small">
              {isPublic ? t('metrics.nowPublic') : t('metrics.nowToken')} ·{' '}
              <code>{`${location.origin}/metrics`}</code>
            </p>
          )}
        </StatusPanel>
        <SettingsForm draft={draft} prefix="metrics" schema={FORM_SCHEMAS.metrics}>
          <CheckField path="enabled" label={t('metrics.enabled')} def />
          <AuthChoice />
          <p className="muted small">{t('metrics.restartHint')}</p>
          <OtherIssues />
          <SectionActions
            section="metrics"
            draft={draft}
            value={() => draft.value}
            configured={saved !== null}
          />
        </SettingsForm>
      </Card>
    </div>
  );
}
