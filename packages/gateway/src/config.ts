/**
 * The gateway's configuration: one YAML file, versioned, checked against one schema (zod).
 * The sections' schemas come from the browser-safe `@openbms/contract`, which the web's
 * settings forms read too; the sites, buses and packs (they need the protocol registry) are
 * here. Errors name the bad key and, where there is a list, the accepted values. Unknown
 * keys are errors (a typo must not be silently ignored on a battery system).
 */
import { readFileSync } from 'node:fs';
import { withZone } from './integrations/notify/zone.js';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import {
  httpConfigSchema,
  accountsConfigSchema,
  brokerConfigSchema,
  fleetConfigSchema,
  cloudConfigSchema,
  webConfigSchema,
  locationSchema,
  metricsConfigSchema,
  modbusClientConfigSchema,
  modbusTcpConfigSchema,
  mqttConfigSchema,
  notificationsConfigSchema,
  parseStorageUrl,
  tunnelConfigSchema,
} from '@openbms/contract';
import { BmsError, DEMO_SITE_NAME } from '@openbms/core';
import { PARITIES, PROTOCOLS, STOP_BITS, getProtocol, lineIssues } from '@openbms/protocols';
import type { PackRef } from './types.js';

export const CONFIG_VERSION = 1;

const id = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9_-]{0,31}$/i,
    'must be 1-32 letters, digits, "-" or "_", starting with a letter or digit',
  );

const protocolId = z
  .string()
  .refine((p) => PROTOCOLS.some((d) => d.id === p || d.aliases.includes(p)), {
    error: (iss) =>
      `unknown protocol "${String(iss.input)}"; accepted: ${PROTOCOLS.map((d) => d.id).join(', ')}`,
  });

const packSchema = z
  .object({
    address: z.number().int().min(0).max(255),
    name: z.string().min(1).max(64).optional(),
    chemistry: z.enum(['lfp', 'nmc']).default('lfp'),
    variant: z.string().optional(),
    /** Design capacity, Ah, when the pack does not report it (C-rate limits of writes). */
    design_ah: z.number().positive().max(10_000).optional(),
    /** C-rate ceilings of charge / discharge current parameters (default 1 and 2). */
    max_charge_c: z.number().positive().max(10).optional(),
    max_discharge_c: z.number().positive().max(20).optional(),
    /**
     * Allows commands whose wire format rests on a single source (the protocol reference
     * marks them uncertain: PACE calibration, clearing records...). Off by default: such a
     * command could do something else on a device that differs from the one document.
     */
    allow_unverified: z.boolean().default(false),
  })
  .strict();

/** A simulated bus (`port: sim`): the simulator serves it on a local TCP port. */
const simulatorSchema = z
  .object({
    profile: z.string().default('solar'),
    speed: z.number().min(0).max(100_000).default(60),
    seed: z.number().int().default(1),
    soc_pct: z.number().min(0).max(100).default(60),
    cells: z.number().int().min(4).max(32).default(16),
    capacity_ah: z.number().positive().max(2000).default(100),
    faults: z.array(z.string()).default([]),
  })
  .strict();

/** The family id a protocol name resolves to, or undefined when none does. */
function getProtocolId(name: string): string | undefined {
  try {
    return getProtocol(name).id;
  } catch {
    return undefined;
  }
}

const busSchema = z
  .object({
    id,
    /** A serial device path, `tcp://host:port`, or `sim` for a simulated bus. */
    port: z.string().min(1),
    protocol: protocolId,
    baud: z.number().int().min(300).max(4_000_000).optional(),
    /** Line framing: only where the family allows it (Modbus RTU); absent: the family's own. */
    parity: z
      .enum(['none', 'even', 'odd'], {
        error: `parity must be one of ${PARITIES.join(', ')}`,
      })
      .optional(),
    stop_bits: z
      .union([z.literal(1), z.literal(2)], {
        error: `stop_bits must be the number ${STOP_BITS.join(' or ')}`,
      })
      .optional(),
    poll_interval_s: z.number().min(0.2).max(3600).default(5),
    timeout_ms: z.number().int().min(10).max(60_000).optional(),
    retries: z.number().int().min(0).max(10).default(2),
    simulator: simulatorSchema.optional(),
    packs: z.array(packSchema).min(1).max(16),
  })
  .strict()
  .superRefine((b, ctx) => {
    const seen = new Set<number>();
    b.packs.forEach((p, i) => {
      if (seen.has(p.address)) {
        ctx.addIssue({
          code: 'custom',
          path: ['packs', i, 'address'],
          message: `address ${p.address} is used twice on bus ${b.id}`,
        });
      }
      seen.add(p.address);
      // An unknown protocol is reported by its own field; its variants cannot be checked.
      const def = PROTOCOLS.find((x) => x.id === getProtocolId(b.protocol));
      if (def && p.variant !== undefined && !def.variants.includes(p.variant)) {
        ctx.addIssue({
          code: 'custom',
          path: ['packs', i, 'variant'],
          message: `unknown variant "${p.variant}"; accepted: ${def.variants.join(', ') || 'none'}`,
        });
      }
    });
    const family = PROTOCOLS.find((x) => x.id === getProtocolId(b.protocol));
    if (family) {
      const line = {
        ...(b.parity !== undefined ? { parity: b.parity } : {}),
        ...(b.stop_bits !== undefined ? { stopBits: b.stop_bits } : {}),
      };
      for (const i of lineIssues(family, line))
        ctx.addIssue({ code: 'custom', path: [i.field], message: i.message });
    }
    if (b.simulator && b.port !== 'sim') {
      ctx.addIssue({
        code: 'custom',
        path: ['simulator'],
        message: 'simulator options need port: sim',
      });
    }
  });

const siteSchema = z
  .object({
    id,
    name: z.string().min(1).max(64).optional(),
    buses: z.array(busSchema).default([]),
  })
  .strict();

const days = z.union([z.number().positive(), z.literal('forever')]);

/** One tracker server: its port (0: any free one), the address it binds, the devices' clock zone. */
const trackerServer = z
  .object({
    port: z.number().int().min(0).max(65535),
    host: z.string().min(1).max(255).default('0.0.0.0'),
  })
  .strict();
const trackerTcpServer = trackerServer
  .extend({ tz_offset_minutes: z.number().int().min(-720).max(840).optional() })
  .strict();

/**
 * The BMS of tracker batteries, polled through each JT/T 808 tracker's serial pass-through
 * (docs/trackers.md "BMS through the tracker"). The chemistry has no default: the safe limits
 * every write is checked against depend on it, and either guess would be unsafe for the other.
 */
const trackerBmsSchema = z
  .object({
    protocol: protocolId,
    chemistry: z.enum(['lfp', 'nmc']),
    variant: z.string().optional(),
    /** The BMS's bus address behind the tracker (JBD: none, 0). */
    address: z.number().int().min(0).max(255).default(0),
    poll_interval_s: z.number().min(1).max(3600).default(30),
    /** A cellular round trip: seconds, not the milliseconds of a local bus. */
    timeout_ms: z.number().int().min(100).max(60_000).default(5000),
    retries: z.number().int().min(0).max(10).default(1),
  })
  .strict();

/** GPS tracker servers (issue 17, docs/trackers.md): each present protocol is served. */
export const trackersConfigSchema = z
  .object({
    bms: trackerBmsSchema.optional(),
    /** `alarm_model`: how alarm bits 15-17 are read (trackers/alarm-map.ts JT808_MODELS). */
    jt808: trackerTcpServer
      .extend({ alarm_model: z.enum(['g10ls', 'traccar']).optional() })
      .strict()
      .optional(),
    gt06: trackerTcpServer.optional(),
    osmand: trackerServer.optional(),
    gb32960: trackerServer.optional(),
    limits: z
      .object({
        max_connections: z.number().int().min(1).max(200_000).default(20_000),
        max_per_ip: z.number().int().min(1).max(200_000).default(100),
        /** A connection silent this long is closed (trackers send heartbeats every few minutes). */
        idle_s: z.number().int().min(1).max(3600).default(600),
      })
      .strict()
      .default({ max_connections: 20_000, max_per_ip: 100, idle_s: 600 }),
  })
  .strict();

export type TrackersConfig = z.infer<typeof trackersConfigSchema>;

export const configSchema = z
  .object({
    version: z.literal(CONFIG_VERSION),
    /** Adds the demo site (simulated packs); the default when there is no config file. */
    demo: z.boolean().default(false),
    /** Listening address, TLS, trusted proxies, WebSocket origins (http-config.ts). */
    http: httpConfigSchema.default({ host: '127.0.0.1', port: 8080 }),
    /** The login's captcha (accounts.captcha, accounts.captcha_after). */
    accounts: accountsConfigSchema.optional(),
    /** The fleet's per-organisation limits (fleet.limits; docs/fleet.md). */
    fleet: fleetConfigSchema.optional(),
    /** This site is a collector of a fleet cloud (cloud.url; docs/collectors.md). */
    cloud: cloudConfigSchema.optional(),
    /** The fleet cloud's MQTT broker for collectors (`openbms cloud`; docs/collectors.md). */
    broker: brokerConfigSchema.optional(),
    storage: z
      .object({
        /**
         * Where records go: absent or `sqlite:PATH` = the embedded SQLite file (the data
         * directory's by default); `postgres://user@host/db` = a PostgreSQL database.
         */
        url: z
          .string()
          .optional()
          .superRefine((v, ctx) => {
            try {
              parseStorageUrl(v);
            } catch (e) {
              ctx.addIssue({
                code: 'custom',
                message: (e as Error).message.replace(/^storage\.url /, ''),
              });
            }
          }),
        retention_days: z
          .object({
            raw: days.optional(),
            '1m': days.optional(),
            '15m': days.optional(),
            '1h': days.optional(),
          })
          .strict()
          .default({}),
        /** How often buffered samples are written (ms); a kill -9 loses at most this much. */
        batch_ms: z.number().int().min(100).max(2000).default(1000),
        /** Hours between integrity checks of the database (quick_check, off the event loop); 0: never. */
        integrity_check_h: z.number().min(0).max(168).default(1),
      })
      .strict()
      .default({ retention_days: {}, batch_ms: 1000, integrity_check_h: 1 }),
    sites: z.array(siteSchema).default([]),
    /** User alarm rules (validated by the alarm engine's schema). */
    alarm_rules: z.array(z.unknown()).default([]),
    /** MQTT publisher, Home Assistant discovery and MQTT commands. */
    mqtt: mqttConfigSchema.optional(),
    /** Modbus TCP server with seed 001's register map (docs/modbus.md). */
    modbus_tcp: modbusTcpConfigSchema.optional(),
    /** Modbus TCP client writing chosen values to another server. */
    modbus_client: modbusClientConfigSchema.optional(),
    /** Prometheus /metrics. */
    metrics: metricsConfigSchema.optional(),
    /** UART-over-TCP tunnel for vendor PC software (exclusive lease of one bus). */
    tunnel: tunnelConfigSchema.optional(),
    /** Notification channels: ntfy, Pushover, e-mail, webhook (integrations/notify). */
    notifications: notificationsConfigSchema.optional(),
    /** GPS tracker servers: JT/T 808, GT06, GB/T 32960 (TCP) and OsmAnd (HTTP). */
    trackers: trackersConfigSchema.optional(),
    /** The web console's map tiles (web.map; docs/trackers.md). */
    web: webConfigSchema.optional(),
    /** Where the site is: sunrise/sunset reports and the quiet hours' time zone. */
    location: locationSchema.transform(withZone).optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    const sites = new Set<string>();
    c.sites.forEach((s, i) => {
      if (sites.has(s.id))
        ctx.addIssue({
          code: 'custom',
          path: ['sites', i, 'id'],
          message: `site id "${s.id}" is used twice`,
        });
      sites.add(s.id);
      const buses = new Set<string>();
      s.buses.forEach((b, j) => {
        if (buses.has(b.id)) {
          ctx.addIssue({
            code: 'custom',
            path: ['sites', i, 'buses', j, 'id'],
            message: `bus id "${b.id}" is used twice in site ${s.id}`,
          });
        }
        buses.add(b.id);
      });
    });
  });

export type Config = z.infer<typeof configSchema>;
export type SiteConfig = Config['sites'][number];
export type BusConfig = SiteConfig['buses'][number];

function pathOf(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (s, k) => (typeof k === 'number' ? `${s}[${k}]` : s ? `${s}.${String(k)}` : String(k)),
    '',
  );
}

/** Checks a parsed object; throws CONFIG_INVALID naming every bad key. */
export function validateConfig(raw: unknown, source = 'config'): Config {
  const r = configSchema.safeParse(raw);
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => {
    let msg = i.message;
    if (i.code === 'unrecognized_keys')
      msg = `unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `"${k}"`).join(', ')}`;
    if (i.code === 'invalid_value' && 'values' in i)
      msg = `invalid value; accepted: ${(i.values as unknown[]).map(String).join(', ')}`;
    return `${pathOf(i.path) || '(top level)'}: ${msg}`;
  });
  throw new BmsError('CONFIG_INVALID', `${source} is invalid:\n  ${lines.join('\n  ')}`, {
    issues: lines,
  });
}

/** Reads and checks a YAML config file. */
export function loadConfig(path: string): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new BmsError(
      'CONFIG_INVALID',
      `cannot read config file ${path}: ${(e as Error).message}`,
    );
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    const where = e instanceof YAMLParseError && e.linePos ? ` (line ${e.linePos[0].line})` : '';
    throw new BmsError(
      'CONFIG_INVALID',
      `${path} is not valid YAML${where}: ${(e as Error).message.split('\n')[0]}`,
    );
  }
  if (raw === null || raw === undefined) raw = {};
  if (typeof raw === 'object' && raw !== null && !('version' in raw)) {
    throw new BmsError(
      'CONFIG_INVALID',
      `${path}: "version: ${CONFIG_VERSION}" is required at the top`,
    );
  }
  return validateConfig(raw, path);
}

/**
 * The demo site: a rack of 4 PACE packs in parallel (the wall / rack batteries of seeds 002 and
 * 004; Rack 4 allows unverified commands, so calibration and the like can be tried on the
 * simulator), one Pylontech pack on its own bus, one JK, one DALY; a solar day at 60x.
 */
export function demoSite(): SiteConfig {
  const sim = (seed: number, soc: number) => ({
    profile: 'solar',
    speed: 60,
    seed,
    soc_pct: soc,
    cells: 16,
    capacity_ah: 100,
    faults: [],
  });
  const bus = (
    busId: string,
    protocol: string,
    addresses: number[],
    names: string[],
    seed: number,
    soc: number,
    unverified: readonly number[] = [],
  ): BusConfig => ({
    id: busId,
    port: 'sim',
    protocol,
    poll_interval_s: 2,
    retries: 2,
    simulator: sim(seed, soc),
    packs: addresses.map((address, i) => ({
      address,
      name: names[i]!,
      chemistry: 'lfp' as const,
      allow_unverified: unverified.includes(address),
    })),
  });
  return {
    id: 'demo',
    name: DEMO_SITE_NAME,
    buses: [
      bus('rack', 'pace', [1, 2, 3, 4], ['Rack 1', 'Rack 2', 'Rack 3', 'Rack 4'], 1, 55, [4]),
      bus('pylon', 'pylontech', [2], ['Pylontech pack'], 4, 55),
      bus('jk', 'jk', [1], ['JK pack'], 2, 70),
      bus('daly', 'daly', [0x40], ['DALY pack'], 3, 40),
    ],
  };
}

/** The config used when there is no config file: the demo site only. */
export function defaultConfig(): Config {
  return validateConfig({ version: CONFIG_VERSION, demo: true });
}

/** Every pack of the config (demo site included when `demo: true`), with stable ids. */
export function packsOf(c: Config): PackRef[] {
  const sites = c.demo ? [demoSite(), ...c.sites] : c.sites;
  return sites.flatMap((s) =>
    s.buses.flatMap((b) =>
      b.packs.map((p) => {
        const ref: PackRef = {
          id: `${s.id}/${b.id}/${p.address}`,
          name: p.name ?? `${b.id} ${p.address}`,
          site: s.id,
          bus: b.id,
          address: p.address,
          protocol: getProtocol(b.protocol).id,
          chemistry: p.chemistry,
        };
        if (p.variant !== undefined) ref.variant = p.variant;
        if (p.allow_unverified) ref.allowUnverified = true;
        const limits = {
          ...(p.design_ah !== undefined ? { designAh: p.design_ah } : {}),
          ...(p.max_charge_c !== undefined ? { maxChargeC: p.max_charge_c } : {}),
          ...(p.max_discharge_c !== undefined ? { maxDischargeC: p.max_discharge_c } : {}),
        };
        if (Object.keys(limits).length > 0) ref.limits = limits;
        return ref;
      }),
    ),
  );
}

export function sitesOf(c: Config): SiteConfig[] {
  return c.demo ? [demoSite(), ...c.sites] : c.sites;
}
