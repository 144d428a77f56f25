export {
  GatewaySettings,
  type IntegrationStatus,
  type RestoreResult,
  type SettingsHost,
  type SettingsTestResult,
  type SettingsUpdate,
  type SettingsView,
} from './service.js';
