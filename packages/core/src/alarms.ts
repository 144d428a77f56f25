/**
 * The cross-brand alarm taxonomy. Every family maps its own flags onto these codes; the
 * brand's own identifier stays available in the decoder's `raw` output.
 */

export type Severity = 'warning' | 'protection' | 'fault';

export interface AlarmCodeInfo {
  code: string;
  label: string;
  /** Severity when the device gives no level. */
  severity: Severity;
  category:
    'voltage' | 'current' | 'temperature' | 'state' | 'hardware' | 'communication' | 'storage';
}

/**
 * The scope of alarms about the site's gateway rather than one pack (the database is full or
 * damaged). It stands where a pack id would (`AlarmEvent.packId`, MQTT topic, WebSocket) and
 * can never be one: pack ids are `<site>/<bus>/<address>`.
 */
export const GATEWAY_ALARM_SCOPE = 'gateway';

const def = (
  code: string,
  label: string,
  severity: Severity,
  category: AlarmCodeInfo['category'],
): AlarmCodeInfo => ({ code, label, severity, category });

export const ALARM_CODES: readonly AlarmCodeInfo[] = [
  def('cell_ov', 'Cell over-voltage', 'protection', 'voltage'),
  def('cell_uv', 'Cell under-voltage', 'protection', 'voltage'),
  def('pack_ov', 'Pack over-voltage', 'protection', 'voltage'),
  def('pack_uv', 'Pack under-voltage', 'protection', 'voltage'),
  def('cell_diff', 'Cell voltage difference too large', 'warning', 'voltage'),
  def('chg_oc', 'Charge over-current', 'protection', 'current'),
  def('dsg_oc', 'Discharge over-current', 'protection', 'current'),
  def('short_circuit', 'Short circuit', 'protection', 'current'),
  def('chg_ot', 'Charge over-temperature', 'protection', 'temperature'),
  def('chg_ut', 'Charge under-temperature', 'protection', 'temperature'),
  def('dsg_ot', 'Discharge over-temperature', 'protection', 'temperature'),
  def('dsg_ut', 'Discharge under-temperature', 'protection', 'temperature'),
  def('mos_ot', 'MOSFET over-temperature', 'protection', 'temperature'),
  // When a device does not say whether the charge or discharge limit was crossed.
  def('cell_ot', 'Battery (cell) over-temperature', 'protection', 'temperature'),
  def('cell_ut', 'Battery (cell) under-temperature', 'protection', 'temperature'),
  def('box_ot', 'Enclosure over-temperature', 'protection', 'temperature'),
  def('env_ot', 'Ambient over-temperature', 'warning', 'temperature'),
  def('env_ut', 'Ambient under-temperature', 'warning', 'temperature'),
  def('temp_diff', 'Temperature difference too large', 'warning', 'temperature'),
  def('soc_low', 'SOC low', 'warning', 'state'),
  def('soc_high', 'SOC high', 'warning', 'state'),
  def('chg_timeout', 'Charge time-out', 'protection', 'state'),
  def('insulation', 'Insulation resistance low', 'fault', 'hardware'),
  def('comm_lost', 'Communication lost', 'fault', 'communication'),
  def('internal_comm', 'Internal communication fault', 'fault', 'communication'),
  def('external_comm', 'External/vehicle communication fault', 'fault', 'communication'),
  def('temp_sensor_fault', 'Temperature sensor fault', 'fault', 'hardware'),
  def('cell_sense_fault', 'Cell voltage sensing fault', 'fault', 'hardware'),
  def('voltage_sense_fault', 'Pack voltage sensing fault', 'fault', 'hardware'),
  def('current_sense_fault', 'Current sensing fault', 'fault', 'hardware'),
  def('afe_fault', 'Analog front-end fault', 'fault', 'hardware'),
  def('eeprom_fault', 'EEPROM / memory fault', 'fault', 'hardware'),
  def('rtc_fault', 'Real-time clock fault', 'fault', 'hardware'),
  def('chg_mos_fault', 'Charge MOSFET fault', 'fault', 'hardware'),
  def('dsg_mos_fault', 'Discharge MOSFET fault', 'fault', 'hardware'),
  def('precharge_fault', 'Pre-charge failed', 'fault', 'hardware'),
  def('heater_fault', 'Heater fault', 'fault', 'hardware'),
  def('balancer_fault', 'Balancer fault', 'fault', 'hardware'),
  def('cell_count_mismatch', 'Cell count does not match the setting', 'fault', 'hardware'),
  def('low_voltage_no_charge', 'Voltage too low to charge', 'protection', 'voltage'),
  def('wire_resistance', 'Cell wire resistance too high', 'warning', 'hardware'),
  def('fault_other', 'Other fault reported by the BMS', 'fault', 'hardware'),
  // Raised by the gateway itself, scope GATEWAY_ALARM_SCOPE.
  def('storage_full', 'Storage full: history is not being written', 'fault', 'storage'),
  def('storage_corrupt', 'Database damaged: set aside, a fresh one in use', 'fault', 'storage'),
];

export type AlarmCode = (typeof ALARM_CODES)[number]['code'];

const BY_CODE = new Map(ALARM_CODES.map((a) => [a.code, a]));

export function alarmInfo(code: string): AlarmCodeInfo | undefined {
  return BY_CODE.get(code);
}

export function isAlarmCode(code: string): boolean {
  return BY_CODE.has(code);
}

export interface Alarm {
  code: string;
  severity: Severity;
  /** The device's level (1 = warning, 2 = protection, 3 = severe) where it reports one. */
  level?: number;
  /** The brand's own identifier (e.g. `cell_ov_l2`, `battery_over_temp`). */
  source?: string;
  /** The cell it concerns (1-based), where the device names one. */
  cell?: number;
  /** The temperature sensor it concerns (1-based), where the device names one. */
  sensor?: number;
}

/**
 * Builds an Alarm from a taxonomy code. A level of 1 is a warning; levels 2 and above are
 * protections (the packs of seeds 002-004 cut a MOSFET from level 2 on), unless the code
 * itself is a hardware fault.
 */
export function makeAlarm(
  code: string,
  opts: { level?: number; source?: string; cell?: number; sensor?: number } = {},
): Alarm {
  const info = BY_CODE.get(code);
  if (!info) throw new Error(`unknown alarm code ${code}`);
  let severity = info.severity;
  if (opts.level !== undefined && info.severity !== 'fault') {
    severity = opts.level <= 1 ? 'warning' : 'protection';
  }
  const alarm: Alarm = { code, severity };
  if (opts.level !== undefined) alarm.level = opts.level;
  if (opts.source !== undefined) alarm.source = opts.source;
  if (opts.cell !== undefined) alarm.cell = opts.cell;
  if (opts.sensor !== undefined) alarm.sensor = opts.sensor;
  return alarm;
}
