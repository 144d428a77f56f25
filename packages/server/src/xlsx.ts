/**
 * Excel export (seed 004's "Data Export ... EXCEL file"): the rows of the CSV export as a
 * one-sheet .xlsx workbook, streamed: rows are written as they come from the store, batch by
 * batch, deflated by fflate's streaming Zip, and leave before the next batch is read, so a
 * week at 1 Hz (600,000 rows) never sits in memory.
 *
 * Written here, on fflate, rather than with a workbook library (ADR: async storage port):
 * write-excel-file, used before, needs every row in memory at once (a 7-day export failed
 * after 42 s at +1.8 GB); exceljs's streaming WorkbookWriter streams, but its archiver and
 * zlib streams let the process grow with the export (measured +290 MB for 200,000 rows of 41
 * columns) and it brings 171 packages. An .xlsx sheet of numbers and dates is a small,
 * fixed set of SpreadsheetML parts (ECMA-376): the package files below, one styles part
 * (bold header, a date-time format) and the sheet, whose rows this module writes.
 */
import { Readable } from 'node:stream';
import { wallOf } from '@openbms/gateway';
import type { RowExport } from '@openbms/storage';
import { Zip, ZipDeflate } from 'fflate';
import { columnHeading } from './columns.js';

const XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';
const NS = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const REL_NS = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
const PKG_REL = 'http://schemas.openxmlformats.org/package/2006/relationships';
const DOC = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
const CT = 'application/vnd.openxmlformats-officedocument.spreadsheetml';

const CONTENT_TYPES =
  `${XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
  '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
  '<Default Extension="xml" ContentType="application/xml"/>' +
  `<Override PartName="/xl/workbook.xml" ContentType="${CT}.sheet.main+xml"/>` +
  `<Override PartName="/xl/worksheets/sheet1.xml" ContentType="${CT}.worksheet+xml"/>` +
  `<Override PartName="/xl/styles.xml" ContentType="${CT}.styles+xml"/>` +
  '</Types>';

const ROOT_RELS =
  `${XML}<Relationships xmlns="${PKG_REL}">` +
  `<Relationship Id="rId1" Type="${DOC}/officeDocument" Target="xl/workbook.xml"/>` +
  '</Relationships>';

const WORKBOOK_RELS =
  `${XML}<Relationships xmlns="${PKG_REL}">` +
  `<Relationship Id="rId1" Type="${DOC}/worksheet" Target="worksheets/sheet1.xml"/>` +
  `<Relationship Id="rId2" Type="${DOC}/styles" Target="styles.xml"/>` +
  '</Relationships>';

/** Style 1: bold (the header); style 2: `yyyy-mm-dd hh:mm:ss` (the time column). */
const STYLES =
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

const escape = (s: string): string =>
  s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);

function workbook(sheet: string): string {
  return (
    `${XML}<workbook xmlns="${NS}" xmlns:r="${REL_NS}">` +
    `<sheets><sheet name="${escape(sheet)}" sheetId="1" r:id="rId1"/></sheets></workbook>`
  );
}

/**
 * Excel's serial date: days since 1899-12-30; time is the fraction of the day. A cell holds
 * no zone, so it is the wall time of the site's zone, named in the column heading.
 */
const EXCEL_EPOCH_MS = Date.UTC(1899, 11, 30);
const serial = (ms: number): number => (ms - EXCEL_EPOCH_MS) / 86_400_000;

/** A column's letters (0 -> A, 26 -> AA). */
function column(i: number): string {
  let s = '';
  for (let n = i + 1; n > 0; n = Math.floor((n - 1) / 26))
    s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}

/** Sheet names: at most 31 characters, none of []:*?/\ */
export function sheetName(name: string): string {
  return name.replace(/[[\]:*?/\\]/g, '_').slice(0, 31) || 'data';
}

/** Rows encoded and deflated at a time (~20 kB of XML). */
const ROWS_PER_PIECE = 64;
/** Rows written before the event loop gets a turn (a few ms of work: the pollers' I/O goes between). */
const ROWS_PER_TURN = 128;

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function* xlsxChunks(rows: RowExport, sheet: string, tz: string): AsyncGenerator<Uint8Array> {
  const out: Uint8Array[] = [];
  let failure: Error | null = null;
  const zip = new Zip((err, chunk) => {
    if (err) failure = err;
    else out.push(chunk);
  });
  const drain = function* (): Generator<Uint8Array> {
    if (failure) throw failure;
    yield* out.splice(0);
  };
  const enc = new TextEncoder();
  const file = (name: string, text: string): void => {
    const f = new ZipDeflate(name, { level: 6 });
    zip.add(f);
    f.push(enc.encode(text), true);
  };
  file('[Content_Types].xml', CONTENT_TYPES);
  file('_rels/.rels', ROOT_RELS);
  file('xl/workbook.xml', workbook(sheetName(sheet)));
  file('xl/_rels/workbook.xml.rels', WORKBOOK_RELS);
  file('xl/styles.xml', STYLES);
  yield* drain();

  // The zone's offset, looked up once per quarter hour of samples (Intl is slow per row; every
  // zone changes its offset on a quarter-hour boundary).
  const QUARTER = 900_000;
  let bucket = NaN;
  let offset = 0;
  const local = (ms: number): number => {
    const b = Math.floor(ms / QUARTER);
    if (b !== bucket) {
      bucket = b;
      offset = wallOf(b * QUARTER, tz) - b * QUARTER;
    }
    return ms + offset;
  };
  const cols = rows.fields.length + 1;
  const letters = Array.from({ length: cols }, (_, i) => column(i));
  const data = new ZipDeflate('xl/worksheets/sheet1.xml', { level: 6 });
  zip.add(data);
  const head =
    `${XML}<worksheet xmlns="${NS}" xmlns:r="${REL_NS}">` +
    '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>' +
    `<cols><col min="1" max="1" width="20" customWidth="1"/>${cols > 1 ? `<col min="2" max="${cols}" width="12" customWidth="1"/>` : ''}</cols>` +
    '<sheetData>' +
    `<row r="1">${[`time (${tz})`, ...rows.fields.map(columnHeading)]
      .map((h, i) => `<c r="${letters[i]}1" t="inlineStr" s="1"><is><t>${escape(h)}</t></is></c>`)
      .join('')}</row>`;
  data.push(enc.encode(head));
  let r = 1;
  for await (const batch of rows.batches) {
    const width = rows.fields.length;
    let parts: string[] = [];
    for (let i = 0; i < batch.times.length; i++) {
      r++;
      let row = `<row r="${r}"><c r="A${r}" s="2"><v>${serial(local(batch.times[i]!))}</v></c>`;
      for (let c = 0; c < width; c++) {
        const v = batch.values[i * width + c]!;
        // A sample without this series: the cell stays empty (as the CSV's empty cell).
        if (!Number.isNaN(v)) row += `<c r="${letters[c + 1]}${r}"><v>${v}</v></c>`;
      }
      parts.push(`${row}</row>`);
      // Small pieces: short-lived strings stay in V8's young generation, so the process
      // does not grow with the export's garbage.
      if (parts.length === ROWS_PER_PIECE) {
        data.push(enc.encode(parts.join('')));
        parts = [];
      }
      if (i % ROWS_PER_TURN === ROWS_PER_TURN - 1) {
        yield* drain();
        await tick(); // other requests and the pollers go between the pieces
      }
    }
    if (parts.length > 0) data.push(enc.encode(parts.join('')));
    yield* drain();
    await tick();
  }
  data.push(enc.encode('</sheetData></worksheet>'), true);
  zip.end();
  yield* drain();
}

/**
 * The workbook as a byte stream (for reply.send); batches are read as the client takes the
 * bytes. Times are shown in `tz` (IANA; the heading of the first column names it).
 */
export function xlsxStream(rows: RowExport, sheet: string, tz = 'UTC'): Readable {
  return Readable.from(xlsxChunks(rows, sheet, tz), { objectMode: false });
}
