/**
 * The tracker servers (issue 17; docs/trackers.md): JT/T 808, GT06 and GB/T 32960 over TCP,
 * OsmAnd over HTTP. Each connection has its own framer (the codecs in
 * `@openbms/protocols/trackers`); every decoded message is stored first, then answered with
 * the reply the protocol requires, so a terminal whose fix could not be stored gets no ack and
 * sends it again. Garbage is counted and skipped; limits are listener.ts's.
 */
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { isBmsError } from '@openbms/core';
import { gb32960, gt06, jt808, osmand } from '@openbms/protocols/trackers';
import { Listeners, trackerEndpoint, virtualLinks, type VirtualLinks } from '@openbms/transport';
import type { TrackersConfig } from '../config.js';
import {
  DEFAULT_JT808_MODEL,
  gb32960AlarmCodes,
  GT06_ALARMS,
  gt06TerminalAlarm,
  jt808AlarmCodes,
} from './alarm-map.js';
import type { TrackerDevice, TrackerFix, TrackerIngest } from './ingest.js';
import {
  jt808Session,
  gt06Session,
  type InstructionDispatcher,
  type TrackerSession,
} from './instructions.js';
import {
  listen,
  type Connection,
  type ConnectionHandler,
  type TrackerListener,
} from './listener.js';

export type TrackerProtocol = 'jt808' | 'gt06' | 'osmand' | 'gb32960';

export interface TrackerCounters {
  frames: number;
  /** Bytes dropped by a framer (noise, bad checksums) and frames that did not decode. */
  discarded: number;
  malformed: number;
}

export interface TrackerServers {
  /** The ports listened on, by protocol (port 0 in the config: the one chosen). */
  readonly ports: Partial<Record<TrackerProtocol, number>>;
  readonly counters: Record<TrackerProtocol, TrackerCounters>;
  readonly listeners: Partial<Record<TrackerProtocol, TrackerListener>>;
  close(): Promise<void>;
}

export interface TrackerServerOptions {
  ingest: TrackerIngest;
  /** Instructions to trackers (docs/trackers.md "Instructions"): started and stopped with the servers. */
  instructions?: InstructionDispatcher | null;
  clock?: () => number;
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
  /**
   * Where an authenticated JT/T 808 terminal's serial-port pass-through is registered as
   * `tracker://<serial>` (default: the process's registry, which `createTransport` opens).
   */
  links?: VirtualLinks;
}

const timeOf = (iso: string | null | undefined): number => (iso ? Date.parse(iso) : Number.NaN);

function jt808Fix(l: jt808.Jt808Location, model?: string): TrackerFix {
  const extras: Record<string, unknown> = {
    alarm_flags: l.alarm_flags,
    status_flags: l.status_flags,
  };
  if (l.alarms.length + l.vendor_alarms.length > 0)
    extras['alarms'] = [...l.alarms, ...l.vendor_alarms];
  for (const k of ['mileage_km', 'battery_pct', 'battery_v', 'rssi', 'iccid', 'charging'] as const)
    if (l[k] !== undefined) extras[k] = l[k];
  return {
    t: timeOf(l.time_utc),
    lat: l.lat,
    lon: l.lon,
    valid: l.valid,
    speedKmh: l.speed_kmh,
    course: l.course_deg % 360,
    altM: l.altitude_m,
    ...(l.satellites !== undefined ? { satellites: l.satellites } : {}),
    extras,
    alarms: [...jt808AlarmCodes(l.alarm_flags, l.vendor_alarms, model)],
  };
}

/**
 * One JT/T 808 connection: register → 0x8100 (auth code: the device's id), the rest → 0x8001.
 * Once the terminal has authenticated with the code it was given, its serial port 1 is the
 * link `tracker://<serial>`:
 * bytes written to it go out as 0x8900 (type 0x41), its 0x0900 type 0x41 payloads come in
 * (docs/trackers.md "BMS through the tracker"); the link goes when the connection closes.
 */
function jt808Connection(
  conn: Connection,
  o: Required<TrackerServerOptions>,
  tz: number,
  n: TrackerCounters,
  model: string,
): ConnectionHandler {
  const framer = jt808.createJt808Framer();
  let serial = 0;
  const nextSerial = (): number => {
    const s = serial;
    serial = (serial + 1) & 0xffff;
    return s;
  };
  let device: TrackerDevice | undefined;
  let session: TrackerSession | undefined;
  const d = o.instructions;
  const uplink = new Listeners<[Uint8Array]>();
  const ended = new Listeners<[]>();
  let unregister: (() => void) | undefined;
  const openLink = (m: jt808.Jt808Message, id: string): void => {
    unregister?.();
    const to: jt808.Jt808Terminal = {
      protocol_version: m.protocol_version,
      phone: m.phone,
      ...(m.version_byte !== undefined ? { version_byte: m.version_byte } : {}),
    };
    unregister = o.links.register(trackerEndpoint(id), {
      send(bytes) {
        for (let at = 0; at < bytes.length; at += jt808.PASSTHROUGH_MAX) {
          const part = bytes.subarray(at, at + jt808.PASSTHROUGH_MAX);
          conn.send(jt808.encodePassthroughDown(to, serial, jt808.PASSTHROUGH.serial_1, part));
          serial = (serial + 1) & 0xffff;
        }
      },
      onData: (fn) => uplink.add(fn),
      onClose: (fn) => ended.add(fn),
    });
  };
  return {
    end() {
      if (session) d?.offline(session);
      unregister?.();
      unregister = undefined;
      ended.emit();
    },
    async data(chunk) {
      for (const ev of framer.push(chunk)) {
        if (ev.type === 'discard') {
          n.discarded++;
          continue;
        }
        let m: jt808.Jt808Message;
        try {
          m = jt808.decodeJt808(ev.bytes, { tzOffsetMinutes: tz });
        } catch (e) {
          if (!isBmsError(e)) throw e;
          n.malformed++;
          continue;
        }
        n.frames++;
        const imei =
          m.message === 'location' || m.message === 'location_query_reply'
            ? m.location.imei
            : undefined;
        const id = m.device_id ?? imei;
        if (id) device = await o.ingest.device(id, 'jt808');
        // The link opens on an auth with the code 0x8100 handed out (the device's id) only.
        if (device && id && m.message === 'auth' && m.auth_code === device.id) openLink(m, id);
        if (m.message === 'passthrough' && m.data_type === jt808.PASSTHROUGH.serial_1 && unregister)
          uplink.emit(jt808.passthroughBytes(m));
        if (device) {
          if (m.message === 'location' || m.message === 'location_query_reply')
            await o.ingest.positions(device, [jt808Fix(m.location, model)]);
          else if (m.message === 'location_batch')
            await o.ingest.positions(
              device,
              m.positions.map((p) => jt808Fix(p, model)),
            );
        }
        if (device && d && session) await jt808Answer(d, session, m);
        const reply = jt808.requiredResponse(
          m,
          serial,
          m.message === 'register' && device ? device.id : undefined,
        );
        if (reply) {
          nextSerial();
          conn.send(reply);
        }
        if (device && d && m.message !== 'register' && session?.deviceId !== device.id) {
          if (session) d.offline(session);
          session = jt808Session(conn, device, m, nextSerial);
          await d.online(session);
        }
      }
    },
  };
}

function gt06Fix(m: gt06.Gt06Gps, extras: Record<string, unknown>): TrackerFix {
  return {
    t: timeOf(m.time_utc),
    lat: m.lat,
    lon: m.lon,
    valid: m.valid,
    speedKmh: m.speed_kmh,
    course: m.course_deg % 360,
    satellites: m.satellites,
    extras,
  };
}

/** The terminal's answers to instructions and its armed state (docs/trackers.md "Instructions"). */
async function jt808Answer(
  d: InstructionDispatcher,
  s: TrackerSession,
  m: jt808.Jt808Message,
): Promise<void> {
  if (m.message === 'terminal_response') {
    const result = JT808_RESULTS[m.result] ?? `result_${m.result}`;
    await d.reply(s, `${m.reply_serial}:${m.reply_id}`, {
      ok: m.result === 0,
      result,
      text: result,
    });
  } else if (m.message === 'location_query_reply') {
    const l = m.location;
    const text = l.valid
      ? `${l.lat},${l.lon} at ${l.time_utc ?? 'no time'}`
      : `no fix (last ${l.lat},${l.lon})`;
    await d.reply(s, `${m.reply_serial}:${jt808.MSG.locate_now}`, { ok: true, result: 'ok', text });
  }
  if (m.message === 'location' && m.location.armed !== undefined)
    await d.armedReport(s.deviceId, m.location.armed);
}

const JT808_RESULTS: Record<number, string> = {
  0: 'ok',
  1: 'failure',
  2: 'message_error',
  3: 'not_supported',
};

/** A GT06 command reply: a failure when the text says so, else ok (the words vary by vendor). */
function gt06ReplyOutcome(text: string): { ok: boolean; result: string; text: string } {
  const bad = /fail|error|invalid|unknown|not support/i.test(text);
  return { ok: !bad, result: bad ? 'failure' : 'ok', text };
}

/** One GT06 connection: the login names the device; login, heartbeat and alarms are acked. */
function gt06Connection(
  conn: Connection,
  o: Required<TrackerServerOptions>,
  tz: number,
  n: TrackerCounters,
): ConnectionHandler {
  const framer = gt06.createGt06Framer();
  let device: TrackerDevice | undefined;
  let session: TrackerSession | undefined;
  const d = o.instructions;
  return {
    end: () => session && d?.offline(session),
    async data(chunk) {
      for (const ev of framer.push(chunk)) {
        if (ev.type === 'discard') {
          n.discarded++;
          continue;
        }
        let m: gt06.Gt06Message;
        try {
          m = gt06.decodeGt06(ev.bytes, { tzOffsetMinutes: tz });
        } catch (e) {
          if (!isBmsError(e)) throw e;
          n.malformed++;
          continue;
        }
        n.frames++;
        if (m.message === 'login') device = await o.ingest.device(m.imei, 'gt06');
        else if (device && m.message === 'location') {
          const extras: Record<string, unknown> = {};
          if (m.acc_on !== undefined) extras['acc_on'] = m.acc_on;
          if (m.mileage_m !== undefined) extras['mileage_m'] = m.mileage_m;
          if (m.reupload) extras['reupload'] = true;
          await o.ingest.positions(device, [gt06Fix(m, extras)]);
        } else if (device && m.message === 'alarm') {
          const code = GT06_ALARMS[parseInt(m.alarm_code, 16)];
          await o.ingest.positions(device, [
            {
              ...gt06Fix(m, { alarm: m.alarm, alarm_code: m.alarm_code, armed: m.armed }),
              ...(code ? { raise: [code] } : {}),
            },
          ]);
        } else if (device && m.message === 'heartbeat') {
          // The status names the alarm on now (terminal-info bits 5-3, the alarm byte): the
          // alarms raised by alarm packets and no longer reported are cleared.
          const on = [
            gt06TerminalAlarm(parseInt(m.terminal_info_hex, 16)),
            GT06_ALARMS[parseInt(m.alarm_code, 16)],
          ].filter((c): c is string => c !== undefined);
          await o.ingest.status(device, o.clock(), on);
        }
        if (device && d && session) {
          if (m.message === 'heartbeat' || m.message === 'alarm')
            await d.armedReport(device.id, m.armed);
          else if (m.message === 'command_reply')
            await d.reply(session, m.server_flag_hex, gt06ReplyOutcome(m.text));
        }
        const reply = gt06.requiredResponse(m, o.clock());
        if (reply) conn.send(reply);
        if (device && d && m.message === 'login') {
          if (session) d.offline(session);
          session = gt06Session(conn, device);
          await d.online(session);
        }
      }
    },
  };
}

/** One GB/T 32960 connection: the VIN of every frame names the device; real-time data is a reading. */
function gb32960Connection(
  conn: Connection,
  o: Required<TrackerServerOptions>,
  n: TrackerCounters,
): ConnectionHandler {
  const framer = gb32960.createGb32960Framer();
  return {
    async data(chunk) {
      for (const ev of framer.push(chunk)) {
        if (ev.type === 'discard') {
          n.discarded++;
          continue;
        }
        let m: gb32960.Gb32960Message;
        try {
          m = gb32960.decodeGb32960(ev.bytes);
        } catch (e) {
          if (!isBmsError(e)) throw e;
          n.malformed++;
          continue;
        }
        n.frames++;
        if (m.message === 'realtime' || m.message === 'resend' || m.message === 'vehicle_login') {
          const device = await o.ingest.device(m.vin, 'gb32960');
          if (m.message !== 'vehicle_login') {
            const t = timeOf(m.time_utc);
            if (m.location)
              await o.ingest.positions(device, [
                {
                  t,
                  lat: m.location.lat,
                  lon: m.location.lon,
                  valid: m.location.valid,
                  ...(m.vehicle?.speed_kmh != null ? { speedKmh: m.vehicle.speed_kmh } : {}),
                  ...(m.alarms ? { alarms: [...gb32960AlarmCodes(m.alarms.alarm_flags)] } : {}),
                },
              ]);
            if (Number.isFinite(t)) await o.ingest.reading(device, t, gb32960.toReading(m));
          }
        }
        const reply = gb32960.encodeResponse(ev.bytes, o.clock());
        if (reply) conn.send(reply);
      }
    },
  };
}

/** Body of an OsmAnd request: at most this many bytes (413 beyond). */
const OSMAND_MAX_BODY = 16 * 1024;

async function osmandServer(
  host: string,
  port: number,
  limits: TrackersConfig['limits'],
  o: Required<TrackerServerOptions>,
  n: TrackerCounters,
): Promise<TrackerListener> {
  const perIp = new Map<string, number>();
  const sockets = new Set<Socket>();
  let refused = 0;
  const handle = async (req: IncomingMessage, body: string): Promise<number> => {
    let p: osmand.OsmandPosition;
    try {
      p = osmand.parseOsmandRequest(
        {
          target: req.url ?? '/',
          ...(req.headers['content-type'] ? { contentType: req.headers['content-type'] } : {}),
          body,
        },
        { receivedAtMs: o.clock() },
      );
    } catch (e) {
      if (!isBmsError(e)) throw e;
      n.malformed++;
      return 400;
    }
    n.frames++;
    const device = await o.ingest.device(p.device_id, 'osmand');
    if (p.message === 'location' && p.lat !== undefined && p.lon !== undefined) {
      const extras: Record<string, unknown> = {};
      if (p.battery_pct != null) extras['phone_battery_pct'] = p.battery_pct;
      if (p.accuracy_m !== undefined) extras['accuracy_m'] = p.accuracy_m;
      if (p.event !== undefined) extras['event'] = p.event;
      await o.ingest.positions(device, [
        {
          t: Date.parse(p.time_utc),
          lat: p.lat,
          lon: p.lon,
          valid: p.valid,
          ...(p.speed_kmh != null ? { speedKmh: p.speed_kmh } : {}),
          ...(p.course_deg != null ? { course: p.course_deg % 360 } : {}),
          ...(p.altitude_m !== undefined ? { altM: p.altitude_m } : {}),
          extras,
        },
      ]);
    }
    return 200;
  };
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > OSMAND_MAX_BODY) {
        res.writeHead(413, { connection: 'close' }).end();
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (size > OSMAND_MAX_BODY) return;
      handle(req, Buffer.concat(chunks).toString('utf8')).then(
        (status) => res.writeHead(status).end(),
        (e: unknown) => {
          o.log('error', `osmand: ${(e as Error).message}`);
          res.writeHead(503).end();
        },
      );
    });
  });
  server.headersTimeout = Math.min(limits.idle_s * 1000, 30_000);
  server.requestTimeout = limits.idle_s * 1000;
  server.keepAliveTimeout = 5_000;
  server.maxHeadersCount = 50;
  server.on('connection', (socket: Socket) => {
    const ip = socket.remoteAddress ?? '?';
    const k = perIp.get(ip) ?? 0;
    if (sockets.size >= limits.max_connections || k >= limits.max_per_ip) {
      refused++;
      socket.destroy();
      return;
    }
    perIp.set(ip, k + 1);
    sockets.add(socket);
    socket.setTimeout(limits.idle_s * 1000, () => socket.destroy());
    socket.on('close', () => {
      sockets.delete(socket);
      const left = (perIp.get(ip) ?? 1) - 1;
      if (left <= 0) perIp.delete(ip);
      else perIp.set(ip, left);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (e) => o.log('error', `osmand: ${e.message}`));
  const addr = server.address();
  return {
    server,
    port: typeof addr === 'object' && addr ? addr.port : port,
    connections: () => sockets.size,
    refused: () => refused,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Starts the servers the config names; closes those started when one cannot listen. */
export async function startTrackerServers(
  config: TrackersConfig,
  opts: TrackerServerOptions,
): Promise<TrackerServers> {
  const o: Required<TrackerServerOptions> = {
    clock: Date.now,
    log: () => undefined,
    instructions: null,
    links: virtualLinks,
    ...opts,
  };
  const zero = (): TrackerCounters => ({ frames: 0, discarded: 0, malformed: 0 });
  const counters = { jt808: zero(), gt06: zero(), osmand: zero(), gb32960: zero() };
  const listeners: Partial<Record<TrackerProtocol, TrackerListener>> = {};
  const ports: Partial<Record<TrackerProtocol, number>> = {};
  const lim = config.limits;
  const limits = {
    maxConnections: lim.max_connections,
    maxPerIp: lim.max_per_ip,
    idleMs: lim.idle_s * 1000,
  };
  const onError = (what: string) => (e: unknown) =>
    o.log('warn', `${what}: ${e instanceof Error ? e.message : String(e)}`);
  try {
    if (config.jt808) {
      const c = config.jt808;
      listeners.jt808 = await listen(
        c.host,
        c.port,
        limits,
        (conn) =>
          jt808Connection(
            conn,
            o,
            c.tz_offset_minutes ?? 480,
            counters.jt808,
            c.alarm_model ?? DEFAULT_JT808_MODEL,
          ),
        onError('jt808'),
      );
    }
    if (config.gt06) {
      const c = config.gt06;
      listeners.gt06 = await listen(
        c.host,
        c.port,
        limits,
        (conn) => gt06Connection(conn, o, c.tz_offset_minutes ?? 0, counters.gt06),
        onError('gt06'),
      );
    }
    if (config.gb32960) {
      const c = config.gb32960;
      listeners.gb32960 = await listen(
        c.host,
        c.port,
        limits,
        (conn) => gb32960Connection(conn, o, counters.gb32960),
        onError('gb32960'),
      );
    }
    if (config.osmand)
      listeners.osmand = await osmandServer(
        config.osmand.host,
        config.osmand.port,
        lim,
        o,
        counters.osmand,
      );
  } catch (e) {
    await Promise.all(Object.values(listeners).map((l) => l.close()));
    throw e;
  }
  for (const [k, l] of Object.entries(listeners)) ports[k as TrackerProtocol] = l.port;
  o.instructions?.start();
  return {
    ports,
    counters,
    listeners,
    close: async () => {
      await o.instructions?.stop();
      await Promise.all(Object.values(listeners).map((l) => l.close()));
    },
  };
}
