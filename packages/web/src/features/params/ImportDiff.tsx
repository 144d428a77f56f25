/**
 * An imported parameter file compared with the device (POST .../parameters/diff): warnings,
 * problems, per parameter the current and the file value; the selected differences go to
 * the same checked write path as the table.
 */
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { useFmt } from '../../i18n/format';
import { Card, ErrorBox, Spinner } from '../../ui';
import type { ApiError } from '../../api/client';
import { decimalsOf, type ParamDiff, type ParamFile, type Row } from './model';
import { chemLabel } from './ParamTable';
import { useParamLabel } from './labels';

export interface ImportState {
  fileName: string;
  file?: ParamFile;
  diff?: ParamDiff;
  error?: ApiError | string;
}

export function ImportDiff(props: {
  state: ImportState;
  rows: ReadonlyMap<string, Row>;
  busy: boolean;
  onApply: (values: Record<string, number>) => void;
  onClose: () => void;
}): ReactNode {
  const { t } = useTranslation('params');
  const fmt = useFmt();
  const label = useParamLabel();
  const { diff, file } = props.state;
  const ref = useRef<HTMLDivElement>(null);
  // Shown below a long table: bring it into view when it appears.
  useEffect(() => {
    ref.current?.scrollIntoView({ block: 'start', behavior: 'smooth' });
  }, []);
  const errorIds = new Set(diff?.errors.flatMap((e) => e.ids) ?? []);
  const [picked, setPicked] = useState<Set<string>>(
    () => new Set(diff?.changed.filter((c) => !errorIds.has(c.id)).map((c) => c.id) ?? []),
  );
  const show = (id: string, v: number | null) => {
    const info = props.rows.get(id)?.info;
    if (v === null) return fmt.num(undefined);
    if (info?.kind === 'switch') return v ? t('on') : t('off');
    return fmt.unit(v, info?.unit ?? '', decimalsOf(info?.step ?? 0.001)).trim();
  };
  const chosen = diff?.changed.filter((c) => picked.has(c.id)) ?? [];
  const blocked = chosen.length === 0 || chosen.some((c) => errorIds.has(c.id)) || props.busy;
  return (
    <div ref={ref} className="pscroll">
      <Card
        title={t('diff.title', { file: props.state.fileName })}
        testId="import-diff"
        actions={
          <button type="button" onClick={props.onClose}>
            {t('diff.close')}
          </button>
        }
      >
        <ErrorBox error={props.state.error} />
        {!diff && !props.state.error && <Spinner />}
        {file && (
          <p className="muted">
            {t('diff.from', {
              pack: file.pack.name ?? file.pack.id ?? '—',
              protocol: file.pack.protocol ?? '—',
              chemistry: file.pack.chemistry ? chemLabel(file.pack.chemistry) : '—',
              time: fmt.dateTime(file.exported_at),
            })}
          </p>
        )}
        {diff && (
          <>
            {diff.warnings.length > 0 && (
              <div className="pwarn">
                <strong>{t('diff.warnings')}</strong>
                <ul>
                  {diff.warnings.map((w) => (
                    <li key={w}>{w}</li>
                  ))}
                </ul>
              </div>
            )}
            {diff.errors.length > 0 && (
              <div className="error-box" role="alert" data-testid="diff-errors">
                <strong>{t('diff.problems')}</strong>
                <ul>
                  {diff.errors.map((e, i) => (
                    <li key={i}>{e.message}</li>
                  ))}
                </ul>
              </div>
            )}
            {diff.changed.length === 0 ? (
              <p className="notice" data-testid="diff-empty">
                {t('diff.empty')}
              </p>
            ) : (
              <div className="table-wrap">
                <table data-testid="diff-table">
                  <thead>
                    <tr>
                      <th className="psel">
                        <span className="sr-only">{t('col.select')}</span>
                      </th>
                      <th>{t('col.name')}</th>
                      <th className="num">{t('col.current')}</th>
                      <th className="num">{t('diff.file')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {diff.changed.map((c) => {
                      const name = label(c.id, props.rows.get(c.id)?.info.label);
                      const bad = errorIds.has(c.id);
                      return (
                        <tr
                          key={c.id}
                          data-testid={`diff-${c.id}`}
                          className={bad ? 'invalid' : undefined}
                        >
                          <td className="psel">
                            <input
                              type="checkbox"
                              aria-label={t('selectRow', { name })}
                              checked={picked.has(c.id)}
                              disabled={bad}
                              onChange={(e) => {
                                const next = new Set(picked);
                                if (e.target.checked) next.add(c.id);
                                else next.delete(c.id);
                                setPicked(next);
                              }}
                            />
                          </td>
                          <th scope="row" className="pname">
                            {name}
                          </th>
                          <td className="num">{show(c.id, c.current)}</td>
                          <td className="num">{show(c.id, c.file)}</td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </div>
            )}
            <p className="muted" data-testid="diff-unchanged">
              {t('diff.unchanged', { count: diff.unchanged.length })}
            </p>
            {diff.unknown.length > 0 && (
              <details>
                <summary>
                  {t('diff.unknown')} ({diff.unknown.length})
                </summary>
                <ul>
                  {diff.unknown.map((u) => (
                    <li key={u.id}>
                      {label(u.id, u.id)} — {u.reason}
                    </li>
                  ))}
                </ul>
              </details>
            )}
            {diff.changed.length > 0 && (
              <div className="toolbar">
                <button
                  type="button"
                  className="primary"
                  disabled={blocked}
                  data-testid="diff-apply"
                  onClick={() =>
                    props.onApply(Object.fromEntries(chosen.map((c) => [c.id, c.file])))
                  }
                >
                  {t('diff.apply', { count: chosen.length })}
                </button>
              </div>
            )}
          </>
        )}
      </Card>
    </div>
  );
}
