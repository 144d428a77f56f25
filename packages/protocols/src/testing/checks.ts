/** Test support: shape checks shared by the definition walk and the fuzz test. */
import { isBmsError, isAlarmCode, metric, type Reading } from '@openbms/core';
import type { FramerEvent, ProtocolDefinition } from '../types.js';

const INFO_KEYS = new Set([
  'model',
  'manufacturer',
  'hw_version',
  'sw_version',
  'serial',
  'barcode',
  'protocol_version',
  'manufacture_date',
  'device_name',
]);

/** Problems with a Reading's shape: unknown keys, wrong types, NaN, unknown alarm codes. */
export function shapeProblems(r: Reading, path = ''): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(r)) {
    const at = `${path}${k}`;
    if (k === 'raw') continue;
    const m = metric(k);
    if (!m) {
      out.push(`${at} is not a catalog metric`);
      continue;
    }
    switch (m.type) {
      case 'number':
      case 'integer':
        if (typeof v !== 'number' || !Number.isFinite(v)) out.push(`${at} is not a finite number`);
        else if (m.type === 'integer' && !Number.isInteger(v)) out.push(`${at} is not an integer`);
        break;
      case 'boolean':
        if (typeof v !== 'boolean') out.push(`${at} is not a boolean`);
        break;
      case 'string':
        if (typeof v !== 'string') out.push(`${at} is not a string`);
        break;
      case 'number[]':
        if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
          out.push(`${at} is not an array of finite numbers`);
        }
        break;
      case 'boolean[]':
        if (!Array.isArray(v) || !v.every((x) => typeof x === 'boolean'))
          out.push(`${at} is not boolean[]`);
        break;
      case 'alarms':
        if (!Array.isArray(v)) out.push(`${at} is not an array`);
        else {
          for (const a of v as { code: string; severity: string }[]) {
            if (!isAlarmCode(a.code)) out.push(`${at}: unknown alarm code ${a.code}`);
            if (!['warning', 'protection', 'fault'].includes(a.severity))
              out.push(`${at}: bad severity`);
          }
        }
        break;
      case 'info':
        for (const key of Object.keys(v as object)) {
          if (!INFO_KEYS.has(key)) out.push(`${at}.${key} is not a DeviceInfo field`);
        }
        break;
      case 'packs':
        (v as Reading[]).forEach((p, i) => out.push(...shapeProblems(p, `${at}[${i}].`)));
        break;
    }
  }
  if (r.state !== undefined && !['idle', 'charging', 'discharging', 'fault'].includes(r.state)) {
    out.push(`${path}state "${r.state}" is not a run state`);
  }
  return out;
}

/** Feeds bytes to a framer in pieces; returns all events including the end-of-stream flush. */
export function frameAll(
  def: ProtocolDefinition,
  bytes: Uint8Array,
  piece: (i: number) => number,
): FramerEvent[] {
  const f = def.createFramer();
  const events: FramerEvent[] = [];
  for (let i = 0, k = 0; i < bytes.length; k++) {
    const n = Math.max(1, piece(k));
    events.push(...f.push(bytes.subarray(i, i + n)));
    i += n;
  }
  events.push(...f.end());
  return events;
}

/** The BmsError code `fn` throws, or undefined when it does not throw; anything else rethrows. */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (!isBmsError(e)) throw e;
    return e.code;
  }
  return undefined;
}
