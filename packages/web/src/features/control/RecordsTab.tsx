/**
 * The Records tab (seed 004's on-board data and alarm records). No family OpenBMS speaks has
 * a documented command to read them (capabilities.operations.records is false, the API
 * answers CAPABILITY_MISSING), so this says so plainly and points to the records OpenBMS
 * keeps itself, instead of a read / stop / clear / export UI that could never work.
 */
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'wouter';
import { packPath } from '../../api/client';
import { useApi } from '../../api/hooks';
import { Card, ErrorBox, Spinner } from '../../ui';
import type { TabProps } from '../../app/pack-tab';
import type { Capabilities } from '@openbms/contract/api';
import './control.css';

export default function RecordsTab(props: TabProps): ReactNode {
  const { pack } = props;
  const { t } = useTranslation('control');
  const caps = useApi<Capabilities>(`${packPath(pack.id)}/capabilities`);
  if (caps.error) return <ErrorBox error={caps.error} />;
  const c = caps.data;
  if (!c) return <Spinner />;
  const tab = (id: string) => `/packs/${encodeURIComponent(pack.id)}/${id}`;
  return (
    <Card title={t('records.title')} testId="records-tab">
      {c.operations.records ? (
        <p data-testid="records-not-yet">{t('records.notYet')}</p>
      ) : (
        <>
          <p className="records-lead" data-testid="records-unsupported">
            {t('records.unsupported', { protocol: c.protocol })}
          </p>
          <p className="muted">{t('records.why', { protocol: c.protocol })}</p>
          <p>{t('records.instead')}</p>
          <p className="records-links">
            <Link href={tab('history')}>{t('records.history')}</Link>
            <Link href={tab('alarms')}>{t('records.alarms')}</Link>
            <Link href="/files">{t('records.files')}</Link>
          </p>
        </>
      )}
    </Card>
  );
}
