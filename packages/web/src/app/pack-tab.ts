import type { PackView } from '@openbms/contract/api';

/** What every tab of the pack page gets (the tabs come from several features; app/PackPage.tsx puts them together). */
export interface TabProps {
  pack: PackView;
}
