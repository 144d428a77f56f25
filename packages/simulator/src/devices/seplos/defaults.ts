/**
 * Seplos factory settings on top of the generic ones: what the Seplos block and SPA carry
 * that the generic set lacks (ambient protection level 2, release currents, charger-port
 * over-voltage, heater, balancing stop, low-SOC protection, the inverter requests) and the
 * transient discharge delay in whole ms (the V2 block keeps it in one byte of ms). Values
 * follow the captured 16S LFP blocks, scaled to the pack's cells and capacity.
 */
export function seplosDefaults(
  base: Record<string, number>,
  pack: { chemistry: 'lfp' | 'nmc'; cells: number; capacityAh: number },
): Record<string, number> {
  const lfp = pack.chemistry === 'lfp';
  const v = (perCell: number): number => Math.round(perCell * pack.cells * 100) / 100;
  return {
    ...base,
    dsg_oc_l3_delay_s: 0.03,
    env_ot_l2_c: 65,
    env_ot_l2_recover_c: 60,
    env_ut_l2_c: -25,
    env_ut_l2_recover_c: -20,
    // Whole amps: V3's SPA keeps currents in 1 A.
    chg_oc_l1_recover_a: Math.round((base.chg_oc_l1_a ?? pack.capacityAh / 2) * 0.95),
    dsg_oc_l1_recover_a: Math.round((base.dsg_oc_l1_a ?? pack.capacityAh) * 0.95),
    charger_ov_v: v(lfp ? 3.9 : 4.35),
    charger_ov_recover_v: v(lfp ? 3.8 : 4.25),
    cell_no_charge_mv: lfp ? 1500 : 2000,
    heater_start_c: 0,
    heater_stop_c: 10,
    balance_stop_delta_mv: 5,
    soc_low_protect_pct: 5,
    cycle_capacity_ah: pack.capacityAh,
    cell_uv_l3_mv: lfp ? 2000 : 2500,
    charge_voltage_limit_v: v(lfp ? 3.45 : 4.05),
    charge_current_limit_a: Math.round(pack.capacityAh * 0.5),
    discharge_current_limit_a: Math.round(pack.capacityAh),
  };
}
