/**
 * Self-service accounts (issue 14 "Accounts", docs/fleet.md): the e-mail address of a user
 * and the one-time codes that sign-up and password reset send by e-mail.
 *
 * Codes live in the database, not in a server's memory, because several API nodes share one
 * database: the code sent by one node is checked by whichever node the next request reaches.
 * Only a hash of a code is stored (the server hashes; the store compares hashes). A code is
 * for one purpose and one address; a new one replaces the previous. `useCode` is atomic: it
 * counts a wrong try, refuses after `maxTries`, and deletes the code once it matched.
 */
import { BmsError, isAlarmCode, isTrackerAlarmCode } from '@openbms/core';
import type { User } from './index.js';
import { invalid, text, time } from './validate.js';

/** `email`: a code that confirms a new address of a logged-in user (My account). */
export const CODE_PURPOSES = ['signup', 'reset', 'email'] as const;
export type CodePurpose = (typeof CODE_PURPOSES)[number];

export interface NewCode {
  purpose: CodePurpose;
  /** Lower-cased address (see `emailAddress`). */
  email: string;
  /** The code's hash (hex); never the code. */
  hash: string;
  createdAt: number;
  expiresAt: number;
}

/** What `useCode` found: `ok` (matched, now deleted), or why not. */
export type CodeCheck = 'ok' | 'wrong' | 'expired' | 'none' | 'exhausted';

export interface AccountStore {
  /**
   * Stores a code, replacing the pending one for the same purpose and address, unless that
   * one was made less than `minGapMs` before `code.createdAt`: then nothing changes and the
   * answer is false (the per-address rate limit, shared by every node on the database).
   */
  putCode(code: NewCode, minGapMs: number): Promise<boolean>;
  /**
   * Checks `hash` against the pending code: `none` (no code), `expired` (deleted now),
   * `exhausted` (`maxTries` wrong tries already: the code is dead until a new one is sent),
   * `wrong` (one more try counted), `ok` (deleted: a code works once).
   */
  useCode(
    purpose: CodePurpose,
    email: string,
    hash: string,
    now: number,
    maxTries: number,
  ): Promise<CodeCheck>;
  /** The user with this e-mail address (any organisation), or undefined. */
  userByEmail(email: string): Promise<User | undefined>;
  /**
   * Sets (or, with null, clears) what a user gave at sign-up: e-mail address, IANA time zone,
   * phone; a field left out stays. An address another user has is REQUEST_INVALID (`email`).
   */
  setProfile(userId: string, profile: Profile): Promise<void>;
  /** A user's profile as stored (null: never given), or undefined for an unknown user. */
  profileOf(userId: string): Promise<StoredProfile | undefined>;
  /**
   * The users (any organisation) who asked for alarm e-mails (`notify.alarmsEmail`) and have an
   * e-mail address: whom the server's alarm mailer considers (the policy then decides, per
   * user, which alarms they may see). Oldest accounts first (creation time, then id).
   */
  notifyRecipients(): Promise<NotifyRecipient[]>;
}

/** The alarm severities a user may choose as the least that is mailed (core's `Severity`). */
export const NOTIFY_SEVERITIES = ['warning', 'protection', 'fault'] as const;
export type NotifySeverity = (typeof NOTIFY_SEVERITIES)[number];

/** A user's notification settings (My account). */
export interface NotifySettings {
  /** E-mail me when an alarm is raised on a pack I may see. */
  alarmsEmail: boolean;
  /** The least severity mailed (`warning` < `protection` < `fault`). */
  minSeverity: NotifySeverity;
  /** Also mail when such an alarm clears. */
  alarmCleared: boolean;
  /**
   * Alarm types turned off (false) or on (true) by code (seed 003 "alarm settings"); a code
   * not named is on. An alarm of a type turned off is neither listed nor mailed to this user.
   */
  alarmTypes?: Record<string, boolean>;
}

/** The alarm codes a user may switch: the BMS taxonomy and the tracker catalogue. */
export const isSwitchableAlarm = (code: string): boolean =>
  isAlarmCode(code) || isTrackerAlarmCode(code);

/** Whether a user's settings let alarms of `code` through (no settings: every type). */
export const alarmTypeOn = (n: NotifySettings | null | undefined, code: string): boolean =>
  !n?.alarmTypes || n.alarmTypes[code] !== false;

export interface NotifyRecipient {
  user: User;
  email: string;
  notify: NotifySettings;
}

/** The settings checked strictly (every field, no other). */
export function notifySettings(value: unknown): NotifySettings {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid('notify', 'must be an object');
  const n = value as Record<string, unknown>;
  for (const k of Object.keys(n))
    if (!['alarmsEmail', 'minSeverity', 'alarmCleared', 'alarmTypes'].includes(k))
      throw invalid(`notify.${k}`, 'is not a notification setting');
  if (typeof n['alarmsEmail'] !== 'boolean')
    throw invalid('notify.alarmsEmail', 'must be a boolean');
  if (!NOTIFY_SEVERITIES.includes(n['minSeverity'] as NotifySeverity))
    throw invalid('notify.minSeverity', `must be one of ${NOTIFY_SEVERITIES.join(', ')}`);
  if (typeof n['alarmCleared'] !== 'boolean')
    throw invalid('notify.alarmCleared', 'must be a boolean');
  const out: NotifySettings = {
    alarmsEmail: n['alarmsEmail'],
    minSeverity: n['minSeverity'] as NotifySeverity,
    alarmCleared: n['alarmCleared'],
  };
  const types = n['alarmTypes'];
  if (types !== undefined) {
    if (typeof types !== 'object' || types === null || Array.isArray(types))
      throw invalid('notify.alarmTypes', 'must be an object of alarm code: boolean');
    const entries = Object.entries(types as Record<string, unknown>);
    if (entries.length > 200) throw invalid('notify.alarmTypes', 'must name at most 200 codes');
    for (const [code, on] of entries) {
      if (!isSwitchableAlarm(code))
        throw invalid(`notify.alarmTypes.${code}`, 'is not an alarm code');
      if (typeof on !== 'boolean') throw invalid(`notify.alarmTypes.${code}`, 'must be a boolean');
    }
    out.alarmTypes = Object.fromEntries(entries) as Record<string, boolean>;
  }
  return out;
}

/** The stored text (JSON) of the settings read back; anything unreadable counts as none. */
export function storedNotify(text: string | null | undefined): NotifySettings | null {
  if (typeof text !== 'string') return null;
  try {
    return notifySettings(JSON.parse(text));
  } catch {
    return null;
  }
}

/**
 * A profile change as column/value pairs for an UPDATE (both adapters): the fields checked by
 * `profile`, the notification settings as JSON text in the `notify` column.
 */
export function profileColumns(p: Profile): [string, string | null][] {
  return Object.entries(profile(p)).map(([k, v]) => [
    k,
    k === 'notify' ? (v === null ? null : JSON.stringify(v)) : (v as string | null),
  ]);
}

/** The languages of the web console. */
export const LANGUAGES = ['en', 'zh'] as const;
export type Language = (typeof LANGUAGES)[number];

export interface Profile {
  email?: string | null;
  timezone?: string | null;
  phone?: string | null;
  /** The user's language in the web console. */
  language?: Language | null;
  /** Notification settings (null: none, nothing is mailed). */
  notify?: NotifySettings | null;
}

export interface StoredProfile {
  email: string | null;
  timezone: string | null;
  phone: string | null;
  language: Language | null;
  notify: NotifySettings | null;
}

/** The profile's fields checked and normalised (the address lower-cased). */
export function profile(value: unknown): Profile {
  if (typeof value !== 'object' || value === null) throw invalid('profile', 'must be an object');
  const p = value as Record<string, unknown>;
  const out: Profile = {};
  if (p['email'] !== undefined) out.email = p['email'] === null ? null : emailAddress(p['email']);
  if (p['timezone'] !== undefined)
    out.timezone = p['timezone'] === null ? null : text(p['timezone'], 'timezone', 64);
  if (p['phone'] !== undefined)
    out.phone = p['phone'] === null ? null : text(p['phone'], 'phone', 32);
  const lang = p['language'];
  if (lang !== undefined) {
    if (lang !== null && !LANGUAGES.includes(lang as Language))
      throw invalid('language', 'must be en or zh');
    out.language = lang as Language | null;
  }
  if (p['notify'] !== undefined)
    out.notify = p['notify'] === null ? null : notifySettings(p['notify']);
  return out;
}

const EMAIL = /^[^\s@<>()",;:\\[\]]+@[^\s@<>()",;:\\[\]]+\.[^\s@<>()",;:\\[\]]+$/;

/** An e-mail address as stored: 3-254 characters, one @, a dot in the domain; lower-cased. */
export function emailAddress(value: unknown, field = 'email'): string {
  if (typeof value !== 'string' || value.length > 254 || !EMAIL.test(value))
    throw invalid(field, 'must be an e-mail address such as ann@example.com');
  return value.toLowerCase();
}

export function newCode(value: unknown): NewCode {
  if (typeof value !== 'object' || value === null) throw invalid('code', 'must be an object');
  const c = value as Record<string, unknown>;
  const purpose = c['purpose'];
  if (!CODE_PURPOSES.includes(purpose as CodePurpose))
    throw invalid('purpose', `must be one of ${CODE_PURPOSES.join(', ')}`);
  return {
    purpose: purpose as CodePurpose,
    email: emailAddress(c['email']),
    hash: text(c['hash'], 'hash', 200),
    createdAt: time(c['createdAt'], 'createdAt'),
    expiresAt: time(c['expiresAt'], 'expiresAt'),
  };
}

export const emailTaken = (): BmsError =>
  new BmsError('REQUEST_INVALID', 'email is used by another account', { field: 'email' });
