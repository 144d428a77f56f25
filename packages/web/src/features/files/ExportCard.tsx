/** CSV / Excel export of a pack's raw samples for a range and a choice of fields (seed 004). */
import { useMemo, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { apiPath } from '../../api/client';
import { usePacks } from '../../api/live';
import { Card, ErrorBox } from '../../ui';
import { fromLocalInput, toLocalInput } from '../../ui/datetime';
import {
  allSelection,
  cellKeys,
  defaultSelection,
  fieldsParam,
  packFields,
  tempKeys,
} from './fields';

const HOUR = 3600_000;
const QUICK = [
  { id: '1h', ms: HOUR },
  { id: '24h', ms: 24 * HOUR },
  { id: '7d', ms: 7 * 24 * HOUR },
  { id: '30d', ms: 30 * 24 * HOUR },
] as const;

function lastSpan(ms: number): { from: string; to: string } {
  // Rounded up to the next minute so the newest sample is inside.
  const to = Math.ceil((Date.now() + 1) / 60_000) * 60_000;
  return { from: toLocalInput(to - ms), to: toLocalInput(to) };
}

export function ExportCard(): ReactNode {
  const { t } = useTranslation('files');
  const packs = usePacks();
  const sorted = useMemo(() => [...packs].sort((a, b) => a.name.localeCompare(b.name)), [packs]);
  const [packId, setPackId] = useState<string>('');
  const pack = sorted.find((p) => p.id === packId) ?? sorted[0];
  const [span, setSpan] = useState(() => lastSpan(24 * HOUR));
  // What the pack reports. The choice goes back to the defaults for another pack or another
  // number of cells / sensors, not when a live sample adds or drops a value.
  const fields = packFields(pack?.snapshot);
  const shape = `${pack?.id}|${fields.cells}|${fields.temps}`;
  const [chosen, setChosen] = useState<Set<string>>(() => defaultSelection(fields));
  const [chosenFor, setChosenFor] = useState(shape);
  if (chosenFor !== shape) {
    setChosenFor(shape);
    setChosen(defaultSelection(fields));
  }

  const from = fromLocalInput(span.from);
  const to = fromLocalInput(span.to);
  const param = fieldsParam(fields, chosen);
  const problem = !pack
    ? t('export.needPack')
    : !(from < to)
      ? t('export.badRange')
      : param === ''
        ? t('export.needFields')
        : undefined;
  const href = (format: 'csv' | 'xlsx') =>
    pack && !problem
      ? apiPath(
          `/exports/${format}?pack=${encodeURIComponent(pack.id)}&from=${from}&to=${to}` +
            `&fields=${encodeURIComponent(param)}`,
        )
      : undefined;

  const toggle = (keys: string[], on: boolean) =>
    setChosen((c) => {
      const n = new Set(c);
      for (const k of keys) {
        if (on) n.add(k);
        else n.delete(k);
      }
      return n;
    });

  const group = (title: string, all: string, keys: string[], label: (i: number) => string) => {
    if (keys.length === 0) return null;
    const on = keys.filter((k) => chosen.has(k)).length;
    return (
      <fieldset className="f-fields" data-testid={`fields-${keys[0]!.split('.')[0]}`}>
        <legend>{title}</legend>
        <label className="f-check f-all">
          <input
            type="checkbox"
            checked={on === keys.length}
            ref={(el) => {
              if (el) el.indeterminate = on > 0 && on < keys.length;
            }}
            onChange={(e) => toggle(keys, e.target.checked)}
          />
          {all}
        </label>
        <div className="f-grid f-grid-small">
          {keys.map((k, i) => (
            <label key={k} className="f-check">
              <input
                type="checkbox"
                value={k}
                checked={chosen.has(k)}
                onChange={(e) => toggle([k], e.target.checked)}
              />
              {label(i)}
            </label>
          ))}
        </div>
      </fieldset>
    );
  };

  if (sorted.length === 0)
    return (
      <Card title={t('export.title')}>
        <p className="muted">{t('export.noPacks')}</p>
      </Card>
    );

  return (
    <Card title={t('export.title')} testId="export">
      <div className="f-row">
        <label className="field">
          <span>{t('export.pack')}</span>
          <select
            data-testid="export-pack"
            value={pack?.id ?? ''}
            onChange={(e) => setPackId(e.target.value)}
          >
            {sorted.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name} ({p.id})
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>{t('export.from')}</span>
          <input
            type="datetime-local"
            data-testid="export-from"
            value={span.from}
            aria-invalid={!(from < to)}
            onChange={(e) => setSpan({ ...span, from: e.target.value })}
          />
        </label>
        <label className="field">
          <span>{t('export.to')}</span>
          <input
            type="datetime-local"
            data-testid="export-to"
            value={span.to}
            aria-invalid={!(from < to)}
            onChange={(e) => setSpan({ ...span, to: e.target.value })}
          />
        </label>
        <div className="field">
          <span>{t('export.last')}</span>
          <div className="f-quick">
            {QUICK.map((q) => (
              <button key={q.id} type="button" onClick={() => setSpan(lastSpan(q.ms))}>
                {t(`history:range.${q.id}`)}
              </button>
            ))}
          </div>
        </div>
      </div>

      <div className="toolbar">
        <strong>{t('export.fields')}</strong>
        <span className="muted" data-testid="export-count">
          {t('export.selected', { n: chosen.size })}
        </span>
        <button type="button" onClick={() => setChosen(allSelection(fields))}>
          {t('export.selectAll')}
        </button>
        <button type="button" onClick={() => setChosen(new Set())}>
          {t('export.selectNone')}
        </button>
        <button type="button" onClick={() => setChosen(defaultSelection(fields))}>
          {t('export.defaults')}
        </button>
      </div>
      <fieldset className="f-fields" data-testid="fields-pack">
        <legend>{t('export.packFields')}</legend>
        <div className="f-grid">
          {fields.scalars.map((m) => (
            <label key={m.key} className="f-check" title={m.key}>
              <input
                type="checkbox"
                value={m.key}
                checked={chosen.has(m.key)}
                onChange={(e) => toggle([m.key], e.target.checked)}
              />
              {t(`metric.${m.key}`, { defaultValue: m.label })}
              {m.unit && <span className="muted"> ({m.unit})</span>}
            </label>
          ))}
        </div>
      </fieldset>
      {group(
        t('export.cells'),
        t('export.allCells', { n: fields.cells }),
        cellKeys(fields.cells),
        (i) => t('export.cell', { n: i + 1 }),
      )}
      {group(
        t('export.temps'),
        t('export.allTemps', { n: fields.temps }),
        tempKeys(fields.temps),
        (i) => t('export.temp', { n: i + 1 }),
      )}

      <ErrorBox error={problem} />
      <div className="toolbar f-downloads">
        <DownloadLink href={href('csv')} testId="export-csv" primary>
          {t('export.csv')}
        </DownloadLink>
        <DownloadLink href={href('xlsx')} testId="export-xlsx">
          {t('export.xlsx')}
        </DownloadLink>
      </div>
      <p className="muted f-note">{t('export.note')}</p>
    </Card>
  );
}

/** A link styled as a button; without href it is shown disabled. */
export function DownloadLink(props: {
  href: string | undefined;
  testId: string;
  primary?: boolean;
  label?: string;
  children: ReactNode;
}): ReactNode {
  const cls = `f-button${props.primary ? ' primary' : ''}`;
  if (props.href === undefined)
    return (
      <span className={`${cls} disabled`} aria-disabled="true" data-testid={props.testId}>
        {props.children}
      </span>
    );
  return (
    <a
      className={cls}
      href={props.href}
      download
      data-testid={props.testId}
      aria-label={props.label}
    >
      {props.children}
    </a>
  );
}
