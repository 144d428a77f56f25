/** Per parameter, what a write did: before, written, read back, ok or mismatch. */
import { useEffect, useRef, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { useFmt } from '../../i18n/format';
import { Badge, Card } from '../../ui';
import { decimalsOf, type ParamResult, type Row } from './model';
import { useParamLabel } from './labels';

export function WriteResults(props: {
  results: ParamResult[];
  rows: ReadonlyMap<string, Row>;
  /** The write failed and these come from reading the device again afterwards. */
  reread?: boolean;
  onClose: () => void;
}): ReactNode {
  const { t } = useTranslation('params');
  const fmt = useFmt();
  const label = useParamLabel();
  const bad = props.results.filter((r) => !r.ok).length;
  const ref = useRef<HTMLDivElement>(null);
  // Shown below a long table: bring it into view when it appears.
  useEffect(() => {
    ref.current?.scrollIntoView({ block: 'start', behavior: 'smooth' });
  }, []);
  const show = (id: string, v: number | null) => {
    const info = props.rows.get(id)?.info;
    if (v === null) return fmt.num(undefined);
    if (info?.kind === 'switch') return v ? t('on') : t('off');
    return fmt.unit(v, info?.unit ?? '', decimalsOf(info?.step ?? 1)).trim();
  };
  return (
    <div ref={ref} className="pscroll">
      <Card
        title={t('results.title')}
        testId="write-results"
        actions={
          <button type="button" onClick={props.onClose}>
            {t('diff.close')}
          </button>
        }
      >
        <p role="status" className={bad ? 'pbad' : 'notice'} data-testid="write-summary">
          {props.reread && `${t('results.reread')} `}
          {bad
            ? t('results.summaryBad', { count: bad })
            : t('results.summaryOk', { count: props.results.length })}
        </p>
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th>{t('col.name')}</th>
                <th className="num">{t('results.old')}</th>
                <th className="num">{t('results.written')}</th>
                <th className="num">{t('results.readback')}</th>
                <th>{t('results.status')}</th>
              </tr>
            </thead>
            <tbody>
              {props.results.map((r) => (
                <tr
                  key={r.id}
                  data-testid={`result-${r.id}`}
                  data-ok={String(r.ok)}
                  data-readback={r.readback ?? ''}
                >
                  <th scope="row" className="pname">
                    {label(r.id, props.rows.get(r.id)?.info.label)}
                  </th>
                  <td className="num">{show(r.id, r.old)}</td>
                  <td className="num">{show(r.id, r.requested)}</td>
                  <td className="num">{show(r.id, r.readback)}</td>
                  <td>
                    {r.ok ? (
                      <Badge tone="ok">{t('results.ok')}</Badge>
                    ) : (
                      <Badge tone="bad">{t('results.mismatch')}</Badge>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Card>
    </div>
  );
}
