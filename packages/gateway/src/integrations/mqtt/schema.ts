// The `mqtt:` section's schema lives in the browser-safe contract (packages/contract).
export {
  MQTT_FIELDS,
  mqttConfigSchema,
  parseMqttConfig,
  type MqttConfig,
  type MqttConfigInput,
} from '@openbms/contract';
