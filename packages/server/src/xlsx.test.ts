import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { strFromU8, unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import type { RowBatch, RowExport } from '@openbms/storage';
import { xlsxStream } from './xlsx.js';

async function bytes(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(parts);
}

const T = Date.UTC(2026, 5, 21, 10);

describe('Excel export', () => {
  it('writes the rows as a workbook with dates and numbers (an absent value: an empty cell)', async () => {
    const rows: RowExport = {
      fields: ['voltage_v', 'soc_pct', 'cell_mv.0'],
      batches: Readable.from([
        {
          times: Float64Array.from([T, T + 5000]),
          values: Float64Array.from([52.61, 63.4, 3288, 52.6, Number.NaN, 3287]),
        } satisfies RowBatch,
      ]),
    };
    const buf = await bytes(xlsxStream(rows, 'demo/rack/2'));
    expect(buf.subarray(0, 2).toString()).toBe('PK'); // a zip container
    const files = unzipSync(new Uint8Array(buf));
    const sheet = strFromU8(files['xl/worksheets/sheet1.xml']!);
    expect(sheet).toContain('<v>52.61</v>');
    expect(sheet).toContain('<v>3287</v>');
    expect(sheet).toContain(
      '<row r="3"><c r="A3" s="2"><v>46194.41672453703</v></c><c r="B3"><v>52.6</v></c><c r="D3"><v>3287</v></c></row>',
    );
    const workbook = strFromU8(files['xl/workbook.xml']!);
    expect(workbook).toContain('name="demo_rack_2"'); // "/" is not allowed in sheet names
    // Cells numbered from 1 for people; the time column names its zone.
    expect(sheet).toContain('<t>cell_mv.1</t>');
    expect(sheet).not.toContain('<t>cell_mv.0</t>');
    expect(sheet).toContain('<t>time (UTC)</t>');
    // Dates are numbers with a date format (Excel serial days), not text.
    expect(sheet).toMatch(/<v>46194\.41666/);
    expect(strFromU8(files['xl/styles.xml']!)).toContain('formatCode="yyyy-mm-dd hh:mm:ss"');
    for (const name of Object.keys(files))
      expect(strFromU8(files[name]!).startsWith('<?xml')).toBe(true);
  });

  it('reads the row batches as the bytes are taken, not all before', async () => {
    let read = 0;
    async function* batches(): AsyncGenerator<RowBatch> {
      for (let b = 0; b < 50; b++) {
        read++;
        yield {
          times: Float64Array.from({ length: 1000 }, (_, i) => T + (b * 1000 + i) * 1000),
          values: Float64Array.from({ length: 1000 }, (_, i) => i),
        };
      }
    }
    const it = xlsxStream({ fields: ['soc_pct'], batches: batches() }, 'p')[Symbol.asyncIterator]();
    await it.next();
    expect(read).toBeLessThan(5);
    let rest = 0;
    for (let r = await it.next(); !r.done; r = await it.next()) rest++;
    expect(read).toBe(50);
    expect(rest).toBeGreaterThan(0);
  });

  // Debian's python3 with python3-openpyxl (scripts/pretest.mjs installs it).
  const PY = '/usr/bin/python3';
  const hasOpenpyxl = spawnSync(PY, ['-c', 'import openpyxl']).status === 0;

  it.skipIf(!hasOpenpyxl)(
    hasOpenpyxl
      ? 'opens in openpyxl: headings, local times of the site zone, numbers and empty cells'
      : 'SKIPPED, python3-openpyxl is not installed: openpyxl reads the workbook',
    async () => {
      // 2026-03-29 00:59:59 UTC is 01:59:59 in Berlin (CET); a second later summer time begins:
      // 2026-03-29 01:00:00 UTC is 03:00:00 CEST.
      const t0 = Date.UTC(2026, 2, 29, 0, 59, 59);
      const rows: RowExport = {
        fields: ['voltage_v', 'cell_mv.0', 'cell_mv.15'],
        batches: Readable.from([
          {
            times: Float64Array.from([t0, t0 + 1000]),
            values: Float64Array.from([52.5, 3300, 3310, 52.4, Number.NaN, 3311]),
          } satisfies RowBatch,
        ]),
      };
      const dir = mkdtempSync(join(tmpdir(), 'obt-xlsx-'));
      try {
        const file = join(dir, 'x.xlsx');
        writeFileSync(file, await bytes(xlsxStream(rows, 'demo/rack/2', 'Europe/Berlin')));
        const script = [
          'import json, sys, openpyxl',
          'wb = openpyxl.load_workbook(sys.argv[1])',
          'ws = wb.active',
          'out = {"title": ws.title, "rows": []}',
          'for row in ws.iter_rows(values_only=True):',
          '    out["rows"].append([v.isoformat() if hasattr(v, "isoformat") else v for v in row])',
          'print(json.dumps(out))',
        ].join('\n');
        const r = spawnSync(PY, ['-c', script, file], { encoding: 'utf8' });
        expect(r.stderr).toBe('');
        expect(JSON.parse(r.stdout)).toEqual({
          title: 'demo_rack_2',
          rows: [
            ['time (Europe/Berlin)', 'voltage_v', 'cell_mv.1', 'cell_mv.16'],
            ['2026-03-29T01:59:59', 52.5, 3300, 3310],
            ['2026-03-29T03:00:00', 52.4, null, 3311],
          ],
        });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
