/**
 * Payload encoding of the collector uplink (docs/collectors.md): JSON, raw-deflated when that
 * saves bytes (a 16-pack batch of snapshots shrinks several times: the field names repeat).
 * A receiver tells the two apart by the first byte: `{` is JSON, anything else deflate. Node's
 * zlib does the compression; inflating stops at MAX_UPLINK_BYTES so a small hostile payload
 * cannot expand into gigabytes.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { MAX_UPLINK_BYTES } from '@openbms/contract/gateway';
import { BmsError } from '@openbms/core';

/** Payloads smaller than this go as plain JSON (deflate's header would not pay). */
const DEFLATE_FROM = 256;

export function encodeUplink(message: unknown): Buffer {
  const json = Buffer.from(JSON.stringify(message));
  if (json.length < DEFLATE_FROM) return json;
  const packed = deflateRawSync(json, { level: 6 });
  return packed.length < json.length ? packed : json;
}

/**
 * The JSON value of a payload (not yet checked with a schema). REQUEST_INVALID, naming
 * `payload`, for what is neither JSON nor deflated JSON, or inflates beyond MAX_UPLINK_BYTES.
 */
export function decodeUplink(payload: Buffer | Uint8Array): unknown {
  const buf = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  if (buf.length === 0) throw invalid('is empty');
  if (buf.length > MAX_UPLINK_BYTES) throw invalid(`is over ${MAX_UPLINK_BYTES} bytes`);
  let text: string;
  if (buf[0] === 0x7b) {
    text = buf.toString('utf8');
  } else {
    try {
      text = inflateRawSync(buf, { maxOutputLength: MAX_UPLINK_BYTES }).toString('utf8');
    } catch {
      throw invalid(`is neither JSON nor deflated JSON of at most ${MAX_UPLINK_BYTES} bytes`);
    }
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw invalid('is not valid JSON');
  }
}

function invalid(why: string): BmsError {
  return new BmsError('REQUEST_INVALID', `uplink payload ${why}`, { field: 'payload' });
}
