export { mqttConfigSchema, parseMqttConfig, MQTT_FIELDS } from './schema.js';
export type { MqttConfig, MqttConfigInput } from './schema.js';
export { MqttIntegration, MQTT_USER, redactUrl } from './integration.js';
export type {
  CommandResult,
  MqttControl,
  MqttIntegrationOptions,
  MqttLogFn,
  MqttStatus,
} from './integration.js';
export {
  gatewayDiscovery,
  packDiscovery,
  systemDiscovery,
  systemState,
  topics,
  ORIGIN,
} from './discovery.js';
export type { DiscoveryContext, DiscoveryMessage } from './discovery.js';
export {
  DailyMax,
  alarmSummary,
  heartbeatPayload,
  seedPackPayload,
  seedTimestamp,
  statePayload,
} from './payloads.js';
export { TopicNames, assignNames, escapedName, legacyName } from './ids.js';
export type { AlarmSummary } from './payloads.js';
export { iotMqttPanelDashboard } from './panel.js';
export type { IotMqttPanelDashboard, PanelDef } from './panel.js';
