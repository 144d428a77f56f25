/**
 * Reading a snapshot for the pack tabs: named temperature sensors (with open-circuit
 * detection), the running state, booleans some families only report under `raw`, and the
 * cell extremes. Everything here works from the canonical snapshot; nothing branches on a
 * protocol id.
 */
import type { Alarm, RunState } from '@openbms/core';
import type { Snapshot } from '@openbms/contract/api';
import { runState as siteRunState } from '../../site/model';

/**
 * A sensor the BMS reports at the bottom of its encoding is not connected: DALY and the
 * DALY Modbus family send raw 0 (= -40 °C), the JK record the same -40 °C, and the
 * simulator's `sensor-open` fault does the same on every wire. No pack this console watches
 * runs at -40 °C, so the value means "open circuit", not a temperature.
 */
export const OPEN_CIRCUIT_C = -40;

/** Pylontech 0x44 per-sensor state "other error" (0xF0): the sensor is open or shorted. */
const STATE_OTHER = 0xf0;

export type SensorKind = 'mos' | 'board' | 'ambient' | 'temp';

export interface TempSensor {
  /** Stable React key and test id part: mos, board, ambient, t1..tn. */
  id: string;
  kind: SensorKind;
  /** 1-based position in temps_c for kind 'temp'. */
  n?: number;
  value: number;
  open: boolean;
}

function raw(s: Snapshot): Record<string, unknown> {
  return s.raw ?? {};
}

function numberList(v: unknown): number[] {
  return Array.isArray(v) ? v.filter((x): x is number => typeof x === 'number') : [];
}

/** True when temps_c[i] (0-based) is reported open circuit. */
export function isOpenSensor(s: Snapshot, i: number): boolean {
  const r = raw(s);
  if (numberList(r.open_sensors).includes(i)) return true;
  if (numberList(r.temp_states)[i] === STATE_OTHER) return true;
  const v = s.temps_c?.[i];
  return v !== undefined && v <= OPEN_CIRCUIT_C;
}

/** Every temperature the pack reports, named: MOS, board, ambient, then T1..Tn in device order. */
export function temperatureSensors(s: Snapshot): TempSensor[] {
  const out: TempSensor[] = [];
  const named: [SensorKind, number | undefined][] = [
    ['mos', s.mos_temp_c],
    ['board', s.board_temp_c],
    ['ambient', s.env_temp_c],
  ];
  for (const [kind, value] of named) {
    if (value !== undefined) out.push({ id: kind, kind, value, open: value <= OPEN_CIRCUIT_C });
  }
  (s.temps_c ?? []).forEach((value, i) => {
    out.push({ id: `t${i + 1}`, kind: 'temp', n: i + 1, value, open: isOpenSensor(s, i) });
  });
  return out;
}

/** The running state the BMS reports, else the one the current's sign gives (as the CLI does). */
export function runState(s: Snapshot): RunState | undefined {
  return siteRunState(s);
}

/** A boolean some families report only under `raw` (first key present wins). */
export function rawBool(s: Snapshot, ...keys: string[]): boolean | undefined {
  const r = raw(s);
  for (const k of keys) if (typeof r[k] === 'boolean') return r[k];
  return undefined;
}

export interface CellStats {
  cells: number[];
  /** 1-based; undefined when there are no cells. */
  maxIndex?: number;
  minIndex?: number;
  max?: number;
  min?: number;
  delta?: number;
  avg?: number;
  balancing: boolean[];
}

/** Cell values and extremes: the device's own figures where it gave them, computed otherwise. */
export function cellStats(s: Snapshot): CellStats {
  const cells = s.cell_mv ?? [];
  const balancing = s.cell_balancing ?? [];
  if (cells.length === 0) return { cells, balancing };
  let maxI = 0;
  let minI = 0;
  let sum = 0;
  cells.forEach((v, i) => {
    sum += v;
    if (v > cells[maxI]!) maxI = i;
    if (v < cells[minI]!) minI = i;
  });
  const maxIndex = valid(s.max_cell_index, cells.length) ?? maxI + 1;
  const minIndex = valid(s.min_cell_index, cells.length) ?? minI + 1;
  const max = s.max_cell_mv ?? cells[maxIndex - 1]!;
  const min = s.min_cell_mv ?? cells[minIndex - 1]!;
  return {
    cells,
    balancing,
    maxIndex,
    minIndex,
    max,
    min,
    delta: s.delta_cell_mv ?? max - min,
    avg: s.avg_cell_mv ?? sum / cells.length,
  };
}

function valid(index: number | undefined, count: number): number | undefined {
  return index !== undefined && Number.isInteger(index) && index >= 1 && index <= count
    ? index
    : undefined;
}

/** The bar scale of the cells view: 50 mV beyond the extremes, on 10 mV steps. */
export function cellScale(min: number, max: number): { lo: number; hi: number } {
  const lo = Math.floor((min - 50) / 10) * 10;
  const hi = Math.ceil((max + 50) / 10) * 10;
  return { lo, hi };
}

/** The time of a snapshot (its ISO `ts`) in ms, undefined when absent or unreadable. */
export function snapshotTime(s: Snapshot): number | undefined {
  if (s.ts === undefined) return undefined;
  const t = Date.parse(s.ts);
  return Number.isFinite(t) ? t : undefined;
}

/** One line of the protection box: an alarm once, with every cell and sensor it names. */
export interface AlarmLine {
  code: string;
  severity: Alarm['severity'];
  level?: number;
  cells: number[];
  sensors: number[];
}

/**
 * The snapshot's alarms as lines: entries of one code, severity and level are one line
 * (a Pylontech pack lists "cell under-voltage" once per cell), in the order first seen.
 */
export function alarmLines(alarms: readonly Alarm[]): AlarmLine[] {
  const lines = new Map<string, AlarmLine>();
  for (const a of alarms) {
    const key = `${a.code}/${a.severity}/${a.level ?? ''}`;
    let line = lines.get(key);
    if (!line) {
      line = { code: a.code, severity: a.severity, cells: [], sensors: [] };
      if (a.level !== undefined) line.level = a.level;
      lines.set(key, line);
    }
    if (a.cell !== undefined && !line.cells.includes(a.cell)) line.cells.push(a.cell);
    if (a.sensor !== undefined && !line.sensors.includes(a.sensor)) line.sensors.push(a.sensor);
  }
  for (const l of lines.values()) {
    l.cells.sort((x, y) => x - y);
    l.sensors.sort((x, y) => x - y);
  }
  return [...lines.values()];
}
