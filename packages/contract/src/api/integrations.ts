/** Integration downloads and statuses: the IoT MQTT Panel dashboard, the tunnel's status. */
import type { FromSchema } from 'json-schema-to-ts';

/** Seed 001's IoT MQTT Panel dashboard: the app's own format, passed through as it is. */
export const iotPanelSchema = {
  type: 'object',
  additionalProperties: true,
  description: 'The dashboard file to import into the IoT MQTT Panel app.',
} as const;

export const tunnelClientSchema = {
  type: 'object',
  required: ['address', 'since', 'uptimeS', 'bytesIn', 'bytesOut', 'expiresInS', 'leased'],
  additionalProperties: false,
  properties: {
    address: { type: 'string', description: 'The client, address:port.' },
    since: { type: 'string', description: 'Connected at (ISO 8601).' },
    uptimeS: { type: 'number' },
    bytesIn: { type: 'integer', description: 'From the client to the bus.' },
    bytesOut: { type: 'integer', description: 'From the bus to the client.' },
    expiresInS: { type: 'number', description: 'Seconds of silence left before it is closed.' },
    leased: {
      type: 'boolean',
      description: 'False while the session waits for the poll in progress to finish.',
    },
  },
} as const;

export const tunnelStatusSchema = {
  type: 'object',
  required: ['enabled', 'listening', 'bus', 'host', 'port', 'sessions', 'refused'],
  additionalProperties: false,
  properties: {
    enabled: { type: 'boolean' },
    listening: { type: 'boolean' },
    bus: { type: 'string' },
    host: { type: 'string' },
    port: { type: 'integer', description: 'The bound port.' },
    client: tunnelClientSchema,
    sessions: { type: 'integer', description: 'Sessions accepted since start.' },
    refused: { type: 'integer', description: 'Connections closed at once.' },
    lastError: { type: 'string' },
    lastClose: { type: 'string', description: 'Why the last session ended.' },
  },
} as const;

export type TunnelClient = FromSchema<typeof tunnelClientSchema>;
export type TunnelStatusView = FromSchema<typeof tunnelStatusSchema>;
