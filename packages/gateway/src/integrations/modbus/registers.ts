/**
 * Seed 001's register map as data: one row per register (or float/u32 pair) with its
 * offset, type, scale and the catalog metric it comes from. The server encodes a pack's
 * block from these rows, `docs/modbus.md` prints them (a test keeps the two equal), and
 * units of metric rows come from the catalog (STYLE.md point 6).
 */
import { metric, type Reading } from '@openbms/core';
import type { PackStatus } from '../../types.js';

export type RegisterType = 'u16' | 's16' | 'float' | 'u32';

/** Registers per pack block (offsets 0..59; 58 and 59 are reserved and read 0). */
export const BLOCK_SIZE = 60;
/** Offsets a client may write when `writes: true`. */
export const MOS_REGISTERS = { discharge: 16, charge: 17 } as const;

/** What a row may read to compute its value. */
export interface RegisterContext {
  status: PackStatus;
  snap: Reading;
  now: number;
  /** Seconds since the server started. */
  uptimeS: number;
  utcOffsetMin: number;
  /** Max SOC of the local day, and when (ms), if seen. */
  daily?: { soc: number; at: number };
  /** Any active alarm of severity protection or fault. */
  failure: boolean;
  /** The gateway process's resident memory (RSS), bytes: the MQTT heartbeat's `mem`. */
  rssBytes: number;
}

export interface RegisterDef {
  offset: number;
  name: string;
  type: RegisterType;
  /** Register = round(value x scale) for integer types; floats carry the value itself. */
  scale: number;
  unit: string;
  /** Catalog key the value comes from (its unit is the catalog's). */
  metric?: string;
  /** Not in seed 001's map: an OpenBMS addition in one of its gaps. */
  extension?: boolean;
  notes: string;
  value(c: RegisterContext): number | undefined;
}

const unitOf = (key: string): string => metric(key)?.unit ?? '';
const bool = (b: boolean | undefined): number | undefined =>
  b === undefined ? undefined : b ? 1 : 0;

/** A row whose value is a catalog metric of the snapshot. */
function fromMetric(
  offset: number,
  name: string,
  key: keyof Reading,
  type: RegisterType,
  scale = 1,
  notes = '',
): RegisterDef {
  return {
    offset,
    name,
    type,
    scale,
    unit: unitOf(key),
    metric: key,
    notes,
    value: (c) => {
      const v = c.snap[key];
      return typeof v === 'number' ? v : typeof v === 'boolean' ? (v ? 1 : 0) : undefined;
    },
  };
}

const avg = (xs: readonly number[] | undefined): number | undefined =>
  xs && xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined;

const local = (ms: number, offsetMin: number): Date => new Date(ms + offsetMin * 60_000);

const cells: RegisterDef[] = Array.from({ length: 16 }, (_, i) => ({
  offset: 18 + i,
  name: `Cell ${i + 1}`,
  type: 'u16' as const,
  scale: 1,
  unit: unitOf('cell_mv'),
  metric: `cell_mv[${i}]`,
  notes: i === 0 ? 'cells 1..16 at 18..33; cells beyond 16 are not served' : '',
  value: (c: RegisterContext) => c.snap.cell_mv?.[i],
}));

export const REGISTERS: readonly RegisterDef[] = [
  fromMetric(0, 'SOC', 'soc_pct', 'u16', 1, 'rounded to 1 %'),
  fromMetric(1, 'Pack volts', 'voltage_v', 'u16', 100, '0.01 V per count'),
  fromMetric(2, 'Pack amps', 'current_a', 's16', 10, '0.1 A per count; + charging'),
  fromMetric(3, 'Pack power', 'power_w', 's16', 1, '+ charging; saturates at +-32767 W'),
  fromMetric(4, 'Cells max delta', 'delta_cell_mv', 'u16'),
  fromMetric(5, 'Cells average', 'avg_cell_mv', 'u16'),
  fromMetric(6, 'Max cell', 'max_cell_mv', 'u16'),
  fromMetric(7, 'Min cell', 'min_cell_mv', 'u16'),
  {
    offset: 8,
    name: 'Temperature average',
    type: 'float',
    scale: 1,
    unit: unitOf('temps_c'),
    metric: 'temps_c',
    notes: 'mean of all sensors; always °C',
    value: (c) => avg(c.snap.temps_c),
  },
  fromMetric(10, 'Pack volts (float)', 'voltage_v', 'float'),
  fromMetric(12, 'Pack amps (float)', 'current_a', 'float', 1, '+ charging'),
  fromMetric(14, 'Pack power (float)', 'power_w', 'float', 1, '+ charging'),
  fromMetric(
    16,
    'Discharge MOS',
    'discharge_mos',
    'u16',
    1,
    '0 off, 1 on; writable with writes: true',
  ),
  fromMetric(17, 'Charge MOS', 'charge_mos', 'u16', 1, '0 off, 1 on; writable with writes: true'),
  ...cells,
  {
    offset: 35,
    name: 'Number of cells',
    type: 'u16',
    scale: 1,
    unit: '',
    metric: 'cell_count',
    notes: 'cell_count, else the number of cell voltages',
    value: (c) => c.snap.cell_count ?? c.snap.cell_mv?.length,
  },
  {
    offset: 36,
    name: 'Pack online',
    type: 'u16',
    scale: 1,
    unit: '',
    extension: true,
    notes: '1 while the gateway hears the pack; 0 = the values are the last ones heard',
    value: (c) => bool(c.status.online),
  },
  {
    offset: 37,
    name: 'Age of the values',
    type: 'u16',
    scale: 1,
    unit: 's',
    extension: true,
    notes: 'seconds since the last successful poll (saturates at 65535)',
    value: (c) =>
      c.status.lastSeen === undefined ? undefined : Math.max(0, (c.now - c.status.lastSeen) / 1000),
  },
  {
    offset: 40,
    name: 'Max SOC today',
    type: 'u16',
    scale: 1,
    unit: unitOf('soc_pct'),
    notes: 'highest SOC since local midnight (utc_offset_min)',
    value: (c) => c.daily?.soc,
  },
  {
    offset: 41,
    name: 'Max SOC time, hours',
    type: 'u16',
    scale: 1,
    unit: 'h',
    notes: 'local time the max was first reached',
    value: (c) => (c.daily ? local(c.daily.at, c.utcOffsetMin).getUTCHours() : undefined),
  },
  {
    offset: 42,
    name: 'Max SOC time, minutes',
    type: 'u16',
    scale: 1,
    unit: 'min',
    notes: '',
    value: (c) => (c.daily ? local(c.daily.at, c.utcOffsetMin).getUTCMinutes() : undefined),
  },
  {
    offset: 43,
    name: 'Full capacity',
    type: 'u16',
    scale: 100,
    unit: unitOf('full_ah'),
    metric: 'full_ah',
    extension: true,
    notes: '0.01 Ah per count; full_ah, else design_ah',
    value: (c) => c.snap.full_ah ?? c.snap.design_ah,
  },
  {
    offset: 44,
    name: 'Capacity (remaining)',
    type: 'u16',
    scale: 100,
    unit: unitOf('remaining_ah'),
    metric: 'remaining_ah',
    notes: '0.01 Ah per count (= 10 mAh; the seed says mAh, which overflows at 65 Ah)',
    value: (c) => c.snap.remaining_ah,
  },
  {
    offset: 45,
    name: 'Failure flag',
    type: 'u16',
    scale: 1,
    unit: '',
    metric: 'alarms',
    notes: '1 while any alarm of severity protection or fault is active',
    value: (c) => bool(c.failure),
  },
  {
    offset: 50,
    name: 'Process memory (RSS)',
    type: 'u16',
    scale: 1 / 1_048_576,
    unit: 'bytes',
    notes:
      "gateway process's resident memory (RSS) in MiB (1 count = 1 MiB); the MQTT heartbeat's mem in bytes",
    value: (c) => c.rssBytes,
  },
  {
    offset: 51,
    name: 'Counter',
    type: 'u16',
    scale: 1,
    unit: 's',
    notes: 'seconds since the server started, wraps at 65536',
    value: (c) => Math.floor(c.uptimeS) % 65_536,
  },
  {
    offset: 52,
    name: 'Time zone',
    type: 's16',
    scale: 1,
    unit: 'h',
    notes: 'utc_offset_min / 60, truncated',
    value: (c) => Math.trunc(c.utcOffsetMin / 60),
  },
  {
    offset: 53,
    name: 'Colour display dashboard id',
    type: 'u16',
    scale: 1,
    unit: '',
    notes: 'no display control: always 0',
    value: () => 0,
  },
  {
    offset: 54,
    name: 'Display control 1',
    type: 'u32',
    scale: 1,
    unit: '',
    notes: 'always 0',
    value: () => 0,
  },
  {
    offset: 56,
    name: 'Display control 2',
    type: 'u32',
    scale: 1,
    unit: '',
    notes: 'always 0',
    value: () => 0,
  },
];

export const widthOf = (t: RegisterType): number => (t === 'float' || t === 'u32' ? 2 : 1);

const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));

/**
 * The registers of one value, in wire order. Floats and u32: low word first at the lower
 * offset (seed 001's "little endian"), each register big-endian as Modbus sends every
 * register; i.e. byte order C D A B of the IEEE-754 value A B C D. Integers saturate.
 */
export function encodeValue(
  v: number | undefined,
  type: RegisterType,
  scale = 1,
  lowFirst = true,
): number[] {
  if (v === undefined || !Number.isFinite(v))
    return type === 'float' || type === 'u32' ? [0, 0] : [0];
  const buf = Buffer.alloc(4);
  switch (type) {
    case 'u16':
      return [clamp(Math.round(v * scale), 0, 0xffff)];
    case 's16':
      return [clamp(Math.round(v * scale), -0x8000, 0x7fff) & 0xffff];
    case 'u32':
      buf.writeUInt32BE(clamp(Math.round(v * scale), 0, 0xffff_ffff));
      break;
    case 'float':
      buf.writeFloatBE(v * scale);
      break;
  }
  const hi = buf.readUInt16BE(0);
  const lo = buf.readUInt16BE(2);
  return lowFirst ? [lo, hi] : [hi, lo];
}

/** The 60 registers of one pack. Absent values read 0. */
export function encodeBlock(c: RegisterContext): number[] {
  const block = new Array<number>(BLOCK_SIZE).fill(0);
  for (const r of REGISTERS) {
    encodeValue(r.value(c), r.type, r.scale).forEach((w, i) => (block[r.offset + i] = w));
  }
  return block;
}

/** The register table as `docs/modbus.md` prints it. */
export function registerTable(): string {
  const rows = REGISTERS.filter((r) => !r.metric?.startsWith('cell_mv[') || r.offset === 18);
  const lines = [
    '| Offset | Name | Type | Scale (register = value x) | Unit | Source | Notes |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    const cell = r.metric?.startsWith('cell_mv[');
    const off = cell
      ? '18..33'
      : widthOf(r.type) === 2
        ? `${r.offset}-${r.offset + 1}`
        : `${r.offset}`;
    const name = cell ? 'Cell 1 .. Cell 16' : r.name + (r.extension ? ' (OpenBMS)' : '');
    const source = cell ? '`cell_mv[0..15]`' : r.metric ? `\`${r.metric}\`` : 'gateway';
    const scale =
      r.type === 'float' ? 'float' : r.scale < 1 ? `1/${Math.round(1 / r.scale)}` : String(r.scale);
    lines.push(
      `| ${off} | ${name} | ${r.type.toUpperCase()} | ${scale} | ${r.unit} | ${source} | ${r.notes} |`,
    );
  }
  return lines.join('\n');
}
