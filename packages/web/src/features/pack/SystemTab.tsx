/**
 * System (seeds 004 "System configuration / product information", 002 device info):
 * what the device says it is, how it is reached, and how well the link is doing. The
 * link counters are not in the live stream: they are read when the tab opens and on
 * Refresh (no polling).
 */
import { useEffect, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { DeviceInfo } from '@openbms/core';
import { packPath } from '../../api/client';
import { useApi } from '../../api/hooks';
import type { PackView, Snapshot } from '@openbms/contract/api';
import { useFmt } from '../../i18n/format';
import { Card, ErrorBox } from '../../ui';
import type { TabProps } from '../../app/pack-tab';
import { useNow } from './useNow';
import './pack.css';

/** Device identity fields, with the `raw` names families use when they give no `info`. */
const INFO_FIELDS: [keyof DeviceInfo, string, string[]][] = [
  ['model', 'model', ['model']],
  ['manufacturer', 'manufacturer', ['manufacturer']],
  ['device_name', 'deviceName', ['device_name']],
  ['hw_version', 'hwVersion', ['hardware_version', 'hw_version']],
  ['sw_version', 'swVersion', ['software_version', 'sw_version']],
  ['serial', 'serial', ['serial', 'serial_number']],
  ['barcode', 'barcode', ['barcode', 'bar_code']],
  ['protocol_version', 'protocolVersion', ['protocol_version']],
  ['manufacture_date', 'manufactureDate', ['manufacture_date']],
];

function infoValue(
  s: Snapshot | null,
  key: keyof DeviceInfo,
  rawKeys: string[],
): string | undefined {
  const v = s?.info?.[key];
  if (typeof v === 'string' && v.trim() !== '') return v.trim();
  const raw = s?.raw ?? {};
  for (const k of rawKeys) {
    const r = raw[k];
    if (typeof r === 'string' && r.trim() !== '') return r.replace(/-+$/, '').trim();
  }
  return undefined;
}

export default function SystemTab(props: TabProps): ReactNode {
  const { t } = useTranslation('pack');
  const fmt = useFmt();
  const pack = props.pack;
  const s = pack.snapshot;
  const fresh = useApi<PackView>(packPath(pack.id));
  const [readAt, setReadAt] = useState<number | undefined>(undefined);
  const link = fresh.data?.link ?? pack.link;
  const now = useNow(5000);
  const lastSeen = pack.last_seen ?? fresh.data?.last_seen ?? null;
  useEffect(() => {
    if (fresh.data) setReadAt(Date.now());
  }, [fresh.data]);
  const rate = link.requests > 0 ? (link.replies / link.requests) * 100 : undefined;

  return (
    <div className="pack-cols" data-testid="system-tab">
      <Card title={t('system.device')} testId="system-device">
        <dl className="kv">
          {INFO_FIELDS.map(([key, label, rawKeys]) => {
            const v = infoValue(s, key, rawKeys);
            return (
              <div key={key} data-testid={`system-${key}`}>
                <dt>{t(`system.${label}`)}</dt>
                <dd className={v === undefined ? 'muted' : 'mono'}>
                  {v ?? t('system.notReported')}
                </dd>
              </div>
            );
          })}
        </dl>
      </Card>
      <Card title={t('system.connection')} testId="system-connection">
        <dl className="kv">
          <Row k="protocol" label={t('system.protocol')} v={pack.protocol} mono />
          <Row k="address" label={t('system.address')} v={String(pack.address)} mono />
          <Row k="site" label={t('system.site')} v={pack.site} mono />
          <Row k="bus" label={t('system.bus')} v={pack.bus} mono />
          <Row k="chemistry" label={t('system.chemistry')} v={t(`system.${pack.chemistry}`)} />
          <Row k="variant" label={t('system.variant')} v={pack.variant ?? t('system.none')} />
        </dl>
      </Card>
      <Card
        title={t('system.link')}
        testId="system-link"
        actions={
          <button
            type="button"
            onClick={fresh.reload}
            disabled={fresh.loading}
            data-testid="system-refresh"
          >
            {t('common:refresh')}
          </button>
        }
      >
        <ErrorBox error={fresh.error} />
        <dl className="kv">
          <Row k="polls" label={t('system.polls')} v={fmt.num(link.polls)} num value={link.polls} />
          <Row
            k="requests"
            label={t('system.requests')}
            v={fmt.num(link.requests)}
            num
            value={link.requests}
          />
          <Row
            k="replies"
            label={t('system.replies')}
            v={fmt.num(link.replies)}
            num
            value={link.replies}
          />
          <Row k="reply-rate" label={t('system.replyRate')} v={fmt.pct(rate, 1)} num />
          <Row
            k="failures"
            label={t('system.failures')}
            v={fmt.num(link.failures)}
            num
            value={link.failures}
          />
          <Row
            k="retries"
            label={t('system.retries')}
            v={fmt.num(link.retries)}
            num
            value={link.retries}
          />
          <Row
            k="timeouts"
            label={t('system.timeouts')}
            v={fmt.num(link.timeouts)}
            num
            value={link.timeouts}
          />
          <Row
            k="checksum-errors"
            label={t('system.checksumErrors')}
            v={fmt.num(link.checksum_errors)}
            num
            value={link.checksum_errors}
          />
          <Row
            k="last-error"
            label={t('system.lastError')}
            v={link.last_error ?? t('system.noError')}
            wrap
          />
          <Row
            k="last-seen"
            label={t('system.lastSeen')}
            v={
              lastSeen === null
                ? t('status.never')
                : `${fmt.dateTime(lastSeen)} (${fmt.ago(lastSeen, Math.max(now, lastSeen))})`
            }
          />
        </dl>
        {readAt !== undefined && (
          <p className="muted small">{t('system.asOf', { time: fmt.time(readAt) })}</p>
        )}
      </Card>
      <RawCard s={s} />
    </div>
  );
}

function Row(props: {
  k: string;
  label: string;
  v: string;
  mono?: boolean;
  num?: boolean;
  wrap?: boolean;
  value?: number;
}): ReactNode {
  const cls = [props.mono ? 'mono' : '', props.num ? 'num' : '', props.wrap ? 'wrap' : '']
    .filter(Boolean)
    .join(' ');
  return (
    <div data-testid={`system-${props.k}`} data-value={props.value}>
      <dt>{props.label}</dt>
      <dd className={cls || undefined}>{props.v}</dd>
    </div>
  );
}

function rawText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  const s = JSON.stringify(v);
  return s.length > 300 ? `${s.slice(0, 300)}…` : s;
}

function RawCard({ s }: { s: Snapshot | null }): ReactNode {
  const { t } = useTranslation('pack');
  const entries = Object.entries(s?.raw ?? {}).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return null;
  return (
    <Card className="raw-card" testId="system-raw">
      <details>
        <summary>
          <h2 className="inline-h">{t('system.raw')}</h2>{' '}
          <span className="muted">({entries.length})</span>
        </summary>
        <p className="muted small">{t('system.rawHelp')}</p>
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t('system.key')}</th>
                <th scope="col">{t('system.value')}</th>
              </tr>
            </thead>
            <tbody>
              {entries.map(([k, v]) => (
                <tr key={k}>
                  <td className="mono">{k}</td>
                  <td className="mono wrap">{rawText(v)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </Card>
  );
}
