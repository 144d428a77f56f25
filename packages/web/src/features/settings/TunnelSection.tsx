/**
 * The UART-over-TCP tunnel (`tunnel`): one bus as a raw TCP port for vendor PC software.
 * Its live status (client, bytes, uptime, time to expiry) is not on the WebSocket, so this
 * one endpoint is asked every few seconds while the tunnel is enabled and the page is open.
 */
import { defaultsOf, FORM_SCHEMAS, parseCidr } from '@openbms/contract/forms';
import { useEffect, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { api, type ApiError } from '../../api/client';
import { useApi } from '../../api/hooks';
import type { BusView } from '@openbms/contract/api';
import { useFmt, type Fmt } from '../../i18n/format';
import { Card, ErrorBox, Stat } from '../../ui';
import { SectionActions, StatusPanel, useSettings } from './common';
import {
  CheckField,
  ListField,
  NumberField,
  OtherIssues,
  SelectField,
  SettingsForm,
  TextField,
  useDraft,
} from './form';
import type { TunnelStatusView } from '@openbms/contract/api';
import type { Obj } from './types';

const POLL_MS = 3000;

const SCHEMA = FORM_SCHEMAS.tunnel;

export function bytes(fmt: Fmt, n: number | undefined): string {
  if (n === undefined) return fmt.num(undefined);
  if (n < 1024) return fmt.unit(n, 'B');
  if (n < 1024 * 1024) return fmt.unit(n / 1024, 'KiB', 1);
  return fmt.unit(n / (1024 * 1024), 'MiB', 2);
}

function useTunnelStatus(on: boolean): {
  status: TunnelStatusView | undefined;
  error: ApiError | undefined;
} {
  const [status, setStatus] = useState<TunnelStatusView | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  useEffect(() => {
    if (!on) {
      setStatus(undefined);
      return;
    }
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ask = async (): Promise<void> => {
      try {
        const s = await api<TunnelStatusView>('/integrations/tunnel');
        if (!live) return;
        setStatus(s);
        setError(undefined);
      } catch (e) {
        if (live) setError(e as ApiError);
      }
      if (live) timer = setTimeout(() => void ask(), POLL_MS);
    };
    void ask();
    return () => {
      live = false;
      if (timer) clearTimeout(timer);
    };
  }, [on]);
  return { status, error };
}

function LiveTunnel(props: {
  status: TunnelStatusView | undefined;
  error: ApiError | undefined;
}): ReactNode {
  const { t } = useTranslation('settings');
  const fmt = useFmt();
  const s = props.status;
  if (props.error) return <ErrorBox error={props.error} />;
  if (!s) return null;
  const c = s.client;
  return (
    <div className="tunnel-live" data-testid="tunnel-live">
      <p className="muted">
        {s.listening ? t('tunnel.busIs', { bus: s.bus }) : t('tunnel.notListening')}
      </p>
      {c ? (
        <div className="stats" data-testid="tunnel-client">
          <Stat
            label={t('tunnel.client')}
            value={<span className="mono">{c.address}</span>}
            sub={fmt.dateTime(Date.parse(c.since))}
          />
          <Stat label={t('tunnel.bytesIn')} value={bytes(fmt, c.bytesIn)} />
          <Stat label={t('tunnel.bytesOut')} value={bytes(fmt, c.bytesOut)} />
          <Stat label={t('tunnel.uptime')} value={fmt.duration(c.uptimeS)} />
          <Stat
            label={t('tunnel.expiresIn')}
            value={fmt.duration(c.expiresInS)}
            sub={c.leased ? undefined : t('tunnel.waitingLease')}
          />
        </div>
      ) : (
        <p className="muted" data-testid="tunnel-no-client">
          {t('tunnel.noClient')}
        </p>
      )}
      <p className="muted small">
        {t('tunnel.sessions', { sessions: fmt.num(s.sessions), refused: fmt.num(s.refused) })}
        {s.lastClose ? ` · ${t('tunnel.lastClose')}: ${s.lastClose}` : ''}
      </p>
      {s.lastError && (
        <p className="status-error">
          {t('status.lastError')}: {s.lastError}
        </p>
      )}
    </div>
  );
}

export function TunnelSection(): ReactNode {
  const { t } = useTranslation('settings');
  const { view } = useSettings();
  const buses = useApi<BusView[]>('/buses');
  const busIds = (buses.data ?? []).map((b) => `${b.site}/${b.id}`);
  const saved = (view?.sections.tunnel ?? null) as Obj | null;
  const defaults: Obj = { ...defaultsOf(SCHEMA), bus: busIds[0] ?? '' };
  const draft = useDraft<Obj>(saved ?? defaults);
  const status = view?.status.tunnel;
  const live = useTunnelStatus(!!status?.enabled);
  return (
    <div className="section-body" data-testid="section-tunnel">
      <Card title={t('tunnel.title')}>
        <p className="muted">{t('tunnel.intro')}</p>
        <p className="warn-text">{t('tunnel.exclusive')}</p>
        <StatusPanel status={status} kind="server">
          <LiveTunnel status={live.status} error={live.error} />
        </StatusPanel>
        <SettingsForm draft={draft} prefix="tunnel" schema={SCHEMA}>
          <CheckField path="enabled" label={t('tunnel.enabled')} />
          <div className="row3">
            <SelectField
              path="bus"
              label={t('tunnel.bus')}
              required
              options={(buses.data ?? []).map((b) => ({
                value: `${b.site}/${b.id}`,
                label: `${b.site}/${b.id} · ${b.protocol}`,
              }))}
            />
            <TextField
              path="host"
              label={t('tunnel.host')}
              hint={t('tunnel.hostHint')}
              required
              mono
            />
            <NumberField
              path="port"
              label={t('tunnel.port')}
              hint={t('tunnel.portHint')}
              required
            />
          </div>
          <NumberField
            path="timeout_s"
            label={t('tunnel.timeout')}
            hint={t('tunnel.timeoutHint')}
            unit="s"
            required
            className="narrow-field"
          />
          <ListField
            path="allow"
            label={t('tunnel.allow')}
            hint={t('tunnel.allowHint')}
            placeholder={'192.168.1.0/24\n10.0.0.5'}
            keepEmpty
            item={(x) => (parseCidr(x) ? undefined : t('v.cidr', { value: x }))}
          />
          <ErrorBox error={buses.error} />
          <OtherIssues />
          <SectionActions
            section="tunnel"
            draft={draft}
            value={() => ({ allow: [], ...draft.value })}
            configured={saved !== null}
          />
        </SettingsForm>
      </Card>
    </div>
  );
}
