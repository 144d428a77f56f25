import { describe, expect, it } from 'vitest';
import { normalizeSerial, parseClaim, SERIAL_PATTERN } from './claim.js';

describe('claim helpers', () => {
  it('reads a typed serial: lower case, spaces, dashes, O for 0 and I/L for 1 after OB', () => {
    expect(normalizeSerial(' ob7k2-m9qx 4rt ')).toBe('OB7K2M9QX4RT');
    expect(normalizeSerial('obo1il23456a')).toBe('OB011123456A');
    expect(SERIAL_PATTERN.test(normalizeSerial('obo1il23456a'))).toBe(true);
    // Not a serial at all: left for the pattern to refuse, not guessed at.
    expect(SERIAL_PATTERN.test(normalizeSerial('XY7K2M9QX4RT'))).toBe(false);
  });

  it('reads the serial of a pasted link JSON as it reads a typed one', () => {
    expect(parseClaim('{"serial":"ob7k2m9qx4ro","claim_code":"ab12-cd34"}')).toEqual({
      serial: 'OB7K2M9QX4R0',
      claim_code: 'AB12CD34',
    });
  });
});
