/**
 * "Max SOC today" per pack: the highest SOC since local midnight and the time it was first
 * reached. Local means UTC shifted by the configured offset (no DST rules); the day rolls
 * over at 00:00 of that local time, and the first sample of a new day starts it afresh.
 */
const DAY_MS = 86_400_000;

export interface DailyMax {
  soc: number;
  /** When the max was first reached, ms since the epoch. */
  at: number;
}

export class DailyMaxSoc {
  private readonly days = new Map<string, DailyMax & { day: number }>();

  constructor(private readonly utcOffsetMin = 0) {}

  private dayOf(ms: number): number {
    return Math.floor((ms + this.utcOffsetMin * 60_000) / DAY_MS);
  }

  /** Feeds one sample (SOC at time `at`); `now` decides which day it is. */
  update(packId: string, soc: number | undefined, at: number, now: number): void {
    const today = this.dayOf(now);
    const cur = this.days.get(packId);
    if (cur && cur.day !== today) this.days.delete(packId);
    if (soc === undefined || !Number.isFinite(soc) || this.dayOf(at) !== today) return;
    const kept = this.days.get(packId);
    if (!kept || soc > kept.soc) this.days.set(packId, { day: today, soc, at });
  }

  get(packId: string, now: number): DailyMax | undefined {
    const cur = this.days.get(packId);
    if (!cur || cur.day !== this.dayOf(now)) return undefined;
    return { soc: cur.soc, at: cur.at };
  }
}
