/**
 * One test that walks every protocol definition and checks the invariants the rest of the
 * system relies on (STYLE.md point 3).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { BmsError } from '@openbms/core';
import { isMetric, parameter } from '@openbms/core';
import { frameAll, shapeProblems } from './testing/checks.js';
import {
  FAMILY_DIRS,
  loadVectors,
  matches,
  vectorOptions,
  lookupCanonical,
} from './testing/vectors.js';
import { PROTOCOLS, getProtocol } from './registry.js';
import { PARITIES, STOP_BITS, lineChoices, lineIssues } from './line.js';
import { bytesToHex, concatBytes, hexToBytes } from './util/bytes.js';

const here = dirname(fileURLToPath(import.meta.url));
describe('protocol registry', () => {
  it('has one definition per family folder, with unique ids and aliases', () => {
    expect(PROTOCOLS.map((p) => p.id).sort()).toEqual([...FAMILY_DIRS].sort());
    const names = PROTOCOLS.flatMap((p) => [p.id, ...p.aliases].map((n) => n.toLowerCase()));
    expect(new Set(names).size).toBe(names.length);
  });

  it('finds families by id and alias, and names the known ids for an unknown one', () => {
    for (const p of PROTOCOLS) {
      for (const n of [p.id, ...p.aliases]) expect(getProtocol(n.toUpperCase()).id).toBe(p.id);
    }
    expect(getProtocol('daly-uart').id).toBe('daly');
    expect(getProtocol('pylontech-rs485').id).toBe('pylontech');
    expect(() => getProtocol('nope')).toThrow(/known: daly/);
    try {
      getProtocol('nope');
    } catch (e) {
      expect((e as BmsError).code).toBe('PROTOCOL_UNKNOWN');
    }
  });
});

describe.each(PROTOCOLS.map((p) => [p.id, p] as const))('definition %s', (id, def) => {
  const vectors = loadVectors(id).vectors;

  it('documents itself: README, fixtures with provenance, session script', () => {
    expect(existsSync(join(here, id, 'README.md'))).toBe(true);
    expect(vectors.length).toBeGreaterThan(0);
    for (const v of vectors) expect(v.source, v.id).toBeTruthy();
    const session = JSON.parse(
      readFileSync(join(here, id, 'fixtures', 'session.json'), 'utf8'),
    ) as {
      provenance: string;
      exchanges: unknown[];
    };
    expect(session.provenance).toBeTruthy();
    expect(session.exchanges.length).toBeGreaterThan(0);
    expect(def.title.length).toBeGreaterThan(10);
    expect(def.title).not.toContain('\n');
  });

  it('declares only catalog metrics, catalog parameters and unique commands', () => {
    for (const k of def.metrics) expect(isMetric(k), `metric ${k}`).toBe(true);
    for (const p of def.parameters) expect(parameter(p.id), `parameter ${p.id}`).toBeDefined();
    const cmds = def.commands.map((c) => c.id);
    expect(new Set(cmds).size).toBe(cmds.length);
    expect(def.link.baud).toBeGreaterThan(0);
    expect(def.link.timeoutMs).toBeGreaterThan(0);
  });

  it('offers its default line among the parity / stop bits it allows', () => {
    const c = lineChoices(def);
    expect(c.parity).toContain(def.link.parity);
    expect(c.stopBits).toContain(def.link.stopBits);
    expect(lineIssues(def, { parity: def.link.parity, stopBits: def.link.stopBits })).toEqual([]);
    for (const p of PARITIES.filter((x) => !c.parity.includes(x)))
      expect(lineIssues(def, { parity: p }).map((i) => i.field)).toEqual(['parity']);
    for (const s of STOP_BITS.filter((x) => !c.stopBits.includes(x)))
      expect(lineIssues(def, { stopBits: s }).map((i) => i.field)).toEqual(['stop_bits']);
  });

  it('round-trips every example request through encode and parseRequest', () => {
    expect(def.requestExamples.length).toBeGreaterThan(0);
    const commands = new Set(def.commands.map((c) => c.id));
    for (const req of def.requestExamples) {
      expect(commands.has(req.command), `${req.command} is in the command list`).toBe(true);
      const bytes = def.encode(req);
      expect(def.parseRequest(bytes)).toEqual(req);
    }
  });

  it('parses every recorded request and re-encodes it byte for byte', () => {
    for (const v of vectors.filter((x) => x.request_hex)) {
      const bytes = hexToBytes(v.request_hex!);
      const req = def.parseRequest(bytes);
      expect(bytesToHex(def.encode(req)), v.id).toBe(v.request_hex!.toLowerCase());
    }
  });

  it('emits only catalog keys of the right type from every vector', () => {
    for (const v of vectors.filter((x) => x.expected.error !== true)) {
      const r = def.decode(hexToBytes(v.response_hex), vectorOptions(v));
      expect(shapeProblems(r), v.id).toEqual([]);
      for (const k of Object.keys(r)) {
        if (k !== 'raw' && k !== 'packs' && k !== 'alarms' && k !== 'info' && k !== 'address') {
          expect(def.metrics, `${v.id}: ${k} is declared in metrics`).toContain(k);
        }
      }
    }
  });

  it('frames every recorded reply from a stream split anywhere and wrapped in garbage', () => {
    let seed = 7;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    // A device error (a refusal the device sends) is a valid frame: it is framed too.
    for (const v of vectors.filter(
      (x) => x.expected.error !== true || x.expected.device_error === true,
    )) {
      const reply = hexToBytes(v.response_hex);
      for (const chunk of [1, 2, 7, 64, 1000]) {
        const junk = Uint8Array.of(0x00, 0x13, 0x37, 0xfe);
        const stream = concatBytes([junk, reply, junk, reply]);
        const events = frameAll(def, stream, () =>
          chunk === 7 ? 1 + Math.floor(rand() * 13) : chunk,
        );
        const frames = events.filter((e) => e.type === 'frame').map((e) => e.bytes);
        const discarded = events.filter((e) => e.type === 'discard');
        // Nothing lost, nothing invented: every byte comes out once, as frame or discard.
        const total = events.reduce((n, e) => n + e.bytes.length, 0);
        expect(total, `${v.id} chunk ${chunk}`).toBe(stream.length);
        expect(bytesToHex(concatBytes(frames)), `${v.id} chunk ${chunk}`).toBe(
          bytesToHex(concatBytes([reply, reply])),
        );
        for (const d of discarded) {
          expect(d.type === 'discard' && d.reason.length > 0).toBe(true);
        }
      }
    }
  });

  it('reports a corrupted frame as a discarded run with a checksum reason', () => {
    for (const v of vectors.filter(
      (x) => x.expected.error === true && x.expected.device_error !== true,
    )) {
      const events = frameAll(def, hexToBytes(v.response_hex), () => 5);
      expect(
        events.some((e) => e.type === 'frame'),
        v.id,
      ).toBe(false);
      expect(
        events.every((e) => e.type === 'discard' && e.code.startsWith('FRAME_')),
        v.id,
      ).toBe(true);
    }
  });

  it('runs its read cycle over the scripted session and gets the expected snapshot', () => {
    const session = JSON.parse(
      readFileSync(join(here, id, 'fixtures', 'session.json'), 'utf8'),
    ) as {
      options: { address?: number; variant?: string };
      exchanges: { step: string; request_hex: string; response_hex: string }[];
      expected: Record<string, unknown>;
    };
    const rs = def.readSession(session.options);
    const sent: string[] = [];
    for (let step = rs.next(); step; step = rs.next()) {
      const req = bytesToHex(step.request);
      sent.push(req);
      const ex = session.exchanges.find((e) => e.request_hex.toLowerCase() === req);
      if (!ex) {
        expect(step.optional, `no scripted answer for required step ${step.name} (${req})`).toBe(
          true,
        );
        continue;
      }
      const events = frameAll(def, hexToBytes(ex.response_hex), () => 16);
      const frames = events.filter((e) => e.type === 'frame').map((e) => e.bytes);
      const mine = frames.filter((f) => step.accepts(f));
      expect(mine.length, step.name).toBeGreaterThan(0);
      expect(step.complete(mine), `${step.name} complete`).toBe(true);
      rs.accept(step, mine);
    }
    expect(sent).toEqual(
      session.exchanges.map((e) => e.request_hex.toLowerCase()).filter((r) => sent.includes(r)),
    );
    const r = rs.result();
    expect(shapeProblems(r)).toEqual([]);
    const failures = Object.entries(session.expected)
      .map(([k, want]) => [k, want, lookupCanonical(r, k)] as const)
      .filter(([, want, [, got]]) => !matches(got, want))
      .map(
        ([k, want, [loc, got]]) =>
          `${k} -> ${loc}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`,
      );
    expect(failures).toEqual([]);
  });
});
