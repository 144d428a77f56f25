/**
 * The overview (/): the site summary, every parallel system and every pack, live.
 * Filter, search, sort and layout live in the URL query (?filter=offline&q=jk&sort=soc
 * &dir=desc&view=list), so a reload or a shared link shows the same view.
 */
import { useEffect, useMemo, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { useLocation, useSearchParams } from 'wouter';
import { WELCOME_KEY, useAuth } from '../../app/auth';
import { useLiveState } from '../../api/live';
import { Card, ErrorBox, Spinner } from '../../ui';
import { useNow } from '../../site/bits';
import { useSiteModel } from '../../site/hooks';
import {
  FILTERS,
  SORTS,
  defaultDir,
  filterCounts,
  matchesFilter,
  matchesSearch,
  sortRows,
  totals,
  type SortDir,
  type SortKey,
} from '../../site/model';
import { VirtualCards, VirtualList } from './PackViews';
import { SiteSummary, SystemCard } from './Summary';
import '../../site/site.css';

type View = 'cards' | 'list';
const NARROW = '(max-width: 760px)';

function useNarrow(): boolean {
  const [narrow, setNarrow] = useState(() => window.matchMedia(NARROW).matches);
  useEffect(() => {
    const mq = window.matchMedia(NARROW);
    const f = () => setNarrow(mq.matches);
    mq.addEventListener('change', f);
    return () => mq.removeEventListener('change', f);
  }, []);
  return narrow;
}

const oneOf = <T extends string>(all: readonly T[], v: string | null, d: T): T =>
  v !== null && (all as readonly string[]).includes(v) ? (v as T) : d;

export function OverviewPage(): ReactNode {
  const { t } = useTranslation('overview');
  const [params, setParams] = useSearchParams();
  const narrow = useNarrow();
  const now = useNow(5000);
  const { loaded } = useLiveState();
  const { rows, systems, alarms, topology } = useSiteModel();

  const filter = oneOf(FILTERS, params.get('filter'), 'all');
  const q = params.get('q') ?? '';
  const sort = oneOf(SORTS, params.get('sort'), 'name');
  const dir = oneOf<SortDir>(['asc', 'desc'], params.get('dir'), defaultDir(sort));
  const view = oneOf<View>(['cards', 'list'], params.get('view'), narrow ? 'list' : 'cards');

  const set = (changes: Record<string, string | undefined>) =>
    setParams(
      (prev) => {
        const next = new URLSearchParams(prev);
        for (const [k, v] of Object.entries(changes)) {
          if (v === undefined || v === '') next.delete(k);
          else next.set(k, v);
        }
        return next;
      },
      { replace: true },
    );

  const searched = useMemo(() => rows.filter((r) => matchesSearch(r, q)), [rows, q]);
  const counts = useMemo(() => filterCounts(searched), [searched]);
  const shown = useMemo(
    () =>
      sortRows(
        searched.filter((r) => matchesFilter(r, filter)),
        sort,
        dir,
      ),
    [searched, filter, sort, dir],
  );
  const shownIds = useMemo(() => new Set(shown.map((r) => r.pack.id)), [shown]);
  const shownSystems = useMemo(
    () => systems.filter((s) => s.rows.some((r) => shownIds.has(r.pack.id))),
    [systems, shownIds],
  );
  const site = useMemo(() => totals(rows), [rows]);

  const onSort = (k: SortKey) => {
    if (k === sort) set({ dir: dir === 'asc' ? 'desc' : 'asc' });
    else set({ sort: k === 'name' ? undefined : k, dir: undefined });
  };

  if (!loaded && rows.length === 0) return <Spinner />;

  return (
    <div className="page overview" data-testid="overview">
      <div className="page-head">
        <h1>{t('title')}</h1>
        <div className="muted">{t('subtitle')}</div>
      </div>
      <ErrorBox error={alarms.error ?? topology.error} />
      <Welcome />
      <SiteSummary totals={site} alarmsLoaded={alarms.loaded} />

      <div className="toolbar ov-toolbar" role="search">
        <div className="ov-filters" role="group" aria-label={t('filter.label')}>
          {FILTERS.map((f) => (
            <button
              key={f}
              type="button"
              className={f === filter ? 'ov-chip active' : 'ov-chip'}
              aria-pressed={f === filter}
              data-testid={`filter-${f}`}
              onClick={() => set({ filter: f === 'all' ? undefined : f })}
            >
              {t(`filter.${f}`)} <span className="ov-count">{counts[f]}</span>
            </button>
          ))}
        </div>
        <label className="ov-search">
          <span className="sr-only">{t('search.label')}</span>
          <input
            type="search"
            value={q}
            placeholder={t('search.placeholder')}
            aria-label={t('search.label')}
            data-testid="search"
            onChange={(e) => set({ q: e.target.value })}
          />
        </label>
        <div className="ov-sort">
          <label>
            <span className="sr-only">{t('sort.label')}</span>
            <select
              value={sort}
              aria-label={t('sort.label')}
              data-testid="sort"
              onChange={(e) =>
                set({
                  sort: e.target.value === 'name' ? undefined : e.target.value,
                  dir: undefined,
                })
              }
            >
              {SORTS.map((k) => (
                <option key={k} value={k}>
                  {t('sort.label')}: {t(`sort.${k}`)}
                </option>
              ))}
            </select>
          </label>
          <button
            type="button"
            data-testid="sort-dir"
            data-dir={dir}
            title={t('sort.toggle')}
            aria-label={`${t('sort.toggle')} (${t(`sort.${dir}`)})`}
            onClick={() => set({ dir: dir === 'asc' ? 'desc' : 'asc' })}
          >
            <span aria-hidden="true">{dir === 'asc' ? '↑' : '↓'}</span> {t(`sort.${dir}`)}
          </button>
        </div>
        <div className="ov-view" role="group" aria-label={t('view.label')}>
          {(['cards', 'list'] as const).map((v) => (
            <button
              key={v}
              type="button"
              aria-pressed={v === view}
              className={v === view ? 'ov-chip active' : 'ov-chip'}
              data-testid={`view-${v}`}
              onClick={() => set({ view: v })}
            >
              {t(`view.${v}`)}
            </button>
          ))}
        </div>
      </div>

      {shownSystems.length > 0 && (
        <section className="ov-section" aria-labelledby="ov-systems-h">
          <h2 id="ov-systems-h">{t('systems.title')}</h2>
          <div className="grid ov-systems">
            {shownSystems.map((s) => (
              <SystemCard key={`${s.site}/${s.bus}`} system={s} />
            ))}
          </div>
        </section>
      )}

      <section className="ov-section" aria-labelledby="ov-packs-h">
        <h2 id="ov-packs-h">
          {t('packs.title')}{' '}
          <span className="muted ov-shown" data-testid="shown-count">
            {t('packs.shown', { shown: shown.length, total: rows.length })}
          </span>
        </h2>
        {rows.length === 0 ? (
          <p className="muted">{t('noPacks')}</p>
        ) : shown.length === 0 ? (
          <p className="muted" data-testid="empty">
            {t('empty')}
          </p>
        ) : view === 'cards' ? (
          <VirtualCards rows={shown} now={now} />
        ) : (
          <VirtualList rows={shown} now={now} sort={sort} dir={dir} onSort={onSort} />
        )}
      </section>
    </div>
  );
}

/** The first visit after the admin was created: keep the demo, or add the owner's battery. */
function Welcome(): ReactNode {
  const { t } = useTranslation('buses');
  const [, navigate] = useLocation();
  const { me } = useAuth();
  const [open, setOpen] = useState(() => localStorage.getItem(WELCOME_KEY) === '1');
  if (!open || me?.role !== 'admin') return null;
  const close = () => {
    localStorage.removeItem(WELCOME_KEY);
    setOpen(false);
  };
  return (
    <Card title={t('welcome.title')} testId="welcome">
      <p>{t('welcome.body')}</p>
      <div className="form-actions">
        <button type="button" data-testid="welcome-demo" onClick={close}>
          {t('welcome.demo')}
        </button>
        <button
          type="button"
          className="primary"
          data-testid="welcome-mine"
          onClick={() => {
            close();
            navigate('/buses');
          }}
        >
          {t('welcome.mine')}
        </button>
      </div>
    </Card>
  );
}
