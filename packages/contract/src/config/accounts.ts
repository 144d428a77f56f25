/**
 * The `accounts:` section of the config file: how the login defends itself (issue 14;
 * seed 002's EMS login with its graphic captcha). More account settings (sign-up, e-mail)
 * join this section later.
 *
 * ```yaml
 * accounts:
 *   captcha: after_failures # always | after_failures (default) | off
 *   captcha_after: 3        # failed logins (per login name or client address) before one is asked; 1..20
 * ```
 */
import { z } from 'zod';

export const CAPTCHA_MODES = ['always', 'after_failures', 'off'] as const;

export const accountsConfigSchema = z
  .object({
    /** always: every login; after_failures: after `captcha_after` failed logins; off: never. */
    captcha: z.enum(CAPTCHA_MODES).default('after_failures'),
    /** Failed logins, per login name or per client address within 15 minutes, before one is asked. */
    captcha_after: z.number().int().min(1).max(20).default(3),
  })
  .strict();

export type AccountsConfig = z.infer<typeof accountsConfigSchema>;
