/** The parameter table: grouped by voltage / temperature / current / function, one row each. */
import { Fragment, useContext, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { CHEMISTRY_LIMITS } from '@openbms/core';
import { useFmt } from '../../i18n/format';
import { GROUPS, decimalsOf, type Issue, type Row } from './model';
import { SingleLevelContext, protectionOf, useParamLabel } from './labels';

export interface ParamTableProps {
  rows: Row[];
  chemistry: string;
  values: Record<string, number> | undefined;
  /** Editing allowed (the role and the family can write). */
  editable: boolean;
  edits: Record<string, string>;
  selected: ReadonlySet<string>;
  issues: ReadonlyMap<string, Issue[]>;
  busy: boolean;
  onEdit: (id: string, text: string) => void;
  onSelect: (id: string, on: boolean) => void;
}

export function chemLabel(chemistry: string): string {
  return CHEMISTRY_LIMITS[chemistry === 'nmc' ? 'nmc' : 'lfp'].label;
}

/** An issue in words. */
export function useIssueText(): (i: Issue, unit?: string) => string {
  const { t } = useTranslation('params');
  const label = useParamLabel();
  return (i: Issue, unit = '') => {
    const u = (v: number): string => `${v}${unit ? ` ${unit}` : ''}`;
    switch (i.kind) {
      case 'nan':
        return t('issue.nan');
      case 'range':
        return t('issue.range', { min: u(i.min), max: u(i.max) });
      case 'step':
        return t('issue.step', { step: String(i.step) });
      case 'unsafe':
        return t(i.high ? 'issue.unsafeHigh' : 'issue.unsafeLow', {
          chem: chemLabel(i.chemistry),
          limit: u(i.limit),
        });
      case 'cells':
        return t('issue.cells');
      case 'capacity':
        return t('issue.capacity');
      case 'relation':
        return t(`issue.${i.must}`, { other: label(i.other), value: u(i.value) });
      case 'cRate':
        return t(`issue.${i.must}`, {
          other: t('issue.cRate', { c: String(i.c), ah: String(i.capacityAh) }),
          value: u(i.value),
        });
      case 'cellsTimes':
        return t(`issue.${i.must}`, {
          other: t('issue.cellsTimes', { cells: String(i.cells), other: label(i.other) }),
          value: u(i.value),
        });
      case 'server':
        return t('issue.server', { message: i.message });
    }
  };
}

export function ParamTable(props: ParamTableProps): ReactNode {
  const { t } = useTranslation('params');
  const fmt = useFmt();
  const label = useParamLabel();
  const single = useContext(SingleLevelContext);
  const issueText = useIssueText();
  const chem = chemLabel(props.chemistry);
  const show = (v: number | undefined, step: number, kind: string): string => {
    if (v === undefined) return fmt.num(undefined);
    if (kind === 'switch') return v ? t('on') : t('off');
    return fmt.num(v, decimalsOf(step));
  };
  const anySafe = props.rows.some(
    (r) => r.info.safe_min !== undefined || r.info.safe_max !== undefined,
  );
  return (
    <div className="table-wrap">
      <table className={props.editable ? 'ptable' : 'ptable ro'} data-testid="param-table">
        <thead>
          <tr>
            {props.editable && (
              <th className="psel">
                <span className="sr-only">{t('col.select')}</span>
              </th>
            )}
            <th>{t('col.name')}</th>
            <th>{t('col.level')}</th>
            <th>{t('col.unit')}</th>
            <th className="num">{t('col.min')}</th>
            <th className="num">{t('col.max')}</th>
            <th className="num">{t('col.current')}</th>
            {props.editable && <th>{t('col.new')}</th>}
          </tr>
        </thead>
        {GROUPS.map((g) => {
          const rows = props.rows.filter((r) => r.info.group === g);
          if (rows.length === 0) return null;
          return (
            <tbody key={g} data-group={g}>
              <tr className="pgroup">
                <th colSpan={props.editable ? 8 : 6} scope="rowgroup">
                  {t(`groups.${g}`)}
                </th>
              </tr>
              {rows.map((r) => {
                const info = r.info;
                const name = label(r.id, info.label);
                const cur = props.values?.[r.id];
                const unreported = props.values !== undefined && cur === undefined;
                const canEdit = props.editable && r.writable && !unreported;
                const issues = props.issues.get(r.id) ?? [];
                const errId = `perr-${r.id}`;
                const min = info.safe_min ?? info.min;
                const max = info.safe_max ?? info.max;
                const d = decimalsOf(info.step);
                const safeTitle = t('safeMark', {
                  chem,
                  min: fmt.num(info.min, d),
                  max: fmt.num(info.max, d),
                });
                return (
                  <tr
                    key={r.id}
                    className={issues.length ? 'prow invalid' : 'prow'}
                    data-testid={`param-${r.id}`}
                    data-param={r.id}
                  >
                    {props.editable && (
                      <td className="psel">
                        {canEdit && (
                          <input
                            type="checkbox"
                            aria-label={t('selectRow', { name })}
                            checked={props.selected.has(r.id)}
                            disabled={props.busy}
                            onChange={(e) => props.onSelect(r.id, e.target.checked)}
                          />
                        )}
                      </td>
                    )}
                    <th scope="row" className="pname">
                      {name}
                      {!r.writable && <span className="ptag">{t('readOnly')}</span>}
                      {r.writable && unreported && <span className="ptag">{t('unreported')}</span>}
                    </th>
                    <td className="plevel" data-label={t('col.level')}>
                      {info.level !== undefined && !single.has(protectionOf(info.id) ?? '')
                        ? t('levelN', { level: info.level })
                        : ''}
                    </td>
                    <td className="punit" data-label={t('col.unit')}>
                      {info.unit}
                    </td>
                    <td className="num pmin" data-label={t('col.min')}>
                      {info.kind === 'switch' ? '' : fmt.num(min, d)}
                      {info.safe_min !== undefined && info.safe_min !== info.min && (
                        <abbr title={safeTitle}>*</abbr>
                      )}
                    </td>
                    <td className="num pmax" data-label={t('col.max')}>
                      {info.kind === 'switch' ? '' : fmt.num(max, d)}
                      {info.safe_max !== undefined && info.safe_max !== info.max && (
                        <abbr title={safeTitle}>*</abbr>
                      )}
                    </td>
                    <td
                      className="num pcur"
                      data-label={t('col.current')}
                      data-testid="current"
                      data-value={cur ?? ''}
                    >
                      {show(cur, info.step, info.kind)}
                    </td>
                    {props.editable && (
                      <td className="pnew" data-label={t('col.new')}>
                        {canEdit &&
                          (info.kind === 'switch' ? (
                            <select
                              aria-label={t('newValueFor', { name })}
                              value={props.edits[r.id] ?? ''}
                              disabled={props.busy}
                              aria-invalid={issues.length > 0}
                              aria-describedby={issues.length ? errId : undefined}
                              onChange={(e) => props.onEdit(r.id, e.target.value)}
                            >
                              <option value="">{t('unchanged')}</option>
                              <option value="1">{t('on')}</option>
                              <option value="0">{t('off')}</option>
                            </select>
                          ) : (
                            <input
                              type="text"
                              inputMode="decimal"
                              autoComplete="off"
                              aria-label={t('newValueFor', { name })}
                              placeholder={cur === undefined ? '' : show(cur, info.step, info.kind)}
                              value={props.edits[r.id] ?? ''}
                              disabled={props.busy}
                              aria-invalid={issues.length > 0}
                              aria-describedby={issues.length ? errId : undefined}
                              onChange={(e) => props.onEdit(r.id, e.target.value)}
                            />
                          ))}
                        {issues.length > 0 && (
                          <div className="perr" id={errId} data-testid="param-error">
                            {issues.map((i, n) => (
                              <Fragment key={n}>
                                {n > 0 && <br />}
                                {issueText(i, info.unit)}
                              </Fragment>
                            ))}
                          </div>
                        )}
                      </td>
                    )}
                  </tr>
                );
              })}
            </tbody>
          );
        })}
      </table>
      {anySafe && <p className="muted small">{t('legendSafe', { chem })}</p>}
    </div>
  );
}
