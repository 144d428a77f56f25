import type { Alarm, DeviceInfo, Reading } from '@openbms/core';
import type { Framer } from '@openbms/protocols';

/** Result of a command a BMS may refuse (interlock, validation). */
export type CommandResult = { ok: true } | { ok: false; reason: string; code?: string };

/** One on-board data record (seed 004 "data record"), taken every storage interval. */
export interface DataRecord {
  /** BMS clock time, ms since the epoch. */
  time: number;
  voltage_v: number;
  current_a: number;
  soc_pct: number;
  max_cell_mv: number;
  min_cell_mv: number;
  max_temp_c: number;
  min_temp_c: number;
  /** Alarm codes active when the record was taken. */
  alarms: string[];
  /** The alarms with their levels (records the firmware writes since PACE history). */
  active?: Alarm[];
  cell_mv?: number[];
  temps_c?: number[];
  remaining_ah?: number;
  full_ah?: number;
  cycles?: number;
  charge_mos?: boolean;
  discharge_mos?: boolean;
  /** Why it was written: absent = the storage timer; `cell_ov raised`, `power_on`... */
  event?: string;
}

/** One on-board alarm record (seed 004 "alarm record"): an alarm raised or cleared. */
export interface AlarmRecord {
  time: number;
  code: string;
  level: number;
  event: 'raised' | 'cleared';
  /** The value that tripped or released it (V, mV, A or °C per code). */
  value: number;
}

/**
 * What a device protocol sees of a simulated pack: the canonical state at this instant and
 * the commands a BMS accepts. Every command really changes the pack (MOS, parameters, SOC,
 * clock, records) and answers like firmware does (refusals carry a reason).
 */
export interface SimPackApi {
  /** Bus address of this pack on its bus (meaning per protocol family). */
  readonly address: number;
  /** Index of the pack in its bus (0-based); the first is the master of a parallel system. */
  readonly index: number;
  /**
   * The complete canonical snapshot now: voltage_v, current_a, power_w, soc_pct, soh_pct,
   * remaining_ah, full_ah, design_ah, cycles, cell_count, cell_mv, cell_balancing,
   * temp_sensor_count, temps_c (cell sensors), mos_temp_c, board_temp_c, env_temp_c,
   * charge_mos, discharge_mos, balancing, heater, state, alarms (with levels), info, and
   * the derived extremes (max/min cell, delta, average, max/min temp). An open-circuit
   * temperature sensor appears in `raw.open_sensors` (indexes into temps_c) and its temps_c
   * value is the low-end reading the firmware reports (-40 °C).
   */
  snapshot(): Reading;
  readonly info: Required<
    Pick<DeviceInfo, 'model' | 'manufacturer' | 'hw_version' | 'sw_version' | 'serial' | 'barcode'>
  >;
  /** Chemistry of the cells. */
  readonly chemistry: 'lfp' | 'nmc';
  /** Current settings by canonical parameter id (core PARAMETERS). */
  parameters(): Record<string, number>;
  /** Factory defaults by canonical parameter id. */
  defaults(): Record<string, number>;
  /** Validates (range, chemistry, consistency) and stores; nothing is stored on a refusal. */
  writeParameters(changes: Record<string, number>): CommandResult;
  restoreDefaults(): void;
  /** User MOS switch. Refused while the opposite current flows (seed 004 interlock). */
  setMos(which: 'charge' | 'discharge', on: boolean): CommandResult;
  /** Sets the BMS's SOC estimate (its coulomb counter); the cells' charge is unchanged. */
  setSoc(pct: number): CommandResult;
  /** The BMS real-time clock, ms since the epoch. */
  clock(): number;
  setClock(ms: number): void;
  /** Protection events per alarm code since the counters were cleared (seed 003 Stats). */
  counters(): Record<string, number>;
  dataRecords(): readonly DataRecord[];
  alarmRecords(): readonly AlarmRecord[];
  clearRecords(kind: 'data' | 'alarm' | 'all'): void;
  /** Active alarms with their levels (also in snapshot().alarms). */
  activeAlarms(): Alarm[];
  /** Firmware restart: protections and user switches back to power-on state. */
  restart(): void;
  /**
   * Calibrates a measurement or counter (core CALIBRATIONS kinds): the pack reports `value`
   * afterwards (total voltage, currents against a reference meter; capacities, SOC, cycles
   * set). Refused when the correction is beyond what a BMS accepts (±10 %), or a current
   * calibration without that current flowing.
   */
  calibrate(kind: string, value: number): CommandResult;
  /** Shut-down / sleep: the pack stops answering for a while; a flowing current wakes it at once. */
  shutdown(): CommandResult;
  /** True while the pack sleeps after a shut-down (it answers nothing). */
  asleep(): boolean;
}

/** The packs of one bus, for replies that cover several packs (Pylontech INFO=0xFF). */
export interface BusView {
  packs: readonly SimPackApi[];
  byAddress(address: number): SimPackApi | undefined;
}

/**
 * The device side of a protocol family: frames the host's requests, says which pack a
 * request is for, and builds the reply from a simulated pack. Replies are built with the
 * family's own layout so the real decoders read them back.
 */
export interface DeviceProtocol {
  /** Protocol family id (same as the protocols package). */
  id: string;
  /** Frames host -> device requests in a byte stream. */
  createRequestFramer(): Framer;
  /** Address the request is for; undefined when the frame carries none (JBD, BLE-style). */
  addressOf(request: Uint8Array): number | undefined;
  /** Bus addresses for n packs (index 0 first); n <= 16. */
  addresses(n: number): number[];
  /**
   * Builds the reply to one request for `pack` (found by addressOf, or the only pack when
   * the frame carries no address). Returns undefined when a real device would stay silent.
   * Throws BmsError for requests the device does not understand (the bus then answers
   * with the protocol's error reply if it has one, else stays silent).
   */
  handle(request: Uint8Array, pack: SimPackApi, bus: BusView): Uint8Array | undefined;
  /** Temperature sensors the family's hardware reports for the cells (JK: T1, T2). */
  tempSensors?: number;
  /**
   * The family's factory parameter set from the generic one (`base`, by catalog id): values
   * its wire carries only in other steps (Seplos' transient delay in whole ms) and the
   * parameters only it has (heater thresholds, the capacity model). Absent: the generic set.
   */
  factoryDefaults?(
    base: Record<string, number>,
    pack: { chemistry: 'lfp' | 'nmc'; cells: number; capacityAh: number },
  ): Record<string, number>;
  /**
   * The BMS has only the parameters its protocol carries (the family definition's
   * `parameters`): the simulated firmware keeps no others, so it never refuses a write for a
   * rule about a value the host cannot see (PACE: no level-1 recoveries).
   */
  ownParameters?: boolean;
  /** Optional error reply for a request the device could not handle (Modbus exception, RTN). */
  errorReply?(request: Uint8Array, err: unknown): Uint8Array | undefined;
}
