/** BMS clocks and time zones: the conversions live in the core (`zone.ts`), shared with storage. */
export { realOf, wallOf } from '@openbms/core';

/** The zone the gateway runs in, for the API ("UTC" when the runtime does not say). */
export function hostTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}
