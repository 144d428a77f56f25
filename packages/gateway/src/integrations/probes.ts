/**
 * The "test" buttons of the settings page: short, real checks of an integration's settings
 * that answer in words (never throw). Each one opens its own connection and closes it.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import Modbus from 'modbus-serial';
import mqtt, { type IClientOptions } from 'mqtt';
import type { MqttConfig } from './mqtt/index.js';

export interface ProbeResult {
  ok: boolean;
  /** What happened, in words ("connection refused at 127.0.0.1:1884", "not authorised"). */
  message: string;
  /** MQTT: publish -> receive back, ms. */
  round_trip_ms?: number;
  /** Modbus TCP server: the registers read. */
  values?: number[];
  /** The address tried, host:port. */
  address?: string;
}

/** The answer when a test has no settings to test. */
export function nothingToTest(section: string): ProbeResult {
  return { ok: false, message: `no ${section} settings saved or given` };
}

const ModbusRTU = Modbus.default;

function codeOf(e: unknown): string | undefined {
  const o = e as { code?: unknown; errno?: unknown };
  if (typeof o?.code === 'string') return o.code;
  if (typeof o?.errno === 'string') return o.errno;
  return undefined;
}

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** A socket-level failure in words. */
export function networkWords(e: unknown, address: string): string {
  const code = codeOf(e);
  const host = address.replace(/:\d+$/, '');
  switch (code) {
    case 'ECONNREFUSED':
      return `connection refused at ${address} (nothing listens there)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `host "${host}" not found (DNS)`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${address} is unreachable (no route to the host)`;
    case 'ETIMEDOUT':
      return `no answer from ${address} (timed out)`;
    case 'ECONNRESET':
    case 'EPIPE':
      return `${address} closed the connection (TLS against a plain port, or the other way round?)`;
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      return `TLS: the certificate of ${address} is not trusted (${code}); give tls.ca, or tls.insecure for a self-signed broker`;
    case 'CERT_HAS_EXPIRED':
      return `TLS: the certificate of ${address} has expired`;
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `TLS: the certificate of ${address} is not for the host "${host}"`;
    default:
      return `${address}: ${messageOf(e)}`;
  }
}

// ---------------------------------------------------------------------- MQTT

const DEFAULT_PORTS: Record<string, number> = {
  mqtt: 1883,
  tcp: 1883,
  mqtts: 8883,
  ssl: 8883,
  ws: 80,
  wss: 443,
};

function brokerAddress(url: string): string {
  try {
    const u = new URL(url);
    const scheme = u.protocol.replace(':', '');
    return `${u.hostname}:${u.port || DEFAULT_PORTS[scheme] || 1883}`;
  } catch {
    return url;
  }
}

/** CONNACK refusals (MQTT 3.1.1 codes 1-5, MQTT 5 reason codes) in words. */
function connackWords(code: number): string | undefined {
  if (code === 5 || code === 135) return 'not authorised (the broker refused these credentials)';
  if (code === 4 || code === 134) return 'bad user name or password';
  if (code === 2 || code === 133) return 'the broker rejected the client id';
  if (code === 1 || code === 132) return 'the broker does not speak this MQTT version';
  if (code === 3 || code === 136) return 'the broker is unavailable';
  return undefined;
}

/**
 * Connects with these settings (TLS and credentials included), subscribes to
 * `<base_topic>/test`, publishes a nonce there and waits for it to come back.
 */
export function probeMqtt(cfg: MqttConfig, timeoutMs = 5000): Promise<ProbeResult> {
  const address = brokerAddress(cfg.url);
  const opts: IClientOptions = {
    clientId: `openbms-test-${randomBytes(4).toString('hex')}`,
    clean: true,
    keepalive: 10,
    reconnectPeriod: 0,
    connectTimeout: timeoutMs,
    queueQoSZero: false,
  };
  // (A password without a user name never gets here: the schema refuses it.)
  if (cfg.username !== undefined) opts.username = cfg.username;
  if (cfg.password !== undefined) opts.password = cfg.password;
  if (cfg.tls) {
    try {
      const read = (what: string, path: string | undefined): Buffer | undefined => {
        if (path === undefined) return undefined;
        try {
          return readFileSync(path);
        } catch (e) {
          throw new Error(`cannot read tls.${what} ${path}: ${codeOf(e) ?? messageOf(e)}`);
        }
      };
      const ca = read('ca', cfg.tls.ca);
      const cert = read('cert', cfg.tls.cert);
      const key = read('key', cfg.tls.key);
      if (ca) opts.ca = ca;
      if (cert) opts.cert = cert;
      if (key) opts.key = key;
      opts.rejectUnauthorized = !cfg.tls.insecure;
    } catch (e) {
      return Promise.resolve({ ok: false, message: messageOf(e), address });
    }
  }
  const topic = `${cfg.base_topic}/test`;
  const nonce = randomBytes(8).toString('hex');
  return new Promise((resolve) => {
    let done = false;
    let sentAt = 0;
    const client = mqtt.connect(cfg.url, opts);
    const finish = (r: Omit<ProbeResult, 'address'>): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      client.removeAllListeners('message');
      client.on('error', () => undefined);
      client.end(true);
      resolve({ ...r, address });
    };
    const timer = setTimeout(
      () =>
        finish({
          ok: false,
          message: client.connected
            ? `connected to ${address}, but the test message did not come back on ${topic} within ${timeoutMs / 1000} s (ACL?)`
            : `no answer from ${address} within ${timeoutMs / 1000} s (timeout)`,
        }),
      timeoutMs,
    );
    client.on('error', (e) => {
      const code = (e as { code?: unknown }).code;
      const refusal = typeof code === 'number' ? connackWords(code) : undefined;
      finish({ ok: false, message: refusal ?? networkWords(e, address) });
    });
    client.on('close', () => {
      if (!client.connected)
        finish({ ok: false, message: `${address} closed the connection before accepting it` });
    });
    client.on('message', (t, payload) => {
      if (t === topic && payload.toString('utf8') === nonce) {
        finish({
          ok: true,
          message: `connected to ${address}; a message on ${topic} came back`,
          round_trip_ms: Math.round((performance.now() - sentAt) * 10) / 10,
        });
      }
    });
    client.on('connect', () => {
      client.subscribe(topic, { qos: 1 }, (err, granted) => {
        if (err || granted?.some((g) => g.qos === 128)) {
          finish({ ok: false, message: `connected, but subscribing to ${topic} was refused` });
          return;
        }
        sentAt = performance.now();
        client.publish(topic, nonce, { qos: 1, retain: false }, (e) => {
          if (e)
            finish({ ok: false, message: `connected, but publishing failed: ${messageOf(e)}` });
        });
      });
    });
  });
}

// ---------------------------------------------------------------------- Modbus and TCP

/** Hosts a server binds to but a client cannot dial. */
export function dialHost(host: string): string {
  return host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(what), { code: 'ETIMEDOUT' })), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Reads the first registers of a unit of a Modbus TCP server. */
export async function probeModbusServer(
  host: string,
  port: number,
  opts: { unit?: number; count?: number; timeoutMs?: number } = {},
): Promise<ProbeResult> {
  const unit = opts.unit ?? 1;
  const count = opts.count ?? 10;
  const timeoutMs = opts.timeoutMs ?? 3000;
  const address = `${dialHost(host)}:${port}`;
  const c = new ModbusRTU();
  try {
    await withTimeout(
      c.connectTCP(dialHost(host), { port, timeout: timeoutMs } as { port: number }),
      timeoutMs,
      'connect timeout',
    );
  } catch (e) {
    c.destroy(() => undefined);
    return { ok: false, message: networkWords(e, address), address };
  }
  try {
    c.setID(unit);
    c.setTimeout(timeoutMs);
    const r = await c.readHoldingRegisters(0, count);
    return {
      ok: true,
      message: `read holding registers 0..${count - 1} of unit ${unit} at ${address}`,
      values: r.data,
      address,
    };
  } catch (e) {
    const mb = (e as { modbusCode?: unknown }).modbusCode;
    const message =
      mb === 11
        ? `unit ${unit} at ${address} answered "target failed" (no pack heard yet, or no pack ${unit})`
        : typeof mb === 'number'
          ? `unit ${unit} at ${address} answered Modbus exception ${mb}`
          : codeOf(e) === 'ETIMEDOUT' || /timed out/i.test(messageOf(e))
            ? `connected to ${address}, but unit ${unit} did not answer within ${timeoutMs / 1000} s`
            : networkWords(e, address);
    return { ok: false, message, address };
  } finally {
    // destroy, not close: close waits for the peer, which may never answer.
    c.destroy(() => undefined);
  }
}

/** Opens (and closes) a TCP connection. */
export function probeTcp(host: string, port: number, timeoutMs = 3000): Promise<ProbeResult> {
  const address = `${host}:${port}`;
  return new Promise((resolve) => {
    const s = createConnection({ host, port });
    const end = (r: ProbeResult): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(r);
    };
    const timer = setTimeout(
      () =>
        end({
          ok: false,
          message: `no answer from ${address} within ${timeoutMs / 1000} s (timeout)`,
          address,
        }),
      timeoutMs,
    );
    s.once('connect', () => end({ ok: true, message: `connected to ${address}`, address }));
    s.once('error', (e) => end({ ok: false, message: networkWords(e, address), address }));
  });
}

/** Whether a TCP port can be bound (then released at once). */
export function probeListen(host: string, port: number): Promise<ProbeResult> {
  const address = `${host}:${port}`;
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', (e) => {
      const code = codeOf(e);
      const message =
        code === 'EADDRINUSE'
          ? `port ${port} on ${host} is in use by another program`
          : code === 'EADDRNOTAVAIL'
            ? `${host} is not an address of this machine`
            : code === 'EACCES'
              ? `port ${port} needs privileges (ports below 1024 need root or CAP_NET_BIND_SERVICE)`
              : `cannot listen on ${address}: ${messageOf(e)}`;
      resolve({ ok: false, message, address });
    });
    s.listen(port, host, () => {
      s.close(() => resolve({ ok: true, message: `${address} is free`, address }));
    });
  });
}
