/**
 * The integration registry: what every registered integration must provide, the registry's
 * refusals of a wiring mistake, and each built-in runtime's life on a real Gateway (a
 * simulated DALY pack polled over TCP, SQLite in memory): every one started by the gateway,
 * a second start or stop changes nothing, and the status has one shape.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { isBmsError } from '@openbms/core';
import { openSqliteStorage } from '@openbms/storage-sqlite';
import { configSchema, validateConfig } from '../config.js';
import { Gateway } from '../gateway.js';
import { BUILTIN_INTEGRATIONS, builtinRegistry } from './builtin.js';
import type { AnyIntegration, Integration, IntegrationRuntime } from './integration.js';
import { METRICS_INTEGRATION } from './metrics/descriptor.js';
import { MODBUS_CLIENT_INTEGRATION, MODBUS_TCP_INTEGRATION } from './modbus/descriptor.js';
import { freePort, until } from '../testing/modbus.js';
import { simulatedBuses } from '../testing/sim-buses.js';
import { MQTT_INTEGRATION } from './mqtt/descriptor.js';
import { NOTIFICATIONS_INTEGRATION } from './notify/descriptor.js';
import { IntegrationRegistry } from './registry.js';
import { TUNNEL_INTEGRATION } from './tunnel/descriptor.js';

/** The one shape of RuntimeStatus (strict: no other key). */
const runtimeStatus = z
  .object({
    running: z.boolean(),
    last_error: z.string().min(1).optional(),
    connected: z.boolean().optional(),
    listening: z
      .string()
      .regex(/^[^\s:]+:\d{1,5}$/)
      .optional(),
    state: z.string().min(1).optional(),
    detail: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isBmsError(e) ? e.code : 'not a BmsError';
  }
  return undefined;
}

describe('every registered integration', () => {
  it('has its own section, the config schema of that section, a log name and secrets', () => {
    const sections = BUILTIN_INTEGRATIONS.map((i) => i.section);
    expect(new Set(sections).size).toBe(sections.length);
    for (const i of BUILTIN_INTEGRATIONS) {
      const inConfig = configSchema.shape[i.section as keyof typeof configSchema.shape];
      expect(inConfig, i.section).toBeInstanceOf(z.ZodOptional);
      expect((inConfig as z.ZodOptional).unwrap(), i.section).toBe(i.schema);
      expect(i.schema, i.section).toBeInstanceOf(z.ZodType);
      expect(i.logName, i.section).toMatch(/\S/);
      expect(['live', 'restart'], i.section).toContain(i.apply);
      expect(typeof i.secrets, i.section).toBe('object');
      expect(i.enabled(undefined), `${i.section} without a section`).toBeTypeOf('boolean');
      for (const r of i.reads ?? []) expect(Object.keys(configSchema.shape)).toContain(r);
    }
  });

  it('is listed by the registry in order, with the sections they read as live too', () => {
    const r = builtinRegistry();
    expect(r.sections()).toEqual(BUILTIN_INTEGRATIONS.map((i) => i.section));
    expect(r.liveSections()).toEqual([...r.sections(), 'location']);
    expect(r.affectedBy('location')).toEqual([MQTT_INTEGRATION, NOTIFICATIONS_INTEGRATION]);
    expect(r.configKeys()).toEqual(Object.keys(configSchema.shape).filter((k) => k !== 'version'));
    // No section of its own beyond the config's: the built-in registry checks with configSchema.
    expect(r.configSchema).toBe(configSchema);
  });
});

describe('no section ladder', () => {
  it('the gateway, its runner and the settings service name no integration section', () => {
    for (const file of [
      '../gateway.ts',
      '../settings/service.ts',
      './runner.ts',
      './registry.ts',
    ]) {
      const code = readFileSync(new URL(file, import.meta.url), 'utf8');
      for (const section of builtinRegistry().sections()) {
        expect(code, `${file} names "${section}"`).not.toMatch(
          new RegExp(`['"\`]${section}['"\`]`),
        );
      }
    }
  });
});

describe('the registry refuses a wiring mistake (INTERNAL)', () => {
  const fake = (over: Partial<AnyIntegration>): AnyIntegration => ({
    ...MQTT_INTEGRATION,
    ...over,
  });

  it('two integrations on one section', () => {
    expect(codeOf(() => new IntegrationRegistry([MQTT_INTEGRATION, fake({})]))).toBe('INTERNAL');
  });

  it('a built-in section with a schema other than the config has', () => {
    const other = z.object({ enabled: z.boolean() }).strict();
    expect(codeOf(() => new IntegrationRegistry([fake({ schema: other })]))).toBe('INTERNAL');
  });

  it('reading a section the config does not have', () => {
    const reader = fake({ section: 'reader', schema: z.object({}), reads: ['nowhere'] });
    expect(codeOf(() => builtinRegistry().with(reader))).toBe('INTERNAL');
  });
});

describe('built-in runtimes on a real gateway', () => {
  let gw: Gateway;
  let storage: Awaited<ReturnType<typeof openSqliteStorage>>;

  /** Each built-in with what tells its running instance apart (a second start must keep it). */
  const instances: { i: AnyIntegration; of: () => unknown }[] = [
    { i: MQTT_INTEGRATION, of: () => gw.integration(MQTT_INTEGRATION)!.publisher() },
    { i: MODBUS_TCP_INTEGRATION, of: () => gw.integration(MODBUS_TCP_INTEGRATION)!.server() },
    { i: MODBUS_CLIENT_INTEGRATION, of: () => gw.integration(MODBUS_CLIENT_INTEGRATION)!.client() },
    { i: TUNNEL_INTEGRATION, of: () => gw.integration(TUNNEL_INTEGRATION)!.tunnelStatus()?.port },
    { i: METRICS_INTEGRATION, of: () => gw.integration(METRICS_INTEGRATION)!.exposure() },
    {
      i: NOTIFICATIONS_INTEGRATION,
      of: () => gw.integration(NOTIFICATIONS_INTEGRATION)!.service(),
    },
  ];

  const runtimeOf = (i: AnyIntegration): IntegrationRuntime =>
    gw.integration(i as Integration<unknown, IntegrationRuntime>)!;

  beforeAll(async () => {
    // Nothing listens at the MQTT, Modbus client and webhook targets: each keeps retrying
    // in the background, which is all this test needs of them.
    const [modbusPort, closed] = [await freePort(), await freePort()];
    storage = await openSqliteStorage({});
    gw = new Gateway({
      storage,
      busFactory: simulatedBuses().busFactory,
      config: validateConfig({
        version: 1,
        sites: [
          {
            id: 's',
            buses: [
              {
                id: 'b',
                port: 'sim',
                protocol: 'daly',
                poll_interval_s: 0.5,
                simulator: { speed: 0 },
                packs: [{ address: 64 }],
              },
            ],
          },
        ],
        mqtt: { url: `mqtt://127.0.0.1:${closed}`, homeassistant: { enabled: false } },
        modbus_tcp: { host: '127.0.0.1', port: modbusPort },
        modbus_client: {
          host: '127.0.0.1',
          port: closed,
          writes: [{ pack: 's/b/64', field: 'soc_pct', register: 0, type: 'u16' }],
        },
        tunnel: { enabled: true, bus: 's/b', port: 0 },
        metrics: { auth: false },
        notifications: [{ id: 'hook', type: 'webhook', url: `http://127.0.0.1:${closed}/h` }],
      }),
    });
    const polled = until(gw, (e) => e.type === 'snapshot');
    await gw.start();
    await polled;
  });

  afterAll(async () => {
    await gw.stop();
    storage.close();
  });

  it('covers every built-in integration', () => {
    expect(instances.map((x) => x.i)).toEqual([...BUILTIN_INTEGRATIONS]);
  });

  it('starts every enabled one with the gateway; each status has the one shape', () => {
    for (const { i, of } of instances) {
      const st = runtimeOf(i).status();
      expect(runtimeStatus.safeParse(st).error, i.section).toBeUndefined();
      expect(st.running, i.section).toBe(true);
      expect(of(), i.section).toBeDefined();
    }
    expect(runtimeOf(MODBUS_TCP_INTEGRATION).status().listening).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(runtimeOf(TUNNEL_INTEGRATION).status().listening).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(runtimeOf(MQTT_INTEGRATION).status().connected).toBe(false);
  });

  it('a second start keeps the running instance (no second listener, client or service)', async () => {
    for (const { i, of } of instances) {
      const before = of();
      const listening = runtimeOf(i).status().listening;
      await runtimeOf(i).start();
      expect(of(), i.section).toBe(before);
      expect(runtimeOf(i).status().listening, i.section).toBe(listening);
    }
  });

  it('stop and a second stop leave every live one stopped; a start brings it back', async () => {
    for (const { i, of } of instances) {
      const rt = runtimeOf(i);
      await rt.stop();
      await rt.stop();
      const st = rt.status();
      expect(runtimeStatus.safeParse(st).error, i.section).toBeUndefined();
      if (i.apply === 'live') {
        expect(st.running, i.section).toBe(false);
        expect(of(), i.section).toBeUndefined();
        expect(st.listening, i.section).toBeUndefined();
      }
      await rt.start();
      expect(rt.status().running, i.section).toBe(true);
    }
    expect(gw.integrationRunning('tunnel')).toBe(true);
  });
});
