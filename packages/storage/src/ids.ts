/**
 * Fleet-wide record ids: ULIDs (26 characters of Crockford base32: 48 bits of time in ms,
 * then 80 random bits), from the `ulid` package. They sort by creation time, so lists ordered
 * by time then id stay in the order records were made, and two gateways never make the same
 * id without asking anyone. A factory is monotonic: ids it makes within one ms (or when the
 * clock steps back) still increase.
 */
import { monotonicFactory } from 'ulid';

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** The largest time a ULID holds (2^48 - 1 ms, in the year 10889). */
const TIME_MAX = 2 ** 48 - 1;

/**
 * A monotonic id maker; `at` (ms) sets the id's time part (default: now; a time a ULID cannot
 * hold, such as a negative one from a bad clock, takes now instead).
 */
export function idFactory(): (at?: number) => string {
  const next = monotonicFactory();
  return (at?: number) =>
    next(at !== undefined && Number.isInteger(at) && at > 0 && at <= TIME_MAX ? at : Date.now());
}

const shared = idFactory();

/** A new id from this process's monotonic factory. */
export function newId(at?: number): string {
  return shared(at);
}

/** Whether a value is a well-formed id (a ULID in upper case). */
export function isId(value: unknown): value is string {
  return typeof value === 'string' && ULID.test(value);
}
