/** Modbus TCP server (`modbus_tcp`) and Modbus TCP client (`modbus_client`). */
import {
  defaultsOf,
  fieldProblem,
  FORM_SCHEMAS,
  schemaAt,
  WRITABLE_METRIC_TYPES,
} from '@openbms/contract/forms';
import { METRICS } from '@openbms/core';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { usePacks } from '../../api/live';
import { useFmt } from '../../i18n/format';
import { Card } from '../../ui';
import { SectionActions, StatusPanel, useSettings } from './common';
import {
  CheckField,
  GroupIssue,
  NumberField,
  optionsOf,
  OtherIssues,
  SelectField,
  SettingsForm,
  TextField,
  useDraft,
  useFormSet,
  useFormValue,
  useReadOnly,
} from './form';
import type { Obj } from './types';

const SERVER = FORM_SCHEMAS.modbus_tcp;
const CLIENT = FORM_SCHEMAS.modbus_client;

/** A new `modbus_tcp:` section: the schema's defaults. */
export const MODBUS_TCP_DEFAULTS: Obj = defaultsOf(SERVER);

/** A new value to write: a first choice of each required key, the schema's defaults. */
const NEW_WRITE: Obj = {
  pack: '',
  field: 'soc_pct',
  register: 0,
  type: 'u16',
  ...defaultsOf(schemaAt(CLIENT, 'writes[0]') ?? {}),
};

/** A new `modbus_client:` section: the schema's defaults, a target to fill in, one value. */
export const MODBUS_CLIENT_DEFAULTS: Obj = { ...defaultsOf(CLIENT), host: '', writes: [NEW_WRITE] };

const SCALAR: ReadonlySet<string> = new Set(WRITABLE_METRIC_TYPES.scalar);
const ARRAY: ReadonlySet<string> = new Set(WRITABLE_METRIC_TYPES.list);

/** A metric a client write can carry: `soc_pct`, or an element like `cell_mv[0]`. */
export function writeFieldProblem(
  f: unknown,
  t: (k: string, o?: Record<string, unknown>) => string,
): string | undefined {
  if (typeof f !== 'string') return undefined;
  const r = fieldProblem(f);
  if (!('problem' in r)) return undefined;
  switch (r.problem) {
    case 'format':
      return t('v.metricField');
    case 'unknown':
      return t('v.metricUnknown', { key: r.key });
    case 'list':
      return t('v.metricList', { key: r.key });
    case 'not_list':
      return t('v.metricNotList', { key: r.key });
  }
}

function ServerCard(): ReactNode {
  const { t } = useTranslation('settings');
  const fmt = useFmt();
  const { view } = useSettings();
  const saved = (view?.sections.modbus_tcp ?? null) as Obj | null;
  const draft = useDraft<Obj>(saved ?? MODBUS_TCP_DEFAULTS);
  const status = view?.status.modbus_tcp;
  const d = status?.detail as { clients?: number; requests?: number; units?: number } | undefined;
  return (
    <Card title={t('modbus.serverTitle')} testId="modbus-tcp">
      <p className="muted">{t('modbus.serverIntro')}</p>
      <StatusPanel status={status} kind="server">
        {d && (
          <p className="muted small">
            {t('modbus.serverCounters', {
              clients: fmt.num(d.clients),
              requests: fmt.num(d.requests),
              units: fmt.num(d.units),
            })}
          </p>
        )}
      </StatusPanel>
      <SettingsForm draft={draft} prefix="modbus_tcp" schema={SERVER}>
        <CheckField path="enabled" label={t('modbus.enabled')} def />
        <div className="row3">
          <TextField
            path="host"
            label={t('modbus.bind')}
            hint={t('modbus.bindHint')}
            required
            mono
          />
          <NumberField path="port" label={t('modbus.port')} hint={t('modbus.portHint')} required />
          <UtcOffsetField />
        </div>
        <CheckField path="writes" label={t('modbus.writes')} hint={t('modbus.writesHint')} />
        <OtherIssues />
        <SectionActions
          section="modbus_tcp"
          draft={draft}
          value={() => draft.value}
          configured={saved !== null}
        />
      </SettingsForm>
    </Card>
  );
}

function UtcOffsetField(): ReactNode {
  const { t } = useTranslation('settings');
  const set = useFormSet();
  const readOnly = useReadOnly();
  const browser = -new Date().getTimezoneOffset();
  const value = useFormValue('utc_offset_min');
  return (
    <div>
      <NumberField path="utc_offset_min" label={t('modbus.utcOffset')} unit="min" required />
      {value !== browser && !readOnly && (
        <button
          type="button"
          className="link-button"
          onClick={() => set('utc_offset_min', browser)}
        >
          {t('modbus.useBrowserOffset', { offset: browser })}
        </button>
      )}
    </div>
  );
}

function WritesEditor(): ReactNode {
  const { t } = useTranslation('settings');
  const packs = usePacks();
  const set = useFormSet();
  const readOnly = useReadOnly();
  const writes = (useFormValue('writes') as Obj[] | undefined) ?? [];
  const fieldList = 'modbus-metric-keys';
  return (
    <fieldset className="subgroup" data-testid="modbus-writes">
      <legend>{t('modbus.values')}</legend>
      <p className="muted small">{t('modbus.valuesHint')}</p>
      <datalist id={fieldList}>
        {METRICS.filter((m) => SCALAR.has(m.type) || ARRAY.has(m.type)).map((m) => (
          <option key={m.key} value={ARRAY.has(m.type) ? `${m.key}[0]` : m.key} />
        ))}
      </datalist>
      {writes.map((_, i) => (
        <div className="write-row" key={i}>
          <SelectField
            path={`writes[${i}].pack`}
            label={t('modbus.pack')}
            required
            options={packs.map((p) => ({ value: p.id, label: `${p.name} (${p.id})` }))}
          />
          <TextField
            path={`writes[${i}].field`}
            label={t('modbus.field')}
            required
            list={fieldList}
            validate={(v) => writeFieldProblem(v, t)}
            mono
          />
          <NumberField path={`writes[${i}].register`} label={t('modbus.register')} required />
          <SelectField
            path={`writes[${i}].type`}
            label={t('modbus.type')}
            options={optionsOf<string>(CLIENT, 'writes[0].type', (v) => v)}
          />
          <NumberField
            path={`writes[${i}].scale`}
            label={t('modbus.scale')}
            required
            validate={(v) => (v === 0 ? t('v.nonZero') : undefined)}
          />
          {!readOnly && (
            <button
              type="button"
              className="row-remove"
              aria-label={t('modbus.removeValue', { n: i + 1 })}
              onClick={() =>
                set(
                  'writes',
                  writes.filter((__, j) => j !== i),
                )
              }
            >
              ✕
            </button>
          )}
        </div>
      ))}
      {!readOnly && (
        <button type="button" onClick={() => set('writes', [...writes, { ...NEW_WRITE }])}>
          {t('modbus.addValue')}
        </button>
      )}
      {writes.length === 0 && <p className="field-error">{t('modbus.valuesNone')}</p>}
      <GroupIssue path="writes" />
    </fieldset>
  );
}

function ClientCard(): ReactNode {
  const { t } = useTranslation('settings');
  const fmt = useFmt();
  const { view } = useSettings();
  const saved = (view?.sections.modbus_client ?? null) as Obj | null;
  const draft = useDraft<Obj>(saved ?? MODBUS_CLIENT_DEFAULTS);
  const status = view?.status.modbus_client;
  const d = status?.detail as { target?: string; writes?: number; failures?: number } | undefined;
  return (
    <Card title={t('modbus.clientTitle')} testId="modbus-client">
      <p className="muted">{t('modbus.clientIntro')}</p>
      <StatusPanel status={status} kind="client">
        {d && (
          <p className="muted small">
            {t('modbus.clientCounters', {
              target: d.target ?? '',
              writes: fmt.num(d.writes),
              failures: fmt.num(d.failures),
            })}
          </p>
        )}
      </StatusPanel>
      <SettingsForm draft={draft} prefix="modbus_client" schema={CLIENT}>
        <CheckField path="enabled" label={t('modbus.clientEnabled')} def />
        <div className="row3">
          <TextField
            path="host"
            label={t('modbus.target')}
            required
            mono
            placeholder="192.168.1.50"
          />
          <NumberField path="port" label={t('modbus.port')} required />
          <NumberField path="unit_id" label={t('modbus.unitId')} required />
        </div>
        <div className="row3">
          <NumberField path="interval_s" label={t('modbus.interval')} unit="s" required />
          <NumberField path="timeout_ms" label={t('modbus.timeout')} unit="ms" required />
          <SelectField
            path="float_words"
            label={t('modbus.floatWords')}
            options={optionsOf<string>(
              CLIENT,
              'float_words',
              (v) =>
                ({ low_first: t('modbus.lowFirst'), high_first: t('modbus.highFirst') })[v] ?? v,
            )}
          />
        </div>
        <WritesEditor />
        <OtherIssues />
        <SectionActions
          section="modbus_client"
          draft={draft}
          value={() => draft.value}
          configured={saved !== null}
        />
      </SettingsForm>
    </Card>
  );
}

export function ModbusSection(): ReactNode {
  return (
    <div className="section-body" data-testid="section-modbus">
      <ServerCard />
      <ClientCard />
    </div>
  );
}
