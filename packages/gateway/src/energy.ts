/**
 * Energy through each pack: cumulative charged and discharged kWh (`energy_charged_kwh`,
 * `energy_discharged_kwh`, total_increasing meters), integrated from the pack's power between
 * two polls over the DEVICE's time. For a real BMS that is wall time; for a simulated bus it
 * is the simulator's clock (at 60x a wall second is a device minute), which the bus factory
 * hands over as `OpenedBus.deviceClock`, so the simulated SOC swing and the kWh agree.
 *
 * The counters go into every snapshot the poller publishes, so they are stored with each
 * sample (the daily energy is computed from their increases), published to MQTT / Home
 * Assistant and shown live. They are seeded from the pack's last stored sample when a bus
 * starts, so a restart goes on counting. A gap longer than `MAX_GAP_MS` of wall time between
 * two polls (pack offline, gateway paused) adds nothing: we never guess what flowed while
 * nobody looked.
 */
import type { Reading } from '@openbms/core';

/** Longer than this (wall time) between two readings and the interval is not counted. */
export const MAX_GAP_MS = 5 * 60_000;

const WH_PER_W_MS = 1 / 3_600_000;

/** kWh with 4 decimals (0.1 Wh): stored losslessly in a few bytes. */
const kwh = (wh: number): number => Math.round(wh * 10) / 10_000;

interface Meter {
  chargedWh: number;
  dischargedWh: number;
  lastWall?: number;
  lastDevice?: number;
  lastW?: number;
}

/** The power of a reading: reported, else V × I; undefined when neither is there. */
function powerOf(s: Reading): number | undefined {
  const w =
    typeof s.power_w === 'number'
      ? s.power_w
      : typeof s.voltage_v === 'number' && typeof s.current_a === 'number'
        ? s.voltage_v * s.current_a
        : undefined;
  return w !== undefined && Number.isFinite(w) ? w : undefined;
}

/** A stored counter value worth seeding from: a finite number >= 0. */
const seedValue = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;

export class EnergyCounters {
  private readonly meters = new Map<string, Meter>();

  /** Whether a pack has a meter already (seeded or counting). */
  has(packId: string): boolean {
    return this.meters.has(packId);
  }

  /**
   * Starts a pack's meter from its last stored snapshot (absent or without counters: 0).
   * A pack that counts already keeps its meter (a bus restarted live).
   */
  seed(packId: string, last: Reading | undefined): void {
    if (this.meters.has(packId)) return;
    const c = seedValue(last?.energy_charged_kwh);
    const d = seedValue(last?.energy_discharged_kwh);
    this.meters.set(packId, {
      chargedWh: (c ?? 0) * 1000,
      dischargedWh: (d ?? 0) * 1000,
    });
  }

  /**
   * Adds the energy since the pack's previous reading (trapezoid over device time, each half
   * to its own direction, so a sign change splits fairly) and writes the counters into the
   * reading. A reading without a power leaves the counters as they were (still written once
   * the pack has a meter). `wall` and `device` are the two clocks' instants of this reading.
   */
  add(packId: string, reading: Reading, wall: number, device: number): void {
    let m = this.meters.get(packId);
    if (!m) this.meters.set(packId, (m = { chargedWh: 0, dischargedWh: 0 }));
    const w = powerOf(reading);
    if (w !== undefined) {
      const wallDt = m.lastWall === undefined ? 0 : wall - m.lastWall;
      const dt = m.lastDevice === undefined ? 0 : device - m.lastDevice;
      if (m.lastW !== undefined && wallDt > 0 && wallDt <= MAX_GAP_MS && dt > 0) {
        for (const p of [m.lastW, w]) {
          const wh = (Math.abs(p) * dt * WH_PER_W_MS) / 2;
          if (p > 0) m.chargedWh += wh;
          else m.dischargedWh += wh;
        }
      }
      // A clock that went back (a device clock reset) starts a new interval from here.
      m.lastWall = wall;
      m.lastDevice = device;
      m.lastW = w;
    }
    reading.energy_charged_kwh = kwh(m.chargedWh);
    reading.energy_discharged_kwh = kwh(m.dischargedWh);
  }
}
