/**
 * Notifications: the channels (add / edit / remove / enable, test each one), the delivery
 * log with its retries, and the site location the sunrise/sunset reports are timed by.
 * Operators see the channels and the log; administrators change them.
 */
import { FORM_SCHEMAS, isTimeZone } from '@openbms/contract/forms';
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { api, type ApiError } from '../../api/client';
import { useApi } from '../../api/hooks';
import { live } from '../../api/live';
import { useAuth } from '../../app/auth';
import { useFmt } from '../../i18n/format';
import { Badge, Card, Confirm, ErrorBox, Spinner, type Tone } from '../../ui';
import { ChannelEditor, newChannel } from './ChannelEditor';
import { SectionActions, useSettings } from './common';
import {
  issuesOf,
  NumberField,
  OtherIssues,
  SettingsForm,
  TextField,
  useDraft,
  useFormSet,
  useFormValue,
  useReadOnly,
} from './form';
import {
  CHANNEL_TYPES,
  type ChannelStatusView,
  type ChannelType,
  type DeliveryStatus,
  type NotificationsView,
  type NotifyReportResult,
  type NotifyTestResult,
  type SettingsUpdate,
} from '@openbms/contract/api';
import type { Obj } from './types';

/** While a delivery is queued or retrying, the log is asked again this often. */
const RETRY_POLL_MS = 3000;

export const deliveryTone = (s: DeliveryStatus): Tone =>
  s === 'sent' ? 'ok' : s === 'failed' ? 'bad' : s === 'dropped' ? 'muted' : 'warn';

function EditorHost(props: {
  initial: Obj;
  index: number;
  isNew: boolean;
  list: Obj[];
  onDone: (id: string) => void;
  onCancel: () => void;
}): ReactNode {
  const draft = useDraft<Obj>(props.initial);
  const [busy, setBusy] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  // The editor opens below the list: bring it into view, ready to type.
  useEffect(() => {
    box.current
      ?.querySelector<HTMLInputElement>(
        'input:not([type=checkbox]):not([type=radio]):not([readonly]):not([disabled])',
      )
      ?.focus();
    box.current?.scrollIntoView({ block: 'start' });
  }, []);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const { t } = useTranslation('settings');
  return (
    <div ref={box} className="editor-anchor">
      <ChannelEditor
        draft={draft}
        index={props.index}
        isNew={props.isNew}
        busy={busy}
        onCancel={props.onCancel}
        onSave={async () => {
          const next = [...props.list];
          next[props.index] = draft.value;
          setBusy(true);
          setError(undefined);
          try {
            await api<SettingsUpdate>('/settings/notifications', { method: 'PUT', body: next });
            props.onDone(String(draft.value.id));
          } catch (e) {
            draft.setIssues(issuesOf(e as ApiError));
            setError(e as ApiError);
          } finally {
            setBusy(false);
          }
        }}
        result={
          error && (
            <div className="error-box" role="alert" data-testid="channel-save-error">
              {Object.keys(issuesOf(error)).length > 0
                ? t('save.invalid', { count: Object.keys(issuesOf(error)).length })
                : error.message}
            </div>
          )
        }
      />
    </div>
  );
}

function TargetSummary(props: { target: ChannelStatusView['target'] | undefined }): ReactNode {
  const { t, i18n } = useTranslation('settings');
  if (!props.target) return null;
  return (
    <dl className="target">
      {Object.entries(props.target).map(([k, v]) => {
        const label = i18n.exists(`settings:notify.target.${k}`) ? t(`notify.target.${k}`) : k;
        const text =
          v === 'set'
            ? t('secret.set')
            : v === 'not set'
              ? t('secret.notSet')
              : typeof v === 'boolean'
                ? t(v ? 'common:yes' : 'common:no')
                : Array.isArray(v)
                  ? v.join(', ')
                  : String(v);
        return (
          <div key={k}>
            <dt>{label}</dt>
            <dd>{text}</dd>
          </div>
        );
      })}
    </dl>
  );
}

type TestState = NotifyTestResult | ApiError | 'pending';

/**
 * "Send the daily report now": the report of the period running now (since the last sunrise
 * or sunset) through the chosen channels at once, with each channel's outcome.
 */
function ReportNow(props: { channels: ChannelStatusView[]; onSent: () => void }): ReactNode {
  const { t } = useTranslation('settings');
  const takes = props.channels.filter((c) => c.events.includes('daily_report')).map((c) => c.id);
  const [chosen, setChosen] = useState<string[] | undefined>(undefined);
  const picked = (chosen ?? takes).filter((id) => props.channels.some((c) => c.id === id));
  const [state, setState] = useState<NotifyReportResult | ApiError | 'pending' | undefined>();
  if (props.channels.length === 0) return null;
  const send = async (): Promise<void> => {
    setState('pending');
    try {
      setState(
        await api<NotifyReportResult>('/integrations/notifications/report', {
          body: { channels: picked },
        }),
      );
    } catch (e) {
      setState(e as ApiError);
    }
    props.onSent();
  };
  return (
    <fieldset className="subgroup" data-testid="report-now">
      <legend>{t('notify.reportNow')}</legend>
      <p className="muted small">{t('notify.reportNowHint')}</p>
      <div className="checks">
        {props.channels.map((c) => (
          <label className="check" key={c.id}>
            <input
              type="checkbox"
              checked={picked.includes(c.id)}
              data-testid={`report-now-${c.id}`}
              onChange={(e) =>
                setChosen(e.target.checked ? [...picked, c.id] : picked.filter((x) => x !== c.id))
              }
            />
            <span className="mono">{c.id}</span>
          </label>
        ))}
      </div>
      <button
        type="button"
        disabled={picked.length === 0 || state === 'pending'}
        data-testid="report-now-send"
        onClick={() => void send()}
      >
        {state === 'pending' ? t('notify.reportSending') : t('notify.reportSend')}
      </button>
      {state !== undefined && state !== 'pending' && 'results' in state && (
        <ul className="plain" role="status" data-testid="report-now-results">
          {state.results.map((r) => (
            <li key={r.channel} data-channel={r.channel} data-status={r.status}>
              <span className="mono">{r.channel}</span>{' '}
              <Badge tone={deliveryTone(r.status)}>{t(`notify.status.${r.status}`)}</Badge>
              {!r.ok && ` ${r.error ?? r.status}`}
            </li>
          ))}
        </ul>
      )}
      {state !== undefined && state !== 'pending' && !('results' in state) && (
        <ErrorBox error={state} />
      )}
    </fieldset>
  );
}

function TestOutcome(props: { id: string; state: TestState | undefined }): ReactNode {
  const { t } = useTranslation('settings');
  const s = props.state;
  if (s === undefined) return null;
  if (s === 'pending')
    return (
      <p className="muted" role="status">
        {t('notify.testing')}
      </p>
    );
  if ('status' in s && typeof s.status === 'string' && 'channel' in s) {
    return (
      <p role="status" data-testid={`test-result-${props.id}`} data-status={s.status}>
        <Badge tone={deliveryTone(s.status)}>{t(`notify.status.${s.status}`)}</Badge>{' '}
        {s.ok ? t('notify.testSent') : `${t('notify.testFailed')}: ${s.error ?? s.status}`}
      </p>
    );
  }
  return (
    <div
      className="error-box"
      role="alert"
      data-testid={`test-result-${props.id}`}
      data-status="error"
    >
      {(s as ApiError).message}
    </div>
  );
}

function ChannelRow(props: {
  id: string;
  type: ChannelType;
  enabled: boolean;
  config: Obj | undefined;
  status: ChannelStatusView | undefined;
  admin: boolean;
  test: TestState | undefined;
  onTest: () => void;
  onEdit: () => void;
  onRemove: () => void;
  onToggle: (on: boolean) => void;
}): ReactNode {
  const { t } = useTranslation('settings');
  const fmt = useFmt();
  const st = props.status;
  const cfgEvents = props.config ? (props.config.events as string[] | undefined) : st?.events;
  const severity = (props.config?.min_severity as string | undefined) ?? st?.min_severity;
  const quiet = (props.config?.quiet_hours as Obj | undefined) ?? st?.quiet_hours;
  return (
    <li className="channel" data-testid={`channel-${props.id}`}>
      <div className="channel-head">
        <h3>
          <span className="mono">{props.id}</span>{' '}
          <Badge tone="info">{t(`notify.types.${props.type}`)}</Badge>{' '}
          <Badge tone={props.enabled ? 'ok' : 'muted'}>
            {props.enabled ? t('notify.on') : t('notify.off')}
          </Badge>
          {st?.quiet_hours?.active && (
            <>
              {' '}
              <Badge tone="warn">{t('notify.quietNow')}</Badge>
            </>
          )}
        </h3>
        {props.admin && (
          <div className="card-actions">
            <label className="check">
              <input
                type="checkbox"
                checked={props.enabled}
                data-testid={`toggle-${props.id}`}
                onChange={(e) => props.onToggle(e.target.checked)}
              />
              <span>{t('notify.enabled')}</span>
            </label>
            <button
              type="button"
              onClick={props.onTest}
              disabled={props.test === 'pending' || !st}
              title={st ? undefined : t('notify.saveFirst')}
              data-testid={`test-${props.id}`}
            >
              {t('common:test')}
            </button>
            <button type="button" onClick={props.onEdit} data-testid={`edit-${props.id}`}>
              {t('common:edit')}
            </button>
            <button
              type="button"
              className="danger-outline"
              onClick={props.onRemove}
              data-testid={`remove-${props.id}`}
            >
              {t('common:delete')}
            </button>
          </div>
        )}
      </div>
      <div className="channel-body">
        <TargetSummary target={st?.target} />
        <dl className="target">
          <div>
            <dt>{t('notify.events')}</dt>
            <dd>
              {cfgEvents === undefined
                ? t('notify.eventsAllShort')
                : cfgEvents.map((e) => t(`notify.event.${e}`)).join(', ')}
            </dd>
          </div>
          <div>
            <dt>{t('notify.minSeverity')}</dt>
            <dd>{severity ? t(`common:severity.${severity}`) : '—'}</dd>
          </div>
          <div>
            <dt>{t('notify.quiet')}</dt>
            <dd>
              {quiet
                ? `${String(quiet.from)}–${String(quiet.to)} (${t(`notify.quiet${quiet.mode === 'drop' ? 'Drop' : 'Hold'}`)})`
                : t('common:none')}
            </dd>
          </div>
        </dl>
        {st && (
          <p className="muted small counters" data-testid={`counters-${props.id}`}>
            {t('notify.counters', {
              sent: fmt.num(st.counters.sent),
              failed: fmt.num(st.counters.failed),
              dropped: fmt.num(st.counters.dropped),
              queued: fmt.num(st.counters.queued),
            })}
            {st.last_sent_at !== undefined &&
              ` · ${t('notify.lastSent')} ${fmt.dateTime(st.last_sent_at)}`}
          </p>
        )}
        {st?.last_error && (
          <p className="status-error">
            {t('status.lastError')}: {st.last_error}
          </p>
        )}
        <TestOutcome id={props.id} state={props.test} />
      </div>
    </li>
  );
}

function DeliveryLog(props: { view: NotificationsView | undefined }): ReactNode {
  const { t } = useTranslation('settings');
  const fmt = useFmt();
  const log = props.view?.log ?? [];
  return (
    <Card title={t('notify.logTitle')} testId="delivery-log">
      <p className="muted small">{t('notify.logIntro')}</p>
      {log.length === 0 ? (
        <p className="muted">{t('notify.logEmpty')}</p>
      ) : (
        <div className="table-wrap">
          <table className="log-table stack-table">
            <thead>
              <tr>
                <th>{t('notify.logAt')}</th>
                <th>{t('notify.logChannel')}</th>
                <th>{t('notify.logEvent')}</th>
                <th>{t('notify.logStatus')}</th>
                <th className="num">{t('notify.logAttempts')}</th>
                <th>{t('notify.logDetail')}</th>
              </tr>
            </thead>
            <tbody>
              {log.map((e) => (
                <tr
                  key={e.id}
                  data-testid="delivery-row"
                  data-channel={e.channel}
                  data-status={e.status}
                  data-event={e.event}
                >
                  <td className="nowrap" data-label={t('notify.logAt')}>
                    {fmt.dateTime(e.at)}
                  </td>
                  <td className="mono" data-label={t('notify.logChannel')}>
                    {e.channel}
                  </td>
                  <td data-label={t('notify.logEvent')}>
                    {t(`notify.event.${e.event}`, { defaultValue: e.event })}
                    <div className="muted small">{e.title}</div>
                  </td>
                  <td data-label={t('notify.logStatus')}>
                    <Badge tone={deliveryTone(e.status)}>{t(`notify.status.${e.status}`)}</Badge>
                    {e.updated_at - e.at > 1000 && (
                      <div className="muted small">{fmt.time(e.updated_at)}</div>
                    )}
                  </td>
                  <td className="num" data-label={t('notify.logAttempts')}>
                    {fmt.num(e.attempts)}
                  </td>
                  <td data-label={t('notify.logDetail')}>
                    {e.error && <div className="status-error">{e.error}</div>}
                    {e.note && <div className="muted small">{e.note}</div>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}

/** Time zones this browser knows, for the location's picker. */
function timeZones(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (k: string) => string[] };
  try {
    return intl.supportedValuesOf?.('timeZone') ?? [];
  } catch {
    return [];
  }
}

function BrowserZoneButton(): ReactNode {
  const { t } = useTranslation('settings');
  const set = useFormSet();
  const readOnly = useReadOnly();
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const value = useFormValue('timezone');
  if (readOnly || !zone || value === zone) return null;
  return (
    <button type="button" className="link-button" onClick={() => set('timezone', zone)}>
      {t('location.useBrowserZone', { zone })}
    </button>
  );
}

function LocationCard(props: {
  next: NotificationsView['next_report'];
  onSaved: () => void;
}): ReactNode {
  const { t } = useTranslation('settings');
  const fmt = useFmt();
  const { view } = useSettings();
  const saved = (view?.location ?? null) as Obj | null;
  const draft = useDraft<Obj>(saved ?? {});
  const zones = timeZones();
  return (
    <Card title={t('location.title')} testId="location">
      <p className="muted">{t('location.intro')}</p>
      {props.next && (
        <p data-testid="next-report">
          {t('location.next', {
            kind: t(`location.${props.next.kind}`),
            at: fmt.dateTime(props.next.at),
          })}
        </p>
      )}
      <SettingsForm draft={draft} prefix="location" schema={FORM_SCHEMAS.location}>
        <div className="row3">
          <NumberField
            path="latitude"
            label={t('location.latitude')}
            hint={t('location.latHint')}
            unit="°"
            required
          />
          <NumberField
            path="longitude"
            label={t('location.longitude')}
            hint={t('location.lonHint')}
            unit="°"
            required
          />
          <div>
            <TextField
              path="timezone"
              label={t('location.timezone')}
              placeholder="Europe/Berlin"
              hint={t('location.timezoneHint')}
              list="tz-list"
              validate={(v) =>
                typeof v === 'string' && !isTimeZone(v) ? t('v.timezone') : undefined
              }
            />
            <BrowserZoneButton />
          </div>
        </div>
        <datalist id="tz-list">
          {zones.map((z) => (
            <option key={z} value={z} />
          ))}
        </datalist>
        <OtherIssues />
        <SectionActions
          section="location"
          draft={draft}
          value={() => draft.value}
          configured={saved !== null}
          canTest={false}
          onSaved={props.onSaved}
        />
      </SettingsForm>
    </Card>
  );
}

export function NotificationsSection(): ReactNode {
  const { t } = useTranslation('settings');
  const { can } = useAuth();
  const admin = can('admin');
  const operator = can('operator');
  const { view, reload } = useSettings();
  const status = useApi<NotificationsView>('/integrations/notifications');
  const statusReload = status.reload;
  const list = (admin ? ((view?.sections.notifications ?? null) as Obj[] | null) : null) ?? [];
  const [editing, setEditing] = useState<
    { index: number; isNew: boolean; initial: Obj; n: number } | undefined
  >(undefined);
  const [addType, setAddType] = useState<ChannelType>('webhook');
  const [tests, setTests] = useState<Record<string, TestState>>({});
  const [removing, setRemoving] = useState<string | undefined>(undefined);
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);

  // Deliveries follow alarms (live), and retries run on: ask again while any is pending.
  const pending = (status.data?.log ?? []).some(
    (e) => e.status === 'queued' || e.status === 'retrying',
  );
  useEffect(() => {
    if (!pending) return;
    const id = setInterval(statusReload, RETRY_POLL_MS);
    return () => clearInterval(id);
  }, [pending, statusReload]);
  useEffect(() => live.onAlarm(() => statusReload()), [statusReload]);

  const statusOf = (id: string) => status.data?.channels.find((c) => c.id === id);
  const put = async (next: Obj[], msg: string): Promise<void> => {
    setError(undefined);
    setNotice(undefined);
    try {
      await api<SettingsUpdate>('/settings/notifications', {
        method: 'PUT',
        body: next.length ? next : null,
      });
      setNotice(msg);
    } catch (e) {
      setError(e as ApiError);
    }
    reload();
    statusReload();
  };
  const runTest = async (id: string): Promise<void> => {
    setTests((s) => ({ ...s, [id]: 'pending' }));
    try {
      const r = await api<NotifyTestResult>('/integrations/notifications/test', {
        body: { channel: id },
      });
      setTests((s) => ({ ...s, [id]: r }));
    } catch (e) {
      setTests((s) => ({ ...s, [id]: e as ApiError }));
    }
    statusReload();
  };

  const rows: { id: string; type: ChannelType; enabled: boolean; config?: Obj; index: number }[] =
    admin
      ? list.map((c, i) => ({
          id: String(c.id),
          type: c.type as ChannelType,
          enabled: c.enabled !== false,
          config: c,
          index: i,
        }))
      : (status.data?.channels ?? []).map((c, i) => ({
          id: c.id,
          type: c.type,
          enabled: c.enabled,
          index: i,
        }));

  return (
    <div className="section-body" data-testid="section-notifications">
      <Card title={t('notify.title')} testId="channels">
        <p className="muted">{t('notify.intro')}</p>
        {!admin && <p className="muted small">{t('notify.adminOnly')}</p>}
        {status.loading && !status.data && <Spinner />}
        <ErrorBox error={status.error} />
        {rows.length === 0 && !status.loading && <p className="muted">{t('notify.none')}</p>}
        <ul className="channel-list">
          {rows.map((r) =>
            editing && !editing.isNew && editing.index === r.index ? null : (
              <ChannelRow
                key={r.id}
                id={r.id}
                type={r.type}
                enabled={r.enabled}
                config={r.config}
                status={statusOf(r.id)}
                admin={admin}
                test={tests[r.id]}
                onTest={() => void runTest(r.id)}
                onEdit={() =>
                  setEditing({
                    index: r.index,
                    isNew: false,
                    initial: r.config ?? {},
                    n: Date.now(),
                  })
                }
                onRemove={() => setRemoving(r.id)}
                onToggle={(on) =>
                  void put(
                    list.map((c, i) => (i === r.index ? { ...c, enabled: on } : c)),
                    t(on ? 'notify.enabledDone' : 'notify.disabledDone', { id: r.id }),
                  )
                }
              />
            ),
          )}
        </ul>
        {notice && (
          <p className="notice" role="status" data-testid="channels-notice">
            {notice}
          </p>
        )}
        <ErrorBox error={error} />
        {operator && <ReportNow channels={status.data?.channels ?? []} onSent={statusReload} />}
        {admin && view && !editing && (
          <div className="toolbar add-channel">
            <label className="field inline">
              <span>{t('notify.addType')}</span>
              <select
                value={addType}
                data-testid="add-channel-type"
                onChange={(e) => setAddType(e.target.value as ChannelType)}
              >
                {CHANNEL_TYPES.map((ty) => (
                  <option key={ty} value={ty}>
                    {t(`notify.types.${ty}`)}
                  </option>
                ))}
              </select>
            </label>
            <button
              type="button"
              className="primary"
              data-testid="add-channel"
              onClick={() =>
                setEditing({
                  index: list.length,
                  isNew: true,
                  initial: newChannel(
                    addType,
                    list.map((c) => String(c.id)),
                  ),
                  n: Date.now(),
                })
              }
            >
              {t('notify.add')}
            </button>
          </div>
        )}
      </Card>
      {editing && (
        <EditorHost
          key={editing.n}
          initial={editing.initial}
          index={editing.index}
          isNew={editing.isNew}
          list={list}
          onCancel={() => setEditing(undefined)}
          onDone={(id) => {
            setEditing(undefined);
            setError(undefined);
            setNotice(t('notify.savedChannel', { id }));
            reload();
            statusReload();
          }}
        />
      )}
      <DeliveryLog view={status.data} />
      {admin && <LocationCard next={status.data?.next_report} onSaved={statusReload} />}
      <Confirm
        open={removing !== undefined}
        danger
        title={t('notify.removeTitle', { id: removing ?? '' })}
        confirmLabel={t('common:delete')}
        onCancel={() => setRemoving(undefined)}
        onConfirm={() => {
          const id = removing;
          setRemoving(undefined);
          if (id !== undefined) {
            void put(
              list.filter((c) => c.id !== id),
              t('notify.removed', { id }),
            );
          }
        }}
      >
        <p>{t('notify.removeHint')}</p>
      </Confirm>
    </div>
  );
}
