/**
 * The `accounts:` section of the config file: how the login defends itself (issue 14;
 * seed 002's EMS login with its graphic captcha; sign-up and password reset by e-mailed code,
 * docs/fleet.md "Sign-up and password reset").
 *
 * ```yaml
 * accounts:
 *   captcha: after_failures # always | after_failures (default) | off
 *   captcha_after: 3        # failed logins (per login name or client address) before one is asked; 1..20
 *   signup: false           # true: anyone with an organisation code makes an end_user account
 *   email:                  # how codes are mailed (required with signup; also enables reset)
 *     host: smtp.example.com
 *     port: 587             # default 465 with secure, else 587
 *     secure: false         # TLS from the first byte (port 465)
 *     starttls: true        # require STARTTLS on a plain connection
 *     username: bms         # optional, with password
 *     password: secret
 *     from: "OpenBMS <bms@example.com>"
 *   terms:                  # optional: the texts a sign-up agrees to
 *     service: "..."
 *     privacy: "..."
 * ```
 */
import { z } from 'zod';
import { smtpLoginPair, smtpServerFields, smtpTlsFields } from './notify.js';

export const CAPTCHA_MODES = ['always', 'after_failures', 'off'] as const;

/** The SMTP server codes are mailed through: the shape of the e-mail notification channel's. */
export const accountsEmailSchema = z
  .object({
    ...smtpServerFields,
    ...smtpTlsFields,
    timeout_s: z.number().int().min(1).max(300).default(30),
  })
  .strict()
  .superRefine(smtpLoginPair);

export type AccountsEmailConfig = z.infer<typeof accountsEmailSchema>;

const termText = z
  .string({ error: 'must be text' })
  .min(1, 'must not be empty')
  .max(100_000, 'must be at most 100000 characters');

export const accountsConfigSchema = z
  .object({
    /** always: every login; after_failures: after `captcha_after` failed logins; off: never. */
    captcha: z.enum(CAPTCHA_MODES).default('after_failures'),
    /** Failed logins, per login name or per client address within 15 minutes, before one is asked. */
    captcha_after: z.number().int().min(1).max(20).default(3),
    /** Self-service sign-up with an organisation code (needs `email`). */
    signup: z.boolean({ error: 'signup must be true or false' }).default(false),
    /** The SMTP server sign-up and reset codes go through. */
    email: accountsEmailSchema.optional(),
    /** The terms a sign-up agrees to, shown by the sign-up page. */
    terms: z.object({ service: termText, privacy: termText }).strict().optional(),
  })
  .strict()
  .superRefine((a, ctx) => {
    if (a.signup && a.email === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['email'],
        message: 'email is required with signup: true (codes are sent by e-mail)',
      });
  });

export type AccountsConfig = z.infer<typeof accountsConfigSchema>;
