/**
 * A sentence the server says to a person, as a key and its parameters, so the console can
 * say it in the reader's language (the English `detail` stays beside it for logs, the CLI
 * and API clients). Keys are stable: the web's `server` namespace translates each one.
 */
export interface ServerText {
  key: string;
  params?: Record<string, string | number>;
}

/** The demo site's name as the default config gives it; the console shows it translated. */
export const DEMO_SITE_NAME = 'Demo site (simulated)';

/**
 * Every command result the control service reports (`result.<key>`); the console has a
 * translation for each (a test there walks this list), and `say()` in the gateway only
 * takes these.
 */
export const RESULT_KEYS = [
  'mos_charge_on',
  'mos_charge_off',
  'mos_discharge_on',
  'mos_discharge_off',
  'soc_set',
  'clock_set',
  'clock_set_unread',
  'defaults_restored',
  'defaults_acknowledged',
  'params_held',
  'params_written',
  'profile_held',
  'profile_restored',
  'records_erased',
  'inverter_set',
  'restart_sent',
  'factory_reset_sent',
  'shutdown_sent',
] as const;
export type ResultKey = (typeof RESULT_KEYS)[number];
