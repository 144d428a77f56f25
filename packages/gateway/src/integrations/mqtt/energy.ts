/**
 * Energy through each pack (charged and discharged kWh), integrated from its power between
 * snapshots, for Home Assistant's Energy dashboard (`total_increasing` meters). A gap longer
 * than `MAX_GAP_MS` (pack offline, gateway paused) adds nothing: we never guess what flowed
 * while nobody looked. The meters start at 0 when the gateway starts (a new meter cycle to HA).
 */
import { DERIVED_METRICS, type Reading } from '@openbms/core';

export const ENERGY_METRICS = DERIVED_METRICS;

/** Longer than this between two samples and the interval is not counted. */
export const MAX_GAP_MS = 5 * 60_000;

const WH_PER_W_MS = 1 / 3_600_000;

export class EnergyMeter {
  private lastAt: number | undefined;
  private lastW: number | undefined;
  private chargedWh = 0;
  private dischargedWh = 0;
  private seen = false;

  /** Adds the energy since the previous sample (trapezoid), split into charge and discharge. */
  update(s: Reading, now: number): void {
    const w =
      typeof s.power_w === 'number'
        ? s.power_w
        : typeof s.voltage_v === 'number' && typeof s.current_a === 'number'
          ? s.voltage_v * s.current_a
          : undefined;
    if (w === undefined || !Number.isFinite(w)) return;
    this.seen = true;
    const dt = this.lastAt === undefined ? 0 : now - this.lastAt;
    if (this.lastW !== undefined && dt > 0 && dt <= MAX_GAP_MS) {
      // Each half of the trapezoid goes to its own direction (a sign change splits fairly).
      const half = (p: number): void => {
        const wh = (Math.abs(p) * dt * WH_PER_W_MS) / 2;
        if (p > 0) this.chargedWh += wh;
        else this.dischargedWh += wh;
      };
      half(this.lastW);
      half(w);
    }
    if (dt >= 0) {
      this.lastAt = now;
      this.lastW = w;
    }
  }

  /** The meters in kWh (3 decimals), once a power has been seen. */
  payload(): { energy_charged_kwh: number; energy_discharged_kwh: number } | undefined {
    if (!this.seen) return undefined;
    const kwh = (wh: number): number => Math.round(wh) / 1000;
    return {
      energy_charged_kwh: kwh(this.chargedWh),
      energy_discharged_kwh: kwh(this.dischargedWh),
    };
  }
}
