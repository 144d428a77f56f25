/**
 * Every namespace of strings. Each feature keeps its own file next to its code
 * (features/<name>/i18n.ts); this list only gathers them. Use them as
 * `useTranslation('overview')` then `t('title')`, or `t('common:save')` across namespaces.
 */
import alarmNames from './alarms';
import common from './common';
import server from './server';
import account from '../features/account/i18n';
import alarms from '../features/alarms/i18n';
import buses from '../features/buses/i18n';
import control from '../features/control/i18n';
import devices from '../features/devices/i18n';
import energy from '../energy/i18n';
import files from '../features/files/i18n';
import history from '../features/history/i18n';
import live from '../features/live/i18n';
import orgs from '../features/orgs/i18n';
import overview from '../features/overview/i18n';
import pack from '../features/pack/i18n';
import plants from '../features/plants/i18n';
import points from '../features/points/i18n';
import parallel from '../features/parallel/i18n';
import params from '../features/params/i18n';
import settings from '../features/settings/i18n';
import trackers from '../features/trackers/i18n';
import trackerAlarms from '../features/trackers/i18n-alarms';
import wall from '../features/wall/i18n';
import type { Strings } from './types';

export const NAMESPACES: Record<string, Strings> = {
  common,
  account,
  alarmNames,
  alarms,
  buses,
  control,
  devices,
  energy,
  files,
  history,
  live,
  orgs,
  overview,
  pack,
  plants,
  points,
  parallel,
  params,
  server,
  settings,
  trackers,
  trackerAlarms,
  wall,
};
