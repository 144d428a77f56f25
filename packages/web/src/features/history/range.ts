/** Time ranges of the history tab and the <input type="datetime-local"> value format. */
const HOUR = 3600_000;
const DAY = 24 * HOUR;

export const PRESETS = [
  { id: '1h', ms: HOUR },
  { id: '6h', ms: 6 * HOUR },
  { id: '24h', ms: DAY },
  { id: '7d', ms: 7 * DAY },
  { id: '30d', ms: 30 * DAY },
  { id: '1y', ms: 365 * DAY },
] as const;

export type PresetId = (typeof PRESETS)[number]['id'];

export interface Range {
  from: number;
  to: number;
}

/** The preset's span ending now (whole seconds, so the URL stays short). */
export function presetRange(id: PresetId, now = Date.now()): Range {
  const to = Math.ceil(now / 1000) * 1000;
  return { from: to - PRESETS.find((p) => p.id === id)!.ms, to };
}

export { fromLocalInput, toLocalInput } from '../../ui/datetime';
