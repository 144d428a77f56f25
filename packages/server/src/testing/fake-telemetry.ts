/**
 * A telemetry store stand-in: records the queries it gets (and the scope each came with) and
 * answers with canned data; exports come in two chunks, as a store streams them.
 */
import {
  energyFromHistory,
  type EnergyQuery,
  type EnergyResult,
  type DailyFile,
  type DayOptions,
  type ExportQuery,
  type HistoryQuery,
  type HistoryResult,
  type RowExport,
  type Sample,
  type Scope,
  type TelemetryStore,
} from '@openbms/storage';

export class FakeTelemetry implements TelemetryStore {
  readonly queries: HistoryQuery[] = [];
  readonly exports: { packId: string; from: number; to: number; fields?: readonly string[] }[] = [];
  /** The scope of every query, in order. */
  readonly scopes: Scope[] = [];
  files: DailyFile[] = [];
  latestSample: Sample | undefined;
  deleted: { packId: string; date: string }[] = [];

  async writeSamples(): Promise<void> {}
  /** Computed as every store does, over this fake's canned history. */
  async energy(scope: Scope, q: EnergyQuery): Promise<EnergyResult> {
    return energyFromHistory((h) => this.history(scope, h), q);
  }
  async rollup(): Promise<void> {}
  async applyRetention(): Promise<void> {}
  async history(scope: Scope, q: HistoryQuery): Promise<HistoryResult> {
    this.scopes.push(scope);
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
  async latest(scope: Scope, packId: string): Promise<Sample | undefined> {
    this.scopes.push(scope);
    return this.latestSample?.packId === packId ? this.latestSample : undefined;
  }
  /** The day options of every daily-file call, in order. */
  readonly dayOptions: (DayOptions | undefined)[] = [];
  async dailyFiles(scope: Scope, packId?: string, opts?: DayOptions): Promise<DailyFile[]> {
    this.scopes.push(scope);
    this.dayOptions.push(opts);
    return this.files.filter((f) => packId === undefined || f.packId === packId);
  }
  async deleteDay(scope: Scope, packId: string, date: string, opts?: DayOptions): Promise<number> {
    this.scopes.push(scope);
    this.dayOptions.push(opts);
    const f = this.files.find((x) => x.packId === packId && x.date === date);
    this.files = this.files.filter((x) => x !== f);
    this.deleted.push({ packId, date });
    return f?.samples ?? 0;
  }
  private record(scope: Scope, q: ExportQuery): void {
    this.scopes.push(scope);
    this.exports.push({
      packId: q.packId,
      from: q.from,
      to: q.to,
      ...(q.fields ? { fields: q.fields } : {}),
    });
  }
  async exportCsv(scope: Scope, q: ExportQuery): Promise<AsyncIterable<string>> {
    this.record(scope, q);
    const head = `ts,${(q.fields ?? ['voltage_v']).join(',')}\n`;
    return (async function* () {
      yield head;
      yield `${q.from},52.1\n`;
    })();
  }
  async exportRows(scope: Scope, q: ExportQuery): Promise<RowExport> {
    this.record(scope, q);
    const fields = [...(q.fields ?? ['voltage_v'])];
    const values = new Float64Array(fields.length).fill(Number.NaN);
    values[0] = 52.1;
    return {
      fields,
      batches: (async function* () {
        yield { times: Float64Array.from([q.from]), values };
      })(),
    };
  }
}
