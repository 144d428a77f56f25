/**
 * The integration routes now answer through response schemas of the contract: the IoT MQTT
 * Panel download and the tunnel's status must still reach the client whole (a schema that
 * missed a field would drop it silently).
 */
import { iotMqttPanelDashboard, parseMqttConfig, type TunnelStatus } from '@openbms/gateway';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startHarness, type Harness } from './testing/harness.js';

let h: Harness;
let token: string;
beforeAll(async () => {
  h = await startHarness();
  token = await h.setupAdmin();
});
afterAll(() => h.close());

it('sends the IoT MQTT Panel dashboard whole, nested panels included', async () => {
  const dashboard = iotMqttPanelDashboard(
    h.gateway.packs(),
    parseMqttConfig({ url: 'mqtts://broker:8883', commands: { enabled: true } }),
  );
  Object.assign(h.gateway, { mqttPanel: () => dashboard });
  const r = await h.call('GET', '/api/v1/integrations/mqtt/iot-panel.json', { token });
  expect(r.status).toBe(200);
  expect(r.headers.get('content-disposition')).toContain('openbms-iot-mqtt-panel.json');
  expect(r.body).toEqual(JSON.parse(JSON.stringify(dashboard)));
});

it('sends every field of the tunnel status, the connected client included', async () => {
  const status: TunnelStatus = {
    enabled: true,
    listening: true,
    bus: 'home/bus1',
    host: '127.0.0.1',
    port: 6790,
    client: {
      address: '192.168.1.20:50122',
      since: '2030-01-01T00:00:00.000Z',
      uptimeS: 12.5,
      bytesIn: 40,
      bytesOut: 1300,
      expiresInS: 107.5,
      leased: true,
    },
    sessions: 3,
    refused: 1,
    lastError: 'EADDRINUSE once',
    lastClose: 'client closed',
  };
  Object.assign(h.gateway, { tunnelStatus: () => status });
  const r = await h.call('GET', '/api/v1/integrations/tunnel', { token });
  expect(r.status).toBe(200);
  expect(r.body).toEqual(status);
  Object.assign(h.gateway, { tunnelStatus: () => undefined });
  const none = await h.call('GET', '/api/v1/integrations/tunnel', { token });
  expect(none.status).toBe(404);
  expect(none.body.code).toBe('NOT_FOUND');
});
