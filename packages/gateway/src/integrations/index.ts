// The integration registry (descriptor, runtime, registry, runner) and the built-in list.
// Each integration's own classes are exported from its folder's index (see ../index.ts).
export type {
  AnyIntegration,
  Integration,
  IntegrationContext,
  IntegrationLog,
  IntegrationRuntime,
  ReconfigureResult,
  RuntimeStatus,
  SectionIssue,
  TestRequest,
} from './integration.js';
export { IntegrationRegistry } from './registry.js';
export { IntegrationRunner, type IntegrationHost } from './runner.js';
export { BUILTIN_INTEGRATIONS, builtinRegistry } from './builtin.js';
export { MQTT_INTEGRATION, MqttRuntime } from './mqtt/descriptor.js';
export {
  MODBUS_CLIENT_INTEGRATION,
  MODBUS_TCP_INTEGRATION,
  ModbusClientRuntime,
  ModbusServerRuntime,
} from './modbus/descriptor.js';
export { TUNNEL_INTEGRATION, TunnelRuntime } from './tunnel/descriptor.js';
export { METRICS_INTEGRATION, MetricsRuntime, type MetricsExposure } from './metrics/descriptor.js';
export { NOTIFICATIONS_INTEGRATION, NotificationsRuntime } from './notify/descriptor.js';
export {
  dialHost,
  networkWords,
  nothingToTest,
  probeListen,
  probeModbusServer,
  probeMqtt,
  probeTcp,
  type ProbeResult,
} from './probes.js';
