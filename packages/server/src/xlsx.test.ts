import { strFromU8, unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { csvToXlsx } from './xlsx.js';

describe('Excel export', () => {
  it('writes the CSV rows as a workbook with dates and numbers', async () => {
    const csv =
      'time,voltage_v,soc_pct,cell_mv.0\n2026-06-21T10:00:00.000Z,52.61,63.4,3288\n2026-06-21T10:00:05.000Z,52.6,,3287\n';
    const buf = await csvToXlsx(csv, 'demo/rack/2');
    expect(buf.subarray(0, 2).toString()).toBe('PK'); // a zip container
    const files = unzipSync(new Uint8Array(buf));
    const sheet = strFromU8(files['xl/worksheets/sheet1.xml']!);
    expect(sheet).toContain('<v>52.61</v>');
    expect(sheet).toContain('<v>3287</v>');
    const workbook = strFromU8(files['xl/workbook.xml']!);
    expect(workbook).toContain('name="demo_rack_2"'); // "/" is not allowed in sheet names
    const strings = strFromU8(files['xl/sharedStrings.xml'] ?? new Uint8Array()) + sheet;
    expect(strings).toContain('cell_mv.0');
    // Dates are numbers with a date format (Excel serial days), not text.
    expect(sheet).toMatch(/<v>46194\.41666/);
  });
});
