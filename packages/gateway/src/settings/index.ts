export {
  GatewaySettings,
  INTEGRATION_SECTIONS,
  type IntegrationStatus,
  type RestoreResult,
  type SettingsTestResult,
  type SettingsUpdate,
  type SettingsView,
} from './service.js';
export {
  dialHost,
  networkWords,
  probeListen,
  probeModbusServer,
  probeMqtt,
  probeTcp,
  type ProbeResult,
} from './probes.js';
