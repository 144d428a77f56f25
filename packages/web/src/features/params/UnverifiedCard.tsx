/**
 * The pack's "allow unverified commands" setting (config `packs[].allow_unverified`), shown with
 * what it covers and why: commands and parameters whose wire format rests on a single
 * document. Read-only here: it is a deliberate choice made in the config file.
 */
import type { Capabilities } from '@openbms/contract/api';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Badge, Card } from '../../ui';
import { useParamLabel } from './labels';

export function UnverifiedCard(props: { caps: Capabilities }): ReactNode {
  const { t } = useTranslation('params');
  const label = useParamLabel();
  const entries = Object.entries(props.caps.unverified);
  if (entries.length === 0) return null;
  const on = props.caps.allow_unverified;
  return (
    <Card title={t('unverified.title')} testId="unverified-card">
      <p>
        <Badge tone={on ? 'warn' : 'muted'}>{on ? t('unverified.on') : t('unverified.off')}</Badge>{' '}
        <span data-testid="unverified-state" data-on={on}>
          {on ? t('unverified.onText') : t('unverified.offText')}
        </span>
      </p>
      <ul className="unverified-list" data-testid="unverified-list">
        {entries.map(([op, why]) => (
          <li key={op} data-op={op}>
            <strong>
              {op.startsWith('param:')
                ? label(op.slice(6))
                : t(`unverified.ops.${op}`, { defaultValue: op })}
            </strong>
            : {why}
          </li>
        ))}
      </ul>
      <p className="muted small">{t('unverified.how')}</p>
    </Card>
  );
}
