import { alarmInfo, metric, runStateOf, type Reading } from '@openbms/core';
import type { LinkStats } from '@openbms/transport';

const fmt = (v: number | undefined, unit: string, digits = 2): string =>
  v === undefined ? '-' : `${Number(v.toFixed(digits))} ${unit}`.trim();

const onOff = (v: boolean | undefined): string => (v === undefined ? '-' : v ? 'ON' : 'off');

/** Renders a snapshot as the readable table of `openbms read` (no colours: pipes stay clean). */
export function renderReading(r: Reading, title?: string): string {
  const lines: string[] = [];
  const head =
    title ?? `${r.protocol ?? ''} pack${r.address !== undefined ? ` @ address ${r.address}` : ''}`;
  lines.push(head.trim(), '='.repeat(Math.max(20, head.trim().length)));
  const info = r.info ?? {};
  const infoParts = [
    info.manufacturer,
    info.model ?? info.device_name,
    info.hw_version && `hw ${info.hw_version}`,
    info.sw_version && `sw ${info.sw_version}`,
    info.serial && `serial ${info.serial}`,
  ].filter(Boolean);
  if (infoParts.length) lines.push(`Device      ${infoParts.join(' · ')}`);
  lines.push(
    `Pack        ${fmt(r.voltage_v, 'V', 3)}   ${fmt(r.current_a, 'A')}   ${fmt(r.power_w, 'W', 1)}   ${runStateOf(r) ?? ''}`.trimEnd(),
  );
  lines.push(
    `Charge      SOC ${fmt(r.soc_pct, '%', 1)}   SOH ${fmt(r.soh_pct, '%', 1)}   remaining ${fmt(r.remaining_ah, 'Ah')}   full ${fmt(r.full_ah, 'Ah')}   design ${fmt(r.design_ah, 'Ah')}   cycles ${r.cycles ?? '-'}`,
  );
  lines.push(
    `MOSFETs     charge ${onOff(r.charge_mos)}   discharge ${onOff(r.discharge_mos)}   balancing ${onOff(r.balancing)}${r.heater !== undefined ? `   heater ${onOff(r.heater)}` : ''}`,
  );
  const cells = r.cell_mv ?? [];
  if (cells.length) {
    const max = Math.max(...cells);
    const min = Math.min(...cells);
    // Mark one cell each: the device's own max/min index where it reports one.
    const maxAt =
      r.max_cell_index !== undefined && cells[r.max_cell_index - 1] === max
        ? r.max_cell_index - 1
        : cells.indexOf(max);
    const minAt =
      r.min_cell_index !== undefined && cells[r.min_cell_index - 1] === min
        ? r.min_cell_index - 1
        : cells.indexOf(min);
    lines.push(
      `Cells       ${cells.length} cells   max ${max} mV   min ${min} mV   delta ${max - min} mV${r.avg_cell_mv !== undefined ? `   avg ${r.avg_cell_mv} mV` : ''}`,
    );
    const cols = 4;
    for (let i = 0; i < cells.length; i += cols) {
      const row = cells.slice(i, i + cols).map((v, j) => {
        const n = i + j + 1;
        const mark = max === min ? '' : i + j === maxAt ? ' ▲max' : i + j === minAt ? ' ▼min' : '';
        const bal = r.cell_balancing?.[i + j] ? ' ~bal' : '';
        return `#${String(n).padStart(2)} ${String(v).padStart(5)} mV${mark}${bal}`.padEnd(26);
      });
      lines.push(`            ${row.join('').trimEnd()}`);
    }
  }
  const temps: string[] = [];
  if (r.temps_c?.length) temps.push(`sensors ${r.temps_c.map((t) => `${t} °C`).join(', ')}`);
  if (r.mos_temp_c !== undefined) temps.push(`MOS ${r.mos_temp_c} °C`);
  if (r.board_temp_c !== undefined) temps.push(`board ${r.board_temp_c} °C`);
  if (r.env_temp_c !== undefined) temps.push(`ambient ${r.env_temp_c} °C`);
  if (temps.length) lines.push(`Temperature ${temps.join('   ')}`);
  const limits = [
    ['charge', r.charge_voltage_limit_v, 'V'],
    ['discharge', r.discharge_voltage_limit_v, 'V'],
    ['charge', r.charge_current_limit_a, 'A'],
    ['discharge', r.discharge_current_limit_a, 'A'],
  ].filter(([, v]) => v !== undefined) as [string, number, string][];
  if (limits.length)
    lines.push(`Limits      ${limits.map(([n, v, u]) => `${n} ${v} ${u}`).join('   ')}`);
  const alarms = r.alarms ?? [];
  if (alarms.length === 0) lines.push('Alarms      none');
  else {
    lines.push(`Alarms      ${alarms.length} active`);
    for (const a of alarms) {
      const label = alarmInfo(a.code)?.label ?? a.code;
      lines.push(
        `            [${a.severity.toUpperCase()}] ${label}${a.level !== undefined ? ` (level ${a.level})` : ''}${a.source ? `  <${a.source}>` : ''}`,
      );
    }
  }
  if (r.packs?.length) {
    lines.push(`Packs       ${r.packs.length} in the reply`);
    r.packs.forEach((p, i) => lines.push('', renderReading(p, `Pack ${i + 1}`)));
  }
  return lines.join('\n');
}

export function renderStats(s: LinkStats, ms: number): string {
  const parts = [
    `${s.requests} requests`,
    `${s.replies} replies`,
    `${s.retries} retries`,
    `${s.timeouts} timeouts`,
    `${s.checksum_errors} bad checksums`,
    `${s.discarded_bytes} bytes discarded`,
  ];
  if (s.skipped_steps.length) parts.push(`skipped: ${s.skipped_steps.join(', ')}`);
  return `Link        ${parts.join(', ')} in ${ms} ms`;
}

/** Metric label lookup for help texts. */
export const label = (key: string): string => metric(key)?.label ?? key;

/** JSON with two-space indentation, but arrays of plain values kept on one line. */
export function prettyJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(
    /\[\n\s+([^[\]{}]*?)\n\s*\]/g,
    (_m, body: string) => `[${body.split(/,\n\s*/).join(', ')}]`,
  );
}
