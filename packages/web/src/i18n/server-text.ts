/**
 * Turns what the server says (a ServerText, an error code with details) into the reader's
 * language. A key this console does not know, or a sentence whose parameters did not all
 * come, shows the server's English sentence instead of a half-filled one. In English the
 * server's sentence is shown as it is. The demo site's name is translated in every language.
 */
import { DEMO_SITE_NAME, type ServerText } from '@openbms/core';
import type { i18n as I18n } from 'i18next';

const placeholders = (s: string): string[] =>
  [...s.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]!);

export function serverText(i18n: I18n, text: ServerText | undefined, english: string): string {
  // In English the server's own sentence says it best (it carries every figure).
  if (!text || i18n.language.startsWith('en')) return english;
  const key = `server:${text.key}`;
  if (!i18n.exists(key)) return english;
  const params = text.params ?? {};
  // i18next would leave a missing {{x}} as is: check the English template's placeholders.
  const raw = i18n.getResource('en', 'server', text.key) as unknown;
  if (typeof raw !== 'string') return english;
  if (placeholders(raw).some((p) => params[p] === undefined)) return english;
  return i18n.t(key, params);
}

/** An API error in words: its interlock or code translated, else the server's message. */
export function errorText(
  i18n: I18n,
  e: { code?: string; message: string; details?: unknown },
): string {
  if (!e.code) return e.message;
  const details =
    typeof e.details === 'object' && e.details !== null
      ? (e.details as Record<string, unknown>)
      : {};
  const params: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(details)) {
    if (typeof v === 'string' || typeof v === 'number') params[k] = v;
  }
  const interlock = details['interlock'];
  const key = typeof interlock === 'string' ? `interlock.${interlock}` : `error.${e.code}`;
  return serverText(i18n, { key, params }, e.message);
}

/** A site's name to show: the demo's default name translated, any other as given. */
export function siteName(i18n: I18n, name: string): string {
  return name === DEMO_SITE_NAME ? i18n.t('server:site.demo') : name;
}
