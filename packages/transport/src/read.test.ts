/**
 * The full read cycle of every family through real links: a pseudo-terminal pair made by
 * socat (opened with serialport on both ends) and a TCP socket, against a scripted device
 * answering recorded frames (fixtures/session.json). Then the misbehaving device: garbage,
 * split replies, corrupt and truncated first answers, silence.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { BmsError } from '@openbms/core';
import { PROTOCOLS, getProtocol, type ProtocolDefinition } from '@openbms/protocols';
import { lookupCanonical, matches } from '@openbms/protocols/testing';
import { Exchanger, readPack } from './exchange.js';
import { createTransport } from './open.js';
import {
  ScriptedDevice,
  loadSession,
  servePty,
  serveTcp,
  type Fault,
  type SessionFixture,
} from './testing/replay.js';
import type { Transport } from './transport.js';

const fixturesOf = (id: string): string =>
  fileURLToPath(new URL(`../../protocols/src/${id}/fixtures/session.json`, import.meta.url));

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function mismatches(reading: Record<string, unknown>, expected: Record<string, unknown>): string[] {
  return Object.entries(expected)
    .map(([k, want]) => [k, want, lookupCanonical(reading, k)] as const)
    .filter(([, want, [, got]]) => !matches(got, want))
    .map(
      ([k, want, [loc, got]]) =>
        `${k} -> ${loc}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`,
    );
}

async function link(
  def: ProtocolDefinition,
  fixture: SessionFixture,
  kind: 'tcp' | 'pty',
  faults: Fault[] = [],
): Promise<{ transport: Transport; device: ScriptedDevice }> {
  const device = new ScriptedDevice(fixture, faults, 42);
  const served = kind === 'tcp' ? await serveTcp(device) : await servePty(device, def.link.baud);
  cleanups.push(served.close);
  const endpoint = 'url' in served ? served.url : served.path;
  const transport = createTransport(endpoint, { baud: def.link.baud });
  await transport.open();
  cleanups.push(() => transport.close());
  return { transport, device };
}

const exOpts = (def: ProtocolDefinition, timeoutMs = 300) => ({ timeoutMs, retries: 2, gapMs: 2 });

describe.each(PROTOCOLS.map((p) => [p.id, p] as const))('read %s', (id, def) => {
  const fixture = loadSession(fixturesOf(id));

  it.each(['pty', 'tcp'] as const)('returns the full snapshot over a %s', async (kind) => {
    const { transport, device } = await link(def, fixture, kind);
    const { reading, stats } = await readPack(transport, def, fixture.options, exOpts(def));
    expect(mismatches(reading as Record<string, unknown>, fixture.expected)).toEqual([]);
    expect(reading.protocol).toBe(def.id);
    expect(stats.retries).toBe(0);
    expect(stats.checksum_errors).toBe(0);
    expect(device.received.length).toBe(stats.requests);
  });
});

describe('read through a misbehaving device', () => {
  const cases = ['daly', 'pylontech', 'jk', 'jbd', 'daly-modbus'].filter((id) =>
    PROTOCOLS.some((p) => p.id === id),
  );

  it.each(cases)(
    '%s: survives garbage between frames and replies split into pieces',
    async (id) => {
      const def = getProtocol(id);
      const fixture = loadSession(fixturesOf(id));
      const { transport } = await link(def, fixture, 'tcp', ['garbage', 'split']);
      const { reading, stats } = await readPack(transport, def, fixture.options, exOpts(def));
      expect(mismatches(reading as Record<string, unknown>, fixture.expected)).toEqual([]);
      expect(stats.discarded_bytes).toBeGreaterThan(0);
    },
  );

  it.each(cases)('%s: retries a corrupt first answer and counts the bad checksum', async (id) => {
    const def = getProtocol(id);
    const fixture = loadSession(fixturesOf(id));
    const { transport } = await link(def, fixture, 'pty', ['corrupt-once']);
    const { reading, stats } = await readPack(transport, def, fixture.options, exOpts(def));
    expect(mismatches(reading as Record<string, unknown>, fixture.expected)).toEqual([]);
    expect(stats.checksum_errors).toBeGreaterThan(0);
    expect(stats.retries).toBeGreaterThan(0);
  });

  it.each(cases)('%s: retries a truncated first answer', async (id) => {
    const def = getProtocol(id);
    const fixture = loadSession(fixturesOf(id));
    const { transport } = await link(def, fixture, 'tcp', ['truncate-once']);
    const { reading, stats } = await readPack(transport, def, fixture.options, exOpts(def, 150));
    expect(mismatches(reading as Record<string, unknown>, fixture.expected)).toEqual([]);
    expect(stats.retries).toBeGreaterThan(0);
  });

  it('reports a silent device with the address, endpoint, tries and timeout', async () => {
    const def = getProtocol('daly');
    const fixture = loadSession(fixturesOf('daly'));
    const { transport, device } = await link(def, fixture, 'pty', ['silent']);
    const err = await readPack(
      transport,
      def,
      { address: 2 },
      { timeoutMs: 60, retries: 2, address: 2 },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BmsError);
    expect((err as BmsError).code).toBe('TRANSPORT_TIMEOUT');
    expect((err as BmsError).message).toBe(
      `no answer from address 2 on ${transport.endpoint} after 3 tries (timeout 60 ms)`,
    );
    expect(device.received.length).toBe(0); // address 2 is not in the script: nothing matched
  });

  it('sends the cleanup steps of a cycle that fails part-way (ReadStep.cleanup), then reports the failure', async () => {
    const jbd = getProtocol('jbd');
    const full = loadSession(fixturesOf('jbd'));
    // The device never answers 0x04 (cell voltages); it does answer the cleanup request.
    const cellsReq = full.exchanges.find((e) => e.step === 'cell_voltages')!.request_hex;
    const fixture = {
      ...full,
      exchanges: full.exchanges.filter((e) => e.request_hex !== cellsReq),
    };
    const cleanupReq = full.exchanges.find((e) => e.step === 'hardware_version')!.request_hex;
    const cleanup = {
      name: 'cleanup',
      request: Uint8Array.from(Buffer.from(cleanupReq, 'hex')),
      accepts: (f: Uint8Array) => f[1] === 0x05,
      complete: (f: readonly Uint8Array[]) => f.length > 0,
    };
    const def: ProtocolDefinition = {
      ...jbd,
      readSession(o) {
        const inner = jbd.readSession(o);
        return {
          // Only the required steps, each carrying the cleanup.
          next: () => {
            const s = inner.next();
            return s && !s.optional ? { ...s, cleanup: [cleanup] } : undefined;
          },
          accept: (s, f) => inner.accept(s, f),
          result: () => inner.result(),
        };
      },
    };
    const { transport, device } = await link(def, fixture, 'tcp');
    const err = await readPack(transport, def, {}, { timeoutMs: 60, retries: 0 }).catch(
      (e: unknown) => e,
    );
    expect((err as BmsError).code).toBe('TRANSPORT_TIMEOUT');
    expect(device.received.at(-1)).toBe(cleanupReq);
  });

  it('keeps polling the same link after a failure (one exchanger, next cycle succeeds)', async () => {
    const def = getProtocol('jbd');
    const fixture = loadSession(fixturesOf('jbd'));
    const device = new ScriptedDevice(fixture, [], 1);
    const served = await serveTcp(device);
    cleanups.push(served.close);
    const transport = createTransport(served.url, { baud: def.link.baud });
    await transport.open();
    cleanups.push(() => transport.close());
    const ex = new Exchanger(transport, def.createFramer());
    cleanups.push(async () => ex.dispose());
    const first = await readPack(transport, def, fixture.options, exOpts(def), ex);
    const second = await readPack(transport, def, fixture.options, exOpts(def), ex);
    expect(second.reading.voltage_v).toBe(first.reading.voltage_v);
    expect(ex.stats.requests).toBe(device.received.length);
  });

  it('fails with TRANSPORT_OPEN_FAILED for a port that does not exist and a closed TCP port', async () => {
    const serial = createTransport(join('/nonexistent', 'ttyUSB9'), { baud: 9600 });
    await expect(serial.open()).rejects.toMatchObject({ code: 'TRANSPORT_OPEN_FAILED' });
    const served = await serveTcp(new ScriptedDevice(loadSession(fixturesOf('daly'))));
    const url = served.url;
    await served.close();
    await expect(createTransport(url, { baud: 9600 }).open()).rejects.toMatchObject({
      code: 'TRANSPORT_OPEN_FAILED',
    });
  });
});
