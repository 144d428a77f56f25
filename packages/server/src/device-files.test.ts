/**
 * The device list's file codecs (device-files.ts): RFC 4180 CSV both ways, workbooks as
 * spreadsheet programs save them (shared strings, numbers, skipped cells), the header's
 * refusals naming row and column, and the size bounds checked before inflating.
 */
import { strToU8, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import {
  DEVICE_COLUMNS,
  csvRecords,
  csvText,
  importRows,
  xlsxBytes,
  xlsxRecords,
} from './device-files.js';

const NS = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';

/** A workbook as Excel writes it: text in sharedStrings.xml, numbers as <v>, cells skipped. */
function excelBook(sheetRows: string, shared: string[]): Uint8Array {
  return zipSync({
    'xl/sharedStrings.xml': strToU8(
      `<?xml version="1.0"?><sst xmlns="${NS}">${shared
        .map((t) => `<si><t xml:space="preserve">${t}</t></si>`)
        .join('')}</sst>`,
    ),
    'xl/worksheets/sheet1.xml': strToU8(
      `<?xml version="1.0"?><worksheet xmlns="${NS}"><sheetData>${sheetRows}</sheetData></worksheet>`,
    ),
  });
}

describe('device files', () => {
  it('reads quoted CSV fields with commas, quotes and line breaks, a BOM and CRLF', () => {
    const text = '\uFEFFserial,nickname\r\nA1,"Roof, ""east""\nside"\r\nA2,\r\n';
    expect(csvRecords(text)).toEqual([
      ['serial', 'nickname'],
      ['A1', 'Roof, "east"\nside'],
      ['A2', ''],
    ]);
    expect(() => csvRecords('serial\n"open')).toThrow(/not closed/);
  });

  it('writes CSV that reads back, formulas behind an apostrophe', () => {
    const text = csvText([{ serial: 'S1', nickname: 'a,"b"', model: '=1+1' }]);
    const [head, row] = csvRecords(text);
    expect(head).toEqual([...DEVICE_COLUMNS]);
    expect(row![head!.indexOf('nickname')]).toBe('a,"b"');
    expect(row![head!.indexOf('model')]).toBe("'=1+1");
    expect(importRows(csvRecords(text))[0]).toEqual({
      serial: 'S1',
      nickname: 'a,"b"',
      model: '=1+1',
    });
  });

  it("reads a spreadsheet program's workbook: shared strings, numbers, gaps", () => {
    const book = excelBook(
      '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c></row>' +
        '<row r="2"><c r="A2" t="s"><v>3</v></c><c r="C2"><v>42</v></c></row>' +
        '<row r="3"/>' +
        '<row r="4"><c r="A4" t="inlineStr"><is><r><t>S</t></r><r><t>2 &amp; 3</t></r></is></c></row>',
      ['serial', 'type', 'model', 'S1'],
    );
    expect(xlsxRecords(book)).toEqual([['serial', 'type', 'model'], ['S1', '', '42'], ['S2 & 3']]);
  });

  it('writes a workbook that reads back cell for cell', () => {
    const rows = [{ serial: '007', nickname: '<Roof> & "east"', type: 'bms' }];
    const records = xlsxRecords(xlsxBytes(rows));
    expect(records[0]).toEqual([...DEVICE_COLUMNS]);
    expect(importRows(records)).toEqual(rows);
  });

  it('refuses what is not a workbook, or one that inflates too far', () => {
    expect(() => xlsxRecords(strToU8('serial,type\n'))).toThrow(/not a readable .xlsx/);
    const huge = zipSync({ 'xl/worksheets/sheet1.xml': new Uint8Array(40 * 1024 * 1024) });
    expect(() => xlsxRecords(huge)).toThrow(/32 MB/);
  });

  it('names the row and column of a bad header or row', () => {
    const err = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as { message: string; details: unknown }).details;
      }
      return undefined;
    };
    expect(err(() => importRows([['serial', 'type', 'size']]))).toEqual({
      field: 'size',
      row: 1,
      column: 'size',
    });
    expect(err(() => importRows([['serial', 'serial']]))).toMatchObject({ row: 1 });
    expect(err(() => importRows([['serial']]))).toMatchObject({ column: 'type' });
    expect(
      err(() =>
        importRows([
          ['serial', 'type'],
          ['a', 'bms', 'extra'],
        ]),
      ),
    ).toMatchObject({
      row: 2,
    });
    expect(() => importRows([])).toThrow(/empty/);
    // Export-only columns are read past.
    expect(
      importRows([
        ['Serial', 'TYPE', 'org_name'],
        ['a', 'bms', 'X'],
      ]),
    ).toEqual([{ serial: 'a', type: 'bms' }]);
  });
});
