/** MQTT publisher, Home Assistant discovery and MQTT commands (config section `mqtt`). */
import { defaultsOf, FORM_SCHEMAS, isMqttTopic, MQTT_FIELDS } from '@openbms/contract/forms';
import { useEffect, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { download } from '../../api/client';
import { useFmt } from '../../i18n/format';
import { Card } from '../../ui';
import { SectionActions, StatusPanel, useSettings } from './common';
import {
  CheckField,
  GroupIssue,
  NumberField,
  optionsOf,
  OtherIssues,
  SecretField,
  SelectField,
  SettingsForm,
  SubsetField,
  TextField,
  useDraft,
  useFormSet,
  useFormValue,
  useReadOnly,
} from './form';
import type { Obj } from './types';

const SCHEMA = FORM_SCHEMAS.mqtt;

/** A new `mqtt:` section: the schema's defaults. */
export const MQTT_DEFAULTS: Obj = defaultsOf(SCHEMA);

const URL_PARTS =
  /^(mqtt|mqtts|tcp|ssl|ws|wss):\/\/(?:([^@/\s]*)@)?(\[[^\]]*\]|[^:/\s]*)(?::(\d*))?(\/\S*)?$/;

/** Checks an MQTT topic as the server does (the length is the schema's, checked by the field). */
export function topicProblem(v: unknown, msg: string): string | undefined {
  return typeof v === 'string' && !isMqttTopic(v) ? msg : undefined;
}

/** The JSON sent: optional parts left empty are dropped. */
function clean(v: Obj): Obj {
  const out = { ...v };
  const tls = out.tls as Obj | undefined;
  if (tls && !tls.ca && !tls.cert && !tls.key && !tls.insecure) delete out.tls;
  if (Array.isArray(out.fields) && out.fields.length === 0) delete out.fields;
  return out;
}

/** Scheme, host and port as separate inputs, kept in step with the URL field. */
function UrlParts(): ReactNode {
  const { t } = useTranslation('settings');
  const url = useFormValue('url');
  const set = useFormSet();
  const readOnly = useReadOnly();
  const m = typeof url === 'string' ? URL_PARTS.exec(url) : null;
  const parts = {
    scheme: m?.[1] ?? 'mqtt',
    user: m?.[2],
    host: m?.[3] ?? '',
    port: m?.[4] ?? '',
    path: m?.[5] ?? '',
  };
  const build = (p: Partial<typeof parts>): void => {
    const n = { ...parts, ...p };
    set(
      'url',
      `${n.scheme}://${n.user !== undefined ? `${n.user}@` : ''}${n.host}${n.port ? `:${n.port}` : ''}${n.path}`,
    );
  };
  return (
    <div className="url-parts">
      <div className="field">
        <label htmlFor="mqtt-scheme">{t('mqtt.scheme')}</label>
        <select
          id="mqtt-scheme"
          data-testid="mqtt-scheme"
          value={parts.scheme}
          disabled={readOnly}
          onChange={(e) => {
            const scheme = e.target.value;
            const defPort = { mqtt: '1883', mqtts: '8883', ws: '80', wss: '443' }[scheme];
            const known = ['1883', '8883', '80', '443', ''];
            build({
              scheme,
              port: known.includes(parts.port) ? (defPort ?? parts.port) : parts.port,
            });
          }}
        >
          <option value="mqtt">{t('mqtt.schemes.mqtt')}</option>
          <option value="mqtts">{t('mqtt.schemes.mqtts')}</option>
          <option value="ws">{t('mqtt.schemes.ws')}</option>
          <option value="wss">{t('mqtt.schemes.wss')}</option>
          {!['mqtt', 'mqtts', 'ws', 'wss'].includes(parts.scheme) && (
            <option value={parts.scheme}>{parts.scheme}</option>
          )}
        </select>
      </div>
      <div className="field grow">
        <label htmlFor="mqtt-host">{t('mqtt.host')}</label>
        <input
          id="mqtt-host"
          data-testid="mqtt-host"
          value={parts.host}
          disabled={readOnly}
          spellCheck={false}
          autoComplete="off"
          onChange={(e) => build({ host: e.target.value.trim() })}
        />
      </div>
      <div className="field port">
        <label htmlFor="mqtt-port">{t('mqtt.port')}</label>
        <input
          id="mqtt-port"
          data-testid="mqtt-port"
          inputMode="numeric"
          className="num-input"
          value={parts.port}
          disabled={readOnly}
          autoComplete="off"
          onChange={(e) => build({ port: e.target.value.replace(/\D/g, '').slice(0, 5) })}
        />
      </div>
    </div>
  );
}

export function MqttSection(): ReactNode {
  const { t } = useTranslation('settings');
  const { t: tOrgs } = useTranslation('orgs');
  const fmt = useFmt();
  const { view, reload } = useSettings();
  const saved = (view?.sections.mqtt ?? null) as Obj | null;
  const draft = useDraft<Obj>(saved ?? MQTT_DEFAULTS);
  const status = view?.status.mqtt;
  // The broker connection is not on the WebSocket: while it is being made, ask again.
  const connecting = !!status?.enabled && status.running && !status.connected && !status.last_error;
  useEffect(() => {
    if (!connecting) return;
    const id = setInterval(reload, 3000);
    return () => clearInterval(id);
  }, [connecting, reload]);
  const detail = status?.detail as
    { published?: number; dropped?: number; reconnects?: number } | undefined;
  const topicMsg = t('v.topic');
  return (
    <div className="section-body" data-testid="section-mqtt">
      <Card title={t('mqtt.title')}>
        <p className="muted">{t('mqtt.intro')}</p>
        <StatusPanel status={status} kind="broker">
          {detail && (
            <p className="muted small">
              {t('mqtt.counters', {
                published: fmt.num(detail.published),
                dropped: fmt.num(detail.dropped),
                reconnects: fmt.num(detail.reconnects),
              })}
            </p>
          )}
        </StatusPanel>
        <SettingsForm draft={draft} prefix="mqtt" schema={SCHEMA} testId="mqtt-form">
          <fieldset className="group">
            <legend>{t('mqtt.connection')}</legend>
            <CheckField path="enabled" label={t('mqtt.enabled')} def />
            <TextField
              path="url"
              label={t('mqtt.url')}
              hint={t('mqtt.urlHint')}
              required
              patternMsg={t('v.mqttUrl')}
              mono
            />
            <UrlParts />
            <div className="row2">
              <TextField path="username" label={t('mqtt.username')} autoComplete="off" />
              <SecretField path="password" label={t('mqtt.password')} />
            </div>
            <TextField path="client_id" label={t('mqtt.clientId')} hint={t('mqtt.clientIdHint')} />
          </fieldset>
          <fieldset className="group">
            <legend>{t('mqtt.tls')}</legend>
            <p className="muted small">{t('mqtt.tlsHint')}</p>
            <TextField path="tls.ca" label={t('mqtt.ca')} placeholder="/etc/ssl/ca.pem" mono />
            <div className="row2">
              <TextField
                path="tls.cert"
                label={t('mqtt.cert')}
                placeholder="/etc/openbms/client.crt"
                mono
              />
              <SecretField path="tls.key" label={t('mqtt.key')} plain />
            </div>
            <CheckField
              path="tls.insecure"
              label={t('mqtt.insecure')}
              hint={t('mqtt.insecureHint')}
            />
            <GroupIssue path="tls" />
          </fieldset>
          <fieldset className="group">
            <legend>{t('mqtt.publishing')}</legend>
            <div className="row3">
              <TextField
                path="base_topic"
                label={t('mqtt.baseTopic')}
                required
                validate={(v) => topicProblem(v, topicMsg)}
                mono
              />
              <NumberField path="interval_s" label={t('mqtt.interval')} unit="s" required />
              <SelectField
                path="qos"
                label={t('mqtt.qos')}
                options={optionsOf<number>(
                  SCHEMA,
                  'qos',
                  (q) => ({ 0: t('mqtt.qos0'), 1: t('mqtt.qos1'), 2: t('mqtt.qos2') })[q] ?? q,
                )}
              />
            </div>
            <CheckField path="retain" label={t('mqtt.retain')} hint={t('mqtt.retainHint')} />
            <SelectField
              path="points_as"
              label={t('mqtt.pointsAs')}
              hint={t('mqtt.pointsAsHint')}
              blank={t('mqtt.pointsAsAll')}
              className="narrow-field wide"
              options={optionsOf<string>(SCHEMA, 'points_as', (r) => tOrgs(`roles.${r}`))}
            />
            <SubsetField
              path="fields"
              legend={t('mqtt.fields')}
              allLabel={t('mqtt.fieldsAll')}
              chosenLabel={t('mqtt.fieldsChosen')}
              noneLabel={t('mqtt.fieldsNone')}
              initial={['voltage_v', 'current_a', 'power_w', 'soc_pct', 'cell_mv', 'alarms']}
              options={MQTT_FIELDS}
              label={(f) => <code>{f}</code>}
              testId="mqtt-fields"
            />
          </fieldset>
          <fieldset className="group">
            <legend>{t('mqtt.compat')}</legend>
            <p className="muted small">{t('mqtt.compatHint')}</p>
            <CheckField path="compat.heartbeat" label={t('mqtt.heartbeat')} />
            <CheckField path="compat.daily_max" label={t('mqtt.dailyMax')} />
            <SelectField
              path="compat.pack"
              label={t('mqtt.compatPack')}
              className="narrow-field wide"
              options={optionsOf<string>(
                SCHEMA,
                'compat.pack',
                (p) =>
                  ({
                    off: t('mqtt.compatPackOff'),
                    bat: t('mqtt.compatPackBat'),
                    b0: t('mqtt.compatPackB0'),
                  })[p] ?? p,
              )}
            />
          </fieldset>
          <fieldset className="group">
            <legend>{t('mqtt.ha')}</legend>
            <CheckField path="homeassistant.enabled" label={t('mqtt.haEnabled')} def />
            <div className="row2">
              <TextField
                path="homeassistant.discovery_prefix"
                label={t('mqtt.haPrefix')}
                required
                validate={(v) => topicProblem(v, topicMsg)}
                mono
              />
              <TextField
                path="homeassistant.status_topic"
                label={t('mqtt.haStatus')}
                placeholder="homeassistant/status"
                validate={(v) => topicProblem(v, topicMsg)}
                mono
              />
            </div>
          </fieldset>
          <fieldset className="group">
            <legend>{t('mqtt.commands')}</legend>
            <p className="muted small">{t('mqtt.commandsHint')}</p>
            <CheckField path="commands.enabled" label={t('mqtt.commandsEnabled')} />
            <CheckField path="commands.mos" label={t('mqtt.commandsMos')} def />
            <CheckField path="commands.soc" label={t('mqtt.commandsSoc')} />
          </fieldset>
          <OtherIssues />
          <SectionActions
            section="mqtt"
            draft={draft}
            value={() => clean(draft.value)}
            configured={saved !== null}
            extra={
              saved !== null ? (
                <button
                  type="button"
                  data-testid="iot-panel"
                  onClick={() => download('/integrations/mqtt/iot-panel.json')}
                >
                  {t('mqtt.iotPanel')}
                </button>
              ) : undefined
            }
          />
        </SettingsForm>
      </Card>
    </div>
  );
}
