/** The pure parts: config schema errors, seed 001 payloads, alarm words, the panel export. */
import { describe, expect, it } from 'vitest';
import { makeAlarm } from '@openbms/core';
import {
  DailyMax,
  alarmSummary,
  heartbeatPayload,
  seedPackPayload,
  statePayload,
} from './payloads.js';
import { iotMqttPanelDashboard } from './panel.js';
import { mqttConfigSchema, parseMqttConfig } from './schema.js';
import { redactUrl } from './integration.js';

const snap = {
  voltage_v: 47.2,
  current_a: 6.2,
  power_w: 292.6,
  soc_pct: 27,
  cell_mv: [2927, 2956, 2957],
  delta_cell_mv: 30,
  avg_cell_mv: 2946.7,
  max_temp_c: 12,
  min_cell_mv: 2927,
  max_cell_mv: 2957,
  remaining_ah: 84,
  charge_mos: true,
  discharge_mos: false,
  alarms: [makeAlarm('cell_uv', { level: 1 })],
  raw: { x: 1 },
};

describe('config', () => {
  it('fills the defaults of the issue', () => {
    expect(parseMqttConfig({})).toMatchObject({
      url: 'mqtt://127.0.0.1:1883',
      base_topic: 'openbms',
      qos: 0,
      homeassistant: { enabled: true, discovery_prefix: 'homeassistant' },
      commands: { enabled: false, mos: true, soc: false },
      compat: { heartbeat: false, daily_max: false, pack: 'off' },
    });
  });
  it('rejects unknown keys, wildcards, bad fields with clear errors', () => {
    const err = (raw: unknown): string => {
      const r = mqttConfigSchema.safeParse(raw);
      if (r.success) throw new Error('expected an error');
      return r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    };
    expect(err({ base_topc: 'x' })).toMatch(/base_topc/);
    expect(err({ base_topic: 'a/#' })).toMatch(
      /^base_topic: must be an MQTT topic without wildcards/,
    );
    expect(err({ fields: ['soc'] })).toMatch(/fields.0: unknown field "soc"; accepted: .*soc_pct/);
    expect(err({ qos: 3 })).toMatch(/qos must be 0, 1 or 2/);
    expect(err({ tls: { cert: '/a.pem' } })).toMatch(/cert and key go together/);
  });
  it('never shows a password in a logged URL', () => {
    expect(redactUrl('mqtts://me:s3cret@broker:8883')).toBe('mqtts://me:***@broker:8883');
  });
});

describe('payloads', () => {
  it('state: canonical keys, no raw unless chosen, fields filter', () => {
    expect(statePayload(snap, undefined)).not.toHaveProperty('raw');
    expect(statePayload(snap, ['soc_pct', 'raw'])).toEqual({ soc_pct: 27, raw: { x: 1 } });
  });
  it('alarms in words', () => {
    expect(alarmSummary(snap)).toMatchObject({
      active: 1,
      text: 'Cell under-voltage (warning)',
      warning: true,
      fault: false,
    });
  });
  it("seed 001's pack message with the bat map or b0..bN keys", () => {
    expect(seedPackPayload(snap, 'bat')).toEqual({
      bat: { '0': 2927, '1': 2956, '2': 2957 },
      SOC: 27,
      PWT: 293,
      PMV: '47.20',
      PMA: '6.20',
      PDV: 30,
      AMV: 2947,
      TMP: 12,
      ALM: 'cell_uv',
      ALMF: 1,
      DMS: 0,
      CMS: 1,
    });
    expect(seedPackPayload(snap, 'b0')).toMatchObject({ b0: 2927, b2: 2957, SOC: 27 });
  });
  it("seed 001's heartbeat (site's local time, process RSS in bytes) and daily maxima", () => {
    // 2025-12-22 12:12:47 UTC is 13:12:47 in Berlin (CET) and 07:12:47 in New York.
    const now = Date.UTC(2025, 11, 22, 12, 12, 47);
    const hb = (timeZone: string) =>
      heartbeatPayload({
        online: true,
        now,
        startedAt: now - 2535_000,
        rssBytes: 81_920_000,
        timeZone,
      });
    expect(hb('Europe/Berlin')).toEqual({
      Status: 1,
      ts: '12/22/25 13:12:47',
      cnt: 2535,
      mem: 81_920_000,
    });
    expect(hb('America/New_York').ts).toBe('12/22/25 07:12:47');
    const d = new DailyMax('Europe/Berlin');
    d.update(snap, now);
    d.update({ ...snap, soc_pct: 40, min_cell_mv: 2900, max_cell_mv: 2990 }, now + 1000);
    expect(d.payload()).toEqual({ SCM: 40, MIC: 2900, MAC: 2990, RCP: 84 });
    d.update({ soc_pct: 10 }, now + 86_400_000);
    expect(d.payload()).toEqual({ SCM: 10, RCP: 84 });
    // The day turns at the site's midnight: 23:30 UTC is already tomorrow in Berlin.
    const late = new DailyMax('Europe/Berlin');
    late.update({ soc_pct: 90 }, Date.UTC(2025, 11, 22, 22, 30));
    late.update({ soc_pct: 20 }, Date.UTC(2025, 11, 22, 23, 30));
    expect(late.payload()).toEqual({ SCM: 20 });
  });
});

describe('IoT MQTT Panel export', () => {
  it('one dashboard per pack, a panel per cell, no password', () => {
    const cfg = parseMqttConfig({
      url: 'mqtts://broker.example:8883',
      username: 'me',
      password: 'secret',
      commands: { enabled: true },
    });
    const ref = {
      id: 's/b/1',
      name: 'Rack',
      site: 's',
      bus: 'b',
      address: 1,
      protocol: 'daly',
      chemistry: 'lfp' as const,
    };
    const d = iotMqttPanelDashboard([ref], cfg);
    const c = d.connections[0]!;
    expect(c).toMatchObject({
      host: 'broker.example',
      port: 8883,
      network: 'SSL',
      username: 'me',
      password: '',
    });
    expect(JSON.stringify(d)).not.toContain('secret');
    const panels = c.dashboards[0]!.panels;
    expect(panels.filter((p) => p.jsonPath?.startsWith('$.cell_mv['))).toHaveLength(16);
    expect(panels.find((p) => p.panelName === 'Charge MOS')).toMatchObject({
      type: 'switch',
      topic: 'openbms/s_b_1/set/charge_mos',
    });
  });

  it('offers MOS switches only to packs whose family has the command', () => {
    const cfg = parseMqttConfig({ commands: { enabled: true } });
    const ref = (id: string, protocol: string) => ({
      id,
      name: id,
      site: 's',
      bus: 'b',
      address: Number(id.split('/')[2]),
      protocol,
      chemistry: 'lfp' as const,
    });
    const caps = (mos: boolean) => ({
      operations: { set_mos: mos },
      unverified: {},
      allowUnverified: false,
    });
    const d = iotMqttPanelDashboard([ref('s/b/1', 'jk'), ref('s/b/2', 'pylontech')], cfg, (id) =>
      caps(id === 's/b/1'),
    );
    const switches = d.connections[0]!.dashboards.map(
      (x) => x.panels.filter((p) => p.type === 'switch').length,
    );
    expect(switches).toEqual([2, 0]);
  });

  it('names the topics of look-alike packs apart', () => {
    const cfg = parseMqttConfig({});
    const ref = (site: string, bus: string) => ({
      id: `${site}/${bus}/1`,
      name: site,
      site,
      bus,
      address: 1,
      protocol: 'daly',
      chemistry: 'lfp' as const,
    });
    const d = iotMqttPanelDashboard([ref('a_b', 'c'), ref('a', 'b_c')], cfg);
    const socTopics = d.connections[0]!.dashboards.map((x) => x.panels[0]!.topic);
    expect(socTopics).toEqual(['openbms/a__b_c_1/state', 'openbms/a_b__c_1/state']);
  });
});
