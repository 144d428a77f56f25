/**
 * Excel export (seed 004's "Data Export ... EXCEL file"): the same rows as the CSV export,
 * written as an .xlsx workbook by write-excel-file (small, maintained, no native parts).
 */
import writeXlsxFile from 'write-excel-file/node';

type Cell = {
  value: string | number | Date;
  type?: StringConstructor | NumberConstructor | DateConstructor;
  format?: string;
  fontWeight?: 'bold';
} | null;

/**
 * Converts the telemetry CSV (header `time,<fields>`, ISO times, plain numbers, empty for
 * a missing value — no quoting, since neither field names nor numbers contain commas) into
 * a one-sheet workbook: times as Excel dates, numbers as numbers.
 */
export async function csvToXlsx(csv: string, sheet: string): Promise<Buffer> {
  const lines = csv.split(/\r?\n/).filter((l) => l.length > 0);
  const header = (lines.shift() ?? 'time').split(',');
  const rows: Cell[][] = [header.map((h) => ({ value: h, fontWeight: 'bold' as const }))];
  for (const line of lines) {
    const cells = line.split(',');
    rows.push(
      cells.map((c, i) => {
        if (c === '') return null;
        if (i === 0) {
          const t = Date.parse(c);
          return Number.isFinite(t)
            ? { value: new Date(t), type: Date, format: 'yyyy-mm-dd hh:mm:ss' }
            : { value: c };
        }
        const n = Number(c);
        return Number.isFinite(n) ? { value: n, type: Number } : { value: c, type: String };
      }),
    );
  }
  // Sheet names: at most 31 characters, none of []:*?/\
  const name = sheet.replace(/[[\]:*?/\\]/g, '_').slice(0, 31) || 'data';
  return writeXlsxFile(rows, { sheet: name, stickyRowsCount: 1 }).toBuffer();
}
