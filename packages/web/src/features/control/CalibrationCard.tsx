/**
 * Calibration (seed 002 §2.4, seed 004 system configuration): per kind the value the pack
 * reports now, a field for the true value measured with a reference meter (or the counter
 * to set), and Calibrate behind a confirmation. The gateway checks the range, the current
 * that must (or must not) flow, and reads the pack again; commands that rest on a single
 * document stay disabled unless the pack's config allows unverified commands.
 */
import type { Capabilities, CommandOutcome, PackView } from '@openbms/contract/api';
import { useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { errorText } from '../../i18n/server-text';
import { api, type ApiError } from '../../api/client';
import { useFmt } from '../../i18n/format';
import { Card, Confirm } from '../../ui';
import { parseInput } from '../../ui/input';

type Calibration = Capabilities['calibrations'][number];

/** The snapshot value a calibration changes (core CALIBRATIONS' metric). */
const METRIC: Record<string, string> = {
  total_voltage: 'voltage_v',
  current_zero: 'current_a',
  charge_current: 'current_a',
  discharge_current: 'current_a',
  temperature: 'max_temp_c',
  remaining_capacity: 'remaining_ah',
  full_capacity: 'full_ah',
  design_capacity: 'design_ah',
  soc: 'soc_pct',
  cycles: 'cycles',
};

interface Outcome {
  ok: boolean;
  text: string;
  code?: string;
}

export function CalibrationCard(props: {
  base: string;
  pack: PackView;
  caps: Capabilities;
  /** Why calibrating is disabled (family, role, switch), or undefined. */
  why: string | undefined;
  onCommand: () => void;
}): ReactNode {
  const { t, i18n } = useTranslation('control');
  const fmt = useFmt();
  const [inputs, setInputs] = useState<Record<string, string>>({});
  const [ask, setAsk] = useState<{ c: Calibration; value: number | undefined } | undefined>(
    undefined,
  );
  const [pending, setPending] = useState<string | undefined>(undefined);
  const [outcomes, setOutcomes] = useState<Record<string, Outcome>>({});
  const snap = (props.pack.snapshot ?? {}) as Record<string, unknown>;
  const list = props.caps.calibrations;

  const send = async (c: Calibration, value: number | undefined): Promise<void> => {
    setAsk(undefined);
    setPending(c.kind);
    try {
      const o = await api<CommandOutcome>(`${props.base}/commands/calibrate`, {
        body: value === undefined ? { kind: c.kind } : { kind: c.kind, value },
      });
      const back = o.readback ? Object.values(o.readback)[0] : undefined;
      setOutcomes((x) => ({
        ...x,
        [c.kind]: {
          ok: true,
          text: t('calibration.done', {
            value: typeof back === 'number' ? fmt.num(back, decimals(c.step, c.unit)) : '—',
            unit: c.unit,
          }),
        },
      }));
    } catch (e) {
      const err = e as ApiError;
      setOutcomes((x) => ({
        ...x,
        [c.kind]: {
          ok: false,
          text:
            err.code === 'COMMAND_REFUSED'
              ? t('refused', { message: errorText(i18n, err) })
              : t('failed', { message: errorText(i18n, err) }),
          code: err.code,
        },
      }));
    } finally {
      setPending(undefined);
      props.onCommand();
    }
  };

  return (
    <Card title={t('calibration.title')} testId="calibration-card">
      {list.length === 0 ? (
        <p className="muted small">{t('notSupported', { protocol: props.caps.protocol })}</p>
      ) : (
        <>
          <p className="muted small">{t('calibration.lead')}</p>
          {props.why && (
            <p className="muted small" data-testid="calibration-why">
              {props.why}
            </p>
          )}
          {list.map((c) => {
            const text = inputs[c.kind] ?? '';
            const v = parseInput(text);
            const bad =
              c.takes_value &&
              text.trim() !== '' &&
              (v === undefined ||
                Number.isNaN(v) ||
                v < c.min ||
                v > c.max ||
                Math.abs(v / c.step - Math.round(v / c.step)) > 1e-6);
            const ready = !c.takes_value || (v !== undefined && !Number.isNaN(v) && !bad);
            const now = snap[METRIC[c.kind] ?? ''];
            const o = outcomes[c.kind];
            return (
              <div key={c.kind} className="cal-row" data-testid={`cal-${c.kind}`}>
                <div className="cal-head">
                  <span className="cal-name">
                    {t(`calibration.kinds.${c.kind}`, { defaultValue: c.label })}
                  </span>
                  <span className="muted small" data-testid="cal-now">
                    {t('calibration.now', {
                      value: typeof now === 'number' ? fmt.num(now, decimals(c.step, c.unit)) : '—',
                      unit: c.unit,
                    })}
                  </span>
                </div>
                <div className="soc-form">
                  {c.takes_value && (
                    <label className="field">
                      <span>{t('calibration.value', { unit: c.unit || '#' })}</span>
                      <input
                        type="text"
                        inputMode="decimal"
                        autoComplete="off"
                        value={text}
                        disabled={props.why !== undefined}
                        aria-invalid={bad}
                        onChange={(e) => setInputs((x) => ({ ...x, [c.kind]: e.target.value }))}
                        data-testid="cal-input"
                      />
                    </label>
                  )}
                  <button
                    type="button"
                    disabled={props.why !== undefined || !ready || pending !== undefined}
                    onClick={() => setAsk({ c, value: c.takes_value ? v : undefined })}
                    data-testid="cal-send"
                  >
                    {pending === c.kind ? t('running') : t('calibration.send')}
                  </button>
                </div>
                {bad && (
                  <p className="field-error" data-testid="cal-error">
                    {t('calibration.range', { min: c.min, max: c.max, step: c.step, unit: c.unit })}
                  </p>
                )}
                {o &&
                  (o.ok ? (
                    <p
                      className="notice outcome"
                      role="status"
                      data-testid="cal-outcome"
                      data-ok="true"
                    >
                      {o.text}
                    </p>
                  ) : (
                    <div
                      className="error-box outcome"
                      role="alert"
                      data-testid="cal-outcome"
                      data-ok="false"
                      data-code={o.code}
                    >
                      {o.text}
                    </div>
                  ))}
              </div>
            );
          })}
        </>
      )}
      <Confirm
        open={ask !== undefined}
        title={t('calibration.confirmTitle', {
          pack: props.pack.name,
          what: ask ? t(`calibration.kinds.${ask.c.kind}`, { defaultValue: ask.c.label }) : '',
        })}
        confirmLabel={t('calibration.send')}
        danger
        onConfirm={() => ask && void send(ask.c, ask.value)}
        onCancel={() => setAsk(undefined)}
      >
        <p>
          {ask?.value !== undefined
            ? t('calibration.confirmValue', { value: ask.value, unit: ask.c.unit })
            : t('calibration.confirmZero')}
        </p>
      </Confirm>
    </Card>
  );
}

/** Decimals to show a value of a calibration: its step's, at least 2 for volts and amps. */
function decimals(step: number, unit = ''): number {
  const s = String(step);
  const i = s.indexOf('.');
  const own = i < 0 ? 0 : Math.min(3, s.length - i - 1);
  return unit === 'V' || unit === 'A' ? Math.max(2, own) : own;
}
