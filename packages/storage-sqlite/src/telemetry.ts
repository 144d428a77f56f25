/**
 * The SQLite telemetry store: raw samples at poll resolution in compact blobs, 1 min / 15 min
 * / 1 h rollups with min/max/avg per series, retention per tier, history with tier choice and
 * min/max-preserving downsampling, daily CSV files and CSV export. The work is in the
 * telemetry-*.ts modules; this class binds them to one connection (see README.md).
 */
import type {
  DailyFile,
  Field,
  HistoryQuery,
  HistoryResult,
  RetentionPolicy,
  Sample,
  TelemetryStore,
} from '@openbms/storage';
import type { Db } from './db.js';
import { TelemetryCtx } from './telemetry-context.js';
import { dailyFiles, deleteDay, exportCsv, rawBytesPerSample } from './telemetry-export.js';
import { history } from './telemetry-history.js';
import { applyRetention, rollup } from './telemetry-rollup.js';
import { latest, writeSamples } from './telemetry-write.js';

export { TELEMETRY_MIGRATIONS } from './telemetry-schema.js';

export class SqliteTelemetry implements TelemetryStore {
  private readonly ctx: TelemetryCtx;

  /** `db` must have TELEMETRY_MIGRATIONS applied; a read-only handle serves the reads. */
  constructor(db: Db) {
    this.ctx = new TelemetryCtx(db);
  }

  writeSamples(samples: readonly Sample[]): void {
    writeSamples(this.ctx, samples);
  }

  rollup(now: number): void {
    rollup(this.ctx, now);
  }

  applyRetention(now: number, policy?: RetentionPolicy): void {
    applyRetention(this.ctx, now, policy);
  }

  history(q: HistoryQuery): HistoryResult {
    return history(this.ctx, q);
  }

  latest(packId: string): Sample | undefined {
    return latest(this.ctx, packId);
  }

  dailyFiles(packId?: string): DailyFile[] {
    return dailyFiles(this.ctx, packId);
  }

  deleteDay(packId: string, date: string): number {
    return deleteDay(this.ctx, packId, date);
  }

  exportCsv(packId: string, from: number, to: number, fields?: readonly Field[]): string {
    return exportCsv(this.ctx, packId, from, to, fields);
  }

  rawBytesPerSample(): number {
    return rawBytesPerSample(this.ctx);
  }
}
