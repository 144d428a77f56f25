/**
 * The main thread's side of one storage worker thread: calls as messages with an id, answers
 * matched back to their promises, errors rebuilt as BmsErrors with their codes. A thread that
 * stops (it should not: every call's failure is answered as an error) fails what was waiting
 * with STORAGE_FAILED instead of leaving it pending.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { BmsError } from '@openbms/core';
import type { Call, Reply, WireError, WorkerEvent, WorkerInit } from './sqlite-worker.js';

export function fromWire(e: WireError): BmsError {
  return new BmsError(e.code as BmsError['code'], e.message, e.details);
}

/**
 * Where the worker's script is: `sqlite-worker.js` next to this module in the built package.
 * Run from the TypeScript sources (the tests), there is none: the test setup bundles one and
 * names it in OPENBMS_SQLITE_WORKER (src/testing/worker-bundle.ts); so does the bench.
 */
export function workerEntry(): URL {
  const built = new URL('./sqlite-worker.js', import.meta.url);
  if (built.protocol === 'file:' && existsSync(fileURLToPath(built))) return built;
  const bundled = process.env['OPENBMS_SQLITE_WORKER'];
  if (bundled && existsSync(bundled)) return pathToFileURL(bundled);
  throw new BmsError(
    'STORAGE_FAILED',
    `the storage worker script is missing (${fileURLToPath(built)}): build the packages (npx tsc -b)`,
  );
}

export class WorkerClient {
  private readonly worker: Worker;
  private readonly pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: unknown) => void }
  >();
  private nextId = 1;
  private stopped: BmsError | undefined;

  constructor(
    entry: URL,
    init: WorkerInit,
    private readonly onEvent: (e: WorkerEvent) => void = () => undefined,
  ) {
    this.worker = new Worker(entry, { workerData: init });
    this.worker.on('message', (m: Reply | WorkerEvent) => {
      if ('event' in m) {
        this.onEvent(m);
        return;
      }
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(fromWire(m.error));
    });
    this.worker.on('error', (e) => this.stop(`the storage thread failed: ${e.message}`));
    this.worker.on('exit', (code) => this.stop(`the storage thread stopped (exit code ${code})`));
  }

  /** Calls being answered now (to pick the least busy reader). */
  get busy(): number {
    return this.pending.size;
  }

  get alive(): boolean {
    return this.stopped === undefined;
  }

  private stop(why: string): void {
    this.stopped ??= new BmsError('STORAGE_FAILED', why);
    const err = this.stopped;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.onEvent({ event: 'failed', error: { code: err.code, message: err.message } });
  }

  call<T>(op: string, args: unknown[], now: number, generation?: number): Promise<T> {
    if (this.stopped) return Promise.reject(this.stopped);
    const id = this.nextId++;
    const msg: Call = { id, op, args, now, ...(generation !== undefined ? { generation } : {}) };
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      try {
        this.worker.postMessage(msg);
      } catch (e) {
        // A value that cannot cross to the thread (a function, a symbol...): the caller's input.
        this.pending.delete(id);
        reject(
          new BmsError(
            'REQUEST_INVALID',
            `${op}: the arguments cannot be stored (${(e as Error).message})`,
          ),
        );
      }
    });
  }

  async terminate(): Promise<void> {
    this.stopped ??= new BmsError('STORAGE_FAILED', 'the storage is closed');
    await this.worker.terminate();
  }
}
