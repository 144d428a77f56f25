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
 * fixed set of SpreadsheetML parts (ECMA-376), kept in @openbms/contract/xlsx so the web's
 * live table writes the same workbook; this module streams them through the zip.
 */
import { Readable } from 'node:stream';
import { wallOf } from '@openbms/gateway';
import type { RowExport } from '@openbms/storage';
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
import { Zip, ZipDeflate } from 'fflate';
import { columnHeading } from './columns.js';

const enc = new TextEncoder();

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
  const file = (name: string, text: string): void => {
    const f = new ZipDeflate(name, { level: 6 });
    zip.add(f);
    f.push(enc.encode(text), true);
  };
  file('[Content_Types].xml', CONTENT_TYPES);
  file('_rels/.rels', ROOT_RELS);
  file('xl/workbook.xml', workbookXml(sheet));
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
  const letters = Array.from({ length: cols }, (_, i) => columnLetters(i));
  const data = new ZipDeflate('xl/worksheets/sheet1.xml', { level: 6 });
  zip.add(data);
  const head = sheetHead([`time (${tz})`, ...rows.fields.map(columnHeading)]);
  data.push(enc.encode(head));
  let r = 1;
  for await (const batch of rows.batches) {
    const width = rows.fields.length;
    let parts: string[] = [];
    for (let i = 0; i < batch.times.length; i++) {
      r++;
      const values = batch.values.subarray(i * width, (i + 1) * width);
      // A sample without this series (NaN): the cell stays empty (as the CSV's empty cell).
      parts.push(sheetRow(r, excelSerial(local(batch.times[i]!)), values, letters));
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
  data.push(enc.encode(SHEET_TAIL), true);
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
