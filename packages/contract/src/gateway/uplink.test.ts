import { describe, expect, it } from 'vitest';
import {
  claimQrText,
  downlinkSchema,
  normalizeClaimCode,
  parseClaim,
  parseUplinkTopic,
  uplinkAckSchema,
  uplinkTopics,
} from './index.js';

describe('uplink contract', () => {
  it('reads a claim from the QR text or the link JSON, and refuses anything else', () => {
    expect(parseClaim(claimQrText('OB7K2M9QX4RT', 'AB12CD34'))).toEqual({
      serial: 'OB7K2M9QX4RT',
      claim_code: 'AB12CD34',
    });
    expect(parseClaim('{"serial":"ob7k2m9qx4rt","claim_code":"ab12-cd34"}')).toEqual({
      serial: 'OB7K2M9QX4RT',
      claim_code: 'AB12CD34',
    });
    expect(parseClaim('OBMS1:OB7K2M9QX4RT:short')).toBeUndefined();
    expect(parseClaim('https://example.com')).toBeUndefined();
    expect(parseClaim('{"serial":1}')).toBeUndefined();
    expect(normalizeClaimCode('ab1o-il23')).toBe('AB101123');
  });

  it('names the topics under the serial and parses them back', () => {
    const t = uplinkTopics('OB7K2M9QX4RT');
    expect(t.res('node-a')).toBe('openbms/v1/OB7K2M9QX4RT/res/node-a');
    expect(parseUplinkTopic(t.up)).toEqual({ serial: 'OB7K2M9QX4RT', rest: 'up' });
    expect(parseUplinkTopic('homeassistant/sensor/x')).toBeUndefined();
  });

  it('refuses a reversed ack range and a downlink without expiry, naming the field', () => {
    const ack = uplinkAckSchema.safeParse({ v: 1, ranges: [{ run: 'r', from: 5, to: 4 }] });
    expect(ack.success).toBe(false);
    expect(ack.error?.issues[0]?.path).toEqual(['ranges', 0, 'to']);
    const down = downlinkSchema.safeParse({
      v: 1,
      id: 'x',
      replyTo: 'n',
      kind: 'read',
      method: 'packs',
      args: [],
    });
    expect(down.success).toBe(false);
    expect(down.error?.issues[0]?.path).toEqual(['expiresAt']);
  });
});
