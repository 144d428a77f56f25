/**
 * The device list's forms, each in a dialog: register, edit (nickname, activation, expiry),
 * bind to an organisation, unbind (a request for approval) and import a CSV/XLSX file. The
 * server decides (docs/fleet.md "Devices"); its refusal shows at the field it names.
 */
import { useState, type FormEvent, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { DeviceView, OrgView } from '@openbms/contract/api';
import { api, type ApiError } from '../../api/client';
import { ErrorBox } from '../../ui';
import { Field, FormErrorBox, type FormError } from '../../ui/fields';
import { Modal } from '../../ui/Modal';

/** A date input's YYYY-MM-DD as the ms of that day's start (UTC), or undefined when empty. */
export const dayMs = (s: string): number | undefined =>
  /^\d{4}-\d{2}-\d{2}$/.test(s) ? Date.parse(`${s}T00:00:00Z`) : undefined;
const msDay = (ms: number | undefined): string =>
  ms === undefined ? '' : new Date(ms).toISOString().slice(0, 10);

export function useSubmit(
  f: () => Promise<void>,
): [(e: FormEvent) => void, FormError, boolean, (e: FormError) => void] {
  const [error, setError] = useState<FormError>(undefined);
  const [busy, setBusy] = useState(false);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    setBusy(true);
    f().then(
      () => setBusy(false),
      (err: ApiError) => {
        setBusy(false);
        setError(err);
      },
    );
  };
  return [submit, error, busy, setError];
}

export function Buttons(props: {
  onClose: () => void;
  label: string;
  busy: boolean;
  testId: string;
}) {
  const { t } = useTranslation('devices');
  return (
    <div className="dialog-actions">
      <button type="button" onClick={props.onClose}>
        {t('cancel')}
      </button>
      <button type="submit" className="primary" disabled={props.busy} data-testid={props.testId}>
        {props.label}
      </button>
    </div>
  );
}

function OrgSelect(props: {
  orgs: OrgView[];
  value: string;
  onChange: (id: string) => void;
  label: string;
  field: string;
  error: FormError;
}): ReactNode {
  return (
    <label className="field">
      <span>{props.label}</span>
      <select
        name={props.field}
        value={props.value}
        aria-invalid={props.error?.field === props.field || undefined}
        onChange={(e) => props.onChange(e.target.value)}
      >
        {props.orgs.map((o) => (
          <option key={o.id} value={o.id}>
            {o.name} ({o.code})
          </option>
        ))}
      </select>
      {props.error?.field === props.field && (
        <small className="field-error" role="alert" data-testid={`${props.field}-error`}>
          {props.error.message}
        </small>
      )}
    </label>
  );
}

export function RegisterForm(props: {
  orgs: OrgView[];
  onClose: () => void;
  onDone: (d: DeviceView) => void;
}): ReactNode {
  const { t } = useTranslation('devices');
  const [v, setV] = useState({
    serial: '',
    barcode: '',
    nickname: '',
    model: '',
    manufacturer: '',
    produced_on: '',
    expires: '',
    gateway_id: '',
    pack_id: '',
  });
  const [type, setType] = useState<DeviceView['type']>('bms');
  const [activation, setActivation] = useState<DeviceView['activation']>('enabled');
  const [org, setOrg] = useState(props.orgs[0]?.id ?? '');
  const [submit, error, busy] = useSubmit(async () => {
    const text = (k: keyof typeof v) => (v[k].trim() !== '' ? { [k]: v[k].trim() } : {});
    const expires = dayMs(v.expires);
    const d = await api<DeviceView>('/devices', {
      body: {
        serial: v.serial.trim(),
        type,
        activation,
        org_id: org,
        ...text('barcode'),
        ...text('nickname'),
        ...text('model'),
        ...text('manufacturer'),
        ...text('produced_on'),
        ...text('gateway_id'),
        ...text('pack_id'),
        ...(expires !== undefined ? { expires_at: expires } : {}),
      },
    });
    props.onDone(d);
  });
  const input = (k: keyof typeof v, extra: Record<string, unknown> = {}) => (
    <Field
      label={t(`field.${k === 'expires' ? 'expires_at' : k}`)}
      field={k === 'expires' ? 'expires_at' : k}
      error={error}
      value={v[k]}
      onChange={(e) => setV({ ...v, [k]: e.target.value })}
      {...extra}
    />
  );
  return (
    <Modal
      className="device-dialog"
      title={t('register')}
      onClose={props.onClose}
      testId="register-dialog"
    >
      <form onSubmit={submit} className="device-form">
        {input('serial', { required: true, maxLength: 64 })}
        <label className="field">
          <span>{t('field.type')}</span>
          <select
            name="type"
            value={type}
            onChange={(e) => setType(e.target.value as DeviceView['type'])}
          >
            {(['bms', 'collector', 'tracker'] as const).map((k) => (
              <option key={k} value={k}>
                {t(`type.${k}`)}
              </option>
            ))}
          </select>
        </label>
        {input('barcode', { maxLength: 64 })}
        {input('nickname', { maxLength: 64 })}
        {input('model', { maxLength: 100 })}
        {input('manufacturer', { maxLength: 100 })}
        {input('produced_on', { type: 'date' })}
        <OrgSelect
          orgs={props.orgs}
          value={org}
          onChange={setOrg}
          label={t('field.org_id')}
          field="org_id"
          error={error}
        />
        <label className="field">
          <span>{t('field.activation')}</span>
          <select
            name="activation"
            value={activation}
            onChange={(e) => setActivation(e.target.value as DeviceView['activation'])}
          >
            <option value="enabled">{t('activation.enabled')}</option>
            <option value="not_enabled">{t('activation.not_enabled')}</option>
          </select>
        </label>
        {input('expires', { type: 'date' })}
        {input('gateway_id', { maxLength: 64 })}
        {input('pack_id', { maxLength: 200 })}
        <FormErrorBox
          error={error}
          fields={[
            'serial',
            'barcode',
            'nickname',
            'model',
            'manufacturer',
            'produced_on',
            'org_id',
            'expires_at',
            'gateway_id',
            'pack_id',
          ]}
        />
        <Buttons
          onClose={props.onClose}
          label={t('registerButton')}
          busy={busy}
          testId="register-submit"
        />
      </form>
    </Modal>
  );
}

export function EditForm(props: {
  device: DeviceView;
  onClose: () => void;
  onDone: (d: DeviceView) => void;
}): ReactNode {
  const { t } = useTranslation('devices');
  const d = props.device;
  const [nickname, setNickname] = useState(d.nickname ?? '');
  const [activation, setActivation] = useState(d.activation);
  const [expires, setExpires] = useState(msDay(d.expires_at));
  const [submit, error, busy] = useSubmit(async () => {
    const exp = dayMs(expires);
    const out = await api<DeviceView>(`/devices/${encodeURIComponent(d.id)}`, {
      method: 'PATCH',
      body: {
        nickname: nickname.trim() === '' ? null : nickname.trim(),
        activation,
        expires_at: exp ?? null,
      },
    });
    props.onDone(out);
  });
  return (
    <Modal
      className="device-dialog"
      title={t('editTitle', { serial: d.serial })}
      onClose={props.onClose}
      testId="edit-dialog"
    >
      <form onSubmit={submit} className="device-form">
        <Field
          label={t('field.nickname')}
          field="nickname"
          error={error}
          maxLength={64}
          value={nickname}
          onChange={(e) => setNickname(e.target.value)}
        />
        <label className="field">
          <span>{t('field.activation')}</span>
          <select
            name="activation"
            value={activation}
            onChange={(e) => setActivation(e.target.value as DeviceView['activation'])}
          >
            <option value="enabled">{t('activation.enabled')}</option>
            <option value="not_enabled">{t('activation.not_enabled')}</option>
          </select>
        </label>
        <Field
          label={t('field.expires_at')}
          field="expires_at"
          error={error}
          type="date"
          value={expires}
          onChange={(e) => setExpires(e.target.value)}
        />
        <FormErrorBox error={error} fields={['nickname', 'expires_at']} />
        <Buttons onClose={props.onClose} label={t('save')} busy={busy} testId="edit-submit" />
      </form>
    </Modal>
  );
}

export function BindForm(props: {
  device: DeviceView;
  targets: OrgView[];
  onClose: () => void;
  onDone: (d: DeviceView) => void;
}): ReactNode {
  const { t } = useTranslation('devices');
  const [org, setOrg] = useState(props.targets[0]?.id ?? '');
  const [submit, error, busy] = useSubmit(async () => {
    const out = await api<DeviceView>(`/devices/${encodeURIComponent(props.device.id)}/bind`, {
      body: { org_id: org },
    });
    props.onDone(out);
  });
  return (
    <Modal
      className="device-dialog"
      title={t('bindTitle', { serial: props.device.serial })}
      onClose={props.onClose}
      testId="bind-dialog"
    >
      <form onSubmit={submit} className="device-form">
        <OrgSelect
          orgs={props.targets}
          value={org}
          onChange={setOrg}
          label={t('bindTo')}
          field="org_id"
          error={error}
        />
        <FormErrorBox error={error} fields={['org_id']} />
        <Buttons onClose={props.onClose} label={t('bind')} busy={busy} testId="bind-submit" />
      </form>
    </Modal>
  );
}

export function UnbindForm(props: {
  device: DeviceView;
  onClose: () => void;
  onDone: () => void;
}): ReactNode {
  const { t } = useTranslation('devices');
  const d = props.device;
  const [reason, setReason] = useState('');
  const [submit, error, busy] = useSubmit(async () => {
    await api(`/devices/${encodeURIComponent(d.id)}/unbind`, {
      body: reason.trim() !== '' ? { reason: reason.trim() } : {},
    });
    props.onDone();
  });
  return (
    <Modal
      className="device-dialog"
      title={t('unbindTitle', { serial: d.serial })}
      onClose={props.onClose}
      testId="unbind-dialog"
    >
      <form onSubmit={submit} className="device-form">
        <p>{t('unbindText', { org: d.org_name })}</p>
        <Field
          label={t('reason')}
          field="reason"
          error={error}
          maxLength={500}
          value={reason}
          onChange={(e) => setReason(e.target.value)}
        />
        <FormErrorBox error={error} fields={['reason']} />
        <Buttons onClose={props.onClose} label={t('unbind')} busy={busy} testId="unbind-submit" />
      </form>
    </Modal>
  );
}

const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

export function ImportForm(props: {
  orgs: OrgView[];
  onClose: () => void;
  onDone: (count: number) => void;
}): ReactNode {
  const { t } = useTranslation('devices');
  const [org, setOrg] = useState(props.orgs[0]?.id ?? '');
  const [file, setFile] = useState<File | undefined>(undefined);
  const [submit, error, busy] = useSubmit(async () => {
    if (!file) return;
    const xlsx = /\.xlsx$/i.test(file.name);
    const r = await api<{ imported: number }>(`/devices/import?org=${encodeURIComponent(org)}`, {
      method: 'POST',
      raw: await file.arrayBuffer(),
      contentType: xlsx ? XLSX_TYPE : 'text/csv',
    });
    props.onDone(r.imported);
  });
  return (
    <Modal
      className="device-dialog"
      title={t('importTitle')}
      onClose={props.onClose}
      testId="import-dialog"
    >
      <form onSubmit={submit} className="device-form">
        <p className="muted">{t('importHelp')}</p>
        <label className="field">
          <span>{t('importFile')}</span>
          <input
            type="file"
            name="file"
            accept=".csv,.xlsx,text/csv"
            required
            onChange={(e) => setFile(e.target.files?.[0])}
          />
        </label>
        <OrgSelect
          orgs={props.orgs}
          value={org}
          onChange={setOrg}
          label={t('importInto')}
          field="org"
          error={undefined}
        />
        {/* The server names the row and the column of the first refused cell. */}
        <ErrorBox error={error?.message} />
        <Buttons
          onClose={props.onClose}
          label={t('importButton')}
          busy={busy}
          testId="import-submit"
        />
      </form>
    </Modal>
  );
}
