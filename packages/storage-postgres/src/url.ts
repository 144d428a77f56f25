/**
 * The connection URL as it may be shown: its password replaced by `***`. (The URL is checked
 * where the config is read: `parseStorageUrl` in @openbms/contract.)
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
  }
}
