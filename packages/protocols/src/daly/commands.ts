/** DALY A5 data ids and the command names the platform uses for them. */
import type { CommandInfo } from '../types.js';

export const ID = {
  PACK: 0x90,
  CELL_RANGE: 0x91,
  TEMP_RANGE: 0x92,
  MOS: 0x93,
  STATUS: 0x94,
  CELLS: 0x95,
  TEMPS: 0x96,
  BALANCE: 0x97,
  FAULTS: 0x98,
  SET_SOC: 0x21,
  DSG_MOS: 0xd9,
  CHG_MOS: 0xda,
  RESTART: 0x00,
} as const;

export interface DalyCommand extends CommandInfo {
  dataId: number;
}

const c = (
  id: string,
  dataId: number,
  kind: CommandInfo['kind'],
  description: string,
): DalyCommand => ({
  id,
  dataId,
  kind,
  description,
});

export const COMMANDS: readonly DalyCommand[] = [
  c('pack_status', ID.PACK, 'read', '0x90 pack voltage, current, SOC'),
  c(
    'cell_voltage_range',
    ID.CELL_RANGE,
    'read',
    '0x91 highest / lowest cell voltage and their cells',
  ),
  c(
    'temperature_range',
    ID.TEMP_RANGE,
    'read',
    '0x92 highest / lowest temperature and their sensors',
  ),
  c('mos_status', ID.MOS, 'read', '0x93 charge/discharge state, MOSFETs, remaining capacity'),
  c('status_info', ID.STATUS, 'read', '0x94 cell and sensor counts, charger/load, DIO, cycles'),
  c('cell_voltages', ID.CELLS, 'read', '0x95 cell voltages, 3 per frame (multi-frame)'),
  c('temperatures', ID.TEMPS, 'read', '0x96 sensor temperatures, 7 per frame (multi-frame)'),
  c('balance_state', ID.BALANCE, 'read', '0x97 per-cell balancing bits'),
  c('failure_status', ID.FAULTS, 'read', '0x98 alarm/fault bitmap and fault code'),
  c('set_discharge_mos', ID.DSG_MOS, 'control', '0xD9 switch the discharge MOSFET (args.on)'),
  c('set_charge_mos', ID.CHG_MOS, 'control', '0xDA switch the charge MOSFET (args.on)'),
  c(
    'set_soc',
    ID.SET_SOC,
    'write',
    '0x21 set SOC (args.soc_pct) and optionally the RTC (year..second)',
  ),
  c('restart', ID.RESTART, 'control', '0x00 restart the BMS (uncertain)'),
];

export const COMMAND_BY_ID = new Map(COMMANDS.map((x) => [x.id, x]));
/** Indexed by data id; undefined for ids the family does not know. */
export const COMMAND_BY_DATA_ID: readonly (DalyCommand | undefined)[] = (() => {
  const t: (DalyCommand | undefined)[] = new Array<DalyCommand | undefined>(256).fill(undefined);
  for (const x of COMMANDS) t[x.dataId] = x;
  return t;
})();
