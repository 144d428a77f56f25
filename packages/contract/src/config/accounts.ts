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
import { mailbox } from './notify.js';

export const CAPTCHA_MODES = ['always', 'after_failures', 'off'] as const;

/** The SMTP server codes are mailed through: the shape of the e-mail notification channel's. */
export const accountsEmailSchema = z
  .object({
    host: z.string({ error: 'host must be the SMTP server name' }).min(1, 'host must not be empty'),
    port: z
      .number({ error: 'port must be a number' })
      .int('port must be a whole number')
      .min(1, 'port must be 1..65535')
      .max(65_535, 'port must be 1..65535')
      .optional(),
    secure: z.boolean({ error: 'secure must be true or false' }).default(false),
    starttls: z.boolean({ error: 'starttls must be true or false' }).default(true),
    username: z.string().min(1, 'username must not be empty').optional(),
    password: z
      .string({ error: 'password must be a string' })
      .min(1, 'password must not be empty')
      .optional(),
    from: mailbox,
    /** PEM file with the CA that signed the server's certificate (self-signed servers). */
    ca: z.string().min(1, 'ca must be a path to a PEM file').optional(),
    /** Accept any server certificate. Not for the internet. */
    insecure: z.boolean({ error: 'insecure must be true or false' }).default(false),
    timeout_s: z.number().int().min(1).max(300).default(30),
  })
  .strict()
  .superRefine((e, ctx) => {
    if ((e.username === undefined) !== (e.password === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [e.username === undefined ? 'username' : 'password'],
        message: 'username and password go together',
      });
    }
  });

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
