/**
 * The Control tab (seeds 002/003/004): charge and discharge MOSFETs with the interlock's
 * refusal in words, SOC, the BMS clock (read and set), calibration, restart, shut-down and
 * factory reset — each behind a confirmation naming the pack — and the last commands with
 * their status. What the family's protocol lacks is disabled with the reason, and so is what
 * rests on a single document while the pack's config does not allow unverified commands;
 * viewers see everything and send nothing.
 */
import { socBody, type Capabilities, type CommandOutcome } from '@openbms/contract/api';
import { useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { errorText, serverText } from '../../i18n/server-text';
import { api, packPath, type ApiError } from '../../api/client';
import { useApi } from '../../api/hooks';
import { useAuth } from '../../app/auth';
import { useFmt } from '../../i18n/format';
import { Badge, Card, Confirm, ErrorBox, Spinner } from '../../ui';
import type { TabProps } from '../../app/pack-tab';
import { parseInput } from '../../ui/input';
import { CalibrationCard } from './CalibrationCard';
import { ClockCard } from './ClockCard';
import { CommandList } from './CommandList';
import './control.css';

/** The SOC a pack can be set to (the API's bounds). */
const SOC = socBody.properties.pct;

type Which = 'charge' | 'discharge';

/** A confirmation waiting for the user, and what to run when confirmed. */
interface Ask {
  title: string;
  body: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  typeToConfirm?: string;
  run: () => Promise<void>;
}

/** The outcome of the last command of one control, in words. */
interface Outcome {
  ok: boolean;
  text: string;
  code?: string;
}

export default function ControlTab(props: TabProps): ReactNode {
  const { pack } = props;
  const { t, i18n } = useTranslation('control');
  const fmt = useFmt();
  const { can } = useAuth();
  const base = packPath(pack.id);
  const caps = useApi<Capabilities>(`${base}/capabilities`);
  const commands = useApi<CommandOutcome['command'][]>(
    `/commands?pack=${encodeURIComponent(pack.id)}`,
  );
  const [ask, setAsk] = useState<Ask | undefined>(undefined);
  const [pending, setPending] = useState<string | undefined>(undefined);
  const [outcomes, setOutcomes] = useState<Record<string, Outcome>>({});
  const [soc, setSoc] = useState('');

  if (caps.error) return <ErrorBox error={caps.error} />;
  const c = caps.data;
  if (!c) return <Spinner />;
  const ops = c.operations;
  const operator = can('operator');
  const snap = pack.snapshot;

  /**
   * Why a control is disabled (unsupported by the family, the role, or a command resting on
   * one document while the pack does not allow those), or undefined.
   */
  const why = (op: string): string | undefined =>
    !ops[op]
      ? t('notSupported', { protocol: c.protocol })
      : !operator
        ? t('needsOperator')
        : c.unverified[op] !== undefined && !c.allow_unverified
          ? t('unverified', { why: c.unverified[op] })
          : undefined;

  /** Sends a command and keeps its outcome under `key`; the command list reloads. */
  const send = async (
    key: string,
    path: string,
    body: unknown,
    done: (o: CommandOutcome) => string,
  ): Promise<void> => {
    setAsk(undefined);
    setPending(key);
    try {
      const o = await api<CommandOutcome>(`${base}/commands/${path}`, { body });
      setOutcomes((x) => ({ ...x, [key]: { ok: true, text: done(o) } }));
    } catch (e) {
      const err = e as ApiError;
      const text =
        err.code === 'COMMAND_REFUSED'
          ? t('refused', { message: errorText(i18n, err) })
          : t('failed', { message: errorText(i18n, err) });
      setOutcomes((x) => ({ ...x, [key]: { ok: false, text, code: err.code } }));
    } finally {
      setPending(undefined);
      commands.reload();
    }
  };

  const state = (v: boolean | undefined): string =>
    v === undefined ? t('unknown') : v ? t('mos.on') : t('mos.off');

  const askMos = (which: Which, on: boolean): void => {
    const name = t(`mos.${which}`);
    setAsk({
      title: t(on ? 'mos.confirmTitleOn' : 'mos.confirmTitleOff', { which: name, pack: pack.name }),
      body: (
        <p>
          {on
            ? t('mos.confirmOn')
            : t('mos.confirmOff', { which: name, what: t(`mos.what${which}`) })}
        </p>
      ),
      confirmLabel: on ? t('mos.switchOn') : t('mos.switchOff'),
      danger: !on,
      run: () =>
        send(`mos-${which}`, 'mos', { which, on }, (o) => {
          const back = o.readback?.[`${which}_mos`];
          return t(on ? 'mos.doneOn' : 'mos.doneOff', {
            which: name,
            readback: state(typeof back === 'boolean' ? back : undefined),
          });
        }),
    });
  };

  const socValue = parseInput(soc);
  const socBad =
    soc.trim() !== '' &&
    (socValue === undefined ||
      Number.isNaN(socValue) ||
      socValue < SOC.minimum ||
      socValue > SOC.maximum);

  return (
    <div className="control" data-testid="control-tab">
      {!operator && <p className="muted">{t('viewerNote')}</p>}
      <div className="control-grid">
        <Card title={t('mos.title')} testId="mos-card">
          {(['charge', 'discharge'] as const).map((which) => {
            const key = which === 'charge' ? 'charge_mos' : 'discharge_mos';
            const v = snap?.[key];
            const reason = why('set_mos');
            const o = outcomes[`mos-${which}`];
            return (
              <div
                key={which}
                className="mos-row"
                data-testid={`mos-${which}`}
                data-state={v === undefined ? 'unknown' : v ? 'on' : 'off'}
              >
                <div className="mos-head">
                  <span className="mos-name">{t(`mos.${which}`)}</span>
                  <Badge tone={v === undefined ? 'muted' : v ? 'ok' : 'warn'}>{state(v)}</Badge>
                  <button
                    type="button"
                    disabled={reason !== undefined || pending !== undefined || v === undefined}
                    onClick={() => askMos(which, !v)}
                    data-testid={`mos-${which}-toggle`}
                  >
                    {pending === `mos-${which}`
                      ? t('running')
                      : v
                        ? t('mos.switchOff')
                        : t('mos.switchOn')}
                  </button>
                </div>
                {reason && <p className="muted small">{reason}</p>}
                {o && <OutcomeLine o={o} testId={`mos-${which}-outcome`} />}
              </div>
            );
          })}
          <p className="muted small">
            {t('mos.current', { current: fmt.unit(snap?.current_a, 'A', 1) })}
          </p>
          <p className="muted small">{t('mos.interlock')}</p>
        </Card>

        <Card title={t('soc.title')} testId="soc-card">
          <p>{t('soc.now', { soc: fmt.pct(snap?.soc_pct, 1) })}</p>
          <form
            className="soc-form"
            onSubmit={(e) => {
              e.preventDefault();
              if (socBad || socValue === undefined || why('set_soc')) return;
              const pct = socValue;
              setAsk({
                title: t('soc.confirmTitle', {
                  pack: pack.name,
                  pct: fmt.num(pct, pct % 1 ? 1 : 0),
                }),
                body: <p>{t('soc.confirmBody')}</p>,
                confirmLabel: t('soc.set'),
                run: () =>
                  send('soc', 'soc', { pct }, (o) => {
                    const back = o.readback?.['soc_pct'];
                    return t('soc.done', {
                      soc: fmt.pct(typeof back === 'number' ? back : undefined, 1),
                    });
                  }),
              });
            }}
          >
            <label className="field">
              <span>{t('soc.label')}</span>
              <input
                type="text"
                inputMode="decimal"
                autoComplete="off"
                value={soc}
                disabled={why('set_soc') !== undefined}
                aria-invalid={socBad}
                aria-describedby={socBad ? 'soc-err' : undefined}
                onChange={(e) => setSoc(e.target.value)}
                data-testid="soc-input"
              />
            </label>
            <button
              type="submit"
              disabled={
                why('set_soc') !== undefined ||
                socBad ||
                socValue === undefined ||
                pending !== undefined
              }
              data-testid="soc-set"
            >
              {pending === 'soc' ? t('running') : t('soc.set')}
            </button>
          </form>
          {socBad && (
            <p id="soc-err" className="field-error" data-testid="soc-error">
              {t('soc.invalid')}
            </p>
          )}
          {why('set_soc') && <p className="muted small">{why('set_soc')}</p>}
          {outcomes['soc'] && <OutcomeLine o={outcomes['soc']} testId="soc-outcome" />}
        </Card>

        <ClockCard
          base={base}
          packName={pack.name}
          canRead={
            ops['read_clock'] === true &&
            (c.unverified['read_clock'] === undefined || c.allow_unverified)
          }
          setWhy={why('set_clock')}
          busy={pending !== undefined}
          onCommand={commands.reload}
        />

        <CalibrationCard
          base={base}
          pack={pack}
          caps={c}
          why={why('calibrate')}
          onCommand={commands.reload}
        />

        <Card title={t('system.title')} testId="system-card">
          {(
            [
              ['restart', 'restart', 'system.restart', 'system.restartTitle', 'system.restartBody'],
              [
                'shutdown',
                'shutdown',
                'system.shutdown',
                'system.shutdownTitle',
                'system.shutdownBody',
              ],
              [
                'factory_reset',
                'factory-reset',
                'system.factoryReset',
                'system.resetTitle',
                'system.resetBody',
              ],
            ] as const
          ).map(([op, path, labelKey, titleKey, bodyKey]) => (
            <div key={op} className="sys-row">
              <button
                type="button"
                className="danger-outline"
                disabled={why(op) !== undefined || pending !== undefined}
                data-testid={`cmd-${path}`}
                onClick={() =>
                  setAsk({
                    title: t(titleKey, { pack: pack.name }),
                    body: <p>{t(bodyKey)}</p>,
                    confirmLabel: t(labelKey),
                    danger: true,
                    typeToConfirm: pack.name,
                    run: () =>
                      send(op, path, { confirm: pack.name }, (o) =>
                        t('system.done', {
                          detail: serverText(i18n, o.command.text, o.command.detail),
                        }),
                      ),
                  })
                }
              >
                {pending === op ? t('running') : t(labelKey)}
              </button>
              {why(op) && <span className="muted small">{why(op)}</span>}
              {outcomes[op] && <OutcomeLine o={outcomes[op]} testId={`${path}-outcome`} />}
            </div>
          ))}
        </Card>
      </div>

      <CommandList
        commands={commands.data}
        error={commands.error}
        loading={commands.loading}
        onRefresh={commands.reload}
      />

      <Confirm
        open={ask !== undefined}
        title={ask?.title ?? ''}
        confirmLabel={ask?.confirmLabel}
        danger={ask?.danger}
        typeToConfirm={ask?.typeToConfirm}
        onConfirm={() => void ask?.run()}
        onCancel={() => setAsk(undefined)}
      >
        {ask?.body}
      </Confirm>
    </div>
  );
}

function OutcomeLine(props: { o: Outcome; testId: string }): ReactNode {
  return props.o.ok ? (
    <p className="notice outcome" role="status" data-testid={props.testId} data-ok="true">
      {props.o.text}
    </p>
  ) : (
    <div
      className="error-box outcome"
      role="alert"
      data-testid={props.testId}
      data-ok="false"
      data-code={props.o.code}
    >
      {props.o.text}
    </div>
  );
}
