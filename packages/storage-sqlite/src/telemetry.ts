/**
 * The SQLite telemetry store on one connection (synchronous): raw samples at poll resolution
 * in compact blobs, 1 min / 15 min / 1 h rollups with min/max/avg per series, retention per
 * tier, history with tier choice and min/max-preserving downsampling, daily CSV files and
 * the chunked export. The work is in the telemetry-*.ts modules; this class binds them to one
 * connection (see README.md). It runs inside the storage's worker threads (the writer's
 * connection and the readers'); `SqliteStorage` is the asynchronous port on top.
 */
import {
  recordChecks,
  type DailyFile,
  type DayOptions,
  type ExportQuery,
  type HistoryQuery,
  type HistoryResult,
  type Origin,
  type RetentionPolicy,
  type Sample,
  type Scope,
} from '@openbms/storage';
import type { Db } from './db.js';
import { TelemetryCtx } from './telemetry-context.js';
import {
  canonicalFields,
  csvChunk,
  dailyFiles,
  deleteDay,
  rawBytesPerSample,
  rowChunk,
  scanLayouts,
  startExport,
  type ExportPlan,
} from './telemetry-export.js';
import { history } from './telemetry-history.js';
import { applyRetention, rollup, rollupPack } from './telemetry-rollup.js';
import { latest, writeSamples } from './telemetry-write.js';

export { TELEMETRY_MIGRATIONS } from './telemetry-schema.js';
export type { ExportPlan } from './telemetry-export.js';

export class SqliteTelemetry {
  private readonly ctx: TelemetryCtx;

  /**
   * `db` must have TELEMETRY_MIGRATIONS applied; a read-only handle serves the reads
   * (`reader`: another connection writes, so nothing that may change is cached).
   */
  constructor(db: Db, opts: { reader?: boolean } = {}) {
    this.ctx = new TelemetryCtx(db, !opts.reader);
  }

  writeSamples(origin: Origin, samples: readonly Sample[]): void {
    writeSamples(this.ctx, recordChecks.origin(origin), samples);
  }

  rollup(now: number): void {
    rollup(this.ctx, now);
  }

  /** The interned ids of every pack (rollup and retention go pack by pack). */
  packs(): number[] {
    return this.ctx.read('cannot list packs', () => this.ctx.packs().map((p) => p.id));
  }

  /** Folds one pack's rollups up to `now` (one transaction). */
  rollupPack(pack: number, now: number): void {
    rollupPack(this.ctx, pack, now);
  }

  applyRetention(now: number, policy?: RetentionPolicy): void {
    applyRetention(this.ctx, now, policy);
  }

  history(scope: Scope, q: HistoryQuery): HistoryResult {
    return history(this.ctx, recordChecks.gatewayScope(scope), q);
  }

  latest(scope: Scope, packId: string): Sample | undefined {
    return latest(this.ctx, recordChecks.gatewayScope(scope), packId);
  }

  dailyFiles(scope: Scope, packId?: string, opts?: DayOptions): DailyFile[] {
    if (packId !== undefined) recordChecks.text(packId, 'packId', 200);
    return dailyFiles(this.ctx, recordChecks.scope(scope), packId, opts);
  }

  deleteDay(scope: Scope, packId: string, date: string, opts?: DayOptions): number {
    return deleteDay(this.ctx, recordChecks.gatewayScope(scope), packId, date, opts);
  }

  /**
   * Checks an export and fixes its columns. Without fields the layouts of the range are
   * collected here in one go; `SqliteStorage` calls `startExport` / `scanLayouts` step by
   * step instead, so other queries run in between.
   */
  planExport(scope: Scope, q: ExportQuery): ExportPlan {
    const { plan, scanFrom } = this.startExport(scope, q);
    const fields = new Set<string>();
    for (let from = scanFrom; from !== null;) {
      const step = this.scanLayouts(plan, from);
      for (const f of step.fields) fields.add(f);
      from = step.next;
    }
    return scanFrom === null ? plan : { ...plan, fields: canonicalFields(fields) };
  }

  startExport(scope: Scope, q: ExportQuery): { plan: ExportPlan; scanFrom: number | null } {
    return startExport(this.ctx, recordChecks.gatewayScope(scope), q);
  }

  scanLayouts(plan: ExportPlan, from: number): { fields: string[]; next: number | null } {
    return scanLayouts(this.ctx, plan, from);
  }

  /** One chunk of CSV lines from `after` (no header; `csvHeader(plan.fields)` gives it). */
  csvChunk(plan: ExportPlan, after: number): { text: string; next: number | null } {
    return csvChunk(this.ctx, plan, after);
  }

  rowChunk(
    plan: ExportPlan,
    after: number,
  ): { times: Float64Array; values: Float64Array; next: number | null } {
    return rowChunk(this.ctx, plan, after);
  }

  /** Bytes the raw tier takes on disk per stored sample (for the bench; not in the port). */
  rawBytesPerSample(): number {
    return rawBytesPerSample(this.ctx);
  }
}
