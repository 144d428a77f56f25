/**
 * API tokens for scripts and integrations: create one for yourself (the secret is shown
 * once, with a copy button) and revoke by id. The server keeps no list to show; the tokens
 * made on this page are listed until it is left.
 */
import { useRef, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { api, type ApiError } from '../../api/client';
import { useAuth } from '../../app/auth';
import { useFmt } from '../../i18n/format';
import { Card, ErrorBox } from '../../ui';
import { tokenCreateBody, tokenIdParams, type TokenCreated } from '@openbms/contract/api';

const TOKEN_ID = new RegExp(tokenIdParams.properties.id.pattern);
const NAME_MAX = tokenCreateBody.properties.name.maxLength;

function CopyButton(props: { text: string; testId?: string }): ReactNode {
  const { t } = useTranslation('settings');
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  return (
    <>
      <button
        type="button"
        data-testid={props.testId}
        onClick={async () => {
          try {
            await navigator.clipboard.writeText(props.text);
            setState('copied');
          } catch {
            setState('failed');
          }
        }}
      >
        {t('tokens.copy')}
      </button>
      <span className="muted small" role="status">
        {state === 'copied' ? t('tokens.copied') : state === 'failed' ? t('tokens.copyFailed') : ''}
      </span>
    </>
  );
}

export function TokensSection(): ReactNode {
  const { t } = useTranslation('settings');
  const fmt = useFmt();
  const { me } = useAuth();
  const [name, setName] = useState('');
  const [nameShown, setNameShown] = useState(false);
  const [created, setCreated] = useState<TokenCreated | undefined>(undefined);
  const [mine, setMine] = useState<TokenCreated[]>([]);
  const [revokeId, setRevokeId] = useState('');
  const [revokeShown, setRevokeShown] = useState(false);
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const secretRef = useRef<HTMLInputElement>(null);
  const nameProblem =
    name.trim() === ''
      ? t('v.required')
      : name.length > NAME_MAX
        ? t('v.maxLen', { max: NAME_MAX })
        : undefined;
  const idProblem = TOKEN_ID.test(revokeId.trim()) ? undefined : t('v.tokenId');
  const revoke = async (id: string) => {
    setError(undefined);
    setNotice(undefined);
    try {
      await api(`/tokens/${id}`, { method: 'DELETE' });
      setMine((m) => m.filter((x) => x.id !== id));
      if (created?.id === id) setCreated(undefined);
      setNotice(t('tokens.revoked', { id: `${id.slice(0, 12)}…` }));
      return true;
    } catch (e) {
      setError(e as ApiError);
      return false;
    }
  };
  return (
    <div className="section-body" data-testid="section-tokens">
      <Card title={t('tokens.title')}>
        <p className="muted">{t('tokens.intro', { user: me?.username ?? '' })}</p>
        <form
          noValidate
          className="inline-form"
          onSubmit={async (e) => {
            e.preventDefault();
            setNameShown(true);
            if (nameProblem) return;
            setError(undefined);
            setNotice(undefined);
            try {
              const tok = await api<TokenCreated>('/tokens', { body: { name: name.trim() } });
              setCreated(tok);
              setMine((m) => [tok, ...m]);
              setName('');
              setNameShown(false);
            } catch (err) {
              setError(err as ApiError);
            }
          }}
        >
          <div className="field grow">
            <label htmlFor="token-name">{t('tokens.name')}</label>
            <input
              id="token-name"
              value={name}
              placeholder={t('tokens.namePlaceholder')}
              data-testid="token-name"
              aria-invalid={nameShown && nameProblem ? true : undefined}
              onChange={(e) => setName(e.target.value)}
            />
            {nameShown && nameProblem && <small className="field-error">{nameProblem}</small>}
          </div>
          <button type="submit" className="primary" data-testid="token-create">
            {t('tokens.create')}
          </button>
        </form>
        {created && (
          <div className="token-once" role="status" data-testid="token-created">
            <p>
              <strong>{t('tokens.onceTitle', { name: created.name })}</strong> {t('tokens.once')}
            </p>
            <div className="secret-set">
              <input
                ref={secretRef}
                readOnly
                className="mono"
                value={created.token}
                aria-label={t('tokens.secret')}
                data-testid="token-secret"
                onFocus={(e) => e.target.select()}
              />
              <CopyButton text={created.token} testId="token-copy" />
            </div>
            <p className="muted small">
              {t('tokens.usage')} <code>Authorization: Bearer …</code>
            </p>
            <button type="button" className="link-button" onClick={() => setCreated(undefined)}>
              {t('tokens.hide')}
            </button>
          </div>
        )}
        {mine.length > 0 && (
          <div className="table-wrap">
            <table data-testid="tokens-table" className="stack-table">
              <caption className="muted small">{t('tokens.thisVisit')}</caption>
              <thead>
                <tr>
                  <th>{t('tokens.name')}</th>
                  <th>{t('tokens.id')}</th>
                  <th>{t('tokens.created')}</th>
                  <th>
                    <span className="sr-only">{t('users.actions')}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {mine.map((x) => (
                  <tr key={x.id}>
                    <td data-label={t('tokens.name')}>{x.name}</td>
                    <td data-label={t('tokens.id')} className="mono ellipsis" title={x.id}>
                      {x.id}
                    </td>
                    <td data-label={t('tokens.created')}>{fmt.dateTime(x.created_at)}</td>
                    <td data-label={t('users.actions')}>
                      <button
                        type="button"
                        className="danger-outline"
                        onClick={() => void revoke(x.id)}
                      >
                        {t('tokens.revoke')}
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
      <Card title={t('tokens.revokeTitle')}>
        <form
          noValidate
          className="inline-form"
          onSubmit={async (e) => {
            e.preventDefault();
            setRevokeShown(true);
            if (idProblem) return;
            if (await revoke(revokeId.trim())) {
              setRevokeId('');
              setRevokeShown(false);
            }
          }}
        >
          <div className="field grow">
            <label htmlFor="revoke-id">{t('tokens.id')}</label>
            <input
              id="revoke-id"
              className="mono"
              value={revokeId}
              spellCheck={false}
              data-testid="revoke-id"
              aria-invalid={revokeShown && idProblem ? true : undefined}
              onChange={(e) => setRevokeId(e.target.value)}
            />
            {revokeShown && idProblem && <small className="field-error">{idProblem}</small>}
          </div>
          <button type="submit" className="danger" data-testid="revoke-submit">
            {t('tokens.revoke')}
          </button>
        </form>
        <p className="muted small">{t('tokens.revokeHint')}</p>
      </Card>
      {notice && (
        <p className="notice" role="status" data-testid="tokens-notice">
          {notice}
        </p>
      )}
      <ErrorBox error={error} />
    </div>
  );
}
