/** The form of one notification channel (ntfy, Pushover, Telegram, e-mail, webhook). */
import { useEffect, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Card } from '../../ui';
import {
  CheckField,
  GroupIssue,
  ListField,
  NumberField,
  OtherIssues,
  SecretField,
  SelectField,
  SettingsForm,
  SubsetField,
  TextField,
  useFormSet,
  useFormValue,
  useReadOnly,
  type Draft,
} from './form';
import { SECRET_MARKER } from '@openbms/contract/api';
import {
  channelSchema,
  defaultsOf,
  isHttpUrl,
  limitsAt,
  NOTIFY_EVENTS,
  schemaAt,
  SEVERITIES,
  type ChannelType,
} from '@openbms/contract/forms';
import type { Obj } from './types';

/** A new channel of a type, with the schema's defaults and a free id. */
export function newChannel(type: ChannelType, taken: string[]): Obj {
  let id: string = type;
  for (let n = 2; taken.includes(id); n++) id = `${type}-${n}`;
  return { type, id, ...defaultsOf(channelSchema(type)) };
}

const EMAIL = channelSchema('email');
/** An address of the e-mail channel's `to` list, checked as the gateway does. */
const MAILBOX = limitsAt(EMAIL, 'to[0]').pattern;
/** A header name of the webhook channel (the schema's pattern for the header keys). */
const HEADER_NAME = schemaAt(channelSchema('webhook'), 'headers')?.propertyNames?.pattern;
const headerNameOk = (name: string): boolean =>
  HEADER_NAME === undefined || new RegExp(HEADER_NAME).test(name);

/** Telegram's chat id as text: the string side of the schema's number-or-string union. */
const TG_CHAT = schemaAt(channelSchema('telegram'), 'chat_id')?.anyOf?.find(
  (x) => x.type === 'string',
)?.pattern;
const tgChatOk = (v: unknown): boolean =>
  typeof v === 'number' ||
  typeof v !== 'string' ||
  TG_CHAT === undefined ||
  new RegExp(TG_CHAT).test(v);

/** ntfy's priorities as numbers (the schema's range; the names are accepted too). */
function priorities(): number[] {
  const { min = 1, max = 5 } = limitsAt(channelSchema('ntfy'), 'priority');
  return Array.from({ length: max - min + 1 }, (_, i) => min + i);
}

export function httpUrlProblem(v: unknown, msg: string): string | undefined {
  return typeof v === 'string' && v !== '' && !isHttpUrl(v) ? msg : undefined;
}

function QuietHours(): ReactNode {
  const { t } = useTranslation('settings');
  const value = useFormValue('quiet_hours');
  const set = useFormSet();
  const readOnly = useReadOnly();
  const on = value !== undefined && value !== null;
  return (
    <fieldset className="subgroup">
      <legend>{t('notify.quiet')}</legend>
      <label className="check">
        <input
          type="checkbox"
          checked={on}
          disabled={readOnly}
          data-testid="quiet-toggle"
          onChange={(e) =>
            set(
              'quiet_hours',
              e.target.checked
                ? { from: '22:00', to: '07:00', mode: 'hold', critical_severity: 'protection' }
                : undefined,
            )
          }
        />
        <span>{t('notify.quietOn')}</span>
      </label>
      {on && (
        <>
          <div className="row4">
            <TextField
              path="quiet_hours.from"
              type="time"
              label={t('notify.quietFrom')}
              required
              patternMsg={t('v.hhmm')}
            />
            <TextField
              path="quiet_hours.to"
              type="time"
              label={t('notify.quietTo')}
              required
              patternMsg={t('v.hhmm')}
              validate={(v) =>
                v === (value as Obj | undefined)?.from ? t('v.quietSame') : undefined
              }
            />
            <SelectField
              path="quiet_hours.mode"
              label={t('notify.quietMode')}
              options={[
                { value: 'hold', label: t('notify.quietHold') },
                { value: 'drop', label: t('notify.quietDrop') },
              ]}
            />
            <SelectField
              path="quiet_hours.critical_severity"
              label={t('notify.quietCritical')}
              options={SEVERITIES.map((s) => ({ value: s, label: t(`common:severity.${s}`) }))}
            />
          </div>
          <p className="muted small">{t('notify.quietHint')}</p>
        </>
      )}
      <GroupIssue path="quiet_hours" />
    </fieldset>
  );
}

interface HeaderRow {
  name: string;
  value: string;
}

function HeadersEditor(): ReactNode {
  const { t } = useTranslation('settings');
  const value = useFormValue('headers') as Record<string, string> | undefined;
  const set = useFormSet();
  const readOnly = useReadOnly();
  const fromValue = (): HeaderRow[] =>
    Object.entries(value ?? {}).map(([name, v]) => ({ name, value: v }));
  const [rows, setRows] = useState<HeaderRow[]>(fromValue);
  const key = JSON.stringify(value ?? {});
  useEffect(() => {
    const mine = JSON.stringify(
      Object.fromEntries(rows.filter((r) => r.name !== '').map((r) => [r.name, r.value])),
    );
    if (mine !== key) setRows(fromValue());
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  const update = (next: HeaderRow[]): void => {
    setRows(next);
    const named = next.filter((r) => r.name !== '');
    set(
      'headers',
      named.length ? Object.fromEntries(named.map((r) => [r.name, r.value])) : undefined,
    );
  };
  return (
    <fieldset className="subgroup" data-testid="webhook-headers">
      <legend>{t('notify.headers')}</legend>
      <p className="muted small">{t('notify.headersHint')}</p>
      {rows.map((r, i) => {
        const nameBad = r.name !== '' && !headerNameOk(r.name);
        const valueBad = /[\r\n]/.test(r.value);
        return (
          <div className="header-row" key={i}>
            <div className="field">
              <label htmlFor={`hdr-name-${i}`}>{t('notify.headerName')}</label>
              <input
                id={`hdr-name-${i}`}
                value={r.name}
                disabled={readOnly}
                spellCheck={false}
                aria-invalid={nameBad ? true : undefined}
                data-invalid={nameBad ? 'true' : undefined}
                onChange={(e) =>
                  update(rows.map((x, j) => (j === i ? { ...x, name: e.target.value.trim() } : x)))
                }
              />
              {nameBad && <small className="field-error">{t('v.headerName')}</small>}
            </div>
            <div className="field grow">
              <label htmlFor={`hdr-value-${i}`}>{t('notify.headerValue')}</label>
              {r.value === SECRET_MARKER ? (
                <div className="secret-set">
                  <input
                    id={`hdr-value-${i}`}
                    readOnly
                    value={t('secret.set')}
                    className="secret-display"
                  />
                  {!readOnly && (
                    <button
                      type="button"
                      onClick={() =>
                        update(rows.map((x, j) => (j === i ? { ...x, value: '' } : x)))
                      }
                    >
                      {t('secret.replace')}
                    </button>
                  )}
                </div>
              ) : (
                <input
                  id={`hdr-value-${i}`}
                  value={r.value}
                  disabled={readOnly}
                  spellCheck={false}
                  autoComplete="off"
                  aria-invalid={valueBad ? true : undefined}
                  data-invalid={valueBad ? 'true' : undefined}
                  onChange={(e) =>
                    update(rows.map((x, j) => (j === i ? { ...x, value: e.target.value } : x)))
                  }
                />
              )}
              {valueBad && <small className="field-error">{t('v.oneLine')}</small>}
            </div>
            {!readOnly && (
              <button
                type="button"
                className="row-remove"
                aria-label={t('notify.headerRemove', { name: r.name || i + 1 })}
                onClick={() => update(rows.filter((_, j) => j !== i))}
              >
                ✕
              </button>
            )}
          </div>
        );
      })}
      {!readOnly && (
        <button type="button" onClick={() => setRows([...rows, { name: '', value: '' }])}>
          {t('notify.headerAdd')}
        </button>
      )}
      <GroupIssue path="headers" />
    </fieldset>
  );
}

function TypeFields(props: { type: ChannelType }): ReactNode {
  const { t } = useTranslation('settings');
  const urlMsg = t('v.httpUrl');
  const username = useFormValue('username');
  const password = useFormValue('password');
  switch (props.type) {
    case 'ntfy':
      return (
        <>
          <TextField
            path="url"
            label={t('notify.ntfyServer')}
            required
            validate={(v) => httpUrlProblem(v, urlMsg)}
            mono
          />
          <div className="row3">
            <SecretField
              path="topic"
              label={t('notify.ntfyTopic')}
              hint={t('notify.ntfyTopicHint')}
              required
              plain
              patternMsg={t('v.ntfyTopic')}
            />
            <SecretField path="token" label={t('notify.ntfyToken')} />
            <SelectField
              path="priority"
              label={t('notify.priority')}
              options={priorities().map((p) => ({ value: p, label: t(`notify.prio.${p}`) }))}
            />
          </div>
        </>
      );
    case 'pushover':
      return (
        <>
          <div className="row3">
            <SecretField path="token" label={t('notify.poToken')} required />
            <SecretField path="user" label={t('notify.poUser')} required />
            <TextField path="device" label={t('notify.poDevice')} />
          </div>
          <TextField
            path="url"
            label={t('notify.poUrl')}
            required
            validate={(v) => httpUrlProblem(v, urlMsg)}
            mono
          />
        </>
      );
    case 'telegram':
      return (
        <>
          <div className="row2">
            <SecretField
              path="token"
              label={t('notify.tgToken')}
              hint={t('notify.tgTokenHint')}
              required
              patternMsg={t('v.tgToken')}
            />
            <TextField
              path="chat_id"
              label={t('notify.tgChat')}
              hint={t('notify.tgChatHint')}
              required
              validate={(v) => (tgChatOk(v) ? undefined : t('v.tgChat'))}
              mono
            />
          </div>
          <TextField
            path="api_url"
            label={t('notify.tgApiUrl')}
            required
            validate={(v) => httpUrlProblem(v, urlMsg)}
            mono
          />
        </>
      );
    case 'email':
      return (
        <>
          <div className="row3">
            <TextField path="host" label={t('notify.smtpHost')} required mono />
            <NumberField path="port" label={t('notify.smtpPort')} hint={t('notify.smtpPortHint')} />
            <TextField path="from" label={t('notify.from')} required patternMsg={t('v.mailbox')} />
          </div>
          <ListField
            path="to"
            label={t('notify.to')}
            hint={t('notify.toHint')}
            required
            item={(x) =>
              MAILBOX?.test(x) === false ? t('v.mailboxItem', { value: x }) : undefined
            }
          />
          <div className="row2">
            <CheckField path="secure" label={t('notify.secure')} hint={t('notify.secureHint')} />
            <CheckField
              path="starttls"
              label={t('notify.starttls')}
              hint={t('notify.starttlsHint')}
              def
            />
          </div>
          <div className="row2">
            <TextField
              path="username"
              label={t('notify.smtpUser')}
              autoComplete="off"
              validate={(v) =>
                v === undefined && password !== undefined ? t('v.together') : undefined
              }
            />
            <SecretField
              path="password"
              label={t('notify.smtpPassword')}
              validate={(v) =>
                v === undefined && username !== undefined ? t('v.together') : undefined
              }
            />
          </div>
          <div className="row2">
            <TextField path="ca" label={t('notify.ca')} mono />
            <CheckField
              path="insecure"
              label={t('notify.insecure')}
              hint={t('mqtt.insecureHint')}
            />
          </div>
        </>
      );
    case 'webhook':
      return (
        <>
          <div className="row-url">
            <TextField
              path="url"
              label={t('notify.webhookUrl')}
              required
              validate={(v) => httpUrlProblem(v, urlMsg)}
              mono
              className="grow"
            />
            <SelectField
              path="method"
              label={t('notify.method')}
              options={[
                { value: 'POST', label: 'POST' },
                { value: 'PUT', label: 'PUT' },
              ]}
            />
          </div>
          <HeadersEditor />
        </>
      );
  }
}

export function ChannelEditor(props: {
  draft: Draft;
  index: number;
  isNew: boolean;
  busy: boolean;
  onSave: () => void;
  onCancel: () => void;
  result?: ReactNode;
}): ReactNode {
  const { t } = useTranslation('settings');
  const type = props.draft.value.type as ChannelType;
  return (
    <Card
      title={
        props.isNew
          ? t('notify.newChannel', { type: t(`notify.types.${type}`) })
          : t('notify.editChannel', { id: String(props.draft.value.id) })
      }
      testId="channel-editor"
      className="channel-editor"
    >
      <SettingsForm
        draft={props.draft}
        prefix={`notifications[${props.index}]`}
        schema={channelSchema(type)}
        onSubmit={props.onSave}
      >
        <div className="row3">
          {props.isNew ? (
            <TextField
              path="id"
              label={t('notify.id')}
              hint={t('notify.idHint')}
              required
              patternMsg={t('v.id')}
              mono
            />
          ) : (
            <div className="field">
              <span className="label-like">{t('notify.id')}</span>
              <code data-testid="channel-id">{String(props.draft.value.id)}</code>
            </div>
          )}
          <div className="field">
            <span className="label-like">{t('notify.type')}</span>
            <span>{t(`notify.types.${type}`)}</span>
          </div>
          <CheckField path="enabled" label={t('notify.enabled')} def />
        </div>
        <TypeFields type={type} />
        <SubsetField
          path="events"
          legend={t('notify.events')}
          allLabel={t('notify.eventsAll')}
          chosenLabel={t('notify.eventsChosen')}
          noneLabel={t('notify.eventsNone')}
          initial={['alarm_raised', 'alarm_cleared', 'offline', 'online']}
          options={NOTIFY_EVENTS}
          label={(ev) => <span>{t(`notify.event.${ev}`)}</span>}
          testId="channel-events"
          wide
        />
        <SelectField
          path="min_severity"
          label={t('notify.minSeverity')}
          hint={t('notify.minSeverityHint')}
          options={SEVERITIES.map((s) => ({ value: s, label: t(`common:severity.${s}`) }))}
          className="narrow-field"
        />
        <QuietHours />
        <details className="advanced">
          <summary>{t('notify.advanced')}</summary>
          <div className="row3">
            <NumberField path="rate_limit.max" label={t('notify.rateMax')} required />
            <NumberField path="rate_limit.per_s" label={t('notify.ratePer')} unit="s" required />
            <NumberField path="timeout_s" label={t('notify.timeout')} unit="s" required />
          </div>
          <NumberField
            path="group_s"
            label={t('notify.group')}
            hint={t('notify.groupHint')}
            unit="s"
            required
            className="narrow-field"
          />
          <div className="row3">
            <NumberField path="retry.attempts" label={t('notify.retryAttempts')} required />
            <NumberField
              path="retry.backoff_s"
              label={t('notify.retryBackoff')}
              unit="s"
              required
            />
            <NumberField
              path="retry.max_backoff_s"
              label={t('notify.retryMax')}
              unit="s"
              required
            />
          </div>
        </details>
        <OtherIssues />
        <div className="form-actions">
          <button
            type="submit"
            className="primary"
            disabled={props.busy}
            data-testid="channel-save"
          >
            {props.busy ? t('saving') : t('common:save')}
          </button>
          <button type="button" onClick={props.onCancel}>
            {t('common:cancel')}
          </button>
        </div>
        {props.result}
      </SettingsForm>
    </Card>
  );
}
