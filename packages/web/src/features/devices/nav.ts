/**
 * The Devices and Approvals entries of the console's menu, for the callers who may see them:
 * Devices when the caller sees a fleet (devices, or organisations under theirs), so the single
 * box keeps its menu; Approvals for a manager or administrator, with the count waiting for them.
 */
import { useTranslation } from 'react-i18next';
import type { Account, ApprovalView, DevicePageView, OrgView } from '@openbms/contract/api';
import { useApi } from '../../api/hooks';

export function useDeviceNav(): { href: string; label: string }[] {
  const { t } = useTranslation('devices');
  const account = useApi<Account>('/auth/account');
  const fleet = (account.data?.memberships.length ?? 0) > 0;
  const page = useApi<DevicePageView>(fleet ? '/devices?limit=1' : undefined);
  const orgs = useApi<OrgView[]>(fleet ? '/orgs' : undefined);
  const admin = !!account.data?.memberships.some(
    (m) => m.role === 'manager' || m.role === 'administrator',
  );
  const shown = fleet && ((page.data?.counts.all ?? 0) > 0 || (orgs.data?.length ?? 0) > 1);
  const inbox = useApi<ApprovalView[]>(shown && admin ? '/approvals?state=pending' : undefined);
  if (!shown) return [];
  const waiting = (inbox.data ?? []).filter((a) => a.can_decide).length;
  return [
    { href: '/devices', label: t('nav.devices') },
    { href: '/trackers', label: t('trackers:nav') },
    { href: '/tracker-alarms', label: t('trackers:navAlarms') },
    { href: '/geofences', label: t('trackers:navFences') },
    ...(admin
      ? [
          {
            href: '/approvals',
            label: waiting > 0 ? t('nav.approvalsCount', { count: waiting }) : t('nav.approvals'),
          },
        ]
      : []),
  ];
}
