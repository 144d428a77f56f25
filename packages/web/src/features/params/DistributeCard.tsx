/**
 * Distribute (seed 003): the values edited on this pack, written to other packs of the same
 * family at once. The server looks every pack up with the role first, then runs the single
 * write on each (validated, interlocked, read back, audited) and answers per pack.
 */
import type { DistributeResult } from '@openbms/contract/api';
import { useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { api, type ApiError } from '../../api/client';
import { usePacks } from '../../api/live';
import { Badge, Card, Confirm, ErrorBox } from '../../ui';
import { useParamLabel } from './labels';

/** As the contract's DISTRIBUTE_MAX_PACKS. */
const MAX_PACKS = 200;

export function DistributeCard(props: {
  packId: string;
  protocol: string;
  /** The edited values to send (selected, parsed, checked on this pack). */
  values: Record<string, number>;
  blocked: string | undefined;
  onClose: () => void;
}): ReactNode {
  const { t } = useTranslation('params');
  const label = useParamLabel();
  const packs = usePacks().filter((p) => p.id !== props.packId && p.protocol === props.protocol);
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const [confirm, setConfirm] = useState(false);
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [results, setResults] = useState<DistributeResult['results'] | undefined>(undefined);
  const ids = Object.keys(props.values);
  const nameOf = (id: string): string => packs.find((p) => p.id === id)?.name ?? id;
  const toggle = (id: string, on: boolean): void =>
    setChosen((s) => {
      const next = new Set(s);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });
  const send = async (): Promise<void> => {
    setConfirm(false);
    setSending(true);
    setError(undefined);
    setResults(undefined);
    try {
      const r = await api<DistributeResult>('/parameters/distribute', {
        body: { pack_ids: [...chosen], values: props.values },
      });
      setResults(r.results);
    } catch (e) {
      setError(e as ApiError);
    } finally {
      setSending(false);
    }
  };
  const why =
    props.blocked ??
    (chosen.size === 0
      ? t('distribute.choose')
      : chosen.size > MAX_PACKS
        ? t('distribute.tooMany', { max: MAX_PACKS })
        : undefined);
  return (
    <Card
      title={t('distribute.title')}
      testId="params-distribute"
      actions={
        <button type="button" onClick={props.onClose}>
          {t('diff.close')}
        </button>
      }
    >
      <p className="muted">{t('distribute.intro', { protocol: props.protocol })}</p>
      <p data-testid="distribute-values">
        {ids.map((id) => `${label(id)} = ${props.values[id]}`).join('; ') || t('blocked.none')}
      </p>
      {packs.length === 0 ? (
        <p className="muted">{t('distribute.noOthers', { protocol: props.protocol })}</p>
      ) : (
        <>
          <div className="toolbar">
            <button type="button" onClick={() => setChosen(new Set(packs.map((p) => p.id)))}>
              {t('distribute.all')}
            </button>
            <button type="button" onClick={() => setChosen(new Set())}>
              {t('distribute.none')}
            </button>
          </div>
          <ul className="pdist" data-testid="distribute-packs">
            {packs.map((p) => (
              <li key={p.id}>
                <label>
                  <input
                    type="checkbox"
                    checked={chosen.has(p.id)}
                    onChange={(e) => toggle(p.id, e.target.checked)}
                    data-testid={`distribute-pack-${p.id}`}
                  />{' '}
                  {p.name} <span className="muted small">{p.id}</span>
                </label>
              </li>
            ))}
          </ul>
        </>
      )}
      <div className="toolbar">
        <button
          type="button"
          className="primary"
          disabled={sending || why !== undefined}
          aria-describedby="distribute-why"
          onClick={() => setConfirm(true)}
          data-testid="distribute-send"
        >
          {t('distribute.send', { count: chosen.size })}
        </button>
      </div>
      <p id="distribute-why" className="muted small" role="status">
        {sending ? t('writing') : (why ?? '')}
      </p>
      <ErrorBox error={error} />
      {results && (
        <div className="table-wrap">
          <table data-testid="distribute-results">
            <thead>
              <tr>
                <th>{t('distribute.pack')}</th>
                <th>{t('distribute.status')}</th>
                <th>{t('distribute.detail')}</th>
              </tr>
            </thead>
            <tbody>
              {results.map((r) => (
                <tr key={r.pack_id} data-testid={`distribute-result-${r.pack_id}`}>
                  <td>{nameOf(r.pack_id)}</td>
                  <td>
                    <Badge
                      tone={r.status === 'done' ? 'ok' : r.status === 'refused' ? 'warn' : 'bad'}
                    >
                      {t(`distribute.${r.status}`)}
                    </Badge>
                  </td>
                  <td>{r.detail}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Confirm
        open={confirm}
        title={t('distribute.confirmTitle', { count: chosen.size })}
        confirmLabel={t('distribute.confirm')}
        onConfirm={() => void send()}
        onCancel={() => setConfirm(false)}
      >
        <p>{t('distribute.confirmBody')}</p>
      </Confirm>
    </Card>
  );
}
