/**
 * Modbus TCP framing (MBAP) and the request PDUs the server answers, written here rather
 * than taken from modbus-serial's ServerTCP, which we used before. That server cannot be
 * made to follow the Modbus spec's exception rules: it drops requests shorter than four
 * bytes (function 17, "report server id") and function codes whose handler we leave out
 * (1, 2, 5, 15) without any reply, so clients wait for their timeout; and it answers a bad
 * register count (0, or more than 125) with exception 2 instead of 3. None of it is
 * configurable, and patching the library's internals would break on its next release.
 * Modbus TCP framing is small (a 7-byte header with a length), so we frame it ourselves
 * (modbus-serial stays for the client, `client.ts`).
 *
 * Rules (Modbus Application Protocol v1.1b3, 6.3/6.4/6.6/6.12 and 7):
 * - function codes other than 3, 4, 6, 16: exception 1 (illegal function);
 * - a quantity outside 1..125 (read) or 1..123 (write multiple), a byte count that does not
 *   match, or a PDU of the wrong length: exception 3 (illegal data value);
 * - then the address range: exception 2; then the handler's own exceptions.
 */

export const EXCEPTION = {
  ILLEGAL_FUNCTION: 1,
  ILLEGAL_ADDRESS: 2,
  ILLEGAL_VALUE: 3,
  DEVICE_FAILURE: 4,
  /** Unknown unit id, or a pack not heard yet. */
  TARGET_FAILED: 0x0b,
} as const;

/** A Modbus exception answer, with why (for the log and status). */
export class ModbusException extends Error {
  constructor(
    readonly modbusErrorCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** A run of registers a unit serves (a request must fall inside one). */
export interface RegisterBlock {
  start: number;
  size: number;
}

/** What the server does with the registers; each may throw a ModbusException. */
export interface RegisterHandler {
  /** Function 3 / 4: `length` registers from `addr` (inside one of the blocks). */
  read(addr: number, length: number, unit: number): number[];
  /** Function 6, and each register of function 16 in order. */
  write(addr: number, value: number, unit: number): Promise<void>;
}

/** MBAP header: transaction id, protocol id (0), length (unit id + PDU), unit id. */
export const MBAP_LEN = 7;
/** Largest PDU (Modbus: 253 bytes). */
const PDU_MAX = 253;

export interface Frame {
  transaction: number;
  unit: number;
  pdu: Buffer;
}

/**
 * Splits a receive buffer into complete frames; returns them and the rest. `bad` is set when
 * the header cannot be Modbus (protocol id not 0, length outside 2..254): the caller closes
 * the connection, as there is no way to find the next frame.
 */
export function takeFrames(buf: Buffer): { frames: Frame[]; rest: Buffer; bad?: string } {
  const frames: Frame[] = [];
  let at = 0;
  while (buf.length - at >= MBAP_LEN) {
    const protocol = buf.readUInt16BE(at + 2);
    const len = buf.readUInt16BE(at + 4);
    if (protocol !== 0) return { frames, rest: Buffer.alloc(0), bad: `protocol id ${protocol}` };
    if (len < 2 || len > PDU_MAX + 1)
      return { frames, rest: Buffer.alloc(0), bad: `MBAP length ${len}` };
    if (buf.length - at < 6 + len) break;
    frames.push({
      transaction: buf.readUInt16BE(at),
      unit: buf[at + 6]!,
      pdu: Buffer.from(buf.subarray(at + 7, at + 6 + len)),
    });
    at += 6 + len;
  }
  return { frames, rest: Buffer.from(buf.subarray(at)) };
}

/** The MBAP frame of a response PDU. */
export function frame(transaction: number, unit: number, pdu: Buffer): Buffer {
  const out = Buffer.alloc(MBAP_LEN + pdu.length);
  out.writeUInt16BE(transaction, 0);
  out.writeUInt16BE(0, 2);
  out.writeUInt16BE(pdu.length + 1, 4);
  out[6] = unit;
  pdu.copy(out, MBAP_LEN);
  return out;
}

export const exceptionPdu = (fc: number, code: number): Buffer =>
  Buffer.from([(fc | 0x80) & 0xff, code]);

const fail = (code: number, why: string): never => {
  throw new ModbusException(code, why);
};

/**
 * Answers one request PDU: the response PDU, or an exception PDU (`exception` says which
 * and why). Never throws.
 */
export async function answer(
  pdu: Buffer,
  unit: number,
  blocks: readonly RegisterBlock[],
  h: RegisterHandler,
): Promise<{ pdu: Buffer; exception?: ModbusException }> {
  const fc = pdu[0] ?? 0;
  const inside = (addr: number, qty: number): void => {
    if (!blocks.some((b) => addr >= b.start && addr + qty <= b.start + b.size)) {
      fail(
        EXCEPTION.ILLEGAL_ADDRESS,
        `registers ${addr}..${addr + qty - 1} are outside ${blocks.map((b) => `${b.start}..${b.start + b.size - 1}`).join(' and ')}`,
      );
    }
  };
  try {
    if (fc === 3 || fc === 4) {
      if (pdu.length !== 5) fail(EXCEPTION.ILLEGAL_VALUE, `function ${fc} takes 4 data bytes`);
      const addr = pdu.readUInt16BE(1);
      const qty = pdu.readUInt16BE(3);
      if (qty < 1 || qty > 125)
        fail(EXCEPTION.ILLEGAL_VALUE, `register count ${qty} is outside 1..125`);
      inside(addr, qty);
      const regs = h.read(addr, qty, unit);
      const out = Buffer.alloc(2 + qty * 2);
      out[0] = fc;
      out[1] = qty * 2;
      regs.forEach((v, i) => out.writeUInt16BE(v & 0xffff, 2 + i * 2));
      return { pdu: out };
    }
    if (fc === 6) {
      if (pdu.length !== 5) fail(EXCEPTION.ILLEGAL_VALUE, 'function 6 takes 4 data bytes');
      const addr = pdu.readUInt16BE(1);
      inside(addr, 1);
      await h.write(addr, pdu.readUInt16BE(3), unit);
      return { pdu: Buffer.from(pdu) };
    }
    if (fc === 16) {
      if (pdu.length < 6) fail(EXCEPTION.ILLEGAL_VALUE, 'function 16 is too short');
      const addr = pdu.readUInt16BE(1);
      const qty = pdu.readUInt16BE(3);
      const bytes = pdu[5]!;
      if (qty < 1 || qty > 123 || bytes !== qty * 2 || pdu.length !== 6 + bytes)
        fail(
          EXCEPTION.ILLEGAL_VALUE,
          `register count ${qty} (1..123) and byte count ${bytes} do not match the request`,
        );
      inside(addr, qty);
      for (let i = 0; i < qty; i++) await h.write(addr + i, pdu.readUInt16BE(6 + i * 2), unit);
      return { pdu: Buffer.from(pdu.subarray(0, 5)) };
    }
    return fail(
      EXCEPTION.ILLEGAL_FUNCTION,
      `function ${fc} is not supported (3, 4 read; 6, 16 write)`,
    );
  } catch (e) {
    const ex =
      e instanceof ModbusException
        ? e
        : new ModbusException(EXCEPTION.DEVICE_FAILURE, e instanceof Error ? e.message : String(e));
    return { pdu: exceptionPdu(fc, ex.modbusErrorCode), exception: ex };
  }
}
