/** Login, sessions, first-start setup, users and API tokens. */
import type { FromSchema } from 'json-schema-to-ts';
import {
  emailSchema,
  passwordSchema,
  phoneSchema,
  roleSchema,
  timezoneSchema,
  userSchema,
  usernameSchema,
} from './common.js';
import { orgRoleSchema } from './orgs.js';

export const credentialsBody = {
  type: 'object',
  required: ['username', 'password'],
  additionalProperties: false,
  properties: {
    username: {
      type: 'string',
      minLength: 1,
      maxLength: 254,
      description:
        "The login name: `name` for an account of the server's own organisation; `name@CODE` for the account `name` of the fleet organisation whose code is CODE (user names are unique within an organisation, codes across the fleet); or the account's e-mail address.",
    },
    password: { type: 'string', minLength: 1, maxLength: 256 },
    captcha_id: {
      type: 'string',
      minLength: 1,
      maxLength: 64,
      description: 'The id of a challenge from GET /auth/captcha (when a captcha is required).',
    },
    captcha: {
      type: 'string',
      minLength: 1,
      maxLength: 16,
      description:
        "The characters the challenge's image shows (any case). A challenge answers one login attempt, right or wrong.",
    },
  },
} as const;

export const captchaSchema = {
  type: 'object',
  required: ['id', 'svg', 'expires_at'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', description: 'Send it back as `captcha_id` with the login.' },
    svg: { type: 'string', description: 'The challenge: an SVG image of 4 characters.' },
    expires_at: {
      type: 'integer',
      description: 'ms since the epoch; after it the challenge is void.',
    },
  },
} as const;

export type CaptchaChallenge = FromSchema<typeof captchaSchema>;

/** accounts.captcha: when the login asks for a captcha. */
export const captchaModeSchema = {
  type: 'string',
  enum: ['always', 'after_failures', 'off'],
  description:
    'When the login asks for a captcha: always, after repeated failures (accounts.captcha_after, per login name or client address), or never.',
} as const;

export const sessionSchema = {
  type: 'object',
  required: ['token', 'user'],
  additionalProperties: false,
  properties: {
    token: { type: 'string', description: 'The session secret (also set as the cookie).' },
    expires_at: { type: 'integer' },
    user: userSchema,
  },
} as const;

export const meSchema = {
  type: 'object',
  required: ['username', 'role', 'via'],
  additionalProperties: false,
  properties: {
    username: { type: 'string' },
    role: roleSchema,
    via: { type: 'string', enum: ['session', 'api'] },
  },
} as const;

export const passwordChangeBody = {
  type: 'object',
  required: ['current_password', 'password'],
  additionalProperties: false,
  properties: {
    current_password: { type: 'string', minLength: 1, maxLength: 256 },
    password: passwordSchema,
  },
} as const;

export const setupStatusSchema = {
  type: 'object',
  required: ['admin_exists', 'needs_setup'],
  additionalProperties: false,
  properties: {
    admin_exists: { type: 'boolean' },
    needs_setup: { type: 'boolean' },
    captcha: captchaModeSchema,
    // The caller's session, so the web console can tell "log in" from "logged in"
    // without a 401 in the browser's console.
    user: {
      type: ['object', 'null'],
      required: ['username', 'role'],
      additionalProperties: false,
      properties: { username: { type: 'string' }, role: roleSchema },
    },
  },
} as const;

export const setupBody = {
  type: 'object',
  required: ['username', 'password'],
  additionalProperties: false,
  properties: { username: usernameSchema, password: passwordSchema },
} as const;

export const userCreateBody = {
  type: 'object',
  required: ['username', 'password', 'role'],
  additionalProperties: false,
  properties: { username: usernameSchema, password: passwordSchema, role: roleSchema },
} as const;

export const userUpdateBody = {
  type: 'object',
  minProperties: 1,
  additionalProperties: false,
  properties: { role: roleSchema, password: passwordSchema },
} as const;

export const usernameParams = {
  type: 'object',
  required: ['username'],
  properties: { username: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;

export const tokenCreateBody = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: { name: { type: 'string', minLength: 1, maxLength: 100 } },
} as const;

export const tokenCreatedSchema = {
  type: 'object',
  required: ['id', 'name', 'token'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', description: 'Use it to revoke the token.' },
    name: { type: 'string' },
    token: { type: 'string', description: 'The secret; not retrievable later.' },
    created_at: { type: 'integer' },
  },
} as const;

export const tokenIdParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^[0-9a-f]{64}$' } },
} as const;

export type Credentials = FromSchema<typeof credentialsBody>;
export type SessionView = FromSchema<typeof sessionSchema>;
export type Me = FromSchema<typeof meSchema>;
export type PasswordChange = FromSchema<typeof passwordChangeBody>;
export type SetupStatus = FromSchema<typeof setupStatusSchema>;
export type UserCreate = FromSchema<typeof userCreateBody>;
export type UserUpdate = FromSchema<typeof userUpdateBody>;
export type TokenCreate = FromSchema<typeof tokenCreateBody>;
export type TokenCreated = FromSchema<typeof tokenCreatedSchema>;

// ---------------------------------------------------------------- sign-up and reset by e-mail

export const codeSchema = {
  type: 'string',
  pattern: '^[0-9]{6}$',
  description: 'The 6 digits of the newest e-mail (valid 10 minutes, once, 5 tries).',
} as const;

export const emailCodeBody = {
  type: 'object',
  required: ['email'],
  additionalProperties: false,
  properties: { email: emailSchema },
} as const;

export type EmailCodeRequest = FromSchema<typeof emailCodeBody>;

export const codeSentSchema = {
  type: 'object',
  required: ['ok', 'expires_in_s'],
  additionalProperties: false,
  properties: {
    ok: { type: 'boolean', const: true },
    expires_in_s: { type: 'integer', description: 'How long a code sent now stays valid.' },
  },
  description:
    'The same answer whether or not the address has an account: the mail says what to do next.',
} as const;

export const signupBody = {
  type: 'object',
  required: ['email', 'code', 'name', 'password', 'timezone', 'org_code', 'agree'],
  additionalProperties: false,
  properties: {
    email: emailSchema,
    code: codeSchema,
    name: { ...usernameSchema, description: 'The login name, unique within the organisation.' },
    password: passwordSchema,
    timezone: {
      type: 'string',
      minLength: 1,
      maxLength: 64,
      description: 'An IANA time zone such as Europe/Berlin.',
    },
    phone: phoneSchema,
    org_code: {
      type: 'string',
      pattern: '^[0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{6}$',
      description: "The organisation's 6-character code (such as EC03B0; any case).",
    },
    agree: {
      type: 'boolean',
      const: true,
      description: 'Agreement to the terms of service and privacy terms (must be true).',
    },
  },
} as const;

export type SignupRequest = FromSchema<typeof signupBody>;

export const signupSchema = {
  type: 'object',
  required: ['username', 'login', 'org_code'],
  additionalProperties: false,
  properties: {
    username: { type: 'string' },
    login: { type: 'string', description: 'What to type at the login: name@ORGCODE.' },
    org_code: { type: 'string' },
  },
} as const;

export type SignupResult = FromSchema<typeof signupSchema>;

export const resetBody = {
  type: 'object',
  required: ['email', 'code', 'password'],
  additionalProperties: false,
  properties: { email: emailSchema, code: codeSchema, password: passwordSchema },
} as const;

export type ResetRequest = FromSchema<typeof resetBody>;

export const termsSchema = {
  type: 'object',
  required: ['signup'],
  additionalProperties: false,
  properties: {
    signup: { type: 'boolean', description: 'Whether sign-up is open (accounts.signup).' },
    reset: { type: 'boolean', description: 'Whether password reset by e-mail is available.' },
    service: { type: 'string', description: 'The terms of service (accounts.terms.service).' },
    privacy: { type: 'string', description: 'The privacy terms (accounts.terms.privacy).' },
  },
} as const;

export type SignupTerms = FromSchema<typeof termsSchema>;

/** My account: one's own profile (seed 003 "Mine", seed 000 "Registration & Login"). */
/** My notification settings (My account): alarm e-mails to my address. */
export const notifySchema = {
  type: 'object',
  required: ['alarms_email', 'min_severity', 'alarm_cleared'],
  additionalProperties: false,
  properties: {
    alarms_email: {
      type: 'boolean',
      description:
        'E-mail me when an alarm is raised on a pack I may see (needs my e-mail address and accounts.email on the server).',
    },
    min_severity: {
      type: 'string',
      enum: ['warning', 'protection', 'fault'],
      description: 'The least severity mailed: warning < protection < fault.',
    },
    alarm_cleared: { type: 'boolean', description: 'Also mail when such an alarm clears.' },
    alarm_types: {
      type: 'object',
      maxProperties: 200,
      additionalProperties: { type: 'boolean' },
      description:
        'Alarm types on (true) or off (false) by alarm code (BMS taxonomy or tracker catalogue); a code not named is on. Types turned off are left out of my alarm lists and e-mails. Absent in a change: kept as they were.',
    },
  },
} as const;

export type NotifyView = FromSchema<typeof notifySchema>;

export const accountSchema = {
  type: 'object',
  required: [
    'user_id',
    'username',
    'login',
    'role',
    'memberships',
    'email',
    'phone',
    'timezone',
    'language',
    'notify',
  ],
  additionalProperties: false,
  properties: {
    user_id: { type: 'string' },
    username: { type: 'string' },
    login: {
      type: 'string',
      description:
        "What to type at the login: the name, or name@ORGCODE for a fleet organisation's account.",
    },
    org_code: { type: 'string', description: "The account's organisation's code." },
    role: roleSchema,
    memberships: {
      type: 'array',
      description: 'My fleet memberships: the organisations I am a member of, with my role.',
      items: {
        type: 'object',
        required: ['org_id', 'role'],
        additionalProperties: false,
        properties: { org_id: { type: 'string' }, role: orgRoleSchema },
      },
    },
    email: { type: ['string', 'null'] },
    phone: { type: ['string', 'null'] },
    timezone: { type: ['string', 'null'], description: 'IANA time zone.' },
    language: { type: ['string', 'null'], enum: ['en', 'zh', null] },
    notify: notifySchema,
  },
} as const;

export type Account = FromSchema<typeof accountSchema>;

export const accountChangeBody = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    phone: {
      anyOf: [phoneSchema, { type: 'null' }],
      description: 'A phone number; null clears it.',
    },
    timezone: {
      anyOf: [timezoneSchema, { type: 'null' }],
      description: 'IANA time zone; null clears it.',
    },
    language: {
      type: ['string', 'null'],
      enum: ['en', 'zh', null],
      description: 'en or zh; null: the browser decides.',
    },
    notify: {
      ...notifySchema,
      description: 'My notification settings, all three fields together.',
    },
  },
} as const;

export type AccountChange = FromSchema<typeof accountChangeBody>;

export const emailChangeBody = {
  type: 'object',
  required: ['email', 'code'],
  additionalProperties: false,
  properties: { email: emailSchema, code: codeSchema },
} as const;

export type EmailChange = FromSchema<typeof emailChangeBody>;

export const loggedOutSchema = {
  type: 'object',
  required: ['ok', 'ended'],
  additionalProperties: false,
  properties: {
    ok: { type: 'boolean', const: true },
    ended: { type: 'integer', description: 'How many sessions ended (this one included).' },
  },
} as const;
