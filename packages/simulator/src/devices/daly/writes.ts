/**
 * The DALY A5 writes: 0xD9 / 0xDA MOSFET switches, 0x21 SOC + RTC, 0x00 restart. Each one
 * really changes the pack through SimPackApi; the reply is what the family decoder reads
 * as the acknowledgement.
 */
import { BmsError } from '@openbms/core';
import { ID } from '@openbms/protocols/daly';
import type { SimPackApi } from '../../types.js';
import { reply } from './wire.js';

/**
 * 0xD9 (discharge) / 0xDA (charge): data byte 0 = 1 on / 0 off. The reply's byte 0 echoes
 * the MOSFET state after the command: the new state, or the unchanged one on a refusal.
 */
export function setMos(id: number, data: Uint8Array, pack: SimPackApi): Uint8Array {
  const on = data[0];
  if (on !== 0 && on !== 1) {
    throw new BmsError('FRAME_MALFORMED', `0x${id.toString(16)}: data byte 0 must be 0 or 1`);
  }
  const which = id === ID.DSG_MOS ? 'discharge' : 'charge';
  pack.setMos(which, on === 1);
  const s = pack.snapshot();
  const state = which === 'charge' ? s.charge_mos : s.discharge_mos;
  return reply(id, [state ? 1 : 0]);
}

/** Valid 0x21 clock bytes (year - 2000, month, day, hour, minute, second) as ms since the epoch, UTC. */
function clockOf(d: Uint8Array): number | undefined {
  const [y, mo, day, h, mi, sec] = [d[0]!, d[1]!, d[2]!, d[3]!, d[4]!, d[5]!];
  const ms = Date.UTC(2000 + y, mo - 1, day, h, mi, sec);
  const t = new Date(ms);
  // Date.UTC rolls over (Feb 30 -> Mar 2): a valid date reads back unchanged.
  const valid =
    mo >= 1 &&
    t.getUTCMonth() === mo - 1 &&
    t.getUTCDate() === day &&
    t.getUTCHours() === h &&
    t.getUTCMinutes() === mi &&
    t.getUTCSeconds() === sec;
  return valid ? ms : undefined;
}

/**
 * 0x21: bytes 0..5 the RTC (all zero = leave the clock alone), bytes 6..7 SOC x 10. Reply
 * byte 0 = 1 when the SOC (and clock) were taken, 0 when refused (SOC above 100 %, an
 * impossible date, or the pack refusing the SOC); nothing changes on a refusal.
 */
export function setSoc(data: Uint8Array, pack: SimPackApi): Uint8Array {
  const tenths = (data[6]! << 8) | data[7]!;
  const hasClock = data.subarray(0, 6).some((b) => b !== 0);
  const ms = hasClock ? clockOf(data) : undefined;
  let ok = tenths <= 1000 && (!hasClock || ms !== undefined);
  if (ok) ok = pack.setSoc(tenths / 10).ok;
  if (ok && ms !== undefined) pack.setClock(ms);
  return reply(ID.SET_SOC, [ok ? 1 : 0]);
}

/**
 * 0x00: restart. No reply is documented; the simulator answers an all-zero 0x00 frame
 * (which the family decodes as the restart acknowledgement) before restarting.
 */
export function restart(pack: SimPackApi): Uint8Array {
  pack.restart();
  return reply(ID.RESTART, []);
}
