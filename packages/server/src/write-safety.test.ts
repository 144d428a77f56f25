/**
 * A battery write must be exactly what the user sent, and the set the pack ends with must be
 * safe as a whole (issue: "safety hardening", points 1 and 2). Run against the real server
 * listening on a port, a real Gateway polling simulated packs of every family with a write
 * path (DALY, DALY Modbus, JK, Pylontech, PACE, JBD) over TCP, and real SQLite. The simulator's
 * clock is frozen (speed 0), so a pack's state before and after a request can be compared
 * exactly; every family's ControlOps is wrapped to count what reaches it.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prng } from '@openbms/core';
import { Gateway, validateConfig } from '@openbms/gateway';
import { simulatedBuses, type SimulatedBuses } from '@openbms/gateway/testing';
import { getProtocol } from '@openbms/protocols';
import { openSqliteStorage } from '@openbms/storage-sqlite';
import type { FastifyInstance } from 'fastify';
import { localScope } from '@openbms/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from './app.js';
import { TEST_COST } from './testing/harness.js';

const FAMILIES = ['daly', 'daly-modbus', 'jk', 'pylontech', 'pace', 'jbd', 'seplos'] as const;
type Family = (typeof FAMILIES)[number];
const ADDRESS: Record<Family, number> = {
  daly: 64,
  'daly-modbus': 210,
  jk: 1,
  pylontech: 2,
  pace: 1,
  jbd: 0,
  seplos: 0,
};
const packId = (f: Family): string => `w/${f}/${ADDRESS[f]}`;
const path = (f: Family, rest: string): string =>
  `/api/v1/packs/${encodeURIComponent(packId(f))}${rest}`;

let storage: Awaited<ReturnType<typeof openSqliteStorage>>;
let gw: Gateway;
/** The simulated buses the gateway polls (one per family, in FAMILIES order). */
const buses = simulatedBuses();
let app: FastifyInstance;
let url: string;
let token: string;
/** Calls that reached a family's ControlOps, by family and member. */
const reached: string[] = [];
const restores: (() => void)[] = [];

interface Res {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** Sends a raw JSON text (so `1e309` goes out as written, not as null). */
async function send(method: string, p: string, raw: string): Promise<Res> {
  const r = await fetch(url + p, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: raw,
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : undefined };
}

/** Wraps every function of the family's ControlOps so a call is recorded, then runs it. */
function spy(family: Family): void {
  const ops = getProtocol(family).control as Record<string, unknown> | undefined;
  if (!ops) return;
  for (const [name, fn] of Object.entries(ops)) {
    if (typeof fn !== 'function') continue;
    ops[name] = function (this: unknown, ...args: unknown[]) {
      reached.push(`${family}.${name}`);
      return (fn as (...a: unknown[]) => unknown).apply(this, args);
    };
    restores.push(() => {
      ops[name] = fn;
    });
  }
}

const sims = () =>
  Object.fromEntries(
    buses.simulations().map((s, i) => [FAMILIES[i]!, s.packs[0]!] as const),
  ) as Record<Family, ReturnType<SimulatedBuses['simulations']>[number]['packs'][number]>;

/** What the simulated packs hold: parameters, MOSFETs, SOC. */
function deviceState(): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(sims()).map(([f, p]) => {
      const s = p.snapshot();
      return [
        f,
        {
          parameters: p.parameters(),
          charge_mos: s.charge_mos,
          discharge_mos: s.discharge_mos,
          soc_pct: s.soc_pct,
        },
      ];
    }),
  );
}

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'obt-write-'));
  storage = await openSqliteStorage({ dataDir: dir });
  const config = validateConfig({
    version: 1,
    sites: [
      {
        id: 'w',
        buses: FAMILIES.map((f) => ({
          id: f,
          port: 'sim',
          protocol: f,
          poll_interval_s: 0.2,
          simulator: { speed: 0, profile: 'idle' },
          packs: [{ address: ADDRESS[f] }],
        })),
      },
    ],
  });
  gw = new Gateway({ config, storage, busFactory: buses.busFactory });
  const ready = new Promise<void>((resolve) => {
    const seen = new Set<string>();
    const off = gw.events.on((e) => {
      if (e.type !== 'snapshot') return;
      seen.add(e.packId);
      if (seen.size === FAMILIES.length) {
        off();
        resolve();
      }
    });
  });
  await gw.start();
  await ready;
  app = await buildServer({ storage, gateway: gw, passwordCost: TEST_COST });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const a = app.server.address();
  url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  const creds = JSON.stringify({ username: 'admin', password: 'a-long-password' });
  expect((await send('POST', '/api/v1/setup', creds)).status).toBeLessThan(300);
  token = (await send('POST', '/api/v1/auth/login', creds)).body.token as string;
  for (const f of FAMILIES) spy(f);
});

afterAll(async () => {
  for (const r of restores) r();
  await app?.close();
  await gw?.stop();
  storage?.close();
});

/** The wrong-typed values of the issue, as raw JSON texts. */
const WRONG = ['null', 'false', '0', '"0"', '""', '[]', '{}', '"0x10"', '"1e3"', '1e309'];
/** Of those, the ones of the right type where a number / a boolean is wanted. */
const NUMBER_OK = new Set(['0']);
const BOOLEAN_OK = new Set(['false']);

function expect400(r: Res, field: string, what: string): void {
  expect(r.status, `${what}: ${JSON.stringify(r.body)}`).toBe(400);
  expect(r.body.code, what).toBe('REQUEST_INVALID');
  expect(r.body.field, what).toBe(field);
  expect(r.body.error, what).toContain(field);
}

describe('a write is exactly what the user sent: no coercion on any write route', () => {
  it('answers 400 naming the field for every wrong type, and the devices are untouched', async () => {
    const before = deviceState();
    const families = FAMILIES;
    for (const v of WRONG) {
      for (const f of families) {
        if (!BOOLEAN_OK.has(v)) {
          expect400(
            await send('POST', path(f, '/commands/mos'), `{"which":"charge","on":${v}}`),
            'on',
            `${f} mos on=${v}`,
          );
        }
        expect400(
          await send('POST', path(f, '/commands/mos'), `{"which":${v},"on":true}`),
          'which',
          `${f} mos which=${v}`,
        );
        if (!NUMBER_OK.has(v)) {
          expect400(
            await send('POST', path(f, '/commands/soc'), `{"pct":${v}}`),
            'pct',
            `${f} soc pct=${v}`,
          );
          expect400(
            await send('PUT', path(f, '/parameters'), `{"values":{"cell_ov_l2_mv":${v}}}`),
            'values.cell_ov_l2_mv',
            `${f} parameter=${v}`,
          );
        }
        expect400(
          await send('PUT', path(f, '/parameters'), `{"values":${v}}`),
          'values',
          `${f} values=${v}`,
        );
        if (!BOOLEAN_OK.has(v)) {
          expect400(
            await send(
              'PUT',
              path(f, '/parameters'),
              `{"values":{"cell_ov_l2_mv":3600},"dry_run":${v}}`,
            ),
            'dry_run',
            `${f} dry_run=${v}`,
          );
        }
        if (v !== '0') {
          expect400(
            await send('POST', path(f, '/commands/clock'), `{"ms":${v}}`),
            'ms',
            `${f} clock ms=${v}`,
          );
        }
        // A file is read only by a family that can read parameters (others: 501 first).
        if (getProtocol(f).control?.readParameters || v !== '{}') {
          expect400(
            await send('POST', path(f, '/parameters/diff'), `{"file":${v}}`),
            v === '{}' ? 'file.format' : 'file',
            `${f} diff file=${v}`,
          );
        }
      }
      // Restart and factory reset need the pack's name typed: only a string can be it.
      for (const cmd of ['restart', 'restore-defaults', 'factory-reset']) {
        const r = await send('POST', path('daly-modbus', `/commands/${cmd}`), `{"confirm":${v}}`);
        if (r.status === 501) continue; // the family has no such command: nothing to confirm
        expect400(r, 'confirm', `${cmd} confirm=${v}`);
      }
    }
    expect(reached).toEqual([]);
    expect(deviceState()).toEqual(before);
  });

  it('answers 400 naming the field on the clock, records, inverter protocol and calibration routes', async () => {
    const before = deviceState();
    const pace = (rest: string): string => path('pace', rest);
    for (const v of WRONG) {
      if (!NUMBER_OK.has(v)) {
        expect400(
          await send('POST', pace('/commands/calibrate'), `{"kind":"cycles","value":${v}}`),
          'value',
          `calibrate value=${v}`,
        );
        expect400(
          await send('POST', pace('/commands/inverter-protocol'), `{"can":${v}}`),
          'can',
          `inverter can=${v}`,
        );
      }
      expect400(
        await send('POST', pace('/commands/calibrate'), `{"kind":${v},"value":1}`),
        'kind',
        `calibrate kind=${v}`,
      );
      expect400(
        await send('POST', pace('/commands/records-clear'), `{"kind":${v},"confirm":"x"}`),
        'kind',
        `records-clear kind=${v}`,
      );
      expect400(
        await send('POST', pace('/commands/inverter-protocol'), `{"mode":${v}}`),
        'mode',
        `inverter mode=${v}`,
      );
      for (const cmd of ['shutdown', 'restore-profile']) {
        const r = await send('POST', pace(`/commands/${cmd}`), `{"confirm":${v}}`);
        if (r.status === 501) continue; // no saved profile yet: nothing to confirm
        expect400(r, 'confirm', `${cmd} confirm=${v}`);
      }
    }
    for (const q of ['start=-1', 'count=0', 'count=101', 'start=x', 'count=1.5']) {
      const r = await fetch(`${url}${pace(`/records?${q}`)}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(r.status, q).toBe(400);
    }
    expect(reached).toEqual([]);
    expect(deviceState()).toEqual(before);
  });

  it('a correctly typed request does reach the family (the counting works)', async () => {
    const r = await send('POST', path('daly', '/commands/mos'), '{"which":"discharge","on":true}');
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(reached).toContain('daly.setMos');
    reached.length = 0;
  });

  it('property: random wrong-typed JSON never reaches ControlOps, on every route and every writable parameter of every family', async () => {
    const rand = prng(2026);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    /** A random JSON value of another type than `want` (finite number or boolean). */
    const wrong = (want: 'number' | 'boolean' = 'number', depth = 0): string => {
      switch (Math.floor(rand() * 8)) {
        case 0:
          return 'null';
        case 1:
          if (want === 'boolean') return String(Math.round((rand() - 0.5) * 100));
          return rand() < 0.5 ? 'true' : 'false';
        case 2:
          return JSON.stringify(String(Math.round((rand() - 0.5) * 1e4)));
        case 3:
          return JSON.stringify(
            pick(['', ' ', '0x0E10', '1e3', 'NaN', 'Infinity', '-0', '3,5', '3600 mV', 'true']),
          );
        case 4:
          return depth > 2 ? '[]' : `[${wrong(want, depth + 1)}]`;
        case 5:
          return depth > 2 ? '{}' : `{"v":${wrong(want, depth + 1)}}`;
        case 6:
          return pick(['1e309', '-1e309', '1E400']);
        default:
          return JSON.stringify(String(rand()));
      }
    };
    const before = deviceState();
    let sent = 0;
    for (const f of FAMILIES) {
      const ids = getProtocol(f).control?.writableParameters ?? ['cell_ov_l1_mv'];
      for (const id of ids) {
        for (let k = 0; k < 3; k++) {
          const v = wrong();
          const r = await send('PUT', path(f, '/parameters'), `{"values":{"${id}":${v}}}`);
          expect400(r, `values.${id}`, `${f} ${id}=${v}`);
          sent++;
        }
      }
      for (let k = 0; k < 10; k++) {
        const on = wrong('boolean');
        expect400(
          await send('POST', path(f, '/commands/mos'), `{"which":"charge","on":${on}}`),
          'on',
          `${f} on=${on}`,
        );
        const pct = wrong();
        expect400(
          await send('POST', path(f, '/commands/soc'), `{"pct":${pct}}`),
          'pct',
          `${f} pct=${pct}`,
        );
        sent += 2;
      }
    }
    expect(sent).toBeGreaterThan(150);
    expect(reached).toEqual([]);
    expect(deviceState()).toEqual(before);
  });

  it('the control service itself refuses wrong types from any other caller (MQTT, Modbus, code)', async () => {
    const control = gw.control!;
    const before = deviceState();
    const id = packId('daly-modbus');
    const bad: unknown[] = [null, false, 0, '0', '', [], {}, '0x10', '1e3', Infinity, NaN];
    for (const v of bad) {
      if (typeof v !== 'boolean') {
        await expect(control.setMos(id, 'charge', v, 'code')).rejects.toMatchObject({
          code: 'REQUEST_INVALID',
          details: { field: 'on' },
        });
      }
      if (v === 0) continue; // a number: SOC 0 % and value 0 are judged by range, not type
      await expect(control.setSoc(id, v, 'code')).rejects.toMatchObject({
        code: 'REQUEST_INVALID',
        details: { field: 'pct' },
      });
      await expect(control.writeParameters(id, { cell_ov_l1_mv: v }, 'code')).rejects.toMatchObject(
        { code: 'REQUEST_INVALID', details: { field: 'values.cell_ov_l1_mv' } },
      );
      await expect(control.writeParameters(id, v, 'code')).rejects.toMatchObject({
        code: 'REQUEST_INVALID',
      });
    }
    expect(reached).toEqual([]);
    expect(deviceState()).toEqual(before);
    // Each refusal is audited as refused, with what was sent.
    const last = (await storage.audit.list(localScope(storage.identity), { packId: id }))[0];
    expect(last).toMatchObject({ action: 'parameter.write', result: 'refused' });
  });
});

describe('the whole resulting set must be safe', () => {
  const parameters = (f: Family) => sims()[f].parameters();

  it('refuses UV 3700 mV above OV 3650 mV, naming each broken rule, and sends nothing', async () => {
    const before = deviceState();
    const r = await send(
      'PUT',
      path('daly-modbus', '/parameters'),
      JSON.stringify({ values: { cell_ov_l1_mv: 3650, cell_uv_l1_mv: 3700 } }),
    );
    expect(r.status).toBe(422);
    expect(r.body.code).toBe('PARAM_INCONSISTENT');
    expect(r.body.error).toContain(
      'Cell under-voltage level 1 (3700 mV) must be below Cell over-voltage level 1 (3650 mV)',
    );
    const rules = (r.body.issues as { rule: string; ids: string[] }[]).map((i) => i.rule);
    expect(rules).toContain('opposite_sides');
    expect((r.body.issues as unknown[]).length).toBeGreaterThanOrEqual(2);
    expect(reached.filter((c) => c.endsWith('.writeParameters'))).toEqual([]);
    expect(deviceState()).toEqual(before);
  });

  it.each([
    [
      'charge UV 25 °C above charge OT 10 °C',
      'daly-modbus',
      { chg_ut_l1_c: 25, chg_ot_l1_c: 10 },
      'PARAM_INCONSISTENT',
    ],
    [
      'balance start 3750 mV above cell OV 3700 mV',
      'jk',
      { balance_start_mv: 3750, cell_ov_l2_mv: 3700 },
      'PARAM_INCONSISTENT',
    ],
    [
      'a 60 V charge voltage on 16S LiFePO4',
      'pylontech',
      { charge_voltage_limit_v: 60 },
      'PARAM_UNSAFE_FOR_CHEMISTRY',
    ],
    [
      'a 1000 A charge limit on a 100 Ah pack',
      'pylontech',
      { charge_current_limit_a: 1000 },
      'PARAM_INCONSISTENT',
    ],
    [
      'a MOSFET over-temperature of 120 °C',
      'jk',
      { mos_ot_l2_c: 120 },
      'PARAM_UNSAFE_FOR_CHEMISTRY',
    ],
  ] as const)('refuses %s, dry run or not, and sends nothing', async (_what, f, values, code) => {
    const before = deviceState();
    for (const dry of [true, false]) {
      const r = await send('PUT', path(f, '/parameters'), JSON.stringify({ values, dry_run: dry }));
      expect(r.status, JSON.stringify(r.body)).toBe(422);
      expect(r.body.code).toBe(code);
    }
    expect(reached.filter((c) => c.endsWith('.writeParameters'))).toEqual([]);
    expect(deviceState()).toEqual(before);
  });

  it('writes a UV threshold and its recovery in a safe order (the simulated BMS checks every step)', async () => {
    const from = parameters('jk');
    expect(from).toMatchObject({ cell_uv_l2_mv: 2600, cell_uv_l2_recover_mv: 2900 });
    // Down to 2400 / 2500: the recovery first would sit below the old threshold 2600.
    const r = await send(
      'PUT',
      path('jk', '/parameters'),
      JSON.stringify({ values: { cell_uv_l2_recover_mv: 2500, cell_uv_l2_mv: 2400 } }),
    );
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.changed).toEqual(['cell_uv_l2_mv', 'cell_uv_l2_recover_mv']);
    expect(parameters('jk')).toMatchObject({ cell_uv_l2_mv: 2400, cell_uv_l2_recover_mv: 2500 });
    // And back up: the threshold first would sit above the recovery 2500.
    const back = await send(
      'PUT',
      path('jk', '/parameters'),
      JSON.stringify({ values: { cell_uv_l2_mv: 2600, cell_uv_l2_recover_mv: 2900 } }),
    );
    expect(back.status, JSON.stringify(back.body)).toBe(200);
    expect(back.body.changed).toEqual(['cell_uv_l2_recover_mv', 'cell_uv_l2_mv']);
    expect(parameters('jk')).toEqual(from);
  });

  it('a write the device refuses half-way is rolled back, read back, and the answer says what the pack holds', async () => {
    const pack = sims().jk;
    const from = pack.parameters();
    pack.lockedParameters.add('cell_ov_l2_mv');
    try {
      const r = await send(
        'PUT',
        path('jk', '/parameters'),
        JSON.stringify({ values: { balance_start_mv: 3420, cell_ov_l2_mv: 3640 } }),
      );
      expect(r.status, JSON.stringify(r.body)).toBe(409);
      expect(r.body.code).toBe('COMMAND_REFUSED');
      expect(r.body.error).toMatch(/refused cell_ov_l2_mv = 3640 mV/);
      expect(r.body.rolled_back).toEqual(['balance_start_mv']);
      expect(r.body.not_restored).toEqual([]);
      expect(r.body.parameters).toEqual({
        balance_start_mv: from['balance_start_mv'],
        cell_ov_l2_mv: from['cell_ov_l2_mv'],
      });
      expect(pack.parameters()).toEqual(from);
      const audit = (
        await storage.audit.list(localScope(storage.identity), { packId: packId('jk') })
      )[0];
      expect(audit).toMatchObject({ action: 'parameter.write', result: 'failed' });
      expect(audit?.detail).toMatch(/restored to the old values: balance_start_mv/);
    } finally {
      pack.lockedParameters.delete('cell_ov_l2_mv');
    }
  });
});
