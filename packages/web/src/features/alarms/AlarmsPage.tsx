/**
 * Every pack's active and recent alarms (seed 003 "Alarm" list, seed 002 fault messages),
 * filtered by pack, severity and status, with acknowledgement and links to the pack. The
 * pack filter asks the server (so older pages are that pack's); severity and status filter
 * what is loaded.
 */
import { useMemo, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { usePacks } from '../../api/live';
import type { AlarmView } from '@openbms/contract/api';
import { Badge, Card, ErrorBox, Spinner, severityTone } from '../../ui';
import { AlarmTable } from '../../alarm-list/AlarmTable';
import { useAlarmFeed } from '../../alarm-list/useAlarmFeed';
import '../../alarm-list/alarms.css';

const SEVERITIES = ['fault', 'protection', 'warning'] as const;
const STATUSES = ['active', 'cleared', 'acknowledged', 'unacknowledged'] as const;
type Status = (typeof STATUSES)[number];

function matches(a: AlarmView, severity: string, status: Status | ''): boolean {
  if (severity !== '' && a.severity !== severity) return false;
  switch (status) {
    case 'active':
      return a.cleared_at === undefined;
    case 'cleared':
      return a.cleared_at !== undefined;
    case 'acknowledged':
      return a.acknowledged_at !== undefined;
    case 'unacknowledged':
      return a.acknowledged_at === undefined;
    default:
      return true;
  }
}

export default function AlarmsPage(): ReactNode {
  const { t } = useTranslation('alarms');
  const packs = usePacks();
  const [pack, setPack] = useState('');
  const [severity, setSeverity] = useState('');
  const [status, setStatus] = useState<Status | ''>('');
  const feed = useAlarmFeed(pack === '' ? undefined : pack);
  const names = useMemo(() => new Map(packs.map((p) => [p.id, p.name])), [packs]);
  const shown = feed.alarms.filter((a) => matches(a, severity, status));
  const active = feed.alarms.filter((a) => a.cleared_at === undefined);

  return (
    <div className="page alarms-page" data-testid="alarms-page">
      <div className="page-head">
        <h1>{t('title')}</h1>
        <p className="muted">{t('intro')}</p>
      </div>
      <div className="alarm-summary" data-testid="alarm-summary" data-active={active.length}>
        <strong>{t('activeCount', { count: active.length })}</strong>
        {SEVERITIES.map((s) => {
          const n = active.filter((a) => a.severity === s).length;
          return n === 0 ? null : (
            <Badge key={s} tone={severityTone(s)}>
              {t('bySeverity', { severity: t(`common:severity.${s}`), count: n })}
            </Badge>
          );
        })}
      </div>
      <Card>
        <fieldset className="alarm-filters">
          <legend className="sr-only">{t('filters')}</legend>
          <label className="field">
            <span>{t('pack')}</span>
            <select
              value={pack}
              onChange={(e) => setPack(e.target.value)}
              data-testid="filter-pack"
            >
              <option value="">{t('allPacks')}</option>
              {packs.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name}
                </option>
              ))}
            </select>
          </label>
          <label className="field">
            <span>{t('severity')}</span>
            <select
              value={severity}
              onChange={(e) => setSeverity(e.target.value)}
              data-testid="filter-severity"
            >
              <option value="">{t('allSeverities')}</option>
              {SEVERITIES.map((s) => (
                <option key={s} value={s}>
                  {t(`common:severity.${s}`)}
                </option>
              ))}
            </select>
          </label>
          <label className="field">
            <span>{t('status')}</span>
            <select
              value={status}
              onChange={(e) => setStatus(e.target.value as Status | '')}
              data-testid="filter-status"
            >
              <option value="">{t('anyStatus')}</option>
              {STATUSES.map((s) => (
                <option key={s} value={s}>
                  {t(s)}
                </option>
              ))}
            </select>
          </label>
        </fieldset>
        <ErrorBox error={feed.error} />
        {feed.loading ? (
          <Spinner />
        ) : (
          <>
            <AlarmTable
              alarms={shown}
              packName={(id) => names.get(id) ?? id}
              empty={feed.alarms.length === 0 ? t('none') : t('noneMatch')}
              testId="alarms-list"
              onAck={feed.ack}
            />
            <div className="alarm-more">
              <span className="muted small">{t('shown', { count: shown.length })}</span>
              {feed.hasMore ? (
                <button
                  type="button"
                  onClick={() => void feed.loadOlder()}
                  disabled={feed.loadingOlder}
                  data-testid="load-older"
                >
                  {t('loadOlder')}
                </button>
              ) : (
                feed.alarms.length > 0 && <span className="muted small">{t('noMore')}</span>
              )}
            </div>
          </>
        )}
      </Card>
    </div>
  );
}
