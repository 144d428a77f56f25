/**
 * Tracker protocols' alarm flags → the tracker alarm catalogue (core tracker-alarms.ts;
 * docs/trackers.md "Alarms"; protocols.md §1.6, §1.7, §2.7, §2.9, §4.2). Tables, no I/O.
 *
 * JT/T 808 bits 15-17 are reserved in 2013 and reused by each vendor: the map is per model
 * (`JT808_MODELS`), the default `g10ls` (the only vendor document we hold: bit 15 battery
 * low, 16 vibration, 17 removal). `traccar` is Traccar's generic reading (15 vibration,
 * 16/17 tampering). Bits not listed (fatigue, door, camera faults...) are car alarms and are
 * left out; the raw flags stay in the position's extras.
 */

/** Standard JT/T 808 alarm bits we keep (bit → code). */
const JT808_STANDARD: Readonly<Record<number, string>> = {
  0: 'sos',
  1: 'overspeed',
  7: 'under_voltage', // main power under-voltage (the battery the module sits on)
  8: 'power_cut', // main power off
};

/** Vendor-defined bits 15-17 per model. */
export const JT808_MODELS: Readonly<Record<string, Readonly<Record<number, string>>>> = {
  g10ls: { 15: 'low_capacity', 16: 'vibration', 17: 'removal' },
  traccar: { 15: 'vibration', 16: 'removal', 17: 'removal' },
};
export const DEFAULT_JT808_MODEL = 'g10ls';

/** Alarms named by the JT/T 808 decoder from vendor items (0xEB masks). */
const JT808_VENDOR_ITEMS: Readonly<Record<string, string>> = {
  vibration: 'vibration',
  removing: 'removal',
  power_off: 'power_cut',
};

/** The catalogue codes a JT/T 808 location's flags and vendor items say are on now. */
export function jt808AlarmCodes(
  alarmFlags: number,
  vendorAlarms: readonly string[],
  model: string = DEFAULT_JT808_MODEL,
): Set<string> {
  const vendor = JT808_MODELS[model] ?? JT808_MODELS[DEFAULT_JT808_MODEL]!;
  const out = new Set<string>();
  for (let b = 0; b < 32; b++) {
    if ((alarmFlags & (2 ** b)) === 0) continue;
    const code = JT808_STANDARD[b] ?? vendor[b];
    if (code) out.add(code);
  }
  for (const v of vendorAlarms) {
    const code = JT808_VENDOR_ITEMS[v];
    if (code) out.add(code);
  }
  return out;
}

/**
 * GT06 alarm byte (0x16/0x26/0x27, §2.9) → code. The device's own fence codes (0x04/0x05)
 * are not mapped: the server's geofences raise those. 0x09 (tow) and 0x0C (power on) are
 * read differently by different vendors and are left out.
 */
export const GT06_ALARMS: Readonly<Record<number, string>> = {
  0x01: 'sos',
  0x02: 'power_cut',
  0x03: 'vibration',
  0x06: 'overspeed',
  0x0e: 'low_capacity', // external (e-bike) battery low
  0x0f: 'under_voltage', // external battery low-voltage protection
  0x11: 'power_cut', // powered off
  0x13: 'removal', // tamper
  0x18: 'removal', // cover removed
  0x19: 'tracker_battery_low', // the module's own battery
  0x32: 'removal', // unplugged
};

/** GT06 terminal-info bits 5-3 (§2.7: the main alarm repeated on status packets). */
export function gt06TerminalAlarm(terminalInfo: number): string | undefined {
  switch ((terminalInfo >> 3) & 0x7) {
    case 1:
      return 'vibration';
    case 2:
      return 'power_cut';
    case 3:
      return 'low_capacity';
    case 4:
      return 'sos';
    default:
      return undefined;
  }
}

/** GB/T 32960 general alarm flags (§4.2; bit → code). Car-only bits (DC-DC, brakes, motor) are left out. */
const GB32960_FLAGS: Readonly<Record<number, string>> = {
  0: 'temp_difference',
  1: 'high_temperature',
  2: 'over_voltage', // RESS over-voltage
  3: 'under_voltage', // RESS under-voltage
  4: 'low_capacity', // SOC low
  5: 'over_voltage', // cell over-voltage
  6: 'under_voltage', // cell under-voltage
  11: 'insulation_fault',
  18: 'over_charge',
};

export function gb32960AlarmCodes(flags: number): Set<string> {
  const out = new Set<string>();
  for (let b = 0; b < 32; b++) {
    if ((flags & (2 ** b)) === 0) continue;
    const code = GB32960_FLAGS[b];
    if (code) out.add(code);
  }
  return out;
}
