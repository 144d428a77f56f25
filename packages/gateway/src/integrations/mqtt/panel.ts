/**
 * A dashboard for the IoT MQTT Panel app (seed 001 ships one). The app imports a backup
 * JSON holding connections, each with dashboards of panels (a topic, an optional JSON path
 * into the payload, a panel type). This export is deliberately minimal: one connection
 * (broker from the config, no password: the app's backup is plain text and the user types
 * it in), one dashboard per pack with SOC, power, voltage, current, cell delta, one panel
 * per cell, the alarms text and, when MOS commands are enabled and the pack's family has
 * them (`capabilities`, as Home Assistant discovery), two switches.
 */
import type { PackRef, PackStatus } from '../../types.js';
import { offeredCommands, topics, type FamilyCapabilities } from './discovery.js';
import { TopicNames } from './ids.js';
import type { MqttConfig } from './schema.js';

export interface PanelDef {
  panelId: string;
  panelName: string;
  type: 'gauge' | 'text' | 'switch' | 'line-graph';
  topic: string;
  jsonPath?: string;
  unit?: string;
  min?: number;
  max?: number;
  payloadOn?: string;
  payloadOff?: string;
  subscribeTopic?: string;
  qos: number;
}

export interface IotMqttPanelDashboard {
  /** Format marker of this export (ours), so a later version can be told apart. */
  exportedBy: 'openbms';
  version: 1;
  connections: {
    connectionName: string;
    host: string;
    port: number;
    network: 'TCP' | 'SSL' | 'WEBSOCKET';
    clientId: string;
    username: string;
    password: '';
    dashboards: { dashboardName: string; panels: PanelDef[] }[];
  }[];
}

export function iotMqttPanelDashboard(
  packs: readonly (PackRef | PackStatus)[],
  config: MqttConfig,
  capabilities?: (packId: string) => FamilyCapabilities | undefined,
): IotMqttPanelDashboard {
  const t = topics(config.base_topic, new TopicNames(packs.map((p) => p.id)));
  const url = new URL(config.url);
  const tls = url.protocol === 'mqtts:' || url.protocol === 'ssl:' || url.protocol === 'wss:';
  const ws = url.protocol === 'ws:' || url.protocol === 'wss:';
  const port = url.port ? Number(url.port) : ws ? (tls ? 443 : 80) : tls ? 8883 : 1883;
  const qos = config.qos;
  const mos = config.commands.enabled && config.commands.mos;
  let n = 0;
  const id = (): string => `p${++n}`;
  const dashboards = packs.map((p) => {
    const state = t.state(p.id);
    const gauge = (
      name: string,
      path: string,
      unit: string,
      min: number,
      max: number,
    ): PanelDef => ({
      panelId: id(),
      panelName: name,
      type: 'gauge',
      topic: state,
      jsonPath: path,
      unit,
      min,
      max,
      qos,
    });
    const text = (name: string, topic: string, path: string, unit?: string): PanelDef => ({
      panelId: id(),
      panelName: name,
      type: 'text',
      topic,
      jsonPath: path,
      ...(unit ? { unit } : {}),
      qos,
    });
    const cells =
      ('snapshot' in p && p.snapshot?.cell_mv?.length) ||
      ('snapshot' in p && p.snapshot?.cell_count) ||
      16;
    const panels: PanelDef[] = [
      gauge('SOC', '$.soc_pct', '%', 0, 100),
      text('Power', state, '$.power_w', 'W'),
      text('Voltage', state, '$.voltage_v', 'V'),
      text('Current', state, '$.current_a', 'A'),
      text('Cell delta', state, '$.delta_cell_mv', 'mV'),
      ...Array.from({ length: cells }, (_, i) => text(`b${i + 1}`, state, `$.cell_mv[${i}]`, 'mV')),
      text('Alarms', t.alarms(p.id), '$.text'),
    ];
    if (mos && offeredCommands({ mos, soc: false }, capabilities?.(p.id)).mos) {
      for (const key of ['charge_mos', 'discharge_mos'] as const) {
        panels.push({
          panelId: id(),
          panelName: key === 'charge_mos' ? 'Charge MOS' : 'Discharge MOS',
          type: 'switch',
          topic: t.set(p.id, key),
          subscribeTopic: state,
          jsonPath: `$.${key}`,
          payloadOn: 'ON',
          payloadOff: 'OFF',
          qos: 1,
        });
      }
    }
    return { dashboardName: p.name, panels };
  });
  return {
    exportedBy: 'openbms',
    version: 1,
    connections: [
      {
        connectionName: `OpenBMS ${config.base_topic}`,
        host: url.hostname,
        port,
        network: ws ? 'WEBSOCKET' : tls ? 'SSL' : 'TCP',
        clientId: `${config.client_id ?? 'openbms'}-panel`,
        username: config.username ?? '',
        password: '',
        dashboards,
      },
    ],
  };
}
