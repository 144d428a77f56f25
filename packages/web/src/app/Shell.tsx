/** The frame around every page: navigation, live indicator, language, theme, account. */
import { useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useLocation } from 'wouter';
import { useLiveState } from '../api/live';
import { LANGUAGES, setLanguage, type Lang } from '../i18n';
import { useShowPlants } from '../features/plants/nav';
import { useAuth } from './auth';
import { useDeviceNav } from '../features/devices/nav';
import { useTheme, type Theme } from './prefs';

export function PrefsBar(props: { standalone?: boolean }): ReactNode {
  const { t, i18n } = useTranslation();
  const [theme, setTheme] = useTheme();
  return (
    <div className={props.standalone ? 'prefs prefs-standalone' : 'prefs'}>
      <label>
        <span className="sr-only">{t('prefs.language')}</span>
        <select
          aria-label={t('prefs.language')}
          data-testid="language"
          value={i18n.language}
          onChange={(e) => setLanguage(e.target.value as Lang)}
        >
          {LANGUAGES.map((l) => (
            <option key={l.id} value={l.id}>
              {l.label}
            </option>
          ))}
        </select>
      </label>
      <label>
        <span className="sr-only">{t('prefs.theme')}</span>
        <select
          aria-label={t('prefs.theme')}
          data-testid="theme"
          value={theme}
          onChange={(e) => setTheme(e.target.value as Theme)}
        >
          <option value="system">{t('prefs.system')}</option>
          <option value="light">{t('prefs.light')}</option>
          <option value="dark">{t('prefs.dark')}</option>
        </select>
      </label>
    </div>
  );
}

function LiveDot(): ReactNode {
  const { t } = useTranslation();
  const { state } = useLiveState();
  return (
    <span className={`live-dot live-${state}`} data-testid="live-state" data-state={state}>
      <span aria-hidden="true">●</span> {t(`live.${state}`)}
    </span>
  );
}

export function Shell(props: { children: ReactNode }): ReactNode {
  const { t } = useTranslation();
  const { me, logout } = useAuth();
  const [location] = useLocation();
  const [open, setOpen] = useState(false);
  const plants = useShowPlants();
  const nav = [
    { href: '/', label: t('nav.overview') },
    { href: '/alarms', label: t('nav.alarms') },
    { href: '/files', label: t('nav.files') },
    ...(me?.role === 'admin' ? [{ href: '/buses', label: t('nav.buses') }] : []),
    ...(plants ? [{ href: '/plants', label: t('plants:nav') }] : []),
    { href: '/orgs', label: t('nav.orgs') },
    ...useDeviceNav(),
    { href: '/settings', label: t('nav.settings') },
    { href: '/wall', label: t('nav.wall') },
  ];
  const active = (href: string) =>
    href === '/'
      ? location === '/' || location.startsWith('/packs') || location.startsWith('/parallel')
      : location.startsWith(href);
  return (
    <div className="shell">
      <a href="#main" className="skip">
        {t('skipToContent')}
      </a>
      <header className={open ? 'topbar open' : 'topbar'}>
        <Link href="/" className="brand">
          <span className="logo" aria-hidden="true" />
          OpenBMS
        </Link>
        <LiveDot />
        <button
          type="button"
          className="menu-button"
          aria-expanded={open}
          aria-controls="mainnav"
          onClick={() => setOpen(!open)}
        >
          {t('nav.menu')}
        </button>
        <nav id="mainnav" className="nav" aria-label={t('nav.menu')}>
          {nav.map((n) => (
            <Link
              key={n.href}
              href={n.href}
              className={active(n.href) ? 'active' : ''}
              aria-current={active(n.href) ? 'page' : undefined}
              onClick={() => setOpen(false)}
            >
              {n.label}
            </Link>
          ))}
        </nav>
        <div className="topbar-right">
          <PrefsBar />
          {me && (
            <Link href="/account" className="user" title={t(`role.${me.role}`)}>
              {me.username}
            </Link>
          )}
          <button type="button" onClick={() => void logout()} data-testid="logout">
            {t('nav.logout')}
          </button>
        </div>
      </header>
      <main id="main" className="main" tabIndex={-1}>
        {props.children}
      </main>
    </div>
  );
}
