import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bytesToHex, concatBytes, hexToBytes } from '../util/bytes.js';
import type { FramerEvent } from '../types.js';
import { definition } from './index.js';
import { parseModbusRequestLoose } from './requests.js';
import { codeOf } from '../testing/checks.js';

const here = dirname(fileURLToPath(import.meta.url));
const vectors = JSON.parse(readFileSync(join(here, 'fixtures/vectors.json'), 'utf8')) as {
  vectors: {
    id: string;
    request_hex: string | null;
    response_hex: string;
    expected_request?: Record<string, unknown>;
  }[];
};
const vec = (id: string) => vectors.vectors.find((v) => v.id === id)!;
const session = JSON.parse(readFileSync(join(here, 'fixtures/session.json'), 'utf8')) as {
  options: { address: number };
  exchanges: { step: string; request_hex: string; response_hex: string }[];
  expected: Record<string, unknown>;
};

describe('modbus-rtu', () => {
  it('decodes the request side of every vector as expected_request says', () => {
    for (const v of vectors.vectors) {
      if (!v.request_hex || !v.expected_request) continue;
      const m = parseModbusRequestLoose(hexToBytes(v.request_hex));
      const e = v.expected_request;
      expect(m.unit, v.id).toBe(e.address);
      expect(m.fn, v.id).toBe(e.function);
      expect(m.start, v.id).toBe(e.start_register);
      expect(m.count, v.id).toBe(e.register_count);
      if (e.values_u16) expect(m.values, v.id).toEqual(e.values_u16);
      if (e.byte_count_field_present === false) expect(m.byteCountField).toBe(false);
      else expect(m.byteCountField).toBeUndefined();
    }
  });

  it('round-trips vector requests and examples', () => {
    for (const v of vectors.vectors) {
      if (!v.request_hex) continue;
      expect(
        bytesToHex(definition.encode(definition.parseRequest(hexToBytes(v.request_hex)))),
        v.id,
      ).toBe(v.request_hex);
    }
    for (const r of definition.requestExamples)
      expect(definition.parseRequest(definition.encode(r))).toEqual(r);
    expect(
      bytesToHex(
        definition.encode({
          command: 'read_holding',
          address: 1,
          args: { start: 0x1016, count: 13 },
        }),
      ),
    ).toBe('01031016000d610b');
  });

  it('reports exceptions as decoded values, with the function code as sent', () => {
    const r = definition.decode(hexToBytes(vec('mb_exception_illegal_address').response_hex));
    expect(r.address).toBe(1);
    expect(r.raw).toMatchObject({
      function: 0x83,
      exception: true,
      exception_code: 2,
      exception_name: 'illegal_data_address',
    });
    expect(r.voltage_v).toBeUndefined();
  });

  it('uses the request for the start register and refuses a reply that does not answer it', () => {
    const v = vec('mb_fc03_pylontech_rt_main');
    const r = definition.decode(hexToBytes(v.response_hex), {
      request: hexToBytes(v.request_hex!),
    });
    expect(r.raw).toMatchObject({ start_register: 0x1016, register_count: 13 });
    expect(definition.decode(hexToBytes(v.response_hex)).raw?.start_register).toBeUndefined();
    const other = definition.encode({
      command: 'read_holding',
      address: 1,
      args: { start: 0, count: 2 },
    });
    expect(codeOf(() => definition.decode(hexToBytes(v.response_hex), { request: other }))).toBe(
      'FRAME_UNEXPECTED',
    );
    const otherUnit = definition.encode({
      command: 'read_holding',
      address: 2,
      args: { start: 0x1016, count: 13 },
    });
    expect(
      codeOf(() => definition.decode(hexToBytes(v.response_hex), { request: otherUnit })),
    ).toBe('FRAME_UNEXPECTED');
  });

  it('rejects bad CRC, truncation and trailing bytes', () => {
    const good = hexToBytes(vec('mb_fc03_pylontech_rt_main').response_hex);
    expect(
      codeOf(() => definition.decode(hexToBytes(vec('mb_bad_crc_derived').response_hex))),
    ).toBe('FRAME_CHECKSUM');
    expect(codeOf(() => definition.decode(good.subarray(0, 10)))).toBe('FRAME_TRUNCATED');
    expect(codeOf(() => definition.decode(concatBytes([good, hexToBytes('00')])))).toBe(
      'FRAME_MALFORMED',
    );
    expect(
      codeOf(() => definition.parseRequest(hexToBytes('d210000c0003000100027d65'))),
    ).toBeDefined();
  });

  it('frames replies from a chunked stream with garbage', () => {
    const frames = [
      'mb_fc03_pylontech_rt_main',
      'mb_fc10_jkpb_trigger_ack',
      'mb_exception_illegal_address',
    ].map((id) => hexToBytes(vec(id).response_hex));
    const stream = concatBytes([
      hexToBytes('00ff'),
      frames[0]!,
      hexToBytes('aa'),
      frames[1]!,
      frames[2]!,
    ]);
    for (const chunk of [1, 5, 13]) {
      const framer = definition.createFramer();
      const events: FramerEvent[] = [];
      for (let i = 0; i < stream.length; i += chunk)
        events.push(...framer.push(stream.subarray(i, i + chunk)));
      events.push(...framer.end());
      expect(events.filter((e) => e.type === 'frame').map((e) => bytesToHex(e.bytes))).toEqual(
        frames.map(bytesToHex),
      );
      const d = events.filter((e) => e.type === 'discard');
      expect(d.reduce((n, e) => n + e.bytes.length, 0)).toBe(3);
      for (const e of d) if (e.type === 'discard') expect(e.reason).not.toBe('');
    }
  });

  it('runs its read session over session.json', () => {
    const s = definition.readSession(session.options);
    const replies = new Map(session.exchanges.map((e) => [e.request_hex, e.response_hex]));
    const sent: string[] = [];
    for (let step = s.next(); step; step = s.next()) {
      sent.push(bytesToHex(step.request));
      const frame = hexToBytes(replies.get(bytesToHex(step.request))!);
      expect(step.accepts(frame)).toBe(true);
      expect(step.accepts(hexToBytes(vec('mb_fc10_jkpb_trigger_ack').response_hex))).toBe(false);
      expect(step.complete([frame])).toBe(true);
      s.accept(step, [frame]);
    }
    expect(sent).toEqual(session.exchanges.map((e) => e.request_hex));
    expect(s.result()).toMatchObject(session.expected);
  });

  it('fails the session step on an exception reply', () => {
    const s = definition.readSession({ address: 1 });
    const step = s.next()!;
    const ex = hexToBytes(vec('mb_exception_illegal_address').response_hex);
    expect(step.accepts(ex)).toBe(true);
    expect(codeOf(() => s.accept(step, [ex]))).toBe('DEVICE_ERROR_REPLY');
  });
});
