/**
 * The pack list in two layouts, both virtualised against the page's own scroll (only the
 * rows in view and a few around them are in the DOM, so a thousand packs stay smooth):
 * cards in as many columns as fit, and a table-like list that folds into two lines on
 * phones.
 */
import { useWindowVirtualizer } from '@tanstack/react-virtual';
import { memo, useLayoutEffect, useRef, useState, type ReactNode, type RefObject } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'wouter';
import { packPath } from '../../api/client';
import { useFmt, type Fmt } from '../../i18n/format';
import {
  AlarmBadge,
  OnlineBadge,
  SocBar,
  StateBadge,
  fmtPower,
  fmtTempCompact,
  fmtTempRange,
} from '../../site/bits';
import type { PackRow, SortDir, SortKey } from '../../site/model';

/** Where an element starts in the page, kept current as what is above it changes. */
function useScrollMargin(ref: RefObject<HTMLElement | null>): number {
  const [margin, setMargin] = useState(0);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => {
      const top = el.getBoundingClientRect().top + window.scrollY;
      setMargin((m) => (Math.abs(m - top) > 0.5 ? top : m));
    };
    measure();
    // Anything above that grows or shrinks changes the page's height too.
    const ro = new ResizeObserver(measure);
    ro.observe(document.body);
    return () => ro.disconnect();
  }, [ref]);
  return margin;
}

/** How many columns of at least `min` px fit the element's width. */
function useColumns(ref: RefObject<HTMLElement | null>, min: number, gap: number): number {
  const [cols, setCols] = useState(1);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => {
      const w = el.clientWidth;
      setCols(Math.max(1, Math.floor((w + gap) / (min + gap))));
    };
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, [ref, min, gap]);
  return cols;
}

function lastSeenText(fmt: Fmt, t: (k: string) => string, r: PackRow, now: number): string {
  // A clock behind the server's would otherwise read "in 2 seconds".
  return r.lastSeen === undefined
    ? t('pack.never')
    : fmt.ago(r.lastSeen, Math.max(now, r.lastSeen));
}

export const PackCard = memo(function PackCard(props: { row: PackRow; now: number }): ReactNode {
  const { t } = useTranslation('overview');
  const fmt = useFmt();
  const r = props.row;
  const p = r.pack;
  return (
    <article
      className={`card ov-pack${r.online ? '' : ' is-offline'}`}
      data-testid="pack-card"
      data-pack-id={p.id}
    >
      <header className="ov-pack-head">
        <h3>
          <Link href={packPath(p.id)} data-testid="pack-link">
            {p.name}
          </Link>
        </h3>
        <OnlineBadge online={r.online} />
      </header>
      <div className="ov-where muted">
        {t('pack.where', { address: p.address, bus: p.bus, protocol: p.protocol })}
      </div>
      <div className="ov-soc">
        <SocBar soc={r.soc} />
        <span className="ov-soc-value" data-field="soc">
          {fmt.pct(r.soc, 1)}
        </span>
      </div>
      <dl className="ov-kv">
        <div>
          <dt>{t('col.voltage')}</dt>
          <dd data-field="voltage">{fmt.unit(r.voltage, 'V', 2)}</dd>
        </div>
        <div>
          <dt>{t('col.current')}</dt>
          <dd data-field="current">{fmt.unit(r.current, 'A', 1)}</dd>
        </div>
        <div>
          <dt>{t('col.power')}</dt>
          <dd data-field="power">{fmtPower(fmt, r.power)}</dd>
        </div>
        <div className="ov-kv-wide">
          <dt>{t('col.temp')}</dt>
          <dd data-field="temp">{fmtTempRange(fmt, r.tmin, r.tmax)}</dd>
        </div>
        <div>
          <dt>{t('col.delta')}</dt>
          <dd data-field="delta">{fmt.unit(r.delta, 'mV', 0)}</dd>
        </div>
      </dl>
      <footer className="ov-pack-foot">
        <StateBadge state={r.state} online={r.online} />
        <AlarmBadge alarms={r.alarms} />
        <span className="ov-seen muted" data-field="seen" title={t('col.seen')}>
          {lastSeenText(fmt, t, r, props.now)}
        </span>
      </footer>
      {(r.identity.serial ?? r.identity.barcode) && (
        <div className="ov-serial muted">
          {r.identity.serial && (
            <span>
              {t('col.serial')} {r.identity.serial}
            </span>
          )}
          {r.identity.barcode && (
            <span>
              {t('col.barcode')} {r.identity.barcode}
            </span>
          )}
        </div>
      )}
    </article>
  );
});

const CARD_MIN = 270;
const GAP = 16;

export function VirtualCards(props: { rows: PackRow[]; now: number }): ReactNode {
  const ref = useRef<HTMLDivElement>(null);
  const cols = useColumns(ref, CARD_MIN, GAP);
  const margin = useScrollMargin(ref);
  const lines = Math.ceil(props.rows.length / cols);
  const v = useWindowVirtualizer({
    count: lines,
    estimateSize: () => 250,
    overscan: 3,
    gap: GAP,
    scrollMargin: margin,
    useFlushSync: false,
  });
  return (
    <div ref={ref} className="ov-vcards" data-testid="pack-cards">
      <div style={{ height: v.getTotalSize(), position: 'relative' }}>
        {v.getVirtualItems().map((line) => (
          <div
            key={line.key}
            data-index={line.index}
            ref={v.measureElement}
            className="ov-card-line"
            style={{
              gridTemplateColumns: `repeat(${cols}, minmax(0, 1fr))`,
              transform: `translateY(${line.start - v.options.scrollMargin}px)`,
            }}
          >
            {props.rows.slice(line.index * cols, line.index * cols + cols).map((r) => (
              <PackCard key={r.pack.id} row={r} now={props.now} />
            ))}
          </div>
        ))}
      </div>
    </div>
  );
}

const ListRow = memo(function ListRow(props: { row: PackRow; now: number }): ReactNode {
  const { t } = useTranslation('overview');
  const fmt = useFmt();
  const r = props.row;
  const p = r.pack;
  return (
    <>
      <div role="cell" className="c-name">
        <Link href={packPath(p.id)} data-testid="pack-link">
          {p.name}
        </Link>
        <span className="ov-where muted">
          {t('pack.where', { address: p.address, bus: p.bus, protocol: p.protocol })}
        </span>
      </div>
      <div role="cell" className="c-status">
        {r.online ? (
          <StateBadge state={r.state} online={r.online} />
        ) : (
          <OnlineBadge online={r.online} />
        )}
      </div>
      <div role="cell" className="c-soc">
        <SocBar soc={r.soc} />
        <span className="num" data-field="soc">
          {fmt.pct(r.soc, 1)}
        </span>
      </div>
      <div role="cell" className="c-v num" data-field="voltage">
        {fmt.unit(r.voltage, 'V', 2)}
      </div>
      <div role="cell" className="c-i num" data-field="current">
        {fmt.unit(r.current, 'A', 1)}
      </div>
      <div role="cell" className="c-p num" data-field="power">
        {fmtPower(fmt, r.power)}
      </div>
      <div role="cell" className="c-t num" data-field="temp">
        {fmtTempCompact(fmt, r.tmin, r.tmax)}
      </div>
      <div role="cell" className="c-d num" data-field="delta">
        {fmt.unit(r.delta, 'mV', 0)}
      </div>
      <div role="cell" className="c-a">
        <AlarmBadge alarms={r.alarms} />
      </div>
      <div role="cell" className="c-s muted" data-field="seen">
        {lastSeenText(fmt, t, r, props.now)}
      </div>
    </>
  );
});

const COLUMNS: { id: string; sort?: SortKey; cls: string }[] = [
  { id: 'name', sort: 'name', cls: 'c-name' },
  { id: 'status', cls: 'c-status' },
  { id: 'soc', sort: 'soc', cls: 'c-soc' },
  { id: 'voltage', cls: 'c-v num' },
  { id: 'current', cls: 'c-i num' },
  { id: 'power', sort: 'power', cls: 'c-p num' },
  { id: 'temp', sort: 'temp', cls: 'c-t num' },
  { id: 'delta', sort: 'delta', cls: 'c-d num' },
  { id: 'alarms', cls: 'c-a' },
  { id: 'seen', sort: 'seen', cls: 'c-s' },
];

export function VirtualList(props: {
  rows: PackRow[];
  now: number;
  sort: SortKey;
  dir: SortDir;
  onSort: (k: SortKey) => void;
}): ReactNode {
  const { t } = useTranslation('overview');
  const ref = useRef<HTMLDivElement>(null);
  const margin = useScrollMargin(ref);
  const v = useWindowVirtualizer({
    count: props.rows.length,
    estimateSize: () => 52,
    overscan: 10,
    scrollMargin: margin,
    useFlushSync: false,
  });
  return (
    <div
      className="ov-list"
      role="table"
      aria-label={t('packs.title')}
      aria-rowcount={props.rows.length + 1}
      data-testid="pack-list"
    >
      <div role="rowgroup">
        <div role="row" className="ov-row ov-row-head" aria-rowindex={1}>
          {COLUMNS.map((c) => {
            const active = c.sort !== undefined && c.sort === props.sort;
            return (
              <div
                key={c.id}
                role="columnheader"
                className={c.cls}
                aria-sort={active ? (props.dir === 'asc' ? 'ascending' : 'descending') : undefined}
              >
                {c.sort ? (
                  <button
                    type="button"
                    className="ov-sort-head"
                    onClick={() => props.onSort(c.sort!)}
                  >
                    {t(`col.${c.id}`)}
                    <span aria-hidden="true">
                      {active ? (props.dir === 'asc' ? ' ▲' : ' ▼') : ''}
                    </span>
                  </button>
                ) : (
                  t(`col.${c.id}`)
                )}
              </div>
            );
          })}
        </div>
      </div>
      <div role="rowgroup" ref={ref} className="ov-list-body" style={{ height: v.getTotalSize() }}>
        {v.getVirtualItems().map((item) => {
          const r = props.rows[item.index]!;
          return (
            <div
              key={r.pack.id}
              role="row"
              aria-rowindex={item.index + 2}
              data-index={item.index}
              ref={v.measureElement}
              className={`ov-row${r.online ? '' : ' is-offline'}`}
              data-testid="pack-row"
              data-pack-id={r.pack.id}
              style={{ transform: `translateY(${item.start - v.options.scrollMargin}px)` }}
            >
              <ListRow row={r} now={props.now} />
            </div>
          );
        })}
      </div>
    </div>
  );
}
