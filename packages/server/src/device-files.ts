/**
 * The device list as files (seed 002 EMS "Import" / "Export"): CSV and one-sheet XLSX, both
 * ways. The columns are `DEVICE_COLUMNS`; an export writes all of them, an import reads the
 * writable ones and ignores the columns an export adds for reading (`READ_ONLY`), so an
 * exported file imports again.
 *
 * Written here rather than with a library: the CSV is RFC 4180 (quoted fields, doubled
 * quotes, CRLF or LF), and the workbook the same SpreadsheetML parts the telemetry export
 * writes (@openbms/contract/xlsx, zipped with fflate, which the server already uses); reading
 * needs only the first sheet's cells (inline strings, shared strings, numbers), so a workbook
 * library (and its dependencies) buys nothing here. Sizes are bounded before anything is
 * inflated or split.
 */
import { BmsError } from '@openbms/core';
import {
  CONTENT_TYPES,
  ROOT_RELS,
  STYLES,
  WORKBOOK_RELS,
  columnLetters,
  xmlEscape,
  workbookXml,
} from '@openbms/contract/xlsx';
import { strToU8, strFromU8, unzipSync, zipSync } from 'fflate';

/** The file's columns, in order. */
export const DEVICE_COLUMNS = [
  'serial',
  'barcode',
  'nickname',
  'type',
  'model',
  'manufacturer',
  'produced_on',
  'activation',
  'expires_at',
  'org_code',
  'gateway_id',
  'pack_id',
  'org_name',
  'run_status',
  'joined_at',
  'created_by',
] as const;
export type DeviceColumn = (typeof DEVICE_COLUMNS)[number];

/** Columns an export writes for people to read; an import skips them. */
export const READ_ONLY: readonly DeviceColumn[] = [
  'org_name',
  'run_status',
  'joined_at',
  'created_by',
];

/** The largest import body (bytes) and row count. */
export const MAX_IMPORT_BYTES = 2 * 1024 * 1024;
export const MAX_IMPORT_ROWS = 10_000;
/** The largest a workbook's parts may inflate to. */
const MAX_INFLATED = 32 * 1024 * 1024;

export type Cells = Partial<Record<DeviceColumn, string>>;

const bad = (msg: string, details: Record<string, unknown>): BmsError =>
  new BmsError('REQUEST_INVALID', msg, details);

// ---------------------------------------------------------------- CSV

/** RFC 4180 records of a text (quoted fields may hold commas, quotes doubled, line breaks). */
export function csvRecords(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; // a byte-order mark (Excel writes one)
  for (; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (quoted) throw bad('body: a quoted CSV field is not closed', { field: 'body' });
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => !(r.length === 1 && r[0] === ''));
}

const csvField = (v: string): string => {
  // A leading = + - @ would be a formula in a spreadsheet: quote it behind an apostrophe.
  const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
};

export function csvText(rows: readonly Cells[]): string {
  const lines = [DEVICE_COLUMNS.join(',')];
  for (const r of rows) lines.push(DEVICE_COLUMNS.map((c) => csvField(r[c] ?? '')).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

// ---------------------------------------------------------------- XLSX

const unescapeXml = (s: string): string =>
  s.replace(/&(lt|gt|amp|quot|apos|#x[0-9a-fA-F]+|#\d+);/g, (_m, e: string) => {
    if (e === 'lt') return '<';
    if (e === 'gt') return '>';
    if (e === 'amp') return '&';
    if (e === 'quot') return '"';
    if (e === 'apos') return "'";
    const n = e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
    return String.fromCodePoint(n);
  });

/** The text of `<t>` runs in a string item (rich text has several). */
const itemText = (xml: string): string =>
  [...xml.matchAll(/<t(?:\s[^>]*)?>([\s\S]*?)<\/t>/g)].map((m) => unescapeXml(m[1]!)).join('');

const colIndex = (ref: string): number => {
  let n = 0;
  for (const ch of ref.replace(/\d+$/, '')) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n - 1;
};

/** The first sheet's rows as text cells. */
export function xlsxRecords(bytes: Uint8Array): string[][] {
  let files: Record<string, Uint8Array>;
  let total = 0;
  try {
    files = unzipSync(bytes, {
      filter: (f) => {
        total += f.originalSize;
        if (total > MAX_INFLATED) throw new Error('the workbook inflates to more than 32 MB');
        return f.name === 'xl/worksheets/sheet1.xml' || f.name === 'xl/sharedStrings.xml';
      },
    });
  } catch (e) {
    throw bad(`body is not a readable .xlsx workbook: ${(e as Error).message}`, { field: 'body' });
  }
  const sheet = files['xl/worksheets/sheet1.xml'];
  if (!sheet) throw bad('body: the workbook has no first sheet', { field: 'body' });
  const shared = files['xl/sharedStrings.xml']
    ? [...strFromU8(files['xl/sharedStrings.xml']).matchAll(/<si>([\s\S]*?)<\/si>/g)].map((m) =>
        itemText(m[1]!),
      )
    : [];
  const rows: string[][] = [];
  for (const rm of strFromU8(sheet).matchAll(/<row\b[^>]*?(?:\/>|>([\s\S]*?)<\/row>)/g)) {
    const row: string[] = [];
    for (const cm of (rm[1] ?? '').matchAll(/<c\b([^>]*?)(?:\/>|>([\s\S]*?)<\/c>)/g)) {
      const attrs = cm[1]!;
      const body = cm[2] ?? '';
      const ref = /\br="([A-Z]+\d+)"/.exec(attrs)?.[1];
      const t = /\bt="(\w+)"/.exec(attrs)?.[1];
      const v = /<v>([\s\S]*?)<\/v>/.exec(body)?.[1];
      let text = '';
      if (t === 'inlineStr') text = itemText(body);
      else if (t === 's') text = shared[Number(v)] ?? '';
      else if (v !== undefined) text = unescapeXml(v);
      const at = ref !== undefined ? colIndex(ref) : row.length;
      while (row.length < at) row.push('');
      row[at] = text;
    }
    rows.push(row);
  }
  return rows.filter((r) => r.some((c) => c !== ''));
}

/** A one-sheet workbook of the rows, every cell text (serials keep their leading zeros). */
export function xlsxBytes(rows: readonly Cells[]): Uint8Array {
  const cell = (c: number, r: number, v: string, bold = false) =>
    v === ''
      ? ''
      : `<c r="${columnLetters(c)}${r}" t="inlineStr"${bold ? ' s="1"' : ''}><is><t>${xmlEscape(v)}</t></is></c>`;
  const body = [
    `<row r="1">${DEVICE_COLUMNS.map((h, c) => cell(c, 1, h, true)).join('')}</row>`,
    ...rows.map(
      (row, i) =>
        `<row r="${i + 2}">${DEVICE_COLUMNS.map((h, c) => cell(c, i + 2, row[h] ?? '')).join('')}</row>`,
    ),
  ].join('');
  const sheet =
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' +
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">' +
    `<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>` +
    `<sheetData>${body}</sheetData></worksheet>`;
  return zipSync(
    {
      '[Content_Types].xml': strToU8(CONTENT_TYPES),
      '_rels/.rels': strToU8(ROOT_RELS),
      'xl/workbook.xml': strToU8(workbookXml('devices')),
      'xl/_rels/workbook.xml.rels': strToU8(WORKBOOK_RELS),
      'xl/styles.xml': strToU8(STYLES),
      'xl/worksheets/sheet1.xml': strToU8(sheet),
    },
    { level: 6 },
  );
}

// ---------------------------------------------------------------- import rows

/**
 * The data rows of a file as cells by column: the header names the columns (any order, any
 * case); an unknown or repeated column is refused naming it, as is a row with more fields
 * than the header. `row` in errors is the file's line (the header is 1).
 */
export function importRows(records: string[][]): Cells[] {
  const [head, ...data] = records;
  if (!head) throw bad('body: the file is empty (a header row is needed)', { field: 'body' });
  if (data.length > MAX_IMPORT_ROWS)
    throw bad(`body holds ${data.length} rows; at most ${MAX_IMPORT_ROWS} are imported at once`, {
      field: 'body',
    });
  const cols = head.map((h) => h.trim().toLowerCase());
  cols.forEach((c, i) => {
    if (!(DEVICE_COLUMNS as readonly string[]).includes(c))
      throw bad(`row 1, column ${columnLetters(i)}: "${c}" is not a device column`, {
        field: c,
        row: 1,
        column: c,
      });
    if (cols.indexOf(c) !== i)
      throw bad(`row 1: column "${c}" is given twice`, { field: c, row: 1, column: c });
  });
  for (const need of ['serial', 'type'])
    if (!cols.includes(need))
      throw bad(`row 1: the column "${need}" is required`, { field: need, row: 1, column: need });
  return data.map((r, n) => {
    if (r.length > cols.length)
      throw bad(`row ${n + 2}: ${r.length} fields, the header names ${cols.length}`, {
        field: 'body',
        row: n + 2,
      });
    const out: Cells = {};
    cols.forEach((c, i) => {
      let v = (r[i] ?? '').trim();
      if (/^'[=+\-@]/.test(v)) v = v.slice(1); // as csvField protected it
      if (v !== '' && !READ_ONLY.includes(c as DeviceColumn)) out[c as DeviceColumn] = v;
    });
    return out;
  });
}
