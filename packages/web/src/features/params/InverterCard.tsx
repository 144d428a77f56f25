/**
 * Inverter protocol (seed 002 §2.5): the protocols the pack speaks to the inverter now, read
 * from the BMS, and the selection: first the communication link (CAN or RS485), then the
 * protocol from the family's list for that link, or automatic detection where the BMS has
 * it. The gateway checks the code against the list, sends, reads back and audits.
 */
import type { Capabilities, CommandOutcome, InverterView } from '@openbms/contract/api';
import { useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { serverText } from '../../i18n/server-text';
import { api, type ApiError } from '../../api/client';
import { useApi } from '../../api/hooks';
import { Card, Confirm, ErrorBox, Spinner } from '../../ui';

type Link = 'can' | 'rs485';

export function InverterCard(props: {
  base: string;
  packName: string;
  caps: Capabilities;
  /** Why selecting is disabled (role, switch), or undefined. */
  why: string | undefined;
}): ReactNode {
  const { t, i18n } = useTranslation('params');
  const now = useApi<InverterView>(`${props.base}/inverter-protocol`);
  const list = props.caps.inverter_protocols ?? {};
  const links = (['can', 'rs485'] as const).filter((l) => (list[l]?.length ?? 0) > 0);
  const [link, setLink] = useState<Link | 'auto'>(links[0] ?? 'auto');
  const [code, setCode] = useState<string>('');
  const [ask, setAsk] = useState(false);
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [done, setDone] = useState<string | undefined>(undefined);
  const name = (l: Link, c: number | undefined): string =>
    c === undefined ? '—' : (list[l]?.find((x) => x.code === c)?.name ?? `0x${c.toString(16)}`);

  const body =
    link === 'auto' ? { mode: 'auto' as const } : { [link]: Number(code), mode: 'manual' as const };
  const send = async (): Promise<void> => {
    setAsk(false);
    setSending(true);
    setError(undefined);
    setDone(undefined);
    try {
      const o = await api<CommandOutcome>(`${props.base}/commands/inverter-protocol`, { body });
      setDone(serverText(i18n, o.command.text, o.command.detail));
      now.reload();
    } catch (e) {
      setError(e as ApiError);
    } finally {
      setSending(false);
    }
  };

  const s = now.data?.setting;
  return (
    <Card title={t('inverter.title')} testId="inverter-card">
      {now.loading && !now.data ? (
        <Spinner />
      ) : (
        <dl className="inv-now" data-testid="inverter-now">
          {links.map((l) => (
            <div key={l}>
              <dt>{t(`inverter.link.${l}`)}</dt>
              <dd data-testid={`inverter-now-${l}`} data-code={s?.[l] ?? ''}>
                {name(l, s?.[l])}
              </dd>
            </div>
          ))}
          <div>
            <dt>{t('inverter.mode')}</dt>
            <dd data-testid="inverter-now-mode">{s?.mode ? t(`inverter.modes.${s.mode}`) : '—'}</dd>
          </div>
        </dl>
      )}
      <ErrorBox error={now.error} />
      <div className="inv-form">
        <label className="field">
          <span>{t('inverter.linkLabel')}</span>
          <select
            value={link}
            disabled={props.why !== undefined}
            onChange={(e) => {
              setLink(e.target.value as Link | 'auto');
              setCode('');
            }}
            data-testid="inverter-link"
          >
            {links.map((l) => (
              <option key={l} value={l}>
                {t(`inverter.link.${l}`)}
              </option>
            ))}
            {list.auto && <option value="auto">{t('inverter.modes.auto')}</option>}
          </select>
        </label>
        {link !== 'auto' && (
          <label className="field">
            <span>{t('inverter.protocol')}</span>
            <select
              value={code}
              disabled={props.why !== undefined}
              onChange={(e) => setCode(e.target.value)}
              data-testid="inverter-protocol"
            >
              <option value="">{t('inverter.choose')}</option>
              {(list[link] ?? []).map((o) => (
                <option key={o.code} value={String(o.code)}>
                  {o.name}
                </option>
              ))}
            </select>
          </label>
        )}
        <button
          type="button"
          disabled={props.why !== undefined || sending || (link !== 'auto' && code === '')}
          onClick={() => setAsk(true)}
          data-testid="inverter-set"
        >
          {sending ? t('inverter.sending') : t('inverter.set')}
        </button>
      </div>
      {props.why && <p className="muted small">{props.why}</p>}
      {done && (
        <p className="notice" role="status" data-testid="inverter-outcome">
          {done}
        </p>
      )}
      <ErrorBox error={error} />
      <Confirm
        open={ask}
        title={t('inverter.confirmTitle', { pack: props.packName })}
        confirmLabel={t('inverter.set')}
        onConfirm={() => void send()}
        onCancel={() => setAsk(false)}
      >
        <p>
          {link === 'auto'
            ? t('inverter.confirmAuto')
            : t('inverter.confirmBody', {
                link: t(`inverter.link.${link}`),
                name: name(link, Number(code)),
              })}
        </p>
      </Confirm>
    </Card>
  );
}
