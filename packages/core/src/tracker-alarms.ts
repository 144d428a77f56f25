/**
 * The alarm catalogue of GPS-tracked batteries (issue 17, seed 003 "Alarm"; docs/trackers.md
 * "Alarms"): what the tracker protocols report (JT/T 808 alarm bits and vendor items, GT06
 * alarm codes and terminal-info bits, GB/T 32960 general alarm flags) and what the server
 * finds itself (geofences), as one list of codes with a severity and English and Chinese
 * names. These codes live on the tracker's pack `tracker/<serial>`; the BMS taxonomy
 * (alarms.ts) stays for polled packs.
 */
import type { Severity } from './alarms.js';

export interface TrackerAlarmInfo {
  code: string;
  severity: Severity;
  label: string;
  labelZh: string;
}

const def = (
  code: string,
  severity: Severity,
  label: string,
  labelZh: string,
): TrackerAlarmInfo => ({
  code,
  severity,
  label,
  labelZh,
});

export const TRACKER_ALARM_CODES: readonly TrackerAlarmInfo[] = [
  def('over_voltage', 'protection', 'Over-voltage', '过压报警'),
  def('under_voltage', 'protection', 'Under-voltage', '欠压报警'),
  def('low_capacity', 'warning', 'Low capacity', '低电量报警'),
  def('low_temperature', 'warning', 'Low temperature', '低温报警'),
  def('high_temperature', 'protection', 'High temperature', '高温报警'),
  def('temp_difference', 'warning', 'Temperature difference', '温差报警'),
  def('over_charge', 'protection', 'Over-charge', '过充报警'),
  def('insulation_fault', 'fault', 'Insulation fault', '绝缘故障'),
  def('geofence_enter', 'warning', 'Entered a geofence', '进入围栏'),
  def('geofence_exit', 'warning', 'Left a geofence', '离开围栏'),
  def('vibration', 'warning', 'Vibration', '震动报警'),
  def('power_cut', 'fault', 'External power cut', '断电报警'),
  def('removal', 'fault', 'Removal / tamper', '拆除报警'),
  def('sos', 'fault', 'SOS', '紧急报警'),
  def('overspeed', 'warning', 'Overspeed', '超速报警'),
  def('tracker_battery_low', 'warning', 'Tracker battery low', '定位器电池低'),
];

/** The codes as a union, for switches and maps. */
export type TrackerAlarmCode = (typeof TRACKER_ALARM_CODES)[number]['code'];

const BY_CODE = new Map(TRACKER_ALARM_CODES.map((a) => [a.code, a]));

export function trackerAlarmInfo(code: string): TrackerAlarmInfo | undefined {
  return BY_CODE.get(code);
}

export function isTrackerAlarmCode(code: string): boolean {
  return BY_CODE.has(code);
}
