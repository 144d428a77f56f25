/**
 * The `fleet:` section of the config file: per-organisation limits, so one tenant cannot
 * starve the others (issue 14; docs/fleet.md "Per-organisation limits").
 *
 * ```yaml
 * fleet:
 *   limits:
 *     users: 10000              # members of one organisation; 1..1000000
 *     devices: 100000           # devices registered in one organisation; 1..10000000
 *     requests_per_minute: 6000 # API requests of the accounts of one organisation; 1..1000000
 *     orgs:                     # an organisation's own limits, by its code (any key left out: the default)
 *       EC03B0: { devices: 500, requests_per_minute: 600 }
 * ```
 */
import { z } from 'zod';

/** What each limit allows when the config says nothing. */
export const DEFAULT_FLEET_LIMITS = {
  users: 10_000,
  devices: 100_000,
  requests_per_minute: 6_000,
} as const;

/** The limits' names, as config keys and as the `limit` of a refusal. */
export const FLEET_LIMIT_KEYS = ['users', 'devices', 'requests_per_minute'] as const;
export type FleetLimitKey = (typeof FLEET_LIMIT_KEYS)[number];

const count = (max: number) =>
  z
    .number({ error: 'must be a whole number' })
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(max, `must be at most ${max}`);

const limitFields = {
  users: count(1_000_000),
  devices: count(10_000_000),
  requests_per_minute: count(1_000_000),
};

/** One organisation's own limits (by code); a key left out takes the section's value. */
export const orgLimitsSchema = z
  .object({
    users: limitFields.users.optional(),
    devices: limitFields.devices.optional(),
    requests_per_minute: limitFields.requests_per_minute.optional(),
  })
  .strict();

/** Crockford's base32, 6 characters: an organisation code (docs/fleet.md). */
const ORG_CODE = /^[0-9A-HJKMNP-TV-Z]{6}$/;

export const fleetLimitsSchema = z
  .object({
    users: limitFields.users.default(DEFAULT_FLEET_LIMITS.users),
    devices: limitFields.devices.default(DEFAULT_FLEET_LIMITS.devices),
    requests_per_minute: limitFields.requests_per_minute.default(
      DEFAULT_FLEET_LIMITS.requests_per_minute,
    ),
    orgs: z
      .record(z.string(), orgLimitsSchema)
      .default({})
      .superRefine((orgs, ctx) => {
        const codes = Object.keys(orgs);
        if (codes.length > 10_000)
          ctx.addIssue({ code: 'custom', message: 'must name at most 10000 organisations' });
        for (const c of codes)
          if (!ORG_CODE.test(c))
            ctx.addIssue({
              code: 'custom',
              path: [c],
              message: 'must be an organisation code: 6 characters of 0-9 A-Z without I L O U',
            });
      }),
  })
  .strict();

export const fleetConfigSchema = z
  .object({ limits: fleetLimitsSchema.default(fleetLimitsSchema.parse({})) })
  .strict();

export type FleetLimitsConfig = z.infer<typeof fleetLimitsSchema>;
export type FleetConfig = z.infer<typeof fleetConfigSchema>;
