/**
 * The settings forms' own types. The API's shapes (settings view, statuses, channels, users,
 * tokens, audit...) are the contract's: `@openbms/contract/api`.
 */

/** A JSON object as the forms edit it (a config section). */
export type Obj = Record<string, unknown>;
