/** The named register blocks a read cycle uses, per variant, and unit-id rules. */
import { ensure } from '@openbms/core';
import type { Variant } from './registers.js';

export interface Block {
  command: string;
  start: number;
  count: number;
}

export const BLOCKS: Record<Variant, readonly Block[]> = {
  d2: [
    { command: 'read_status', start: 0x0000, count: 62 },
    { command: 'read_status_ext', start: 0x003e, count: 9 },
    { command: 'read_settings', start: 0x0080, count: 41 },
    { command: 'read_version', start: 0x00a9, count: 32 },
    { command: 'read_balancer_switch', start: 0x00cf, count: 1 },
  ],
  p81: [
    { command: 'read_status', start: 0x0000, count: 64 },
    { command: 'read_status_ext', start: 0x0041, count: 62 },
    { command: 'read_settings', start: 0x0100, count: 41 },
    { command: 'read_version', start: 0x0178, count: 74 },
    { command: 'read_balancer_switch', start: 0x00cf, count: 1 },
  ],
};

export const D2_UNIT = 0xd2;
/** p81: requests go to 0x80 + board (boards 1..15 here), replies come from 0x50 + board. */
export const P81_REPLY_OFFSET = 0x30;

export function isD2(unit: number): boolean {
  return unit === D2_UNIT;
}
export function isP81Request(unit: number): boolean {
  return unit >= 0x81 && unit <= 0x8f;
}
export function isP81Reply(unit: number): boolean {
  return unit >= 0x51 && unit <= 0x5f;
}

/** Variant of a request unit id: 0xD2 = d2, 0x81..0x8F = p81. */
export function variantOfUnit(unit: number): Variant {
  if (isD2(unit)) return 'd2';
  ensure(
    isP81Request(unit),
    'INVALID_ARGUMENT',
    `DALY Modbus unit must be 0xD2 (BLE) or 0x80 + board 1..15 (got 0x${unit.toString(16)})`,
  );
  return 'p81';
}

/** The unit id a reply to `requestUnit` comes from. */
export function replyUnitOf(requestUnit: number): number {
  return isD2(requestUnit) ? requestUnit : requestUnit - P81_REPLY_OFFSET;
}

export function blockByCommand(variant: Variant, command: string): Block | undefined {
  for (const b of BLOCKS[variant]) if (b.command === command) return b;
  return undefined;
}

export function blockAt(variant: Variant, start: number, count: number): Block | undefined {
  for (const b of BLOCKS[variant]) if (b.start === start && b.count === count) return b;
  return undefined;
}
