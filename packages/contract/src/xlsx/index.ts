/**
 * The parts of a one-sheet .xlsx workbook (SpreadsheetML, ECMA-376) as text, shared by the
 * server's streamed export (server/src/xlsx.ts, zipped with fflate's streaming Zip) and the
 * web's live real-time table (zipped in the browser with fflate's zipSync). No zip and no
 * I/O here: only the fixed package parts, the sheet's head, rows and tail, so both writers
 * produce the same workbook (a bold frozen header, times as Excel dates, numbers as numbers).
 *
 * Written by hand (no workbook library): see server/src/xlsx.ts for why (memory of
 * streamed exports); a sheet of numbers, dates and short text is this small fixed set of parts.
 */

const XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';
const NS = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const REL_NS = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
const PKG_REL = 'http://schemas.openxmlformats.org/package/2006/relationships';
const DOC = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
const CT = 'application/vnd.openxmlformats-officedocument.spreadsheetml';

export const CONTENT_TYPES =
  `${XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
  '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
  '<Default Extension="xml" ContentType="application/xml"/>' +
  `<Override PartName="/xl/workbook.xml" ContentType="${CT}.sheet.main+xml"/>` +
  `<Override PartName="/xl/worksheets/sheet1.xml" ContentType="${CT}.worksheet+xml"/>` +
  `<Override PartName="/xl/styles.xml" ContentType="${CT}.styles+xml"/>` +
  '</Types>';

export const ROOT_RELS =
  `${XML}<Relationships xmlns="${PKG_REL}">` +
  `<Relationship Id="rId1" Type="${DOC}/officeDocument" Target="xl/workbook.xml"/>` +
  '</Relationships>';

export const WORKBOOK_RELS =
  `${XML}<Relationships xmlns="${PKG_REL}">` +
  `<Relationship Id="rId1" Type="${DOC}/worksheet" Target="worksheets/sheet1.xml"/>` +
  `<Relationship Id="rId2" Type="${DOC}/styles" Target="styles.xml"/>` +
  '</Relationships>';

/** Style 1: bold (the header); style 2: `yyyy-mm-dd hh:mm:ss` (the time column). */
export const STYLES =
  `${XML}<styleSheet xmlns="${NS}">` +
  '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts>' +
  '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>' +
  '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>' +
  '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>' +
  '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>' +
  '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>' +
  '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>' +
  '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>' +
  '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>' +
  '</styleSheet>';

/** Text for XML content and attributes. */
export const xmlEscape = (s: string): string =>
  s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);

/** Sheet names: at most 31 characters, none of []:*?/\ */
export function sheetName(name: string): string {
  return name.replace(/[[\]:*?/\\]/g, '_').slice(0, 31) || 'data';
}

export function workbookXml(sheet: string): string {
  return (
    `${XML}<workbook xmlns="${NS}" xmlns:r="${REL_NS}">` +
    `<sheets><sheet name="${xmlEscape(sheetName(sheet))}" sheetId="1" r:id="rId1"/></sheets></workbook>`
  );
}

/**
 * Excel's serial date of a wall time given as "ms since the epoch as if UTC": days since
 * 1899-12-30, the time a fraction of the day. A cell holds no zone: pass the wall time of
 * the zone the heading names.
 */
const EXCEL_EPOCH_MS = Date.UTC(1899, 11, 30);
export const excelSerial = (wallMs: number): number => (wallMs - EXCEL_EPOCH_MS) / 86_400_000;

/** A column's letters (0 -> A, 26 -> AA). */
export function columnLetters(i: number): string {
  let s = '';
  for (let n = i + 1; n > 0; n = Math.floor((n - 1) / 26))
    s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}

/** The sheet's opening: a frozen bold header row of `headings` (the first column a time). */
export function sheetHead(headings: readonly string[]): string {
  const cols = headings.length;
  return (
    `${XML}<worksheet xmlns="${NS}" xmlns:r="${REL_NS}">` +
    '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>' +
    `<cols><col min="1" max="1" width="20" customWidth="1"/>${cols > 1 ? `<col min="2" max="${cols}" width="12" customWidth="1"/>` : ''}</cols>` +
    '<sheetData>' +
    `<row r="1">${headings
      .map(
        (h, i) =>
          `<c r="${columnLetters(i)}1" t="inlineStr" s="1"><is><t>${xmlEscape(h)}</t></is></c>`,
      )
      .join('')}</row>`
  );
}

export const SHEET_TAIL = '</sheetData></worksheet>';

/**
 * Row `r` (1-based; the header is row 1): a date cell (an Excel serial from `excelSerial`),
 * then one cell per value: a number, a text, or nothing (undefined or NaN: the cell stays
 * empty, as the CSV's empty field). `letters` are the columns' letters, precomputed.
 */
export function sheetRow(
  r: number,
  serial: number,
  values: ArrayLike<number | string | undefined>,
  letters: readonly string[],
): string {
  let row = `<row r="${r}"><c r="A${r}" s="2"><v>${serial}</v></c>`;
  for (let c = 0; c < values.length; c++) {
    const v = values[c];
    if (typeof v === 'number') {
      if (Number.isFinite(v)) row += `<c r="${letters[c + 1]}${r}"><v>${v}</v></c>`;
    } else if (typeof v === 'string') {
      row += `<c r="${letters[c + 1]}${r}" t="inlineStr"><is><t>${xmlEscape(v)}</t></is></c>`;
    }
  }
  return `${row}</row>`;
}
