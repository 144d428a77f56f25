import { execFile, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import type { Reading } from '@openbms/core';
import { PROTOCOLS, getProtocol } from '@openbms/protocols';
import { differences } from '@openbms/simulator/testing';
import {
  loadVectors,
  lookup,
  lookupCanonical,
  matches,
  vectorOptions,
} from '@openbms/protocols/testing';
import {
  ScriptedDevice,
  loadSession,
  servePty,
  serveTcp,
  type Fault,
} from '@openbms/transport/testing';
import { run } from './main.js';

const BIN = fileURLToPath(new URL('../bin/openbms.js', import.meta.url));
const sessionPath = (id: string): string =>
  fileURLToPath(new URL(`../../protocols/src/${id}/fixtures/session.json`, import.meta.url));

async function cli(
  args: string[],
  stdin = '',
): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await run(args, {
    out: (t) => (out += t),
    err: (t) => (err += t),
    stdin: () => Promise.resolve(stdin),
  });
  return { code, out, err };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function device(id: string, kind: 'tcp' | 'pty', faults: Fault[] = []): Promise<string> {
  const dev = new ScriptedDevice(loadSession(sessionPath(id)), faults, 3);
  if (kind === 'tcp') {
    const s = await serveTcp(dev);
    cleanups.push(s.close);
    return s.url;
  }
  const s = await servePty(dev);
  cleanups.push(s.close);
  return s.path;
}

describe('openbms protocols', () => {
  it('lists every family with its description and link defaults', async () => {
    const { code, out } = await cli(['protocols']);
    expect(code).toBe(0);
    for (const p of PROTOCOLS) {
      expect(out).toContain(p.id);
      expect(out).toContain(p.title);
      expect(out).toContain(`${p.link.baud} 8`);
    }
  });
});

describe('openbms decode', () => {
  it('decodes a 16S DALY 0x95 reply to 16 cell voltages', async () => {
    const v = loadVectors('daly').vectors.find((x) => x.id === 'daly_a5_95_mpp83_16_frames')!;
    const { code, out } = await cli([
      'decode',
      '--protocol',
      'daly',
      '--cells',
      '16',
      v.response_hex,
    ]);
    expect(code).toBe(0);
    const json = JSON.parse(out) as { cell_mv: number[]; protocol: string };
    expect(json.protocol).toBe('daly');
    expect(json.cell_mv).toHaveLength(16);
    expect(json.cell_mv).toEqual(v.expected.cell_mv);
  });

  // Every family: each recorded reply with cell voltages decodes through the CLI with the
  // vector's own context given as flags, and prints them.
  const cellVectors = PROTOCOLS.flatMap((p) =>
    loadVectors(p.id)
      .vectors.filter((v) => Object.keys(v.expected).some((k) => /(^|_)cell_mv$/.test(k)))
      .map((v) => [p.id, v.id, v] as const),
  );
  it.each(cellVectors)('%s %s prints its cell voltages', async (id, _vid, v) => {
    const opts = vectorOptions(v);
    const args = ['decode', '--protocol', id];
    if (opts.request) args.push('--request', Buffer.from(opts.request).toString('hex'));
    if (opts.variant) args.push('--variant', opts.variant);
    if (opts.cells) args.push('--cells', String(opts.cells));
    const { code, out } = await cli([...args, v.response_hex]);
    expect(code, out).toBe(0);
    const json = JSON.parse(out) as Record<string, unknown>;
    for (const [k, want] of Object.entries(v.expected).filter(([k]) => /(^|_)cell_mv$/.test(k))) {
      const [, got] = lookup(json, k);
      expect(matches(got, want), `${k}: ${JSON.stringify(got)}`).toBe(true);
    }
  });

  it('accepts the vector files names as aliases and hex on standard input', async () => {
    const v = loadVectors('daly').vectors[0]!;
    const { code, out } = await cli(['decode', '--protocol', 'daly-uart'], `${v.response_hex}\n`);
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({
      protocol: 'daly',
      voltage_v: v.expected.pack_voltage_v,
    });
  });

  it('takes a Pylontech frame pasted as ASCII text', async () => {
    const v = loadVectors('pylontech').vectors.find((x) => x.id === 'pylon_92_us2000')!;
    const text = Buffer.from(v.response_hex, 'hex').toString('latin1').trim();
    expect(text.startsWith('~')).toBe(true);
    const { code, out } = await cli(['decode', '--protocol', 'pylontech', '--request', '92', text]);
    expect(code, out).toBe(0);
    expect(JSON.parse(out)).toMatchObject({
      charge_voltage_limit_v: 53.25,
      discharge_current_limit_a: -25,
    });
  });

  it('decodes a PACE reply with the request pasted as ASCII text, as PbmsTools frames are logged', async () => {
    const { code, out } = await cli([
      'decode',
      '--protocol',
      'pace',
      '--variant',
      'v25',
      '--request',
      '~250046EB0000FD88',
      '~25004600A006131400FC6F',
    ]);
    expect(code, out).toBe(0);
    expect(JSON.parse(out)).toMatchObject({
      protocol: 'pace',
      raw: { can_protocol_name: 'AFORE', rs485_protocol_name: 'RONGKE', protocol_mode: 'auto' },
    });
    const eg4 = loadVectors('pace').vectors.find((x) => x.id === 'pace20_eg4_4d_read_time')!;
    const r = await cli([
      'decode',
      '--protocol',
      'pace',
      '--variant',
      'v20-eg4',
      '--request',
      eg4.request_hex!,
      eg4.response_hex,
    ]);
    expect(JSON.parse(r.out).raw.datetime).toBe('2024-09-17T11:59:31');
  });

  it('prints a coded JSON error and exits 1 on bad input', async () => {
    const bad = loadVectors('daly').vectors.find((x) => x.expected.error === true)!;
    let r = await cli(['decode', '--protocol', 'daly', bad.response_hex]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toEqual({ error: expect.any(String), code: 'FRAME_CHECKSUM' });
    r = await cli(['decode', '--protocol', 'daly', 'zz12']);
    expect(JSON.parse(r.out).code).toBe('INVALID_ARGUMENT');
    r = await cli(['decode', '--protocol', 'nope', 'a5']);
    expect(JSON.parse(r.out).code).toBe('PROTOCOL_UNKNOWN');
    r = await cli(['decode', '--protocol', 'daly', '--cells', 'many', 'a5']);
    expect(JSON.parse(r.out)).toMatchObject({
      code: 'CONFIG_INVALID',
      error: expect.stringContaining('--cells'),
    });
    r = await cli(['decode', '--protocol', 'daly', '--bogus', 'a5']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out).error).toContain('bogus');
    r = await cli(['decode', '--protocol', 'daly']);
    expect(JSON.parse(r.out).code).toBe('CONFIG_INVALID');
  });
});

describe('openbms read', () => {
  it.each(PROTOCOLS.map((p) => p.id))(
    '%s over TCP prints the canonical JSON snapshot',
    async (id) => {
      const fixture = loadSession(sessionPath(id));
      const url = await device(id, 'tcp');
      const args = ['read', '--port', url, '--protocol', id, '--json', '--timeout', '300'];
      if (fixture.options.address !== undefined)
        args.push('--address', String(fixture.options.address));
      if (fixture.options.variant) args.push('--variant', fixture.options.variant);
      const { code, out, err } = await cli(args);
      expect(code, err + out).toBe(0);
      const json = JSON.parse(out) as Record<string, unknown>;
      const bad = Object.entries(fixture.expected).filter(
        ([k, want]) => !matches(lookupCanonical(json, k)[1], want),
      );
      expect(bad).toEqual([]);
    },
  );

  it('prints a readable table with min and max cells marked, MOS states and alarms in words', async () => {
    const fixture = loadSession(sessionPath('daly'));
    const path = await device('daly', 'pty', ['garbage']);
    const args = ['read', '--port', path, '--protocol', 'daly'];
    if (fixture.options.address !== undefined)
      args.push('--address', String(fixture.options.address));
    const { code, out, err } = await cli(args);
    expect(code, err).toBe(0);
    expect(out).toMatch(/▲max/);
    expect(out).toMatch(/▼min/);
    expect(out).toMatch(/MOSFETs\s+charge (ON|off)\s+discharge (ON|off)/);
    expect(out).toMatch(/Alarms\s+/);
    expect(out).toMatch(/Link\s+\d+ requests/);
  });

  it('--watch repeats the read cycle until stopped, one JSON line per cycle', async () => {
    const fixture = loadSession(sessionPath('jbd'));
    const url = await device('jbd', 'tcp');
    let stop!: () => void;
    const stopSignal = new Promise<void>((r) => (stop = r));
    const lines: string[] = [];
    const code = await run(
      ['read', '--port', url, '--protocol', 'jbd', '--json', '--watch', '0.05'],
      {
        out: (t) => {
          lines.push(t);
          if (lines.length === 3) stop();
        },
        err: (t) => lines.push(`ERR ${t}`),
        stdin: () => Promise.resolve(''),
        stopSignal,
      },
    );
    expect(code).toBe(0);
    expect(lines).toHaveLength(3);
    for (const l of lines) {
      const json = JSON.parse(l) as Record<string, unknown>;
      expect(json.voltage_v).toBe(fixture.expected.voltage_v);
    }
  });

  it('says which address did not answer, where, after how many tries', async () => {
    const path = await device('daly', 'pty', ['silent']);
    const { code, err } = await cli([
      'read',
      '--port',
      path,
      '--protocol',
      'daly',
      '--address',
      '0x40',
      '--timeout',
      '50',
      '--retries',
      '2',
    ]);
    expect(code).toBe(1);
    expect(err).toBe(
      `error [TRANSPORT_TIMEOUT]: no answer from address 64 on ${path} after 3 tries (timeout 50 ms)\n`,
    );
  });

  it('rejects missing and invalid options with CONFIG_INVALID', async () => {
    let r = await cli(['read', '--protocol', 'daly']);
    expect(r.err).toContain('--port is required');
    r = await cli(['read', '--port', 'tcp://127.0.0.1:99999', '--protocol', 'daly']);
    expect(r.err).toContain('CONFIG_INVALID');
    r = await cli(['read', '--port', '/dev/null', '--protocol', 'daly', '--address', '300']);
    expect(r.err).toContain('--address must be an integer 0..255');
  });
});

describe('the installed openbms binary', () => {
  it('runs `read --json` over a pseudo-terminal as a separate process', async () => {
    const fixture = loadSession(sessionPath('pylontech'));
    const path = await device('pylontech', 'pty');
    const args = [BIN, 'read', '--port', path, '--protocol', 'pylontech', '--json'];
    if (fixture.options.address !== undefined)
      args.push('--address', String(fixture.options.address));
    const { stdout } = await promisify(execFile)(process.execPath, args, { timeout: 20_000 });
    const json = JSON.parse(stdout) as Record<string, unknown>;
    expect(json.protocol).toBe('pylontech');
    const bad = Object.entries(fixture.expected).filter(
      ([k, want]) => !matches(lookupCanonical(json, k)[1], want),
    );
    expect(bad).toEqual([]);
  });
});

describe('openbms demo', () => {
  it('reads the simulated demo site live: 4 PACE packs in parallel, a Pylontech, a JK and a DALY pack', async () => {
    const { code, out, err } = await cli(['demo', '--once']);
    expect(code, err).toBe(0);
    const rows = out.split('\n').filter((l) => /^(Rack \d|Pylontech|JK|DALY)/.test(l));
    expect(rows).toHaveLength(7);
    expect(rows.filter((r) => / pace /.test(r))).toHaveLength(4);
    expect(rows.filter((r) => / pylontech /.test(r))).toHaveLength(1);
    for (const r of rows) expect(r).toMatch(/\d+\.\d% +\d+\.\d\d /); // SOC and voltage read back
  });
});

describe('openbms sim + openbms read, as separate processes', () => {
  // `--speed 0` freezes simulated time, so the state the simulator prints on its control
  // console ("status") is the state the reader saw.
  it.each([
    ['daly'],
    ['daly-modbus'],
    ['jk'],
    ['pylontech'],
    ['pace', 'v25'],
    ['pace', 'v20-eg4'],
    ['jbd'],
  ])('%s %s: read --json over the pty equals the simulator state', async (id, variant?: string) => {
    const v = variant ? ['--variant', variant] : [];
    const sim = spawn(
      process.execPath,
      [BIN, 'sim', '--protocol', id, ...v, '--pty', '--speed', '0', '--seed', '5'],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          if (sim.exitCode !== null) return resolve();
          sim.once('exit', () => resolve());
          sim.kill('SIGINT');
        }),
    );
    const lines = createInterface({ input: sim.stdout! })[Symbol.asyncIterator]();
    const nextLine = async (): Promise<string> => {
      const r = await lines.next();
      if (r.done) throw new Error('simulator exited');
      return r.value;
    };
    const first = await nextLine();
    const m = /^listening on (.+)$/.exec(first);
    expect(m, first).not.toBeNull();
    const address =
      /addresses: (\d+)/.exec(await nextLine()) ?? /addresses: (\d+)/.exec(await nextLine());
    expect(address).not.toBeNull();
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [BIN, 'read', '--port', m![1]!, '--protocol', id, ...v, '--address', address![1]!, '--json'],
      { timeout: 20_000 },
    );
    const reading = JSON.parse(stdout) as Reading;
    sim.stdin!.write('status\n');
    let status = await nextLine();
    while (!status.startsWith('[')) status = await nextLine();
    const truth = (JSON.parse(status) as Reading[])[0]!;
    // EG4 sends no design capacity.
    const metrics = getProtocol(id).metrics.filter(
      (k) => !(variant === 'v20-eg4' && k === 'design_ah'),
    );
    expect(differences(reading, truth, metrics)).toEqual([]);
  });

  // Seplos has two generations on two wires: each variant served on a pty and on TCP, read
  // with --variant by the installed binary, compared with the simulator's own state.
  it.each([
    ['v2', 'pty'],
    ['v2', 'tcp'],
    ['v3', 'pty'],
    ['v3', 'tcp'],
  ] as const)(
    'seplos %s over %s: read --json equals the simulator state',
    async (variant, link) => {
      const sim = spawn(
        process.execPath,
        [
          BIN,
          'sim',
          '--protocol',
          'seplos',
          '--variant',
          variant,
          ...(link === 'pty' ? ['--pty'] : []),
          '--speed',
          '0',
          '--seed',
          '5',
          '--profile',
          'constant:-7.5',
        ],
        { stdio: ['pipe', 'pipe', 'pipe'] },
      );
      cleanups.push(
        () =>
          new Promise<void>((resolve) => {
            if (sim.exitCode !== null) return resolve();
            sim.once('exit', () => resolve());
            sim.kill('SIGINT');
          }),
      );
      const lines = createInterface({ input: sim.stdout! })[Symbol.asyncIterator]();
      const nextLine = async (): Promise<string> => {
        const r = await lines.next();
        if (r.done) throw new Error('simulator exited');
        return r.value;
      };
      const first = await nextLine();
      const m = /^listening on (.+)$/.exec(first);
      expect(m, first).not.toBeNull();
      expect(m![1]!.startsWith(link === 'tcp' ? 'tcp://' : '/')).toBe(true);
      let hint = await nextLine();
      while (!hint.startsWith('read it:')) hint = await nextLine();
      expect(hint).toContain(`--variant ${variant} --address 0`);
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [
          BIN,
          'read',
          '--port',
          m![1]!,
          '--protocol',
          'seplos',
          '--variant',
          variant,
          '--address',
          '0',
          '--json',
        ],
        { timeout: 20_000 },
      );
      const reading = JSON.parse(stdout) as Reading;
      expect(reading.protocol).toBe('seplos');
      sim.stdin!.write('status\n');
      let status = await nextLine();
      while (!status.startsWith('[')) status = await nextLine();
      const truth = (JSON.parse(status) as Reading[])[0]!;
      // V3's read cycle has no rated capacity (PIA/PIB/PIC carry none).
      const metrics = getProtocol('seplos').metrics.filter(
        (k) => variant === 'v2' || k !== 'design_ah',
      );
      expect(differences(reading, truth, metrics)).toEqual([]);
      expect(reading.state).toBe(truth.state);
    },
  );

  it('rejects bad options with a clear message', async () => {
    const v = await cli(['sim', '--protocol', 'seplos', '--variant', 'v9']);
    expect(v.code).toBe(1);
    expect(v.err).toContain('unknown variant "v9" for seplos; known: v2, v3');
    const r = await cli(['sim', '--protocol', 'daly', '--packs', '17']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('--packs must be 1..16');
    const f = await cli(['sim', '--protocol', 'daly', '--faults', 'explode']);
    expect(f.err).toContain('bad fault "explode"');
  });
});
