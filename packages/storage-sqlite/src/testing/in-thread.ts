/**
 * The telemetry port over a synchronous telemetry store in the test's own thread (the class
 * the worker threads run, or the writer's facade): calls through promises, exports assembled
 * from the same plan and chunk steps `SqliteStorage` sends to its threads. For running the
 * contract suite on those classes directly.
 */
import {
  energyFromHistory,
  type EnergyQuery,
  type ExportQuery,
  type HistoryQuery,
  type HistoryResult,
  type Origin,
  type RowBatch,
  type Scope,
  type Storage,
  type TelemetryStore,
} from '@openbms/storage';
import { promised } from '@openbms/storage/testing';
import { FileStorage, type SqliteStorageOptions } from '../file-storage.js';
import type { ExportPlan } from '../telemetry.js';

interface SyncTelemetry {
  writeSamples: (...a: never[]) => unknown;
  history(scope: Scope, q: HistoryQuery): HistoryResult;
  planExport(scope: Scope, q: ExportQuery): ExportPlan;
  csvChunk(plan: ExportPlan, after: number): { text: string; next: number | null };
  rowChunk(
    plan: ExportPlan,
    after: number,
  ): { times: Float64Array; values: Float64Array; next: number | null };
}

export function inThreadTelemetry(t: SyncTelemetry): TelemetryStore {
  const p = promised(t) as unknown as TelemetryStore;
  const chunks = function* <T>(
    plan: ExportPlan,
    step: (after: number) => T & { next: number | null },
  ) {
    for (let after: number | null = plan.pack === null ? null : plan.from; after !== null;) {
      const c = step(after);
      after = c.next;
      yield c;
    }
  };
  return new Proxy(p, {
    get(target, prop, receiver) {
      if (prop === 'exportCsv') {
        return async (scope: Scope, q: ExportQuery) => {
          const plan = t.planExport(scope, q);
          return (async function* () {
            yield `${['time', ...plan.fields].join(',')}\n`;
            for (const c of chunks(plan, (a) => t.csvChunk(plan, a))) if (c.text) yield c.text;
          })();
        };
      }
      if (prop === 'exportRows') {
        return async (scope: Scope, q: ExportQuery) => {
          const plan = t.planExport(scope, q);
          return {
            fields: plan.fields,
            batches: (async function* (): AsyncGenerator<RowBatch> {
              for (const c of chunks(plan, (a) => t.rowChunk(plan, a)))
                if (c.times.length > 0) yield { times: c.times, values: c.values };
            })(),
          };
        };
      }
      if (prop === 'energy') {
        return (scope: Scope, q: EnergyQuery) =>
          energyFromHistory(async (h) => t.history(scope, h), q);
      }
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
}

/**
 * The whole storage port over a FileStorage in the test's own thread: what SqliteStorage's
 * writer thread runs, reachable by the test (`onOpen` gives the connection, e.g. to stand a
 * full disk in with `max_page_count`). The worker threads themselves are tested in
 * storage.test.ts; this is for callers' tests of what a failing disk does to them.
 */
export function inThreadStorage(opts: SqliteStorageOptions): Storage & {
  identity: Origin;
  path: string;
  file: FileStorage;
} {
  const f = new FileStorage(opts);
  return {
    identity: f.identity,
    path: f.path,
    file: f,
    telemetry: inThreadTelemetry(f.telemetry),
    alarms: promised(f.alarms),
    audit: promised(f.audit),
    users: promised(f.users),
    orgs: promised(f.orgs) as unknown as Storage['orgs'],
    close: async () => f.close(),
    health: async () => f.health(),
    onHealth: (l) => f.onHealth(l),
    checkIntegrity: (o) => f.checkIntegrity(o),
    retry: async () => f.retry(),
  };
}
