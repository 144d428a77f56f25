/**
 * Setting up a bus from the console against a simulated USB adapter: a socat pseudo-terminal
 * serving two Pylontech packs (addresses 2 and 3). The scan reports what answered with its
 * cell count, the test read gives the cells, bad requests are refused naming the field, and
 * a port a running bus polls is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isBmsError } from '@openbms/core';
import { createSimulation, servePty, type Listening } from '@openbms/simulator';
import { createTransport } from '@openbms/transport';
import { BusSetup, type LineSettings } from './bus-setup.js';

let pty: Listening;
const busy: string[] = [];
const setup = new BusSetup({ busyPorts: () => busy });

beforeAll(async () => {
  const sim = createSimulation({ protocol: 'pylontech', packs: 2, seed: 4, turnaroundMs: 1 });
  pty = await servePty(sim.bus);
});
afterAll(async () => {
  await pty?.close();
});

async function refusal(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    if (isBmsError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('accepted');
}

describe('bus setup', () => {
  it('scans the addresses and shows what answered, with progress', async () => {
    const job = await setup.startScan({
      port: pty.endpoint,
      protocol: 'pylontech',
      addresses: [1, 2, 3, 4],
    });
    expect(job).toMatchObject({ state: 'running', total: 4, probed: 0 });
    const done = await setup.settled(job.id);
    expect(done.state, done.error).toBe('done');
    expect(done.probed).toBe(4);
    expect(done.found.map((f) => f.address)).toEqual([2, 3]);
    for (const f of done.found) expect(f.cell_count).toBe(16);
  }, 20_000);

  it('test-reads one pack: its cells', async () => {
    const r = await setup.testRead({ port: pty.endpoint, protocol: 'pylontech', address: 3 });
    expect(r.address).toBe(3);
    expect(r.cell_mv).toHaveLength(16);
  });

  it('refuses bad requests naming the field, and a port a running bus polls', async () => {
    expect(
      await refusal(setup.startScan({ port: 'COM3; rm', protocol: 'pylontech' })),
    ).toMatchObject({ code: 'REQUEST_INVALID', message: expect.stringContaining('port:') });
    expect(
      await refusal(setup.testRead({ port: pty.endpoint, protocol: 'nope', address: 2 })),
    ).toMatchObject({ code: 'REQUEST_INVALID', message: expect.stringContaining('protocol') });
    expect(
      await refusal(
        setup.testRead({ port: pty.endpoint, protocol: 'pylontech', address: 2, extra: 1 }),
      ),
    ).toMatchObject({ code: 'REQUEST_INVALID' });
    expect(
      await refusal(setup.testRead({ port: pty.endpoint, protocol: 'pylontech', address: '2' })),
    ).toMatchObject({ code: 'REQUEST_INVALID', message: expect.stringContaining('address') });
    busy.push(pty.endpoint);
    expect(
      await refusal(setup.testRead({ port: pty.endpoint, protocol: 'pylontech', address: 2 })),
    ).toMatchObject({ code: 'COMMAND_REFUSED', message: expect.stringContaining('running bus') });
    busy.pop();
  });

  it('opens the port with the parity and stop bits asked for, where the family allows them', async () => {
    const lines: LineSettings[] = [];
    const s = new BusSetup({
      busyPorts: () => [],
      openTransport: (endpoint, line) => {
        lines.push(line);
        return createTransport(endpoint, line);
      },
    });
    // Nothing speaks Modbus on this adapter: the read fails, the port was opened as asked.
    await refusal(
      s.testRead({
        port: pty.endpoint,
        protocol: 'modbus-rtu',
        address: 1,
        baud: 19200,
        parity: 'odd',
        stop_bits: 2,
        timeout_ms: 50,
      }),
    );
    expect(lines).toEqual([{ baud: 19200, dataBits: 8, parity: 'odd', stopBits: 2 }]);
    // The family's own line when none is asked for.
    await s.testRead({ port: pty.endpoint, protocol: 'pylontech', address: 2 });
    expect(lines[1]).toEqual({ baud: 115200, dataBits: 8, parity: 'none', stopBits: 1 });
    const bad = await refusal(
      s.testRead({ port: pty.endpoint, protocol: 'pylontech', address: 2, parity: 'even' }),
    );
    expect(bad.code).toBe('REQUEST_INVALID');
    expect(bad.message).toMatch(/^parity: .*pylontech.*8N1/);
    expect(lines).toHaveLength(2); // refused before the port is opened
  });
});
