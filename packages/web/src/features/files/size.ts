import type { Fmt } from '../../i18n/format';

/** "12.3 kB" / "1.2 MB" / "3.40 TB" in the reader's number format (decimal units). */
export function sizeText(fmt: Fmt, bytes: number): string {
  if (bytes < 1000) return fmt.unit(bytes, 'B');
  if (bytes < 1e6) return fmt.unit(bytes / 1000, 'kB', 1);
  if (bytes < 1e9) return fmt.unit(bytes / 1e6, 'MB', 1);
  if (bytes < 1e12) return fmt.unit(bytes / 1e9, 'GB', bytes < 1e11 ? 2 : 1);
  return fmt.unit(bytes / 1e12, 'TB', 2);
}
