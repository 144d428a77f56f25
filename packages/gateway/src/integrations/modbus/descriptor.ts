/**
 * The `modbus_tcp:` (server) and `modbus_client:` sections as registered integrations: two
 * integrations of one folder, each with its runtime, status and test.
 */
import type {
  Integration,
  IntegrationContext,
  IntegrationRuntime,
  RuntimeStatus,
} from '../integration.js';
import { nothingToTest, probeModbusServer, probeTcp } from '../probes.js';
import { ModbusTcpClient } from './client.js';
import {
  modbusClientConfigSchema,
  modbusTcpConfigSchema,
  type ModbusClientConfig,
  type ModbusTcpConfig,
} from './schema.js';
import { ModbusTcpServer } from './server.js';

const isEnabled = (v: { enabled?: boolean } | undefined): boolean =>
  v !== undefined && v.enabled !== false;

export class ModbusServerRuntime implements IntegrationRuntime {
  private srv: ModbusTcpServer | undefined;

  constructor(private readonly ctx: IntegrationContext<ModbusTcpConfig>) {}

  async start(): Promise<void> {
    const config = this.ctx.value();
    if (this.srv || !config) return;
    const ctx = this.ctx;
    this.srv = new ModbusTcpServer({
      config,
      packs: () => ctx.packs(),
      control: ctx.control,
      activeAlarms: (id) => ctx.activeAlarms(id),
      log: ctx.log,
      clock: ctx.clock,
    });
    await this.srv.start();
  }

  async stop(): Promise<void> {
    const srv = this.srv;
    this.srv = undefined;
    await srv?.stop();
  }

  status(): RuntimeStatus {
    const st = this.srv?.status();
    const out: RuntimeStatus = { running: st?.state === 'listening' };
    if (st) out.state = st.state;
    if (st?.state === 'listening') out.listening = `${st.host}:${st.port}`;
    if (st) out.detail = { clients: st.clients, requests: st.requests, units: st.units.length };
    if (st?.lastError !== undefined) out.last_error = st.lastError;
    return out;
  }

  /** The port could not be bound (in use, no permission). */
  startFailure(): string | undefined {
    const st = this.srv?.status();
    return st?.state === 'error' ? (st.lastError ?? 'cannot listen') : undefined;
  }

  /** The server while it runs. */
  server(): ModbusTcpServer | undefined {
    return this.srv;
  }
}

export class ModbusClientRuntime implements IntegrationRuntime {
  private cl: ModbusTcpClient | undefined;

  constructor(private readonly ctx: IntegrationContext<ModbusClientConfig>) {}

  async start(): Promise<void> {
    const config = this.ctx.value();
    if (this.cl || !config) return;
    const ctx = this.ctx;
    this.cl = new ModbusTcpClient({
      config,
      packs: () => ctx.packs(),
      log: ctx.log,
      clock: ctx.clock,
    });
    this.cl.start();
  }

  async stop(): Promise<void> {
    const cl = this.cl;
    this.cl = undefined;
    await cl?.stop();
  }

  status(): RuntimeStatus {
    const st = this.cl?.status();
    const out: RuntimeStatus = { running: st !== undefined, connected: st?.state === 'connected' };
    if (st) {
      out.state = st.state;
      out.detail = { target: `${st.host}:${st.port}`, writes: st.writes, failures: st.failures };
    }
    if (st?.lastError !== undefined) out.last_error = st.lastError;
    return out;
  }

  /** The client while it runs. */
  client(): ModbusTcpClient | undefined {
    return this.cl;
  }
}

export const MODBUS_TCP_INTEGRATION: Integration<ModbusTcpConfig, ModbusServerRuntime> = {
  section: 'modbus_tcp',
  logName: 'modbus',
  schema: modbusTcpConfigSchema,
  apply: 'live',
  secrets: {},
  enabled: isEnabled,
  create: (ctx) => new ModbusServerRuntime(ctx),
  async test({ value }, runtime) {
    if (!value) return nothingToTest('modbus_tcp');
    const r = await probeModbusServer(value.host, value.port);
    if (!r.ok && !runtime.status().running) {
      r.message += '; the Modbus TCP server is not running (save with enabled: true first)';
    }
    return r;
  },
};

export const MODBUS_CLIENT_INTEGRATION: Integration<ModbusClientConfig, ModbusClientRuntime> = {
  section: 'modbus_client',
  logName: 'modbus client',
  schema: modbusClientConfigSchema,
  apply: 'live',
  secrets: {},
  enabled: isEnabled,
  create: (ctx) => new ModbusClientRuntime(ctx),
  test: async ({ value }) =>
    value ? probeTcp(value.host, value.port, value.timeout_ms) : nothingToTest('modbus_client'),
};
