/**
 * The one list of built-in integrations, in the order they start and show on the settings
 * page. Adding an integration: its folder with a `descriptor.ts`, its section's schema in
 * the config (`config.ts`), and one line here. Nothing in the gateway or the settings
 * service names a section.
 */
import type { AnyIntegration } from './integration.js';
import { METRICS_INTEGRATION } from './metrics/descriptor.js';
import { MODBUS_CLIENT_INTEGRATION, MODBUS_TCP_INTEGRATION } from './modbus/descriptor.js';
import { MQTT_INTEGRATION } from './mqtt/descriptor.js';
import { NOTIFICATIONS_INTEGRATION } from './notify/descriptor.js';
import { IntegrationRegistry } from './registry.js';
import { TUNNEL_INTEGRATION } from './tunnel/descriptor.js';

export const BUILTIN_INTEGRATIONS: readonly AnyIntegration[] = [
  MQTT_INTEGRATION,
  MODBUS_TCP_INTEGRATION,
  MODBUS_CLIENT_INTEGRATION,
  TUNNEL_INTEGRATION,
  METRICS_INTEGRATION,
  NOTIFICATIONS_INTEGRATION,
];

/** A registry of the built-in integrations (what `openbms start` runs). */
export function builtinRegistry(): IntegrationRegistry {
  return new IntegrationRegistry(BUILTIN_INTEGRATIONS);
}
