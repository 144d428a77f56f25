/**
 * /settings/:section — users and API tokens, the integrations (MQTT, Modbus, tunnel,
 * notifications, metrics) with their test buttons, and the audit log. Every section says
 * which role it needs; a section the user's role does not allow shows why instead.
 */
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'wouter';
import { useApi } from '../../api/hooks';
import type { Role } from '@openbms/contract/api';
import { useAuth } from '../../app/auth';
import { Card, ErrorBox, Spinner } from '../../ui';
import { AuditSection } from './AuditSection';
import { CollectorSection } from './CollectorSection';
import { ConfigBanner, SettingsContext } from './common';
import { MetricsSection } from './MetricsSection';
import { WebServerSection } from './WebServerSection';
import { ModbusSection } from './ModbusSection';
import { MqttSection } from './MqttSection';
import { NotificationsSection } from './NotificationsSection';
import { TokensSection } from './TokensSection';
import { TunnelSection } from './TunnelSection';
import { UsersSection } from './UsersSection';
import type { SettingsView } from '@openbms/contract/api';
import './settings.css';

interface SectionDef {
  id: string;
  /** The least role that may open it (the server checks the same). */
  role: Role;
  /** It edits the config file (needs GET /settings). */
  config: boolean;
  render: () => ReactNode;
}

export const SECTIONS: SectionDef[] = [
  { id: 'users', role: 'admin', config: false, render: () => <UsersSection /> },
  { id: 'tokens', role: 'viewer', config: false, render: () => <TokensSection /> },
  { id: 'mqtt', role: 'admin', config: true, render: () => <MqttSection /> },
  { id: 'modbus', role: 'admin', config: true, render: () => <ModbusSection /> },
  { id: 'tunnel', role: 'admin', config: true, render: () => <TunnelSection /> },
  { id: 'notifications', role: 'operator', config: true, render: () => <NotificationsSection /> },
  { id: 'metrics', role: 'admin', config: true, render: () => <MetricsSection /> },
  { id: 'web', role: 'admin', config: true, render: () => <WebServerSection /> },
  { id: 'collector', role: 'admin', config: false, render: () => <CollectorSection /> },
  { id: 'audit', role: 'admin', config: false, render: () => <AuditSection /> },
];

function LockIcon(): ReactNode {
  return (
    <svg className="lock-icon" viewBox="0 0 16 16" width="14" height="14" aria-hidden="true">
      <rect x="3" y="7" width="10" height="8" rx="1.5" fill="currentColor" />
      <path d="M5 7V5a3 3 0 0 1 6 0v2" fill="none" stroke="currentColor" strokeWidth="1.6" />
    </svg>
  );
}

function Refused(props: { need: Role }): ReactNode {
  const { t } = useTranslation('settings');
  const { me } = useAuth();
  return (
    <Card testId="refused">
      <h2 className="refused-title">
        <LockIcon /> {t('refused.title')}
      </h2>
      <p data-testid="refused-reason">
        {t('refused.reason', {
          need: t(`common:role.${props.need}`),
          mine: me ? t(`common:role.${me.role}`) : '—',
        })}
      </p>
      <p className="muted">{t('refused.ask')}</p>
    </Card>
  );
}

export default function SettingsPage(props: { section: string | undefined }): ReactNode {
  const { t } = useTranslation('settings');
  const { can } = useAuth();
  const admin = can('admin');
  const settings = useApi<SettingsView>(admin ? '/settings' : undefined);
  const allowed = SECTIONS.filter((s) => can(s.role));
  const current = props.section
    ? SECTIONS.find((s) => s.id === props.section)
    : (allowed[0] ?? SECTIONS[0]);
  let body: ReactNode;
  if (!current) {
    body = (
      <Card testId="unknown-section">
        <p>{t('unknownSection', { section: props.section ?? '' })}</p>
      </Card>
    );
  } else if (!can(current.role)) {
    body = <Refused need={current.role} />;
  } else if (current.config && admin && !settings.data) {
    body = settings.error ? <ErrorBox error={settings.error} /> : <Spinner />;
  } else {
    body = current.render();
  }
  return (
    <div className="page settings-page">
      <header className="page-head">
        <h1>{t('title')}</h1>
      </header>
      <div className="settings-layout">
        <nav className="settings-nav" aria-label={t('menu')}>
          <ul>
            {SECTIONS.map((s) => {
              const ok = can(s.role);
              const active = s.id === current?.id;
              return (
                <li key={s.id}>
                  <Link
                    href={`/settings/${s.id}`}
                    className={`${active ? 'active' : ''} ${ok ? '' : 'locked'}`}
                    aria-current={active ? 'page' : undefined}
                    data-testid={`nav-${s.id}`}
                    data-locked={ok ? undefined : 'true'}
                  >
                    <span>{t(`sections.${s.id}`)}</span>
                    {!ok && (
                      <span
                        className="lock"
                        title={t('refused.needs', { need: t(`common:role.${s.role}`) })}
                      >
                        <LockIcon />
                        <span className="sr-only">
                          {t('refused.needs', { need: t(`common:role.${s.role}`) })}
                        </span>
                      </span>
                    )}
                  </Link>
                </li>
              );
            })}
          </ul>
        </nav>
        <div className="settings-content">
          <SettingsContext.Provider
            value={{
              view: settings.data,
              error: settings.error,
              loading: settings.loading,
              reload: settings.reload,
            }}
          >
            {current?.config && admin && <ConfigBanner />}
            {body}
          </SettingsContext.Provider>
        </div>
      </div>
    </div>
  );
}
