/**
 * Row blobs. A raw row is `varint layoutId` then one value per series of the layout (cells
 * relative to the previous cell). A rollup row is `varint layoutId` then per series
 * `varint n, min, max - min, avg - min` (avg rounded to 3 decimals). `Aggregator` folds
 * values of many rows into per-series n/min/max/sum by a process-wide series number, so
 * folding costs array writes, not map lookups.
 */
import type { ByteReader, ByteWriter } from './telemetry-codec.js';
import { relativeFlags, sortFields } from './telemetry-fields.js';

const GLOBAL = new Map<string, number>();
const NAMES: string[] = [];

/** A process-wide number for a series name (index into Aggregator arrays). */
export function seriesId(field: string): number {
  let g = GLOBAL.get(field);
  if (g === undefined) {
    g = NAMES.length;
    NAMES.push(field);
    GLOBAL.set(field, g);
  }
  return g;
}

export class Layout {
  readonly rel: boolean[];
  readonly gid: number[];
  readonly index: Map<string, number>;
  constructor(
    readonly id: number,
    readonly fields: string[],
  ) {
    this.rel = relativeFlags(fields);
    this.gid = fields.map(seriesId);
    this.index = new Map(fields.map((f, i) => [f, i]));
  }
}

export type LayoutOf = (id: number) => Layout;

export function encodeRaw(w: ByteWriter, layout: Layout, values: readonly number[]): Buffer {
  w.reset();
  w.varint(layout.id);
  let prev = 0;
  let prevD = 0;
  for (let i = 0; i < layout.fields.length; i++) {
    const v = values[i]!;
    prevD = layout.rel[i] ? w.rel(v, prev, prevD) : w.abs(v);
    prev = v;
  }
  return w.bytes();
}

/**
 * Decodes the raw row at the reader's position: the first `upTo` values into `out` (those
 * `need` marks, when given: the wanted ones and the bases of wanted cells), the rest skipped, so the reader ends at the next row (rows are self-delimiting). Returns its layout.
 */
export function decodeRaw(
  r: ByteReader,
  layoutOf: LayoutOf,
  out: number[],
  upTo = Infinity,
  need?: Uint8Array,
): Layout {
  const layout = layoutOf(r.varint());
  const len = layout.fields.length;
  const n = Math.min(upTo, len);
  let prev = 0;
  let prevD = 0;
  for (let i = 0; i < n; i++) {
    if (need && !need[i]) {
      r.skip();
      continue;
    }
    prev = layout.rel[i] ? r.rel(prev, prevD) : r.abs();
    prevD = r.d;
    out[i] = prev;
  }
  for (let i = n; i < len; i++) r.skip();
  return layout;
}

/** Per-series n/min/max/sum over many rows, by global series number. */
export class Aggregator {
  n: number[] = [];
  min: number[] = [];
  max: number[] = [];
  sum: number[] = [];
  private touched: number[] = [];

  get empty(): boolean {
    return this.touched.length === 0;
  }

  add(g: number, n: number, min: number, max: number, sum: number): void {
    if (!this.n[g]) {
      this.n[g] = n;
      this.min[g] = min;
      this.max[g] = max;
      this.sum[g] = sum;
      this.touched.push(g);
      return;
    }
    this.n[g]! += n;
    if (min < this.min[g]!) this.min[g] = min;
    if (max > this.max[g]!) this.max[g] = max;
    this.sum[g]! += sum;
  }

  addRaw(layout: Layout, values: readonly number[]): void {
    for (let i = 0; i < layout.fields.length; i++) {
      const v = values[i]!;
      this.add(layout.gid[i]!, 1, v, v, v);
    }
  }

  /** Identifies the set of series folded so far (same rows, same key). */
  key(): string {
    return this.touched.join(',');
  }

  /** The series folded so far, in canonical order. */
  fields(): string[] {
    return sortFields(this.touched.map((g) => NAMES[g]!));
  }

  reset(): void {
    for (const g of this.touched) this.n[g] = 0;
    this.touched = [];
  }

  /** Encodes the folded series as a rollup row for `layout` (whose fields are `fields()`). */
  encode(w: ByteWriter, layout: Layout): Buffer {
    w.reset();
    w.varint(layout.id);
    for (const g of layout.gid) {
      const n = this.n[g]!;
      const min = this.min[g]!;
      const avg = Math.min(
        this.max[g]!,
        Math.max(min, Math.round((this.sum[g]! / n) * 1000) / 1000),
      );
      w.varint(n);
      const d = w.abs(min);
      w.rel(this.max[g]!, min, d);
      w.rel(avg, min, d);
    }
    return w.bytes();
  }
}

/** One series of a decoded rollup row. */
export interface RollupValue {
  n: number;
  min: number;
  max: number;
  avg: number;
}

/**
 * Decodes the rollup row at the reader's position, calling `each(i, layout, value)` for the
 * first `upTo` series (value reused) and stepping over the rest. Returns the layout.
 */
export function decodeRollup(
  r: ByteReader,
  layoutOf: LayoutOf,
  each: (i: number, layout: Layout, v: RollupValue) => void,
  upTo = Infinity,
): Layout {
  const layout = layoutOf(r.varint());
  const len = layout.fields.length;
  const n = Math.min(upTo, len);
  const v: RollupValue = { n: 0, min: 0, max: 0, avg: 0 };
  for (let i = 0; i < n; i++) {
    v.n = r.varint();
    v.min = r.abs();
    const d = r.d;
    v.max = r.rel(v.min, d);
    v.avg = r.rel(v.min, d);
    each(i, layout, v);
  }
  for (let i = n; i < len; i++) {
    r.varint();
    r.skip();
    r.skip();
    r.skip();
  }
  return layout;
}
