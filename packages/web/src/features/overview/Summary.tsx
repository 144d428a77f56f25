/** The site summary and the parallel-system cards of the overview. */
import { useFmt } from '../../i18n/format';
import { memo, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'wouter';
import { Card, severityTone, Stat } from '../../ui';
import {
  AlarmBadge,
  SocBar,
  StateBadge,
  fmtPower,
  fmtTempRange,
  powerClass,
  socTone,
} from '../../site/bits';
import { parallelPath, type SystemRow, type Totals } from '../../site/model';

export function SiteSummary(props: { totals: Totals; alarmsLoaded: boolean }): ReactNode {
  const { t } = useTranslation('overview');
  const fmt = useFmt();
  const s = props.totals;
  const offline = s.packs - s.online;
  const dir =
    s.state === 'charging'
      ? t('summary.charging')
      : s.state === 'discharging'
        ? t('summary.discharging')
        : s.state === 'idle'
          ? t('summary.idle')
          : undefined;
  return (
    <section className="card ov-summary" aria-label={t('summary.label')} data-testid="summary">
      <div className="stats">
        <Stat
          testId="summary-online"
          label={t('summary.packs')}
          value={t('summary.packsValue', { online: s.online, total: s.packs })}
          sub={offline > 0 ? t('summary.offline', { count: offline }) : t('summary.allOnline')}
        />
        <Stat
          testId="summary-power"
          label={t('summary.power')}
          value={<span className={powerClass(s.power)}>{fmtPower(fmt, s.power)}</span>}
          sub={dir}
        />
        <Stat
          testId="summary-soc"
          label={t('summary.soc')}
          value={<span className={`tone-text-${socTone(s.soc)}`}>{fmt.pct(s.soc, 1)}</span>}
          sub={t('summary.socHint')}
        />
        <Stat
          testId="summary-alarms"
          label={t('summary.alarms')}
          value={
            <span
              className={
                s.alarms.count > 0 ? `tone-text-${severityTone(s.alarms.worst ?? 'warning')}` : ''
              }
            >
              {props.alarmsLoaded ? fmt.num(s.alarms.count) : fmt.num(undefined)}
            </span>
          }
          sub={<Link href="/alarms">{t('summary.alarmsLink')}</Link>}
        />
      </div>
    </section>
  );
}

export const SystemCard = memo(function SystemCard(props: { system: SystemRow }): ReactNode {
  const { t } = useTranslation('overview');
  const fmt = useFmt();
  const s = props.system;
  const tot = s.totals;
  return (
    <Card
      className="ov-system"
      testId="system-card"
      title={
        <Link
          href={parallelPath(s.site, s.bus)}
          data-testid="system-link"
          aria-label={t('systems.open', { bus: s.bus })}
        >
          {t('systems.name', { bus: s.bus })}
        </Link>
      }
      actions={
        <span className="muted" data-field="online-count">
          {t('systems.packs', { online: tot.online, total: tot.packs })}
        </span>
      }
    >
      <div data-system={`${s.site}/${s.bus}`} className="ov-system-body">
        <div className="ov-where muted">
          {s.siteName} · {s.protocol}
        </div>
        <div className="ov-soc">
          <SocBar soc={tot.soc} />
          <span className="ov-soc-value" data-field="soc">
            {fmt.pct(tot.soc, 1)}
          </span>
        </div>
        <dl className="ov-kv">
          <div>
            <dt>{t('systems.busCurrent')}</dt>
            <dd data-field="current">{fmt.unit(tot.current, 'A', 1)}</dd>
          </div>
          <div>
            <dt>{t('col.power')}</dt>
            <dd data-field="power">{fmtPower(fmt, tot.power)}</dd>
          </div>
          <div>
            <dt>{t('col.voltage')}</dt>
            <dd data-field="voltage">{fmt.unit(tot.voltage, 'V', 2)}</dd>
          </div>
          <div className="ov-kv-wide">
            <dt>{t('col.temp')}</dt>
            <dd data-field="temp">{fmtTempRange(fmt, tot.tmin, tot.tmax)}</dd>
          </div>
          <div>
            <dt>{t('col.delta')}</dt>
            <dd data-field="delta">{fmt.unit(tot.deltaMax, 'mV', 0)}</dd>
          </div>
        </dl>
        <ol className="ov-strip" aria-label={t('packs.title')}>
          {s.rows.map((r) => (
            <li
              key={r.pack.id}
              className={`tone-${r.online ? socTone(r.soc) : 'muted'}${
                r.pack.id === s.master ? ' is-master' : ''
              }`}
              title={`${r.pack.name}: ${fmt.pct(r.soc, 0)}`}
            >
              <span style={{ height: `${Math.max(0, Math.min(100, r.soc ?? 0))}%` }} />
            </li>
          ))}
        </ol>
        <div className="ov-pack-foot">
          <StateBadge state={tot.state} online={tot.online > 0} />
          <AlarmBadge alarms={tot.alarms} />
        </div>
      </div>
    </Card>
  );
});
