/**
 * An e-bike battery with a cellular GPS tracker (seed 003; docs/trackers.md): it rides a
 * generated route, stops now and then (its fixes wander a few metres while it stands, as a
 * real GPS does), and reports to a tracker server over JT/T 808 (register, auth, 0x0200
 * locations with battery items) or GT06 (login, 0x22 locations, heartbeats). It answers the
 * server's commands: JT/T 808 0x8201 (locate now → 0x0201), 0x8105/0x8300 (→ 0x0001), GT06
 * 0x80 (→ 0x15 reply). The route is made from a seed, so a test knows its exact length.
 *
 * With `bms` (a simulated bus of one pack, `createSimulation`), the JT/T 808 tracker carries
 * that battery's BMS on its serial port 1: the bytes of each 0x8900 type 0x41 go into the
 * simulated BMS (after a 0x0001 ack), and its answers come back as 0x0900 type 0x41.
 */
import { createConnection, type Socket } from 'node:net';
import { BmsError, prng } from '@openbms/core';
import { gt06, jt808 } from '@openbms/protocols/trackers';
import type { SimBus } from './bus.js';

export interface RoutePoint {
  t: number;
  lat: number;
  lon: number;
  speedKmh: number;
  course: number;
  /** Standing (a stop): the fix is the stop's point plus GPS wander. */
  stopped: boolean;
}

export interface Route {
  points: RoutePoint[];
  /** The length ridden, metres (the stops' wander excluded). */
  lengthM: number;
}

export interface RouteOptions {
  seed?: number;
  start?: { lat: number; lon: number };
  t0?: number;
  /** Seconds between fixes (default 5). */
  stepS?: number;
  /** Riding legs (default 6), each 300-1,500 m at 12-25 km/h, a 1-minute stop after some. */
  legs?: number;
}

const R = 6_371_008.8;
const deg = (r: number): number => (r * 180) / Math.PI;
const rad = (d: number): number => (d * Math.PI) / 180;

function haversine(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const dLat = rad(b.lat - a.lat);
  const dLon = rad(b.lon - a.lon);
  const h =
    Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLon / 2) ** 2;
  return 2 * R * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** The point `m` metres from `p` on a bearing (degrees from north). */
function move(p: { lat: number; lon: number }, m: number, bearing: number) {
  const dLat = (m * Math.cos(rad(bearing))) / R;
  const dLon = (m * Math.sin(rad(bearing))) / (R * Math.cos(rad(p.lat)));
  return { lat: p.lat + deg(dLat), lon: p.lon + deg(dLon) };
}

/** Fixes are sent with 6 decimals (JT/T 808's resolution); the length is measured on those. */
const q6 = (x: number): number => Math.round(x * 1e6) / 1e6;

/**
 * The fixes of a ride, one at a time (`legs` absent: without end), so a long run or many
 * trackers hold one fix each, not whole routes.
 */
export function* ride(o: RouteOptions = {}): Generator<RoutePoint> {
  const rand = prng(o.seed ?? 1);
  const step = o.stepS ?? 5;
  let t = o.t0 ?? Date.UTC(2030, 0, 1, 8);
  let here = o.start ?? { lat: 22.543096, lon: 114.057865 };
  let course = rand() * 360;
  const point = (p: { lat: number; lon: number }, speed: number, stopped: boolean): RoutePoint => {
    const r = {
      t,
      lat: q6(p.lat),
      lon: q6(p.lon),
      speedKmh: stopped ? 0 : speed,
      course: Math.round(course) % 360,
      stopped,
    };
    t += step * 1000;
    return r;
  };
  yield point(here, 0, false);
  for (let leg = 0; o.legs === undefined || leg < o.legs; leg++) {
    course = (course + (rand() - 0.5) * 120 + 360) % 360;
    const speed = 12 + rand() * 13;
    const legM = 300 + rand() * 1200;
    const perStep = (speed / 3.6) * step;
    for (let done = 0; done < legM; done += perStep) {
      here = move(here, perStep, course);
      yield point(here, speed, false);
    }
    if (rand() < 0.5) {
      // A stop: a minute of fixes wandering up to 4 m around the point, then on from it.
      for (let i = 0; i < 60 / step; i++)
        yield point(move(here, rand() * 4, rand() * 360), 0, true);
      yield point(here, 0, false);
    }
  }
}

/** A whole route (default 6 legs) and the length ridden (the stops' wander excluded). */
export function generateRoute(o: RouteOptions = {}): Route {
  const points = [...ride({ ...o, legs: o.legs ?? 6 })];
  let lengthM = 0;
  let last: RoutePoint | undefined;
  for (const p of points) {
    if (p.stopped) continue;
    if (last) lengthM += haversine(last, p);
    last = p;
  }
  return { points, lengthM };
}

export type TrackerProtocolName = 'jt808' | 'gt06';

export interface TrackerSimOptions {
  protocol: TrackerProtocolName;
  host: string;
  port: number;
  /** JT/T 808: the phone number (up to 12 digits); GT06: the 15-digit IMEI. */
  id: string;
  /**
   * The battery's state of charge, %, reported with each JT/T 808 fix (vendor item 0xE3:
   * battery % and voltage) while set; `batteryV` its voltage (default 48 V nominal).
   */
  socPct?: number;
  batteryV?: number;
  /** How long to wait for a reply (ms, default 5000). */
  replyTimeoutMs?: number;
  /** JT/T 808: the battery's simulated BMS behind the serial-port pass-through. */
  bms?: SimBus;
}

interface Waiter {
  match: (m: unknown) => boolean;
  resolve: (m: unknown) => void;
}

/** One simulated tracker connection. */
export class TrackerSim {
  private socket: Socket | undefined;
  private serial = 0;
  private waiters: Waiter[] = [];
  private readonly jtFramer = jt808.createJt808Framer();
  private readonly gtFramer = gt06.createGt06Framer();
  private readonly terminal: jt808.Jt808Terminal;
  private current: RoutePoint | undefined;
  /** Commands the server sent, answered. */
  readonly commands: string[] = [];
  /** The auth code the JT/T 808 server handed out. */
  authCode: string | undefined;
  /** What the next fixes report of the battery (JT/T 808); change it as the ride drains it. */
  battery: { socPct: number; volts: number } | undefined;
  private bmsSession: { receive(chunk: Uint8Array): void; stop(): void } | undefined;

  constructor(private readonly o: TrackerSimOptions) {
    this.terminal = { protocol_version: '2013', phone: o.id.padStart(12, '0') };
    this.battery =
      o.socPct !== undefined ? { socPct: o.socPct, volts: o.batteryV ?? 48 } : undefined;
  }

  async connect(): Promise<void> {
    const s = createConnection({ host: this.o.host, port: this.o.port });
    this.socket = s;
    await new Promise<void>((resolve, reject) => {
      s.once('connect', resolve);
      s.once('error', reject);
    });
    s.on('error', () => undefined);
    s.on('data', (chunk: Buffer) => this.received(new Uint8Array(chunk)));
    s.on('close', () => {
      this.bmsSession?.stop();
      this.bmsSession = undefined;
      for (const w of this.waiters.splice(0))
        w.resolve(new BmsError('TRANSPORT_CLOSED', 'the server closed the connection'));
    });
    if (this.o.protocol === 'jt808') {
      if (this.o.bms)
        this.bmsSession = this.o.bms.serve({
          write: (b) =>
            this.send(
              jt808.encodePassthroughUp(this.terminal, this.next(), jt808.PASSTHROUGH.serial_1, b),
            ),
        });
      const reg = await this.request(
        this.registerFrame(),
        (m) => (m as jt808.Jt808Message).msg_id === jt808.MSG.register_response,
      );
      const body = jt808.unwrap(reg.raw);
      const code = String.fromCharCode(...body.subarray(15, body.length - 1));
      this.authCode = code;
      await this.request(jt808.encodeAuth(this.terminal, this.next(), code), ack(jt808.MSG.auth));
    } else {
      await this.request(
        gt06.encodeLogin(this.o.id, this.next()),
        (m) => (m as gt06.Gt06Message).protocol === 0x01,
      );
    }
  }

  private next(): number {
    const s = this.serial;
    this.serial = (this.serial + 1) & 0xffff;
    return s;
  }

  private registerFrame(): Uint8Array {
    // 2013 register body: province, city, maker (5), model (20), terminal id (7), plate colour, plate.
    const body = new Uint8Array(2 + 2 + 5 + 20 + 7 + 1 + 7);
    body.set([0, 44, 3, 0], 0);
    body.set(
      Array.from('OPBMS', (c) => c.charCodeAt(0)),
      4,
    );
    body.set(
      Array.from('SIM-EBIKE', (c) => c.charCodeAt(0)),
      9,
    );
    body.set(
      Array.from('0000001', (c) => c.charCodeAt(0)),
      29,
    );
    body[36] = 0;
    body.set(
      Array.from('SIM0001', (c) => c.charCodeAt(0)),
      37,
    );
    return jt808.encodeJt808Frame(this.terminal, jt808.MSG.register, this.next(), body);
  }

  /** Sends the fix and waits for the server's acknowledgement. */
  async report(p: RoutePoint): Promise<void> {
    this.current = p;
    if (this.o.protocol === 'jt808') {
      await this.request(
        jt808.encodeLocationReport(this.terminal, this.next(), this.locationOf(p)),
        ack(jt808.MSG.location),
      );
    } else {
      // 0x22 locations get no ack in GT06: a heartbeat after it is acked, so its ack proves
      // the server has handled the location before it (one connection, in order).
      this.send(gt06.encodeLocation(this.gtOf(p), this.next(), !p.stopped));
      await this.request(
        gt06.encodeHeartbeat({ voltage_level: 5, gsm_level: 4, gps_fixed: true }, this.next()),
        (m) => (m as gt06.Gt06Message).protocol === 0x13,
      );
    }
  }

  /** JT/T 808 0x0704: several fixes in one frame (a blind-area upload), in the order given. */
  async reportBatch(ps: readonly RoutePoint[]): Promise<void> {
    await this.request(
      jt808.encodeLocationBatch(
        this.terminal,
        this.next(),
        1,
        ps.map((p) => this.locationOf(p)),
      ),
      ack(jt808.MSG.location_batch),
    );
  }

  /** Sends raw bytes (tests: garbage, duplicates). */
  send(bytes: Uint8Array): void {
    this.socket?.write(bytes);
  }

  /** Sends a frame and waits for the reply that matches. */
  async request(
    frame: Uint8Array,
    match: (m: unknown) => boolean,
  ): Promise<{ raw: Uint8Array; m: unknown }> {
    const got = new Promise<unknown>((resolve) => this.waiters.push({ match, resolve }));
    this.send(frame);
    const timeout = this.o.replyTimeoutMs ?? 5000;
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([
      got,
      new Promise<Error>((res) => {
        timer = setTimeout(
          () => res(new BmsError('TRANSPORT_TIMEOUT', 'no reply from the server')),
          timeout,
        );
      }),
    ]);
    clearTimeout(timer);
    if (r instanceof Error) throw r;
    return r as { raw: Uint8Array; m: unknown };
  }

  private locationOf(p: RoutePoint): jt808.LocationInput {
    return {
      valid: true,
      lat: p.lat,
      lon: p.lon,
      speed_kmh: Math.round(p.speedKmh * 10) / 10,
      course_deg: p.course,
      altitude_m: 12,
      time_ms: p.t,
      satellites: 9,
      rssi: 24,
      status_flags: p.stopped ? 0 : 1,
      ...(this.battery ? { items: [batteryItem(this.battery.socPct, this.battery.volts)] } : {}),
    };
  }

  private gtOf(p: RoutePoint): gt06.Gt06PositionInput {
    return {
      time_ms: p.t,
      valid: true,
      lat: p.lat,
      lon: p.lon,
      speed_kmh: Math.round(p.speedKmh),
      course_deg: p.course,
      satellites: 9,
      mcc: 460,
      mnc: 0,
      lac: 0x2a1c,
      cell_id: 0x1f4c2,
    };
  }

  private received(chunk: Uint8Array): void {
    const jt = this.o.protocol === 'jt808';
    for (const ev of (jt ? this.jtFramer : this.gtFramer).push(chunk)) {
      if (ev.type !== 'frame') continue;
      let m: unknown;
      try {
        m = jt ? jt808.decodeJt808(ev.bytes) : gt06.decodeGt06(ev.bytes);
      } catch {
        // GT06 acks carry no content, which the decoder refuses for login/heartbeat: their
        // protocol number is enough to match them.
        if (jt) continue;
        try {
          m = { protocol: ev.bytes[gt06.checkFrame(ev.bytes).protoAt], message: 'ack' };
        } catch {
          continue;
        }
      }
      const i = this.waiters.findIndex((w) => w.match(m));
      if (i >= 0) {
        this.waiters.splice(i, 1)[0]!.resolve({ raw: ev.bytes, m });
        continue;
      }
      this.command(m);
    }
  }

  /** Answers a command of the server. */
  private command(m: unknown): void {
    if (this.o.protocol === 'jt808') {
      const j = m as jt808.Jt808Message;
      if (j.msg_id === jt808.MSG.passthrough_down && 'body_hex' in j) {
        const body = jt808.passthroughBytes({ data_hex: j.body_hex });
        this.send(generalAck(this.terminal, this.next(), j));
        if (body[0] === jt808.PASSTHROUGH.serial_1) this.bmsSession?.receive(body.subarray(1));
      } else if (j.msg_id === jt808.MSG.locate_now && this.current) {
        this.commands.push('locate_now');
        const loc = jt808.encodeLocation(this.locationOf(this.current));
        const body = new Uint8Array(2 + loc.length);
        body.set([j.serial >> 8, j.serial & 0xff], 0);
        body.set(loc, 2);
        this.send(
          jt808.encodeJt808Frame(this.terminal, jt808.MSG.location_query_reply, this.next(), body),
        );
      } else if (j.msg_id === jt808.MSG.terminal_control || j.msg_id === jt808.MSG.text_message) {
        this.commands.push(j.msg_id === jt808.MSG.terminal_control ? 'terminal_control' : 'text');
        this.send(generalAck(this.terminal, this.next(), j));
      }
    } else {
      const g = m as gt06.Gt06Message;
      if (g.message === 'command') {
        this.commands.push(g.command);
        const text = Array.from(`OK:${g.command}`, (c) => c.charCodeAt(0) & 0x7f);
        const flag = Array.from(g.server_flag_hex.match(/../g) ?? [], (x) => parseInt(x, 16));
        this.send(
          gt06.wrapFrame(
            gt06.PROTOCOL.command_reply,
            Uint8Array.from([4 + text.length, ...flag, ...text, 0, 2]),
            this.next(),
          ),
        );
      }
    }
  }

  close(): void {
    this.socket?.destroy();
  }
}

/** Vendor item 0xE3: reserved, battery %, battery voltage (0.01 V, big-endian), 2 reserved. */
function batteryItem(socPct: number, volts: number): { id: number; value: Uint8Array } {
  const cv = Math.max(0, Math.min(0xffff, Math.round(volts * 100)));
  const soc = Math.max(0, Math.min(100, Math.round(socPct)));
  return { id: 0xe3, value: Uint8Array.from([0, soc, cv >> 8, cv & 0xff, 0, 0]) };
}

/** Matches the 0x8001 general response to a message id (the decoder leaves downlink bodies raw). */
const ack =
  (msgId: number) =>
  (m: unknown): boolean => {
    const j = m as jt808.Jt808Message;
    return (
      j.msg_id === jt808.MSG.platform_response &&
      'body_hex' in j &&
      parseInt(j.body_hex.slice(4, 8), 16) === msgId
    );
  };

/** The terminal's 0x0001 general response (result 0) to a platform message. */
function generalAck(
  t: jt808.Jt808Terminal,
  serial: number,
  to: { serial: number; msg_id: number },
): Uint8Array {
  const body = Uint8Array.from([
    to.serial >> 8,
    to.serial & 0xff,
    to.msg_id >> 8,
    to.msg_id & 0xff,
    0,
  ]);
  return jt808.encodeJt808Frame(t, jt808.MSG.terminal_response, serial, body);
}
