/**
 * Alarm names in words. English comes from the core taxonomy (the same labels the gateway
 * uses in messages); Chinese is ours. A test checks every taxonomy code has both.
 */
import { ALARM_CODES } from '@openbms/core';
import type { Strings } from './types';

const zh: Record<string, string> = {
  cell_ov: '单体过压',
  cell_uv: '单体欠压',
  pack_ov: '总压过高',
  pack_uv: '总压过低',
  cell_diff: '单体压差过大',
  chg_oc: '充电过流',
  dsg_oc: '放电过流',
  short_circuit: '短路保护',
  chg_ot: '充电高温',
  chg_ut: '充电低温',
  dsg_ot: '放电高温',
  dsg_ut: '放电低温',
  mos_ot: 'MOS 过温',
  cell_ot: '电芯过温',
  cell_ut: '电芯低温',
  box_ot: '箱体过温',
  env_ot: '环境高温',
  env_ut: '环境低温',
  temp_diff: '温差过大',
  soc_low: 'SOC 过低',
  soc_high: 'SOC 过高',
  chg_timeout: '充电超时',
  insulation: '绝缘电阻过低',
  comm_lost: '通讯中断',
  internal_comm: '内部通讯故障',
  external_comm: '外部/整车通讯故障',
  temp_sensor_fault: '温度传感器故障',
  cell_sense_fault: '单体电压采集故障',
  voltage_sense_fault: '总压采集故障',
  current_sense_fault: '电流采集故障',
  afe_fault: '前端采集芯片故障',
  eeprom_fault: 'EEPROM/存储故障',
  rtc_fault: '时钟故障',
  chg_mos_fault: '充电 MOS 故障',
  dsg_mos_fault: '放电 MOS 故障',
  precharge_fault: '预充失败',
  heater_fault: '加热故障',
  balancer_fault: '均衡故障',
  cell_count_mismatch: '电芯串数与设置不符',
  low_voltage_no_charge: '电压过低禁止充电',
  wire_resistance: '采集线阻过大',
  fault_other: 'BMS 其他故障',
  storage_full: '存储已满：历史数据暂未写入',
  storage_corrupt: '数据库损坏：已另存，正在使用新数据库',
  soc_full: 'SOC 已充满',
};

const en: Record<string, string> = Object.fromEntries(ALARM_CODES.map((a) => [a.code, a.label]));
en.soc_full ??= 'SOC reached 100 %';

const strings: Strings = { en, zh };
export default strings;
