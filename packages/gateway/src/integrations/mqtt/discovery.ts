/**
 * Home Assistant MQTT discovery, derived from the core metric catalog (unit, device_class,
 * state_class): one device per pack, one per parallel system (bus), one for the gateway.
 * unique_ids come from the base topic and the pack's stable id (`site/bus/address`, named
 * by `ids.ts`: one name per id), never from its display name, so a rename never breaks HA.
 */
import {
  DERIVED_METRICS,
  GATEWAY_ALARM_SCOPE,
  METRICS,
  type DeviceInfo,
  type MetricDef,
} from '@openbms/core';
import type { PackStatus } from '../../types.js';
import { GATEWAY_VERSION } from '../../version.js';
import { TopicNames, legacyName } from './ids.js';

export interface DiscoveryMessage {
  topic: string;
  payload: Record<string, unknown>;
}

export interface DiscoveryContext {
  base: string;
  prefix: string;
  /** MOS switches and the SOC number are offered only when their commands are enabled. */
  commands: { mos: boolean; soc: boolean };
  /** The topic level of each pack and system (one per id). */
  names: TopicNames;
}

/** What a pack's control capabilities say (the part discovery and the panel export read). */
export interface FamilyCapabilities {
  operations: Record<string, boolean>;
  unverified: Record<string, string>;
  allowUnverified: boolean;
}

/**
 * The commands a pack may be offered: enabled in the config and, when its capabilities are
 * known, present in its family's protocol and not held behind the unverified switch.
 */
export function offeredCommands(
  enabled: { mos: boolean; soc: boolean },
  caps: FamilyCapabilities | undefined,
): { mos: boolean; soc: boolean } {
  if (!caps) return enabled;
  const can = (op: string): boolean =>
    caps.operations[op] === true && (caps.unverified[op] === undefined || caps.allowUnverified);
  return { mos: enabled.mos && can('set_mos'), soc: enabled.soc && can('set_soc') };
}

/** Who sent the config (HA shows it in the entity's information and logs). */
export const ORIGIN = { name: 'OpenBMS', sw_version: GATEWAY_VERSION } as const;

/** Identity metrics that are not worth an entity. */
const SKIP = new Set(['protocol', 'address', 'ts', 'alarms', 'info', 'packs']);
/** Booleans that become switches when MOS commands are enabled. */
const MOS = new Set(['charge_mos', 'discharge_mos']);

/** Topics shared by the integration and the discovery configs. */
export function topics(base: string, names: TopicNames = new TopicNames([])) {
  const slug = (id: string): string => names.pack(id);
  return {
    status: `${base}/status`,
    index: `${base}/discovery`,
    state: (id: string) => `${base}/${slug(id)}/state`,
    availability: (id: string) => `${base}/${slug(id)}/availability`,
    alarms: (id: string) => `${base}/${slug(id)}/alarms`,
    /** The gateway's own alarms (storage full, database damaged), summarized like a pack's. */
    gatewayAlarms: `${base}/${GATEWAY_ALARM_SCOPE}/alarms`,
    set: (id: string, what: string) => `${base}/${slug(id)}/set/${what}`,
    result: (id: string) => `${base}/${slug(id)}/result`,
    compat: (id: string, what: string) => `${base}/${slug(id)}/compat/${what}`,
    system: (site: string, bus: string) => `${base}/system/${names.system(site, bus)}/state`,
  };
}

/** The base topic as part of an id (one gateway has one base topic; `/` becomes `_`). */
const baseName = (base: string): string => legacyName(base);
export const gatewayIdentifier = (base: string): string => `openbms_${baseName(base)}_gateway`;
const packIdentifier = (ctx: DiscoveryContext, id: string): string =>
  `openbms_${baseName(ctx.base)}_${ctx.names.pack(id)}`;
const systemIdentifier = (ctx: DiscoveryContext, site: string, bus: string): string =>
  `openbms_${baseName(ctx.base)}_system_${ctx.names.system(site, bus)}`;
/**
 * The serial as a device identifier, namespaced by the gateway (two gateways seeing one
 * serial, or a copied serial, must not merge their devices in HA).
 */
const serialIdentifier = (base: string, serial: string): string =>
  `openbms_${baseName(base)}_serial_${legacyName(serial)}`;

function classes(def: MetricDef): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (def.unit) out['unit_of_measurement'] = def.unit;
  if (def.ha?.device_class) out['device_class'] = def.ha.device_class;
  if (def.ha?.state_class) out['state_class'] = def.ha.state_class;
  return out;
}

const label = (def: MetricDef): string => def.label.replace(/\s*\(.*\)$/, '');

/** The gateway device: a connectivity sensor on the availability topic, and its own alarms. */
export function gatewayDiscovery(ctx: DiscoveryContext): DiscoveryMessage[] {
  const t = topics(ctx.base, ctx.names);
  const node = `${baseName(ctx.base)}_gateway`;
  const device = {
    identifiers: [gatewayIdentifier(ctx.base)],
    name: `OpenBMS gateway (${ctx.base})`,
    manufacturer: 'OpenBMS',
    model: 'Gateway',
  };
  return [
    {
      topic: `${ctx.prefix}/binary_sensor/${node}/connected/config`,
      payload: {
        name: 'Connected',
        unique_id: `${gatewayIdentifier(ctx.base)}_connected`,
        state_topic: t.status,
        payload_on: 'online',
        payload_off: 'offline',
        device_class: 'connectivity',
        entity_category: 'diagnostic',
        device,
        origin: ORIGIN,
      },
    },
    {
      topic: `${ctx.prefix}/binary_sensor/${node}/alarm/config`,
      payload: {
        name: 'Alarm',
        unique_id: `${gatewayIdentifier(ctx.base)}_alarm`,
        state_topic: t.gatewayAlarms,
        value_template: "{{ 'ON' if value_json.active > 0 else 'OFF' }}",
        payload_on: 'ON',
        payload_off: 'OFF',
        device_class: 'problem',
        json_attributes_topic: t.gatewayAlarms,
        json_attributes_template:
          '{{ {"alarms": value_json.alarms, "text": value_json.text} | tojson }}',
        device,
        origin: ORIGIN,
      },
    },
  ];
}

/**
 * A pack's entities: every catalog metric in its state (numbers as sensors, arrays as one
 * sensor per element, booleans as binary sensors or MOS switches), the energy meters, alarm
 * sensors. `serialShared`: another pack of this gateway reports the same serial (then the
 * serial is no identifier: the two would merge into one device).
 */
export function packDiscovery(
  pack: PackStatus,
  state: Record<string, unknown>,
  info: DeviceInfo | undefined,
  ctx: DiscoveryContext,
  serialShared = false,
): DiscoveryMessage[] {
  const t = topics(ctx.base, ctx.names);
  const uid = packIdentifier(ctx, pack.id);
  const node = `${baseName(ctx.base)}_${ctx.names.pack(pack.id)}`;
  const device: Record<string, unknown> = {
    identifiers:
      info?.serial && !serialShared ? [uid, serialIdentifier(ctx.base, info.serial)] : [uid],
    name: pack.name,
    manufacturer: info?.manufacturer ?? `${pack.protocol.toUpperCase()} BMS`,
    model: info?.model ?? `${pack.protocol} pack at address ${pack.address}`,
    via_device: gatewayIdentifier(ctx.base),
  };
  if (info?.sw_version) device['sw_version'] = info.sw_version;
  if (info?.hw_version) device['hw_version'] = info.hw_version;
  if (info?.serial) device['serial_number'] = info.serial;
  const common = {
    availability: [{ topic: t.status }, { topic: t.availability(pack.id) }],
    availability_mode: 'all',
    device,
    origin: ORIGIN,
  };
  const out: DiscoveryMessage[] = [];
  const add = (component: string, object: string, payload: Record<string, unknown>): void => {
    out.push({
      topic: `${ctx.prefix}/${component}/${node}/${object}/config`,
      payload: { ...payload, unique_id: `${uid}_${object}`, ...common },
    });
  };
  for (const def of [...METRICS, ...DERIVED_METRICS]) {
    const v = state[def.key];
    if (v === undefined || SKIP.has(def.key)) continue;
    const base = { state_topic: t.state(pack.id) };
    if (def.type === 'number' || def.type === 'integer' || def.type === 'string') {
      add('sensor', def.key, {
        ...base,
        name: label(def),
        value_template: `{{ value_json.${def.key} }}`,
        ...classes(def),
      });
    } else if (def.type === 'number[]' && Array.isArray(v)) {
      const what =
        def.key === 'cell_mv' ? 'Cell' : def.key === 'temps_c' ? 'Temperature' : label(def);
      v.forEach((_, i) => {
        add('sensor', `${def.key}_${i + 1}`, {
          ...base,
          name: `${what} ${i + 1}`,
          value_template: `{{ value_json.${def.key}[${i}] }}`,
          ...classes(def),
        });
      });
    } else if (def.type === 'boolean') {
      const tpl = `{{ 'ON' if value_json.${def.key} else 'OFF' }}`;
      if (MOS.has(def.key) && ctx.commands.mos) {
        add('switch', def.key, {
          ...base,
          name: label(def).replace(' on', ''),
          value_template: tpl,
          state_on: 'ON',
          state_off: 'OFF',
          command_topic: t.set(pack.id, def.key),
          payload_on: 'ON',
          payload_off: 'OFF',
          optimistic: false,
          icon: 'mdi:electric-switch',
        });
      } else {
        add('binary_sensor', def.key, {
          ...base,
          name: label(def).replace(' on', ''),
          value_template: tpl,
          payload_on: 'ON',
          payload_off: 'OFF',
        });
      }
    }
  }
  if (ctx.commands.soc && state['soc_pct'] !== undefined) {
    add('number', 'set_soc', {
      name: 'Set state of charge',
      command_topic: t.set(pack.id, 'soc'),
      state_topic: t.state(pack.id),
      value_template: '{{ value_json.soc_pct }}',
      min: 0,
      max: 100,
      step: 1,
      mode: 'box',
      unit_of_measurement: '%',
      entity_category: 'config',
    });
  }
  // Alarms: one "any" problem sensor, one per severity, and the active alarms in words.
  const alarms = { state_topic: t.alarms(pack.id), payload_on: 'ON', payload_off: 'OFF' };
  add('binary_sensor', 'alarm', {
    ...alarms,
    name: 'Alarm',
    device_class: 'problem',
    value_template: "{{ 'ON' if value_json.active > 0 else 'OFF' }}",
  });
  for (const sev of ['warning', 'protection', 'fault'] as const) {
    add('binary_sensor', `alarm_${sev}`, {
      ...alarms,
      name: `Alarm ${sev}`,
      device_class: 'problem',
      value_template: `{{ 'ON' if value_json.${sev} else 'OFF' }}`,
    });
  }
  add('sensor', 'alarms_text', {
    state_topic: t.alarms(pack.id),
    name: 'Active alarms',
    value_template: '{{ value_json.text }}',
    json_attributes_topic: t.alarms(pack.id),
    json_attributes_template: '{{ {"alarms": value_json.alarms} | tojson }}',
    icon: 'mdi:alert',
  });
  return out;
}

/** Aggregates of a parallel system (bus), for its state topic. */
export function systemState(packs: PackStatus[]): Record<string, number> {
  const live = packs.filter((p) => p.online && p.snapshot);
  const vals = (k: 'voltage_v' | 'current_a' | 'power_w' | 'soc_pct'): number[] =>
    live.flatMap((p) => (typeof p.snapshot?.[k] === 'number' ? [p.snapshot[k]] : []));
  const sum = (a: number[]): number => Math.round(a.reduce((x, y) => x + y, 0) * 100) / 100;
  const avg = (a: number[]): number => Math.round((sum(a) / a.length) * 100) / 100;
  const out: Record<string, number> = { packs_online: live.length, packs: packs.length };
  const v = vals('voltage_v');
  const i = vals('current_a');
  const w = vals('power_w');
  const soc = vals('soc_pct');
  if (v.length) out['voltage_v'] = avg(v);
  if (i.length) out['current_a'] = sum(i);
  if (w.length) out['power_w'] = sum(w);
  if (soc.length) out['soc_pct'] = avg(soc);
  return out;
}

const SYSTEM_METRICS = ['voltage_v', 'current_a', 'power_w', 'soc_pct'] as const;

/** The parallel system's device: totals (current, power), averages (voltage, SOC), packs online. */
export function systemDiscovery(
  site: string,
  bus: string,
  ctx: DiscoveryContext,
  /** Whether an aggregate's point is shown (`mqtt.points_as`); a hidden one has no entity. */
  shown: (key: string) => boolean = () => true,
): DiscoveryMessage[] {
  const t = topics(ctx.base, ctx.names);
  const uid = systemIdentifier(ctx, site, bus);
  const node = `${baseName(ctx.base)}_system_${ctx.names.system(site, bus)}`;
  const device = {
    identifiers: [uid],
    name: `Battery system ${site}/${bus}`,
    manufacturer: 'OpenBMS',
    model: 'Parallel system',
    via_device: gatewayIdentifier(ctx.base),
  };
  const state_topic = t.system(site, bus);
  const common = { state_topic, availability_topic: t.status, device, origin: ORIGIN };
  const out: DiscoveryMessage[] = SYSTEM_METRICS.filter(shown).map((key) => {
    const def = METRICS.find((m) => m.key === key)!;
    return {
      topic: `${ctx.prefix}/sensor/${node}/${key}/config`,
      payload: {
        name: label(def),
        unique_id: `${uid}_${key}`,
        value_template: `{{ value_json.${key} }}`,
        ...classes(def),
        ...common,
      },
    };
  });
  out.push({
    topic: `${ctx.prefix}/sensor/${node}/packs_online/config`,
    payload: {
      name: 'Packs online',
      unique_id: `${uid}_packs_online`,
      value_template: '{{ value_json.packs_online }}',
      state_class: 'measurement',
      ...common,
    },
  });
  return out;
}
