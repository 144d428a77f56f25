/**
 * Coded errors. Every failure that crosses a package boundary is a BmsError with a stable
 * code from ERROR_CODES. Codes are never reused or renamed; docs/errors.md lists them all
 * (a test keeps the two in step).
 */

export const ERROR_CODES = {
  // Framing and decoding
  FRAME_CHECKSUM: 'A frame arrived whole but its checksum or CRC does not match its bytes.',
  FRAME_TRUNCATED: 'A frame is shorter than its header or length field says it must be.',
  FRAME_MALFORMED:
    'A frame has the right length and checksum but a field that its protocol forbids (bad marker, length byte, non-hex ASCII...).',
  FRAME_NO_START: 'Bytes that do not begin any frame of the protocol (garbage between frames).',
  FRAME_TOO_LONG: 'A length field claims more bytes than any frame of the protocol can hold.',
  FRAME_UNEXPECTED:
    'A valid frame that does not answer the request that was sent (other command, other address).',
  DECODE_UNSUPPORTED: 'The frame is valid but its command or record type has no decoder.',
  DECODE_CONTEXT_MISSING:
    'The reply cannot be decoded without out-of-band facts (the request, a cell count, a record variant).',
  DEVICE_ERROR_REPLY:
    'The device answered with an error code (Modbus exception, Pylontech RTN, JBD status) instead of data.',
  // Encoding and protocol lookup
  PROTOCOL_UNKNOWN: 'No protocol family has this id or alias.',
  COMMAND_UNSUPPORTED: 'The protocol family cannot encode this command.',
  VARIANT_UNKNOWN: 'The record variant (e.g. JK02_24S / JK02_32S) is not one the family knows.',
  INVALID_ARGUMENT:
    'An argument to an encoder or command is missing, malformed or out of its type range.',
  // Transport
  TRANSPORT_OPEN_FAILED: 'The serial port or TCP endpoint could not be opened.',
  TRANSPORT_CLOSED: 'The link closed while a transaction was in progress.',
  TRANSPORT_TIMEOUT: 'The device did not answer (completely) within the timeout after every retry.',
  TRANSPORT_WRITE_FAILED: 'Writing the request to the link failed.',
  // Parameters and safety
  PARAM_UNKNOWN: 'No parameter with this id exists in the catalog.',
  PARAM_OUT_OF_RANGE: "A parameter value lies outside the parameter's own min..max range.",
  PARAM_STEP: "A parameter value is not a multiple of the parameter's step.",
  PARAM_UNSAFE_FOR_CHEMISTRY:
    "A parameter value lies outside the cell chemistry's safe limits (LiFePO4, NMC).",
  PARAM_INCONSISTENT:
    'A set of parameters breaks a consistency rule (recovery beyond protection, level 2 below level 1...).',
  // Configuration and CLI
  CONFIG_INVALID: 'A configuration value or command-line option is invalid; the message names it.',
  // Storage
  STORAGE_READ_ONLY:
    'The data directory or database cannot be written (read-only file system or permissions).',
  STORAGE_FULL:
    'The disk holding the database is full; nothing was written, nothing stored is lost.',
  STORAGE_FAILED:
    'The database failed for another reason (locked by another process, an unexpected I/O error).',
  STORAGE_CORRUPT:
    'The database file is damaged (its integrity check failed or a read met a corrupt page); it was set aside and a fresh file opened.',
  STORAGE_UNAVAILABLE:
    'The database server (PostgreSQL) cannot be reached or refuses connections; nothing was written, samples wait in memory.',
  // API and control
  AUTH_REQUIRED: 'The request has no valid session or API token.',
  AUTH_INVALID: 'Wrong user name or password.',
  CAPTCHA_REQUIRED:
    'The login needs a captcha (always, or after repeated failures): fetch one from GET /auth/captcha and send captcha_id and captcha.',
  CAPTCHA_WRONG:
    "The login's captcha answer is wrong, or its challenge is unknown, used or expired; each challenge answers one attempt.",
  SIGNUP_DISABLED:
    'Self-service sign-up or password reset by e-mail is not turned on on this server (config accounts.signup, accounts.email).',
  CODE_INVALID:
    'The e-mailed code is wrong, expired, already used, or was tried too often; ask for a new code.',
  FORBIDDEN: "The caller's role does not allow this operation on this data.",
  RATE_LIMITED:
    "Too many attempts (e.g. logins) in a short time, or an organisation's API requests per minute are used up; try again later.",
  LIMIT_REACHED:
    'An organisation has as many users or devices as its limit allows (config fleet.limits); the refusal names the limit.',
  NOT_FOUND: 'No such pack, bus, site, alarm, user or resource.',
  REQUEST_INVALID: 'A malformed API request (schema violation); the message names the field.',
  CAPABILITY_MISSING: 'The protocol family of this pack cannot do the requested operation.',
  COMMAND_REFUSED: 'The device or an interlock refused the command; the message gives the reason.',
  READBACK_MISMATCH: 'A value was written but reading it back gave a different value.',
  INTERNAL:
    'An unexpected failure inside OpenBMS (a bug); the server logs it, the caller gets no details.',
  GATEWAY_UNAVAILABLE:
    'The gateway did not answer in time (offline, or the link to it is down); the outcome of a command sent to it is unknown.',
  // Remote collectors (issue 15, docs/collectors.md)
  CONFLICT:
    'The resource is not in a state that allows this any more (a collector claimed or revoked already, or claimed by someone else first).',
  UPLINK_UNAVAILABLE:
    'This server takes no remote collectors: it runs no collector uplink (`openbms cloud` with a broker).',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export const ERROR_CODE_LIST = Object.keys(ERROR_CODES) as ErrorCode[];

export class BmsError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'BmsError';
    this.code = code;
    this.details = details;
  }

  toJSON(): { error: string; code: ErrorCode; details?: Record<string, unknown> } {
    return this.details === undefined
      ? { error: this.message, code: this.code }
      : { error: this.message, code: this.code, details: this.details };
  }
}

/** Guard used by every decoder before it reads: check first, then parse. */
export function ensure(
  condition: unknown,
  code: ErrorCode,
  message: string,
  details?: Record<string, unknown>,
): asserts condition {
  if (!condition) throw new BmsError(code, message, details);
}

export function isBmsError(e: unknown): e is BmsError {
  return e instanceof BmsError;
}
