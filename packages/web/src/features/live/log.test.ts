import { strFromU8, unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { columnsOf, toCsv, toXlsx, wallClock, wallText, type Labels } from './export';
import { PackLog, rowOf } from './log';

const labels: Labels = {
  name: (k) => `name:${k}`,
  short: (k) => k,
  text: (_k, v) => v.toUpperCase(),
  cell: (n) => `V${String(n).padStart(2, '0')}`,
  temp: (n) => `T${n}`,
};
// 2026-06-21 10:00:00 UTC = 18:00:00 in Shanghai (UTC+8, no DST).
const T = Date.UTC(2026, 5, 21, 10);

describe('real-time data log', () => {
  it('keeps the values shown; min/max/difference come from the cells', () => {
    const r = rowOf(0, T, {
      voltage_v: 52.61,
      current_a: -3.5,
      soc_pct: 63.4,
      min_cell_mv: 3239, // the stale figure of issue 12 bug 1: the cells say 3238
      cell_mv: [3288, 3238, 3300],
      temps_c: [25.1, Number.NaN],
      charge_mos: true,
      state: 'discharging',
    });
    expect(r.num).toMatchObject({ min_cell_mv: 3238, max_cell_mv: 3300, delta_cell_mv: 62 });
    expect(r.num.power_w).toBe(-184);
    expect(r.text).toEqual({ state: 'discharging', charge_mos: 'on' });
    expect(r.temps).toEqual([25.1, Number.NaN]);
  });

  it('appends each reading, ignores readings while paused (counting them) and drops the oldest at the cap', () => {
    const log = new PackLog(T);
    log.add(T, { voltage_v: 50 });
    log.setPaused(true);
    log.add(T + 1000, { voltage_v: 51 });
    expect(log.state()).toMatchObject({ seen: 2, skipped: 1, paused: true });
    expect(log.state().rows.map((r) => r.num.voltage_v)).toEqual([50]);
    log.setPaused(false);
    log.setCap(2);
    for (let i = 2; i < 6; i++) log.add(T + i * 1000, { voltage_v: 50 + i });
    expect(log.state().rows.map((r) => r.num.voltage_v)).toEqual([54, 55]);
    expect(log.state().dropped).toBe(3);
    log.clear(T + 9000);
    expect(log.state()).toMatchObject({ rows: [], skipped: 0, dropped: 0, since: T + 9000 });
  });

  it('shows times as wall time in the site zone', () => {
    expect(wallText(wallClock('Asia/Shanghai')(T))).toBe('2026-06-21 18:00:00');
    expect(wallText(wallClock('Europe/Berlin')(T))).toBe('2026-06-21 12:00:00');
  });

  it('writes CSV and an .xlsx workbook with the same columns and cells', () => {
    const rows = [
      rowOf(0, T, { voltage_v: 52.61, cell_mv: [3288, 3287], state: 'idle' }),
      rowOf(1, T + 5000, { voltage_v: 52.6, soc_pct: 63, cell_mv: [3287, 3286, 3280] }),
    ];
    const cols = columnsOf(rows, labels);
    expect(cols.map((c) => c.id)).toEqual([
      'state',
      'voltage_v',
      'soc_pct',
      'min_cell_mv',
      'max_cell_mv',
      'delta_cell_mv',
      'cell1',
      'cell2',
      'cell3',
    ]);
    const csv = toCsv(rows, cols, 'Asia/Shanghai').split('\r\n');
    expect(csv[0]).toBe(
      'time (Asia/Shanghai),name:state,name:voltage_v (V),name:soc_pct (%),name:min_cell_mv (mV),name:max_cell_mv (mV),name:delta_cell_mv (mV),V01 (mV),V02 (mV),V03 (mV)',
    );
    expect(csv[1]).toBe('2026-06-21 18:00:00,IDLE,52.61,,3287,3288,1,3288,3287,');
    expect(csv[2]).toBe('2026-06-21 18:00:05,,52.6,63,3280,3287,7,3287,3286,3280');
    const files = unzipSync(toXlsx(rows, cols, 'Asia/Shanghai', 'lab/big/64'));
    const sheet = strFromU8(files['xl/worksheets/sheet1.xml']!);
    expect(sheet).toContain(
      '<c r="A1" t="inlineStr" s="1"><is><t>time (Asia/Shanghai)</t></is></c>',
    );
    // 18:00 on 2026-06-21 as an Excel serial: 46194.75.
    expect(sheet).toContain(
      '<row r="2"><c r="A2" s="2"><v>46194.75</v></c><c r="B2" t="inlineStr"><is><t>IDLE</t></is></c><c r="C2"><v>52.61</v></c>',
    );
    expect(strFromU8(files['xl/workbook.xml']!)).toContain('name="lab_big_64"');
  });
});
