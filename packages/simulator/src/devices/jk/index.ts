/**
 * JK BMS, device side: the JK-PB RS485 unit that answers the bus-master triggers with a
 * 300-byte 55AA record + 0x00 + its FC 0x10 ACK, the official Modbus map (FC 0x03 reads,
 * FC 0x10 settings writes), the 20-byte 55AA (BLE-style) commands and the 4E57 protocol.
 * See README.md for what is answered, changed and refused.
 */
import { BmsError } from '@openbms/core';
import { crc16Modbus, type Request } from '@openbms/protocols';
import {
  BALANCE_START_REG,
  PB_TRIGGERS,
  RECORD_DEVICE_INFO,
  RECORD_SETTINGS,
  definition,
  isNwStart,
  nwLength,
  nwProblem,
  type Layout,
  type PbTrigger,
  type SettingField,
} from '@openbms/protocols/jk';
import type { CommandResult, DeviceProtocol, SimPackApi } from '../../types.js';
import { createJkRequestFramer } from './framer.js';
import { handleNw } from './nw.js';
import { cellInfoRecord, deviceInfoRecord, modbusImage, settingsRecord } from './records.js';
import { applyFields, fieldAt, fieldForRegister } from './settings.js';
import { readBe } from './wire.js';

export interface JkDeviceOptions {
  /**
   * Layout of the cell-info record: JK02_32S (every JK-PB, firmware 11+; default) or
   * JK02_24S (firmware 10.x and older). The record does not say which it is.
   */
  layout?: Layout;
}

/** Modbus exception codes the simulated unit answers with. */
const EXC = { function: 0x01, address: 0x02, value: 0x03, failure: 0x04 } as const;
const SETTINGS_BASE = 0x1000;
const STATUS_BASE = 0x1200;
const INFO_BASE = 0x1400;
/** Bytes of a record the Modbus map serves (offset 6 up to the checksum). */
const MAP_BYTES = 293;

function withCrc(body: number[]): Uint8Array {
  const out = new Uint8Array(body.length + 2);
  out.set(body);
  const crc = crc16Modbus(out, 0, body.length);
  out[body.length] = crc & 0xff;
  out[body.length + 1] = crc >> 8;
  return out;
}

function exception(unit: number, fn: number, code: number): Uint8Array | undefined {
  return unit === 0 ? undefined : withCrc([unit, fn | 0x80, code]);
}

function writeAck(unit: number, start: number, count: number): Uint8Array | undefined {
  if (unit === 0) return undefined; // broadcast: applied, never answered
  return withCrc([unit, 0x10, start >> 8, start & 0xff, count >> 8, count & 0xff]);
}

function refusalCode(r: CommandResult): number {
  return !r.ok && r.code?.startsWith('PARAM') ? EXC.value : EXC.failure;
}

function isBleCommand(b: Uint8Array): boolean {
  return b[0] === 0xaa && b[1] === 0x55 && b[2] === 0x90 && b[3] === 0xeb;
}

/** A whole, valid Modbus request (CRC checked), not a 55AA or 4E57 frame. */
function isModbusRequest(b: Uint8Array): boolean {
  if (b.length < 8 || isBleCommand(b) || isNwStart(b)) return false;
  const crc = crc16Modbus(b, 0, b.length - 2);
  return (b[b.length - 2]! | (b[b.length - 1]! << 8)) === crc;
}

export function createJkDevice(opts: JkDeviceOptions = {}): DeviceProtocol {
  const layout: Layout = opts.layout ?? 'JK02_32S';

  const record = (type: number, pack: SimPackApi): Uint8Array => {
    if (type === RECORD_DEVICE_INFO) return deviceInfoRecord(layout, pack);
    const s = pack.snapshot();
    if (type === RECORD_SETTINGS) return settingsRecord(layout, pack, s, pack.parameters());
    return cellInfoRecord(layout, pack, s);
  };

  const trigger = (req: Request, pack: SimPackApi): Uint8Array | undefined => {
    const unit = req.address ?? 0;
    if (unit === 0) return undefined;
    const t = PB_TRIGGERS[req.command as PbTrigger];
    const rec = record(t.record, pack);
    const ack = writeAck(unit, t.register, 1)!;
    const out = new Uint8Array(rec.length + 1 + ack.length);
    out.set(rec, 0);
    out.set(ack, rec.length + 1);
    return out;
  };

  /** FC 0x03 on the official map: the record's fields, big-endian, byte-offset addressing. */
  const mapRead = (unit: number, start: number, count: number, pack: SimPackApi) => {
    const base = start & 0xfe00;
    const type =
      base === SETTINGS_BASE ? RECORD_SETTINGS : base === INFO_BASE ? RECORD_DEVICE_INFO : 2;
    const off = start - base;
    if ((base !== STATUS_BASE && type === 2) || off + count * 2 > MAP_BYTES) {
      return exception(unit, 0x03, EXC.address);
    }
    const rec = type === 2 ? cellInfoRecord('JK02_32S', pack, pack.snapshot()) : record(type, pack);
    const data = modbusImage(rec).subarray(off, off + count * 2);
    return unit === 0 ? undefined : withCrc([unit, 0x03, data.length, ...data]);
  };

  /** FC 0x10 on the settings block: whole 4-byte fields, big-endian. */
  const mapWrite = (unit: number, start: number, values: number[], pack: SimPackApi) => {
    const data = values.flatMap((v) => [v >> 8, v & 0xff]);
    const from = start - SETTINGS_BASE + 6;
    const writes: { field: SettingField; value: number }[] = [];
    if (start < SETTINGS_BASE || start >= STATUS_BASE) {
      return exception(unit, 0x10, EXC.address);
    }
    for (let k = 0; k < data.length; k += 4) {
      const field = fieldAt(from + k);
      if (!field || field.only32 || field.kind === 'u8' || field.kind === 'i8') {
        return exception(unit, 0x10, EXC.address);
      }
      if (k + 4 > data.length) return exception(unit, 0x10, EXC.value);
      const value = readBe(Uint8Array.from(data), k, 4, field.kind === 'i32');
      writes.push({ field, value });
    }
    const r = applyFields(pack, writes);
    if (!r.ok) return exception(unit, 0x10, refusalCode(r));
    return writeAck(unit, start, values.length);
  };

  /** 55AA commands (BLE-style): reads answer with records, writes with the settings record. */
  const bleCommand = (req: Request, pack: SimPackApi): Uint8Array | undefined => {
    const on = req.args?.on === true;
    switch (req.command) {
      case 'ble_cell_info': {
        const a = record(RECORD_SETTINGS, pack);
        const b = record(2, pack);
        const out = new Uint8Array(a.length + b.length);
        out.set(a, 0);
        out.set(b, a.length);
        return out;
      }
      case 'ble_device_info':
        return record(RECORD_DEVICE_INFO, pack);
      case 'ble_logbook':
        return undefined; // logbook records are not simulated
      case 'set_charge_mos':
        pack.setMos('charge', on);
        break;
      case 'set_discharge_mos':
        pack.setMos('discharge', on);
        break;
      case 'set_balancer':
        pack.writeParameters({ balance_enabled: on ? 1 : 0 });
        break;
      default: {
        const reg = Number(req.args?.register);
        const field = fieldForRegister(reg, BALANCE_START_REG[layout]);
        if (!field || (field.only32 && layout !== 'JK02_32S')) return undefined;
        applyFields(pack, [{ field, value: Number(req.args?.value ?? 0) }]);
      }
    }
    return record(RECORD_SETTINGS, pack);
  };

  return {
    id: 'jk',
    // JK boards report two cell sensors (T1, T2) besides the MOSFET sensor.
    tempSensors: 2,
    createRequestFramer: createJkRequestFramer,

    addressOf(request: Uint8Array): number | undefined {
      if (request.length < 4 || isBleCommand(request) || isNwStart(request)) return undefined;
      return request[0];
    },

    addresses(n: number): number[] {
      if (!(Number.isInteger(n) && n >= 0 && n <= 16)) {
        throw new BmsError('INVALID_ARGUMENT', `JK-PB buses hold 0..16 packs, not ${n}`);
      }
      return Array.from({ length: n }, (_, i) => i + 1);
    },

    handle(request: Uint8Array, pack: SimPackApi): Uint8Array | undefined {
      if (isNwStart(request)) {
        const len = nwLength(request, 0, request.length);
        if (len !== request.length || nwProblem(request, 0, len) !== '') {
          throw new BmsError('FRAME_MALFORMED', 'not a whole 4E57 request');
        }
        return handleNw(request, pack);
      }
      const req = definition.parseRequest(request);
      const unit = req.address ?? 0;
      const args = req.args ?? {};
      switch (req.command) {
        case 'pb_read_status':
        case 'pb_read_settings':
        case 'pb_read_about':
          return trigger(req, pack);
        case 'modbus_read':
          return mapRead(unit, Number(args.register), Number(args.count), pack);
        case 'modbus_write':
          return mapWrite(unit, Number(args.register), args.values as number[], pack);
        case 'modbus_write_single':
          return exception(unit, 0x06, EXC.function);
        default:
          return bleCommand(req, pack);
      }
    },

    errorReply(request: Uint8Array, err: unknown): Uint8Array | undefined {
      // A Modbus unit stays silent on a frame it cannot trust (CRC) or that is not for it.
      if (!isModbusRequest(request)) return undefined;
      const code =
        err instanceof BmsError && err.code === 'COMMAND_UNSUPPORTED'
          ? EXC.function
          : err instanceof BmsError && err.code === 'FRAME_MALFORMED'
            ? EXC.value
            : EXC.failure;
      return exception(request[0]!, request[1]! & 0x7f, code);
    },
  };
}

/** The JK-PB RS485 unit with the JK02_32S cell-info layout (every JK-PB). */
export const device: DeviceProtocol = createJkDevice();

/** A JK unit on firmware 10.x and older: JK02_24S cell-info layout. */
export const deviceJk02_24s: DeviceProtocol = createJkDevice({ layout: 'JK02_24S' });
