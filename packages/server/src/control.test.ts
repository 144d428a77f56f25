/**
 * The control routes over a fake control service behind the real in-process seam: roles (a
 * viewer reads, gets 403 on writes), schema errors (400 naming the field), the status of each
 * coded error (409 refused, 422 validation, 501 capability, 502 read-back), the snake_case
 * bodies of successes, and the acting principal (name and user id) reaching the service.
 */
import { BmsError } from '@openbms/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryAlarms, TEST_ORIGIN } from '@openbms/storage/testing';
import type {
  Actor,
  ControlPort,
  ControlCapabilities,
  ControlCommandOutcome,
  ControlCommandStatus,
  ControlParameterFile,
} from './gateway-api.js';
import { FakeGateway, fakePack } from './testing/fake-gateway.js';
import { startHarness, type Harness } from './testing/harness.js';

const PACK = 'home/bus1/1';
const P = encodeURIComponent(PACK);

class FakeControl implements ControlPort {
  readonly calls: { op: string; args: unknown[] }[] = [];
  private seq = 0;

  private known(packId: string): void {
    if (packId !== PACK) throw new BmsError('NOT_FOUND', `no pack ${packId}`);
  }

  private done(packId: string, action: string, by: Actor | string): ControlCommandStatus {
    const user = typeof by === 'string' ? by : by.username;
    return { id: ++this.seq, packId, action, user, at: 1000, status: 'done', detail: 'ok' };
  }

  capabilities(packId: string): ControlCapabilities {
    this.known(packId);
    return {
      packId,
      protocol: 'daly-modbus',
      chemistry: 'lfp',
      limits: { cellCount: 16, designAh: 100, maxChargeC: 1, maxDischargeC: 2 },
      operations: {
        set_mos: true,
        set_soc: false,
        set_clock: false,
        read_parameters: true,
        write_parameters: true,
        restore_defaults: false,
        restart: false,
        factory_reset: false,
        shutdown: false,
        read_clock: false,
        records: false,
        clear_records: false,
        read_inverter_protocol: false,
        set_inverter_protocol: false,
        calibrate: false,
        restore_profile: false,
      },
      unverified: {},
      allowUnverified: false,
      calibrations: [],
      parameters: [
        {
          id: 'cell_ov_l1_mv',
          label: 'Cell over-voltage level 1',
          unit: 'mV',
          min: 2000,
          max: 4500,
          step: 1,
          group: 'voltage' as const,
          kind: 'threshold' as const,
          level: 1 as const,
          safeMax: 3750,
        },
      ],
    };
  }
  async readParameters(packId: string) {
    this.known(packId);
    return { values: { cell_ov_l1_mv: 3550 } };
  }
  async writeParameters(
    packId: string,
    values: Record<string, number>,
    by: Actor,
    opts: { dryRun?: boolean } = {},
  ) {
    this.known(packId);
    this.calls.push({ op: 'writeParameters', args: [values, by, opts] });
    const v = values['cell_ov_l1_mv'];
    if (v !== undefined && v > 4500) {
      throw new BmsError(
        'PARAM_OUT_OF_RANGE',
        `Cell over-voltage level 1: ${v} mV is outside 2000..4500 mV`,
      );
    }
    if (v === 3333) {
      throw new BmsError(
        'READBACK_MISMATCH',
        'written but read back differently: cell_ov_l1_mv requested 3333, read 3550',
      );
    }
    return {
      dryRun: opts.dryRun === true,
      changed: Object.keys(values),
      results: Object.entries(values).map(([id, requested]) => ({
        id,
        old: id === 'cell_ov_l1_mv' ? 3550 : undefined,
        requested,
        readback: opts.dryRun ? undefined : requested,
        ok: true,
      })),
    };
  }
  async exportParameters(packId: string): Promise<ControlParameterFile> {
    this.known(packId);
    return {
      format: 'openbms-parameters',
      version: 1,
      pack: { id: packId, name: 'Pack 1', protocol: 'daly-modbus', chemistry: 'lfp' },
      exported_at: 1000,
      values: { cell_ov_l1_mv: 3550 },
    };
  }
  async diffParameters(packId: string, file: unknown) {
    this.known(packId);
    this.calls.push({ op: 'diffParameters', args: [file] });
    return {
      valid: true,
      errors: [],
      warnings: [],
      changed: [{ id: 'cell_ov_l1_mv', current: undefined, file: 3500 }],
      unchanged: [],
      unknown: [],
    };
  }
  async setMos(
    packId: string,
    which: 'charge' | 'discharge',
    on: boolean,
    user: Actor,
  ): Promise<ControlCommandOutcome> {
    this.known(packId);
    this.calls.push({ op: 'setMos', args: [which, on, user] });
    if (which === 'charge' && !on) {
      throw new BmsError(
        'COMMAND_REFUSED',
        'discharge current flows (-10 A, limit 0.5 A): the charge MOSFET cannot be switched off now',
      );
    }
    return { command: this.done(packId, `mos.${which}`, user), readback: { [`${which}_mos`]: on } };
  }
  async setSoc(packId: string, pct: number, user: Actor) {
    this.known(packId);
    this.calls.push({ op: 'setSoc', args: [pct, user] });
    return { command: this.done(packId, 'soc.set', user), readback: { soc_pct: pct } };
  }
  async setClock(packId: string): Promise<ControlCommandOutcome> {
    this.known(packId);
    throw new BmsError(
      'CAPABILITY_MISSING',
      'daly-modbus cannot set the BMS clock (its protocol has no such command)',
    );
  }
  private async confirmed(packId: string, confirm: string | undefined, user: Actor, a: string) {
    this.known(packId);
    this.calls.push({ op: a, args: [confirm, user] });
    if (confirm !== 'Pack 1') {
      throw new BmsError('REQUEST_INVALID', 'confirm with the pack name "Pack 1"', {
        field: 'confirm',
      });
    }
    return { command: this.done(packId, a, user) };
  }
  restoreDefaults(packId: string, confirm: string | undefined, user: Actor) {
    return this.confirmed(packId, confirm, user, 'parameters.restore_defaults');
  }
  restart(packId: string, confirm: string | undefined, user: Actor) {
    return this.confirmed(packId, confirm, user, 'pack.restart');
  }
  factoryReset(packId: string, confirm: string | undefined, user: Actor) {
    return this.confirmed(packId, confirm, user, 'pack.factory_reset');
  }
  private missing(packId: string, what: string): never {
    this.known(packId);
    throw new BmsError('CAPABILITY_MISSING', `daly-modbus cannot ${what}`);
  }
  readRecords(packId: string): Promise<never> {
    return Promise.resolve().then(() => this.missing(packId, 'read on-board records'));
  }
  exportRecords(packId: string): Promise<never> {
    return Promise.resolve().then(() => this.missing(packId, 'read on-board records'));
  }
  clearRecords(packId: string): Promise<never> {
    return Promise.resolve().then(() => this.missing(packId, 'erase on-board records'));
  }
  readClock(packId: string): Promise<never> {
    return Promise.resolve().then(() => this.missing(packId, 'read the BMS clock'));
  }
  readInverterProtocol(packId: string): Promise<never> {
    return Promise.resolve().then(() => this.missing(packId, 'read the inverter protocol'));
  }
  setInverterProtocol(packId: string): Promise<never> {
    return Promise.resolve().then(() => this.missing(packId, 'select an inverter protocol'));
  }
  calibrate(packId: string): Promise<never> {
    return Promise.resolve().then(() => this.missing(packId, 'calibrate'));
  }
  shutdown(packId: string, confirm: string | undefined, user: Actor) {
    return this.confirmed(packId, confirm, user, 'pack.shutdown');
  }
  restoreProfile(packId: string): Promise<never> {
    return Promise.resolve().then(() => this.missing(packId, 'restore a saved profile'));
  }
  commands(packId?: string): ControlCommandStatus[] {
    const all = [
      { ...this.done(PACK, 'mos.charge', 'otto'), status: 'refused' as const },
      this.done('home/bus1/2', 'soc.set', 'otto'),
    ];
    return all.filter((c) => packId === undefined || c.packId === packId);
  }
}

let h: Harness;
let control: FakeControl;
let operator: string;
let viewer: string;

beforeAll(async () => {
  control = new FakeControl();
  const gateway = Object.assign(
    new FakeGateway([fakePack(PACK)], new MemoryAlarms(), () => 0, TEST_ORIGIN),
    {
      control,
    },
  );
  h = await startHarness({ gateway });
  const admin = await h.setupAdmin();
  operator = await h.addUser(admin, 'otto', 'operator');
  viewer = await h.addUser(admin, 'vera', 'viewer');
});
afterAll(() => h.close());

const writes: [string, string, unknown][] = [
  ['PUT', `/api/v1/packs/${P}/parameters`, { values: { cell_ov_l1_mv: 3500 } }],
  ['POST', `/api/v1/packs/${P}/parameters/diff`, { file: {} }],
  ['POST', `/api/v1/packs/${P}/commands/mos`, { which: 'charge', on: true }],
  ['POST', `/api/v1/packs/${P}/commands/soc`, { pct: 50 }],
  ['POST', `/api/v1/packs/${P}/commands/clock`, {}],
  ['POST', `/api/v1/packs/${P}/commands/restore-defaults`, { confirm: 'Pack 1' }],
  ['POST', `/api/v1/packs/${P}/commands/restart`, { confirm: 'Pack 1' }],
  ['POST', `/api/v1/packs/${P}/commands/factory-reset`, { confirm: 'Pack 1' }],
];

describe('roles', () => {
  it('a viewer reads capabilities, parameters and commands but gets 403 on every write', async () => {
    for (const path of [
      `/api/v1/packs/${P}/capabilities`,
      `/api/v1/packs/${P}/parameters`,
      `/api/v1/packs/${P}/parameters/export`,
      '/api/v1/commands',
    ]) {
      expect((await h.call('GET', path, { token: viewer })).status, path).toBe(200);
    }
    const before = control.calls.length;
    for (const [method, path, body] of writes) {
      const r = await h.call(method, path, { token: viewer, body });
      expect(r.status, `${method} ${path}`).toBe(403);
      expect(r.body.code).toBe('FORBIDDEN');
    }
    expect(control.calls.length).toBe(before);
  });

  it('without a login every control route is 401', async () => {
    expect((await h.call('GET', `/api/v1/packs/${P}/capabilities`)).status).toBe(401);
    const [method, path, body] = writes[2]!;
    expect((await h.call(method, path, { body })).status).toBe(401);
  });
});

describe('malformed requests get 400 naming the field, and reach no device', () => {
  it.each([
    ['PUT', 'parameters', { values: {} }, 'values'],
    ['PUT', 'parameters', { values: { cell_ov_l1_mv: 'high' } }, 'values.cell_ov_l1_mv'],
    ['PUT', 'parameters', { values: { cell_ov_l1_mv: 3500 }, force: true }, 'force'],
    ['PUT', 'parameters', { values: { cell_ov_l1_mv: 3500 }, dry_run: 'maybe' }, 'dry_run'],
    ['POST', 'commands/mos', { which: 'both', on: true }, 'which'],
    ['POST', 'commands/mos', { which: 'charge' }, 'on'],
    ['POST', 'commands/soc', { pct: 150 }, 'pct'],
    ['POST', 'commands/clock', { ms: 'now' }, 'ms'],
    ['POST', 'commands/restart', {}, 'confirm'],
    ['POST', 'commands/factory-reset', { confirm: '' }, 'confirm'],
    ['POST', 'parameters/diff', { file: [1] }, 'file'],
  ])('%s %s %j', async (method, path, body, field) => {
    const before = control.calls.length;
    const r = await h.call(method, `/api/v1/packs/${P}/${path}`, { token: operator, body });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ code: 'REQUEST_INVALID', field });
    expect(control.calls.length).toBe(before);
  });

  it('a wrong confirmation is 400 from the service', async () => {
    const r = await h.call('POST', `/api/v1/packs/${P}/commands/restart`, {
      token: operator,
      body: { confirm: 'yes' },
    });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ code: 'REQUEST_INVALID', field: 'confirm' });
    expect(r.body.error).toMatch(/confirm with the pack name "Pack 1"/);
  });
});

describe('coded errors', () => {
  it('409 for a refused command, with the reason', async () => {
    const r = await h.call('POST', `/api/v1/packs/${P}/commands/mos`, {
      token: operator,
      body: { which: 'charge', on: false },
    });
    expect(r.status).toBe(409);
    expect(r.body).toEqual({
      code: 'COMMAND_REFUSED',
      error:
        'discharge current flows (-10 A, limit 0.5 A): the charge MOSFET cannot be switched off now',
    });
  });

  it('422 for a parameter value that fails validation', async () => {
    const r = await h.call('PUT', `/api/v1/packs/${P}/parameters`, {
      token: operator,
      body: { values: { cell_ov_l1_mv: 5000 } },
    });
    expect(r.status).toBe(422);
    expect(r.body.code).toBe('PARAM_OUT_OF_RANGE');
    expect(r.body.error).toMatch(/5000 mV is outside 2000..4500 mV/);
  });

  it('501 for what the family cannot do; 502 for a read-back mismatch; 404 for an unknown pack', async () => {
    const clock = await h.call('POST', `/api/v1/packs/${P}/commands/clock`, {
      token: operator,
      body: {},
    });
    expect(clock.status).toBe(501);
    expect(clock.body.code).toBe('CAPABILITY_MISSING');
    const records = await h.call('GET', `/api/v1/packs/${P}/records`, { token: viewer });
    expect(records.status).toBe(501);
    const mismatch = await h.call('PUT', `/api/v1/packs/${P}/parameters`, {
      token: operator,
      body: { values: { cell_ov_l1_mv: 3333 } },
    });
    expect(mismatch.status).toBe(502);
    expect(mismatch.body.code).toBe('READBACK_MISMATCH');
    const unknown = await h.call('GET', `/api/v1/packs/nope/capabilities`, { token: viewer });
    expect(unknown.status).toBe(404);
  });
});

describe('successes', () => {
  it('200: capabilities and commands in snake_case', async () => {
    const caps = await h.call('GET', `/api/v1/packs/${P}/capabilities`, { token: viewer });
    expect(caps.body).toMatchObject({
      pack_id: PACK,
      protocol: 'daly-modbus',
      operations: { set_mos: true, set_clock: false },
      parameters: [{ id: 'cell_ov_l1_mv', safe_max: 3750, level: 1 }],
      limits: { cell_count: 16, design_ah: 100, max_charge_c: 1, max_discharge_c: 2 },
    });
    const cmds = await h.call('GET', `/api/v1/commands?pack=${P}`, { token: viewer });
    expect(cmds.body).toEqual([
      {
        id: expect.any(Number),
        pack_id: PACK,
        action: 'mos.charge',
        user: 'otto',
        at: 1000,
        status: 'refused',
        detail: 'ok',
      },
    ]);
  });

  it('200: a write (and a dry run) by an operator, as the acting user', async () => {
    const r = await h.call('PUT', `/api/v1/packs/${P}/parameters`, {
      token: operator,
      body: { values: { cell_ov_l1_mv: 3500 } },
    });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      dry_run: false,
      changed: ['cell_ov_l1_mv'],
      results: [{ id: 'cell_ov_l1_mv', old: 3550, requested: 3500, readback: 3500, ok: true }],
    });
    // The acting principal: otto's name and user id, as the store knows them.
    const otto = await h.stores.users.get({ orgIds: [TEST_ORIGIN.orgId] }, 'otto');
    expect(otto?.id).toMatch(/^[0-9A-Z]{26}$/);
    expect(control.calls.at(-1)).toEqual({
      op: 'writeParameters',
      args: [{ cell_ov_l1_mv: 3500 }, { username: 'otto', userId: otto?.id }, { dryRun: false }],
    });
    const dry = await h.call('PUT', `/api/v1/packs/${P}/parameters`, {
      token: operator,
      body: { values: { cell_ov_l1_mv: 3500 }, dry_run: true },
    });
    expect(dry.body.dry_run).toBe(true);
    expect(dry.body.results[0].readback).toBeNull();
  });

  it('200: MOS, SOC and confirmed commands return the command status', async () => {
    const mos = await h.call('POST', `/api/v1/packs/${P}/commands/mos`, {
      token: operator,
      body: { which: 'discharge', on: false },
    });
    expect(mos.status).toBe(200);
    expect(mos.body).toMatchObject({
      command: { pack_id: PACK, action: 'mos.discharge', user: 'otto', status: 'done' },
      readback: { discharge_mos: false },
    });
    const soc = await h.call('POST', `/api/v1/packs/${P}/commands/soc`, {
      token: operator,
      body: { pct: 80 },
    });
    expect(soc.body.readback).toEqual({ soc_pct: 80 });
    const restart = await h.call('POST', `/api/v1/packs/${P}/commands/restart`, {
      token: operator,
      body: { confirm: 'Pack 1' },
    });
    expect(restart.status).toBe(200);
    expect(restart.body.command.action).toBe('pack.restart');
  });

  it('200: export as a download, diff of an uploaded file', async () => {
    const file = await h.call('GET', `/api/v1/packs/${P}/parameters/export`, { token: viewer });
    expect(file.headers.get('content-disposition')).toBe(
      'attachment; filename="home-bus1-1-parameters.json"',
    );
    expect(file.body).toMatchObject({ format: 'openbms-parameters', version: 1 });
    const diff = await h.call('POST', `/api/v1/packs/${P}/parameters/diff`, {
      token: operator,
      body: { file: file.body },
    });
    expect(diff.status).toBe(200);
    expect(diff.body.changed).toEqual([{ id: 'cell_ov_l1_mv', current: null, file: 3500 }]);
    expect(control.calls.at(-1)).toEqual({ op: 'diffParameters', args: [file.body] });
  });

  it('the OpenAPI document lists the control routes with their roles', async () => {
    const doc = (await h.call('GET', '/api/docs/openapi.json')).body;
    expect(doc.paths['/api/v1/packs/{id}/parameters'].put['x-access']).toBe('operator');
    expect(doc.paths['/api/v1/packs/{id}/parameters'].get['x-access']).toBe('viewer');
    expect(doc.paths['/api/v1/packs/{id}/commands/mos'].post.responses).toHaveProperty('409');
  });
});

it('without a control service on any gateway the control routes do not exist', async () => {
  const bare = await startHarness();
  try {
    const admin = await bare.setupAdmin();
    const r = await bare.call('GET', `/api/v1/packs/${P}/capabilities`, { token: admin });
    expect(r.status).toBe(404);
  } finally {
    await bare.close();
  }
});
