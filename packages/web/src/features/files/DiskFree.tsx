/**
 * The free space of the disk holding the data (seed 001's file manager: "80 KBytes Free"),
 * with a bar of the used part; under 10 % free it turns to the warning colour and says what
 * to do.
 */
import type { DiskView } from '@openbms/contract/api';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { Loaded } from '../../api/hooks';
import { useFmt } from '../../i18n/format';
import { sizeText } from './size';

/** Below this share of free space the figure is shown as a warning. */
export const LOW_FREE = 0.1;

export function DiskFree(props: { disk: Loaded<DiskView> }): ReactNode {
  const { t } = useTranslation('files');
  const fmt = useFmt();
  const d = props.disk.data;
  if (props.disk.error) {
    return (
      <p className="muted f-disk" data-testid="disk-free">
        {t('disk.failed', { error: props.disk.error.message })}
      </p>
    );
  }
  if (!d) return null;
  if (!d.available || d.free_bytes === undefined || !d.total_bytes) {
    return (
      <p className="muted f-disk" data-testid="disk-free">
        {t('disk.unknown')}
      </p>
    );
  }
  const share = d.free_bytes / d.total_bytes;
  const low = share < LOW_FREE;
  return (
    <div
      className={`f-disk${low ? ' low' : ''}`}
      data-testid="disk-free"
      data-free={d.free_bytes}
      data-total={d.total_bytes}
      data-low={low}
    >
      <div className="f-disk-text">
        <span>
          {t('disk.free', {
            free: sizeText(fmt, d.free_bytes),
            total: sizeText(fmt, d.total_bytes),
            pct: fmt.pct(share * 100, share < 0.1 ? 1 : 0),
          })}
        </span>
        {low && <strong className="f-disk-warn">{t('disk.low')}</strong>}
      </div>
      <div className="f-disk-bar" aria-hidden="true">
        <span style={{ width: `${Math.min(100, Math.max(0, (1 - share) * 100))}%` }} />
      </div>
    </div>
  );
}
