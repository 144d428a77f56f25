/** Modbus TCP server (`modbus_tcp`) and Modbus TCP client (`modbus_client`). */
import { METRICS, metric } from '@openbms/core';
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

export const MODBUS_TCP_DEFAULTS: Obj = {
  enabled: true,
  host: '127.0.0.1',
  port: 5020,
  writes: false,
  utc_offset_min: 0,
};

const NEW_WRITE: Obj = { pack: '', field: 'soc_pct', register: 0, type: 'u16', scale: 1 };

export const MODBUS_CLIENT_DEFAULTS: Obj = {
  enabled: true,
  host: '',
  port: 502,
  unit_id: 1,
  interval_s: 10,
  timeout_ms: 2000,
  float_words: 'low_first',
  writes: [NEW_WRITE],
};

const SCALAR = new Set(['number', 'integer', 'boolean']);
const ARRAY = new Set(['number[]', 'boolean[]']);

/** A metric a client write can carry: `soc_pct`, or an element like `cell_mv[0]`. */
export function writeFieldProblem(
  f: unknown,
  t: (k: string, o?: Record<string, unknown>) => string,
): string | undefined {
  if (typeof f !== 'string') return undefined;
  const m = /^([a-z0-9_]+)(?:\[(\d{1,2})\])?$/.exec(f);
  if (!m) return t('v.metricField');
  const def = metric(m[1]!);
  if (!def) return t('v.metricUnknown', { key: m[1] });
  if (m[2] === undefined && !SCALAR.has(def.type)) return t('v.metricList', { key: m[1] });
  if (m[2] !== undefined && !ARRAY.has(def.type)) return t('v.metricNotList', { key: m[1] });
  return undefined;
}

const PORT = { min: 1, max: 65535, integer: true } as const;

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
      <SettingsForm draft={draft} prefix="modbus_tcp">
        <CheckField path="enabled" label={t('modbus.enabled')} def />
        <div className="row3">
          <TextField
            path="host"
            label={t('modbus.bind')}
            hint={t('modbus.bindHint')}
            required
            mono
          />
          <NumberField
            path="port"
            label={t('modbus.port')}
            hint={t('modbus.portHint')}
            required
            {...PORT}
          />
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
      <NumberField
        path="utc_offset_min"
        label={t('modbus.utcOffset')}
        unit="min"
        required
        integer
        min={-720}
        max={840}
      />
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
          <NumberField
            path={`writes[${i}].register`}
            label={t('modbus.register')}
            required
            integer
            min={0}
            max={65535}
          />
          <SelectField
            path={`writes[${i}].type`}
            label={t('modbus.type')}
            options={[
              { value: 'u16', label: 'u16' },
              { value: 's16', label: 's16' },
              { value: 'float', label: 'float' },
            ]}
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
      <SettingsForm draft={draft} prefix="modbus_client">
        <CheckField path="enabled" label={t('modbus.clientEnabled')} def />
        <div className="row3">
          <TextField
            path="host"
            label={t('modbus.target')}
            required
            mono
            placeholder="192.168.1.50"
          />
          <NumberField path="port" label={t('modbus.port')} required {...PORT} />
          <NumberField
            path="unit_id"
            label={t('modbus.unitId')}
            required
            integer
            min={0}
            max={255}
          />
        </div>
        <div className="row3">
          <NumberField
            path="interval_s"
            label={t('modbus.interval')}
            unit="s"
            required
            min={0.1}
            max={86400}
          />
          <NumberField
            path="timeout_ms"
            label={t('modbus.timeout')}
            unit="ms"
            required
            integer
            min={50}
            max={60000}
          />
          <SelectField
            path="float_words"
            label={t('modbus.floatWords')}
            options={[
              { value: 'low_first', label: t('modbus.lowFirst') },
              { value: 'high_first', label: t('modbus.highFirst') },
            ]}
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
