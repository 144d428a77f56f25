/**
 * A collector's serial number and claim code as people and cameras give them (issue 15,
 * docs/collectors.md "Linking a collector"): the patterns, the normalising of what a person
 * types, and the reading of a scanned QR code or a pasted `openbms link --show --json`.
 * No zod and no I/O: the web console bundles this file (through `@openbms/contract/api`) for
 * its "Add collector" dialog; uplink.ts re-exports it for the gateway and the server.
 */

/**
 * A collector's serial number: `OB` and 10 Crockford base-32 characters (no I, L, O, U), made
 * by the collector on its first start and kept in its data directory.
 */
export const SERIAL_PATTERN = /^OB[0-9A-HJKMNP-TV-Z]{10}$/;

/**
 * A serial as a person types it: upper case, no spaces or dashes, and after the `OB` prefix
 * O read as 0, I and L as 1 (the characters Crockford base-32 leaves out).
 */
export function normalizeSerial(text: string): string {
  const s = text.toUpperCase().replace(/[\s-]/g, '');
  return s.startsWith('OB') ? `OB${s.slice(2).replace(/O/g, '0').replace(/[IL]/g, '1')}` : s;
}

/**
 * A claim code: 8 Crockford base-32 characters, shown as XXXX-XXXX. `normalizeClaimCode`
 * accepts what a person types (lower case, spaces, dashes, O for 0, I and L for 1).
 */
export const CLAIM_CODE_PATTERN = /^[0-9A-HJKMNP-TV-Z]{8}$/;

export function normalizeClaimCode(text: string): string {
  return text.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
}

/** A claim code as people read it: XXXX-XXXX. */
export function formatClaimCode(code: string): string {
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/** What the collector's QR code holds: `OBMS1:<serial>:<claim code>`. */
export function claimQrText(serial: string, claimCode: string): string {
  return `OBMS1:${serial}:${claimCode}`;
}

/**
 * Reads a scanned or pasted claim: the QR text, or the JSON `openbms link --show --json`
 * prints. Undefined when it is neither (the caller says so to the user).
 */
export function parseClaim(text: string): { serial: string; claim_code: string } | undefined {
  const t = text.trim();
  const qr = /^OBMS1:([^:]+):([^:]+)$/.exec(t);
  let serial: unknown;
  let code: unknown;
  if (qr) {
    serial = qr[1];
    code = qr[2];
  } else {
    try {
      const j = JSON.parse(t) as { serial?: unknown; claim_code?: unknown };
      serial = j?.serial;
      code = j?.claim_code;
    } catch {
      return undefined;
    }
  }
  if (typeof serial !== 'string' || typeof code !== 'string') return undefined;
  const s = normalizeSerial(serial);
  const c = normalizeClaimCode(code);
  return SERIAL_PATTERN.test(s) && CLAIM_CODE_PATTERN.test(c)
    ? { serial: s, claim_code: c }
    : undefined;
}
