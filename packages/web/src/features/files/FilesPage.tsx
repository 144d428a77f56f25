/**
 * Exports & files (seed 001's file manager and config backup, seed 004's Excel export):
 * export any range of a pack, the daily files, and the config backup / restore (admin).
 */
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { useAuth } from '../../app/auth';
import { ConfigCard } from './ConfigCard';
import { DailyFiles } from './DailyFiles';
import { ExportCard } from './ExportCard';
import './files.css';

export default function FilesPage(): ReactNode {
  const { t } = useTranslation('files');
  const { can } = useAuth();
  return (
    <div className="page files" data-testid="files-page">
      <div className="page-head">
        <h1>{t('title')}</h1>
        <p className="muted">{t('intro')}</p>
      </div>
      <ExportCard />
      <DailyFiles />
      {can('admin') ? (
        <ConfigCard />
      ) : (
        <p className="muted" data-testid="config-admin-only">
          {t('config.adminOnly')}
        </p>
      )}
    </div>
  );
}
