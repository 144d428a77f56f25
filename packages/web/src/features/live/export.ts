/**
 * The log's columns for the table and the saved files, times in the site's zone, and the
 * files themselves: CSV (RFC 4180, "." decimals, a header row) and XLSX (the same
 * SpreadsheetML parts as the server's export, from @openbms/contract/xlsx, zipped here
 * with fflate, so no server round trip and no row leaves the browser).
 */
import {
  CONTENT_TYPES,
  ROOT_RELS,
  SHEET_TAIL,
  STYLES,
  WORKBOOK_RELS,
  columnLetters,
  excelSerial,
  sheetHead,
  sheetRow,
  workbookXml,
} from '@openbms/contract/xlsx';
import { strToU8, zipSync } from 'fflate';
import { FIXED, presentFixed, widths, type FixedKey, type LogRow } from './log';

export interface Column {
  id: string;
  /** Heading with its unit, as in the saved files: "Pack voltage (V)". */
  heading: string;
  /** Short heading for the table: "V", "V01". */
  short: string;
  decimals: number;
  /** A number, a (translated) text, or undefined for an empty cell. */
  value(r: LogRow): number | string | undefined;
}

export interface Labels {
  /** Long name of a fixed column ("Pack voltage"). */
  name(key: FixedKey): string;
  /** Short name for the table head ("Pack V"). */
  short(key: FixedKey): string;
  /** A run state or 'on'/'off' in the current language. */
  text(key: FixedKey, value: string): string;
  cell(n: number): string;
  temp(n: number): string;
}

export function columnsOf(rows: readonly LogRow[], l: Labels): Column[] {
  const cols: Column[] = presentFixed(rows).map((c) => ({
    id: c.key,
    heading: c.unit ? `${l.name(c.key)} (${c.unit})` : l.name(c.key),
    short: l.short(c.key),
    decimals: c.decimals,
    value: (r) => {
      const t = r.text[c.key];
      return t !== undefined ? l.text(c.key, t) : r.num[c.key];
    },
  }));
  const w = widths(rows);
  for (let i = 0; i < w.cells; i++)
    cols.push({
      id: `cell${i + 1}`,
      heading: `${l.cell(i + 1)} (mV)`,
      short: l.cell(i + 1),
      decimals: 0,
      value: (r) => r.cells[i],
    });
  for (let i = 0; i < w.temps; i++)
    cols.push({
      id: `temp${i + 1}`,
      heading: `${l.temp(i + 1)} (°C)`,
      short: l.temp(i + 1),
      decimals: 1,
      value: (r) => {
        const v = r.temps[i];
        return v === undefined || Number.isNaN(v) ? undefined : v;
      },
    });
  return cols;
}

/** Every fixed column key (for label tables that must cover them all). */
export const FIXED_KEYS: readonly FixedKey[] = FIXED.map((c) => c.key);

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/**
 * Wall time in `zone` as "ms since the epoch as if UTC" (what Excel's date serial and the
 * text time need). The zone's offset is looked up once per quarter hour (every zone changes
 * offset on a quarter-hour boundary; Intl is slow per row).
 */
export function wallClock(zone: string): (ms: number) => number {
  const f = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
  const QUARTER = 900_000;
  let bucket = Number.NaN;
  let offset = 0;
  return (ms) => {
    const b = Math.floor(ms / QUARTER);
    if (b !== bucket) {
      bucket = b;
      const at = b * QUARTER;
      const p = Object.fromEntries(f.formatToParts(at).map((x) => [x.type, x.value]));
      const wall = Date.UTC(+p.year!, +p.month! - 1, +p.day!, +p.hour!, +p.minute!, +p.second!);
      offset = wall - at;
    }
    return ms + offset;
  };
}

/** "YYYY-MM-DD HH:mm:ss" of a wall time from `wallClock`. */
export function wallText(wall: number): string {
  const d = new Date(wall);
  return (
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`
  );
}

const csvField = (s: string): string => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/** The log as CSV text: a time column (named with its zone), then every column. */
export function toCsv(rows: readonly LogRow[], cols: readonly Column[], zone: string): string {
  const wall = wallClock(zone);
  const lines = [[`time (${zone})`, ...cols.map((c) => c.heading)].map(csvField).join(',')];
  for (const r of rows) {
    const cells = [wallText(wall(r.ts))];
    for (const c of cols) {
      const v = c.value(r);
      cells.push(v === undefined ? '' : typeof v === 'number' ? String(v) : csvField(v));
    }
    lines.push(cells.join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** The log as an .xlsx workbook: times as Excel dates in `zone`, numbers as numbers. */
export function toXlsx(
  rows: readonly LogRow[],
  cols: readonly Column[],
  zone: string,
  sheet: string,
): Uint8Array {
  const wall = wallClock(zone);
  const letters = Array.from({ length: cols.length + 1 }, (_, i) => columnLetters(i));
  const parts = [sheetHead([`time (${zone})`, ...cols.map((c) => c.heading)])];
  rows.forEach((r, i) => {
    parts.push(
      sheetRow(
        i + 2,
        excelSerial(wall(r.ts)),
        cols.map((c) => c.value(r)),
        letters,
      ),
    );
  });
  parts.push(SHEET_TAIL);
  return zipSync({
    '[Content_Types].xml': strToU8(CONTENT_TYPES),
    '_rels/.rels': strToU8(ROOT_RELS),
    'xl/workbook.xml': strToU8(workbookXml(sheet)),
    'xl/_rels/workbook.xml.rels': strToU8(WORKBOOK_RELS),
    'xl/styles.xml': strToU8(STYLES),
    'xl/worksheets/sheet1.xml': strToU8(parts.join('')),
  });
}

/** Offers bytes as a download (an object URL on a temporary link). */
export function download(name: string, type: string, data: BlobPart): void {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
