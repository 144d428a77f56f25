/** What a click on a battery's marker shows: who it is, its last fix, and how to get there. */
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'wouter';
import type { FleetPositionView } from '@openbms/contract/api';
import { useFmt } from '../../i18n/format';
import { Badge } from '../../ui';
import { navigationLinks } from './geo';

export type LastFix = FleetPositionView['fix'];

export function NavigateLinks(props: { lat: number; lon: number }): ReactNode {
  const { t } = useTranslation('trackers');
  const l = navigationLinks(props.lat, props.lon);
  return (
    <div className="navigate" data-testid="navigate">
      <strong>{t('navigate.title')}</strong>
      <a href={l.geo} className="navigate-geo" data-testid="navigate-geo">
        {t('navigate.geo')}
      </a>
      <a href={l.google} target="_blank" rel="noopener noreferrer" data-testid="navigate-google">
        {t('navigate.google')}
      </a>
      <a href={l.apple} target="_blank" rel="noopener noreferrer" data-testid="navigate-apple">
        {t('navigate.apple')}
      </a>
      <a href={l.osm} target="_blank" rel="noopener noreferrer" data-testid="navigate-osm">
        {t('navigate.osm')}
      </a>
    </div>
  );
}

export function BatteryInfo(props: {
  serial: string;
  nickname?: string;
  org?: string;
  online?: boolean;
  fix: LastFix;
  /** The tracker page's link (on the fleet map). */
  href?: string;
  onClose?: () => void;
}): ReactNode {
  const { t } = useTranslation('trackers');
  const fmt = useFmt();
  const f = props.fix;
  const row = (k: string, v: ReactNode) => (
    <>
      <dt>{t(`info.${k}`)}</dt>
      <dd data-testid={`info-${k}`}>{v}</dd>
    </>
  );
  return (
    <section className="card battery-info" data-testid="battery-info" aria-label={t('info.title')}>
      <header className="card-head">
        <h2>
          {t('info.title')} <code>{props.serial}</code>
        </h2>
        <div className="card-actions">
          {props.online !== undefined && (
            <Badge tone={props.online ? 'ok' : 'muted'}>
              {t(props.online ? 'info.online' : 'info.offline')}
            </Badge>
          )}
          {props.onClose && (
            <button type="button" onClick={props.onClose} data-testid="info-close">
              {t('info.close')}
            </button>
          )}
        </div>
      </header>
      <dl className="info-grid">
        {row('id', <code>{props.serial}</code>)}
        {props.nickname !== undefined && row('nickname', props.nickname)}
        {props.org !== undefined && row('org', props.org)}
        {f.soc !== undefined && row('soc', fmt.pct(f.soc))}
        {f.voltage !== undefined && row('voltage', fmt.unit(f.voltage, 'V', 2))}
        {row('reported', `${fmt.dateTime(f.t)} (${fmt.ago(f.t)})`)}
        {row('speed', fmt.unit(f.speed_kmh, 'km/h', 1))}
        {f.course !== undefined && row('course', fmt.unit(f.course, '°'))}
        {row('satellites', fmt.num(f.satellites))}
        {row('locate', t('info.gpsFix'))}
        {f.signal !== undefined && row('signal', `${fmt.num(f.signal)} / 31`)}
        {f.iccid !== undefined && row('sim', <code>{f.iccid}</code>)}
        {row('position', `${f.lat.toFixed(6)}, ${f.lon.toFixed(6)}`)}
      </dl>
      <NavigateLinks lat={f.lat} lon={f.lon} />
      {props.href && (
        <p>
          <Link href={props.href} data-testid="info-open">
            {t('info.open')}
          </Link>
        </p>
      )}
    </section>
  );
}
