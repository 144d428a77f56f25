/**
 * The Settings tab (seeds 002/004): the pack's parameters read from the device, edited,
 * checked in the browser with core's rules and by the server (dry run) before anything is
 * sent, written after a confirmation naming the pack, with the read-back per parameter.
 * Import (diff, then the same write path), export, restore defaults.
 */
import type { ReadParameters } from '@openbms/contract/api';
import { useMemo, useRef, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { serverText } from '../../i18n/server-text';
import { validateParameterWrite } from '@openbms/core';
import { api, packPath, type ApiError } from '../../api/client';
import { useApi } from '../../api/hooks';
import { useAuth } from '../../app/auth';
import { useFmt } from '../../i18n/format';
import { Card, Confirm, ErrorBox, Spinner } from '../../ui';
import type { TabProps } from '../../app/pack-tab';
import { DistributeCard } from './DistributeCard';
import { ImportDiff, type ImportState } from './ImportDiff';
import { InverterCard } from './InverterCard';
import { UnverifiedCard } from './UnverifiedCard';
import { ParamTable } from './ParamTable';
import { WriteResults } from './WriteResults';
import { SingleLevelContext, singleLevelProtections, useParamLabel } from './labels';
import {
  buildRows,
  decimalsOf,
  exportFileName,
  packContext,
  parseInput,
  rowOfMessage,
  sameValue,
  validateChanges,
  type Capabilities,
  type CommandOutcome,
  type Issue,
  type ParamDiff,
  type ParamFile,
  type ParamResult,
  type WriteResult,
} from './model';
import './params.css';

interface Plan {
  changes: Record<string, number>;
  dry: WriteResult;
}

type Phase = 'idle' | 'checking' | 'confirm' | 'writing';

const pick = (o: Record<string, number>, ids: Iterable<string>): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const id of ids) if (id in o) out[id] = o[id]!;
  return out;
};

function mergeIssues(...maps: ReadonlyMap<string, Issue[]>[]): Map<string, Issue[]> {
  const out = new Map<string, Issue[]>();
  for (const m of maps) {
    for (const [id, list] of m) {
      const have = out.get(id) ?? [];
      const keys = new Set(have.map((i) => JSON.stringify(i)));
      out.set(id, [...have, ...list.filter((i) => !keys.has(JSON.stringify(i)))]);
    }
  }
  return out;
}

/**
 * Restore: the family's default set where it has one (and the pack may send it), else the
 * pack's saved profile (its last export, kept by the gateway); undefined: neither.
 */
function restoreModeOf(c: Capabilities): 'defaults' | 'profile' | undefined {
  const ops = c.operations;
  const gated = c.unverified['restore_defaults'] !== undefined && !c.allow_unverified;
  if (ops.restore_defaults && !gated) return 'defaults';
  return ops.restore_profile ? 'profile' : undefined;
}

export default function ParamsTab(props: TabProps): ReactNode {
  const { pack } = props;
  const { t, i18n } = useTranslation('params');
  const fmt = useFmt();
  const { can } = useAuth();
  const base = packPath(pack.id);
  const caps = useApi<Capabilities>(`${base}/capabilities`);

  const [values, setValues] = useState<Record<string, number> | undefined>(undefined);
  const [readAt, setReadAt] = useState<number | undefined>(undefined);
  const [reading, setReading] = useState(false);
  const [readError, setReadError] = useState<ApiError | undefined>(undefined);
  const [edits, setEdits] = useState<Record<string, string>>({});
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [serverIssues, setServerIssues] = useState<Map<string, Issue[]>>(new Map());
  const [phase, setPhase] = useState<Phase>('idle');
  const [plan, setPlan] = useState<Plan | undefined>(undefined);
  const [writeError, setWriteError] = useState<ApiError | string | undefined>(undefined);
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const [results, setResults] = useState<{ rows: ParamResult[]; reread: boolean } | undefined>(
    undefined,
  );
  const [imported, setImported] = useState<ImportState | undefined>(undefined);
  const [restoreOpen, setRestoreOpen] = useState(false);
  const [distributing, setDistributing] = useState(false);
  const fileInput = useRef<HTMLInputElement>(null);

  const c = caps.data;
  const single = useMemo(() => singleLevelProtections(c ? c.parameters.map((p) => p.id) : []), [c]);
  const label = useParamLabel(single);
  const restoreMode = c ? restoreModeOf(c) : undefined;
  const rows = useMemo(() => (c ? buildRows(c, values) : []), [c, values]);
  const rowById = useMemo(() => new Map(rows.map((r) => [r.id, r])), [rows]);
  const ctx = packContext(c?.chemistry ?? pack.chemistry, c?.limits, pack.snapshot?.cell_count);
  const operator = can('operator');
  const canWrite = operator && c?.operations.write_parameters === true;
  const busy = phase !== 'idle' || reading;

  // What the user typed, parsed; only rows that can be written and that the device reported.
  const parsed = useMemo(() => {
    const out: Record<string, number> = {};
    for (const [id, text] of Object.entries(edits)) {
      const row = rowById.get(id);
      if (!row?.writable || (values !== undefined && values[id] === undefined)) continue;
      const v = parseInput(text);
      if (v !== undefined) out[id] = v;
    }
    return out;
  }, [edits, rowById, values]);
  const changedIds = Object.keys(parsed).filter((id) => {
    const cur = values?.[id];
    const v = parsed[id]!;
    return Number.isNaN(v) || cur === undefined || !sameValue(rowById.get(id)!.info.step, cur, v);
  });
  const selectedIds = Object.keys(parsed).filter((id) => selected.has(id));
  const current = values ?? {};
  const allIssues = validateChanges(pick(parsed, changedIds), current, ctx);
  const selIssues = validateChanges(pick(parsed, selectedIds), current, ctx);
  const issues = mergeIssues(allIssues, selIssues, serverIssues);

  const blockedReason = (ids: string[], own: ReadonlyMap<string, Issue[]>): string | undefined => {
    if (values === undefined) return t('blocked.notRead');
    if (ids.length === 0) return t('blocked.none');
    const bad = ids.filter((id) => own.has(id) || serverIssues.has(id));
    if (bad.length > 0) return t('blocked.errors', { count: bad.length });
    return undefined;
  };
  const selBlocked = blockedReason(selectedIds, selIssues);
  const allBlocked = blockedReason(changedIds, allIssues);

  const read = async (): Promise<void> => {
    setReading(true);
    setReadError(undefined);
    try {
      const r = await api<ReadParameters>(`${base}/parameters`);
      setValues(r.values);
      setReadAt(Date.now());
    } catch (e) {
      setReadError(e as ApiError);
    } finally {
      setReading(false);
    }
  };

  const edit = (id: string, text: string): void => {
    setEdits((e) => ({ ...e, [id]: text }));
    setSelected((s) => {
      const next = new Set(s);
      if (text.trim() === '') next.delete(id);
      else next.add(id);
      return next;
    });
    if (serverIssues.has(id)) {
      const next = new Map(serverIssues);
      next.delete(id);
      setServerIssues(next);
    }
  };

  const select = (id: string, on: boolean): void => {
    setSelected((s) => {
      const next = new Set(s);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });
  };

  /** Step 1: the browser's checks, then the server's (dry run); opens the confirmation. */
  const prepare = async (changes: Record<string, number>): Promise<void> => {
    if (!values) return;
    setWriteError(undefined);
    setNotice(undefined);
    setResults(undefined);
    // The last browser-side gate: core's own check of the whole set, as the server runs it.
    try {
      validateParameterWrite(changes, values, ctx);
    } catch (e) {
      setWriteError((e as Error).message);
      return;
    }
    setPhase('checking');
    try {
      const dry = await api<WriteResult>(`${base}/parameters`, {
        method: 'PUT',
        body: { values: changes, dry_run: true },
      });
      setServerIssues(new Map());
      if (dry.changed.length === 0) {
        setNotice(t('nothingToWrite'));
        setPhase('idle');
        return;
      }
      setPlan({ changes, dry });
      setPhase('confirm');
    } catch (e) {
      const err = e as ApiError;
      const id = rowOfMessage(err.message, rows);
      if (id && err.status === 422) {
        setServerIssues(new Map([[id, [{ kind: 'server', message: err.message }]]]));
      }
      setWriteError(err);
      setPhase('idle');
    }
  };

  /** Step 2, confirmed: write, then show the read-back and refresh the current values. */
  const commit = async (): Promise<void> => {
    if (!plan) return;
    const changes = pick(plan.changes, plan.dry.changed);
    setPhase('writing');
    try {
      const r = await api<WriteResult>(`${base}/parameters`, {
        method: 'PUT',
        body: { values: changes },
      });
      setResults({ rows: r.results, reread: false });
      const written = new Set(r.results.map((x) => x.id));
      setEdits((e) => Object.fromEntries(Object.entries(e).filter(([id]) => !written.has(id))));
      setSelected((s) => new Set([...s].filter((id) => !written.has(id))));
    } catch (e) {
      const err = e as ApiError;
      setWriteError(err);
      if (err.status === 422) {
        const id = rowOfMessage(err.message, rows);
        if (id) setServerIssues(new Map([[id, [{ kind: 'server', message: err.message }]]]));
      }
      // Whatever happened on the wire, show what the device holds now, per parameter.
      if (err.status >= 500) {
        try {
          const now = await api<ReadParameters>(`${base}/parameters`);
          setResults({
            reread: true,
            rows: Object.entries(changes).map(([id, requested]) => {
              const back = now.values[id];
              return {
                id,
                old: values?.[id] ?? null,
                requested,
                readback: back ?? null,
                ok: back !== undefined && sameValue(rowById.get(id)!.info.step, back, requested),
              };
            }),
          });
        } catch {
          // The read error is already implied by the write error shown.
        }
      }
    } finally {
      setPlan(undefined);
      setPhase('idle');
    }
    await read();
  };

  const doExport = async (): Promise<void> => {
    setReadError(undefined);
    try {
      const file = await api<ParamFile>(`${base}/parameters/export`);
      setValues(file.values);
      setReadAt(file.exported_at);
      // The export is now the pack's saved profile: "restore" may offer it.
      caps.reload();
      const url = URL.createObjectURL(
        new Blob([`${JSON.stringify(file, null, 2)}\n`], { type: 'application/json' }),
      );
      const a = document.createElement('a');
      a.href = url;
      a.download = exportFileName(pack.id);
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (e) {
      setReadError(e as ApiError);
    }
  };

  const doImport = async (f: File): Promise<void> => {
    setImported({ fileName: f.name });
    let file: unknown;
    try {
      file = JSON.parse(await f.text());
    } catch (e) {
      setImported({
        fileName: f.name,
        error: t('diff.notJson', { message: (e as Error).message }),
      });
      return;
    }
    try {
      // The table shows the current values next to the diff: read them first when needed.
      if (values === undefined) await read();
      const diff = await api<ParamDiff>(`${base}/parameters/diff`, { body: { file } });
      setImported({ fileName: f.name, file: file as ParamFile, diff });
    } catch (e) {
      setImported({ fileName: f.name, error: e as ApiError });
    }
  };

  const applyImport = (changes: Record<string, number>): void => {
    const ids = Object.keys(changes);
    setEdits((e) => ({ ...e, ...Object.fromEntries(ids.map((id) => [id, String(changes[id])])) }));
    setSelected(new Set(ids));
    setImported(undefined);
    void prepare(changes);
  };

  const restore = async (): Promise<void> => {
    setRestoreOpen(false);
    setWriteError(undefined);
    setNotice(undefined);
    setPhase('writing');
    try {
      const r = await api<CommandOutcome>(
        `${base}/commands/${restoreMode === 'profile' ? 'restore-profile' : 'restore-defaults'}`,
        { body: { confirm: pack.name } },
      );
      const after = r.readback?.['parameters'];
      if (after && typeof after === 'object') {
        setValues(after as Record<string, number>);
        setReadAt(Date.now());
      }
      if (restoreMode === 'profile') void read();
      setNotice(t('restored', { detail: serverText(i18n, r.command.text, r.command.detail) }));
    } catch (e) {
      setWriteError(e as ApiError);
    } finally {
      setPhase('idle');
    }
  };

  if (caps.error) return <ErrorBox error={caps.error} />;
  if (!c) return <Spinner />;
  const ops = c.operations;
  const gated = (op: string): boolean => c.unverified[op] !== undefined && !c.allow_unverified;
  const extras = (
    <>
      {ops.read_inverter_protocol && (
        <InverterCard
          base={base}
          packName={pack.name}
          caps={c}
          why={
            !ops.set_inverter_protocol
              ? t('notSupported', { protocol: c.protocol })
              : !operator
                ? t('viewerShort')
                : gated('set_inverter_protocol')
                  ? t('unverifiedWhy', { why: c.unverified['set_inverter_protocol'] })
                  : undefined
          }
        />
      )}
      <UnverifiedCard caps={c} />
    </>
  );
  if (!ops.read_parameters) {
    return (
      <div className="params">
        <Card title={t('title')} testId="params-unsupported">
          <p>{t('noParams', { protocol: c.protocol })}</p>
        </Card>
        {extras}
      </div>
    );
  }
  const unsupported = t('notSupported', { protocol: c.protocol });
  const defaultsGated = ops.restore_defaults && gated('restore_defaults');
  const restoreWhy =
    restoreMode !== undefined
      ? undefined
      : defaultsGated
        ? t('unverifiedWhy', { why: c.unverified['restore_defaults'] })
        : unsupported;
  const planIds = plan ? plan.dry.changed : [];
  const held = plan ? Object.keys(plan.changes).filter((id) => !plan.dry.changed.includes(id)) : [];

  return (
    <SingleLevelContext.Provider value={single}>
      <div className="params" data-testid="params-tab">
        <Card
          title={t('title')}
          actions={
            <>
              <button
                type="button"
                className={values ? '' : 'primary'}
                onClick={() => void read()}
                disabled={busy}
                data-testid="params-read"
              >
                {reading ? t('reading') : t('read')}
              </button>
              <button
                type="button"
                onClick={() => void doExport()}
                disabled={busy}
                data-testid="params-export"
              >
                {t('export')}
              </button>
              {canWrite && (
                <>
                  <button
                    type="button"
                    onClick={() => fileInput.current?.click()}
                    disabled={busy}
                    data-testid="params-import"
                  >
                    {t('import')}
                  </button>
                  <input
                    ref={fileInput}
                    type="file"
                    accept="application/json,.json"
                    className="sr-only"
                    tabIndex={-1}
                    aria-hidden="true"
                    data-testid="params-import-input"
                    onChange={(e) => {
                      const f = e.target.files?.[0];
                      e.target.value = '';
                      if (f) void doImport(f);
                    }}
                  />
                </>
              )}
              {operator && (
                <span className="pop">
                  <button
                    type="button"
                    className="danger-outline"
                    disabled={busy || restoreMode === undefined}
                    onClick={() => setRestoreOpen(true)}
                    data-testid="params-restore"
                    data-mode={restoreMode ?? ''}
                    aria-describedby={restoreWhy ? 'restore-why' : undefined}
                  >
                    {restoreMode === 'profile' ? t('restoreProfile') : t('restore')}
                  </button>
                  {restoreWhy && (
                    <span id="restore-why" className="muted small">
                      {restoreWhy}
                    </span>
                  )}
                </span>
              )}
            </>
          }
        >
          <p className="muted" data-testid="params-read-at">
            {readAt !== undefined ? t('readAt', { time: fmt.dateTime(readAt) }) : t('notRead')}
          </p>
          {!operator && <p className="muted">{t('viewerNote')}</p>}
          <ErrorBox error={readError} />
          <ParamTable
            rows={rows}
            chemistry={c.chemistry}
            values={values}
            editable={canWrite}
            edits={edits}
            selected={selected}
            issues={issues}
            busy={busy}
            onEdit={edit}
            onSelect={select}
          />
          {canWrite && (
            <div className="pactions">
              <div className="toolbar">
                <button
                  type="button"
                  className="primary"
                  disabled={busy || selBlocked !== undefined}
                  aria-describedby="write-why"
                  onClick={() => void prepare(pick(parsed, selectedIds))}
                  data-testid="params-write-selected"
                >
                  {t('writeSelected', { count: selectedIds.length })}
                </button>
                <button
                  type="button"
                  disabled={busy || allBlocked !== undefined}
                  aria-describedby="write-why"
                  onClick={() => void prepare(pick(parsed, changedIds))}
                  data-testid="params-write-changed"
                >
                  {t('writeChanged', { count: changedIds.length })}
                </button>
                <button
                  type="button"
                  disabled={busy || Object.keys(edits).length === 0}
                  onClick={() => {
                    setEdits({});
                    setSelected(new Set());
                    setServerIssues(new Map());
                  }}
                >
                  {t('clearEdits')}
                </button>
                <button
                  type="button"
                  disabled={busy}
                  onClick={() => setDistributing(true)}
                  data-testid="params-distribute-open"
                >
                  {t('distributeOpen')}
                </button>
              </div>
              <p id="write-why" className="muted small" data-testid="params-blocked" role="status">
                {phase === 'checking'
                  ? t('checking')
                  : phase === 'writing'
                    ? t('writing')
                    : (selBlocked ?? '')}
              </p>
            </div>
          )}
          {notice && (
            <p className="notice" role="status" data-testid="params-notice">
              {notice}
            </p>
          )}
          <ErrorBox error={writeError} />
        </Card>

        {results && (
          <WriteResults
            results={results.rows}
            rows={rowById}
            reread={results.reread}
            onClose={() => setResults(undefined)}
          />
        )}

        {distributing && canWrite && (
          <DistributeCard
            packId={pack.id}
            protocol={c.protocol}
            values={pick(parsed, selectedIds)}
            blocked={selBlocked}
            onClose={() => setDistributing(false)}
          />
        )}

        {imported && (
          <ImportDiff
            key={imported.diff ? 'diff' : 'loading'}
            state={imported}
            rows={rowById}
            busy={busy}
            onApply={applyImport}
            onClose={() => setImported(undefined)}
          />
        )}

        <Confirm
          open={phase === 'confirm' && plan !== undefined}
          title={t('confirmTitle', { count: planIds.length, pack: pack.name })}
          confirmLabel={t('confirmWrite')}
          onConfirm={() => void commit()}
          onCancel={() => {
            setPlan(undefined);
            setPhase('idle');
          }}
        >
          <p>{t('confirmBody')}</p>
          <ul className="pplan" data-testid="write-plan">
            {plan?.dry.results
              .filter((r) => planIds.includes(r.id))
              .map((r) => {
                const info = rowById.get(r.id)?.info;
                const show = (v: number | null): string =>
                  v === null
                    ? fmt.num(undefined)
                    : info?.kind === 'switch'
                      ? t(v ? 'on' : 'off')
                      : fmt.num(v, decimalsOf(info?.step ?? 1));
                return (
                  <li key={r.id} data-testid={`plan-${r.id}`}>
                    <strong>{label(r.id, info?.label)}</strong>
                    {t('colon')}
                    {show(r.old)} → {show(r.requested)} {info?.unit}
                  </li>
                );
              })}
          </ul>
          {held.length > 0 && (
            <p className="muted">
              {t('alreadyHeld', { names: held.map((id) => label(id)).join(', ') })}
            </p>
          )}
        </Confirm>

        <Confirm
          open={restoreOpen}
          danger
          title={t(restoreMode === 'profile' ? 'restoreProfileTitle' : 'restoreTitle', {
            pack: pack.name,
          })}
          confirmLabel={restoreMode === 'profile' ? t('restoreProfile') : t('restore')}
          typeToConfirm={pack.name}
          onConfirm={() => void restore()}
          onCancel={() => setRestoreOpen(false)}
        >
          <p>{restoreMode === 'profile' ? t('restoreProfileBody') : t('restoreBody')}</p>
        </Confirm>
        {extras}
      </div>
    </SingleLevelContext.Provider>
  );
}
