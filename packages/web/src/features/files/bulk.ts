/**
 * "Delete all shown": the files go one by one through the single-file DELETE (so each is
 * checked, deleted and audited as if clicked), with progress after each, a stop between two
 * files, and a tally of what was removed and what failed.
 */
import { useCallback, useRef, useState } from 'react';
import { api, ApiError } from '../../api/client';
import type { DailyFile, DayDeleted } from '@openbms/contract/api';

const API_PREFIX = '/api/v1';

export interface BulkState {
  running: boolean;
  total: number;
  done: number;
  /** The file being deleted now. */
  current?: DailyFile;
  /** Samples removed so far. */
  removed: number;
  deleted: number;
  failed: { file: DailyFile; message: string }[];
  stopped: boolean;
}

const IDLE: BulkState = {
  running: false,
  total: 0,
  done: 0,
  removed: 0,
  deleted: 0,
  failed: [],
  stopped: false,
};

export function deletePath(f: DailyFile): string {
  return f.url.startsWith(API_PREFIX) ? f.url.slice(API_PREFIX.length) : f.url;
}

export function useBulkDelete(): {
  state: BulkState;
  run: (files: readonly DailyFile[]) => Promise<BulkState>;
  stop: () => void;
  reset: () => void;
} {
  const [state, setState] = useState<BulkState>(IDLE);
  const stopping = useRef(false);

  const run = useCallback(async (files: readonly DailyFile[]) => {
    stopping.current = false;
    let s: BulkState = { ...IDLE, running: true, total: files.length, failed: [] };
    setState(s);
    for (const f of files) {
      if (stopping.current) {
        s = { ...s, stopped: true };
        break;
      }
      setState((s = { ...s, current: f }));
      try {
        const r = await api<DayDeleted>(deletePath(f), {
          method: 'DELETE',
        });
        s = { ...s, deleted: s.deleted + 1, removed: s.removed + r.deleted };
      } catch (e) {
        const message = e instanceof ApiError || e instanceof Error ? e.message : String(e);
        s = { ...s, failed: [...s.failed, { file: f, message }] };
        // Logged out or no longer allowed: every next file would fail the same way.
        if (e instanceof ApiError && (e.status === 401 || e.status === 403)) {
          s = { ...s, done: s.done + 1, stopped: s.done + 1 < files.length };
          break;
        }
      }
      s = { ...s, done: s.done + 1 };
      setState(s);
    }
    s = { ...s, running: false, current: undefined };
    setState(s);
    return s;
  }, []);

  const stop = useCallback(() => {
    stopping.current = true;
  }, []);
  const reset = useCallback(() => setState(IDLE), []);
  return { state, run, stop, reset };
}
