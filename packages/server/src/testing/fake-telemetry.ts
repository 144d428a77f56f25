/** A telemetry store stand-in: records the queries it gets and answers with canned data. */
import type {
  DailyFile,
  HistoryQuery,
  HistoryResult,
  Sample,
  TelemetryStore,
} from '@openbms/storage';

export class FakeTelemetry implements TelemetryStore {
  readonly queries: HistoryQuery[] = [];
  readonly exports: { packId: string; from: number; to: number; fields?: readonly string[] }[] = [];
  files: DailyFile[] = [];
  latestSample: Sample | undefined;
  deleted: { packId: string; date: string }[] = [];

  writeSamples(): void {}
  rollup(): void {}
  applyRetention(): void {}
  history(q: HistoryQuery): HistoryResult {
    this.queries.push(q);
    const series: HistoryResult['series'] = {};
    for (const f of q.fields)
      series[f] = { t: [q.from, q.to], avg: [1, 2], min: [0.5, 1.5], max: [1.5, 2.5] };
    return {
      packId: q.packId,
      resolution: q.resolution === 'auto' || !q.resolution ? '1m' : q.resolution,
      from: q.from,
      to: q.to,
      series,
    };
  }
  latest(packId: string): Sample | undefined {
    return this.latestSample?.packId === packId ? this.latestSample : undefined;
  }
  dailyFiles(packId?: string): DailyFile[] {
    return this.files.filter((f) => packId === undefined || f.packId === packId);
  }
  deleteDay(packId: string, date: string): number {
    const f = this.files.find((x) => x.packId === packId && x.date === date);
    this.files = this.files.filter((x) => x !== f);
    this.deleted.push({ packId, date });
    return f?.samples ?? 0;
  }
  exportCsv(packId: string, from: number, to: number, fields?: readonly string[]): string {
    this.exports.push({ packId, from, to, ...(fields ? { fields } : {}) });
    return `ts,${(fields ?? ['voltage_v']).join(',')}\n${from},52.1\n`;
  }
  rawBytesPerSample(): number {
    return 0;
  }
}
