/**
 * Remote collectors of the fleet cloud (issue 15; docs/collectors.md "Linking a collector"):
 * the collectors that said hello, their claim and their uplink credentials. The port is
 * `RemoteCollectorStore`; the adapters keep it in the records database (SQLite
 * `remote_collectors`, PostgreSQL the same table).
 *
 * Life of a collector: `unclaimed` (its first hello: serial, gateway id and the claim code's
 * hash) → `claimed` (a user added it to a plant with the claim code: it gets the plant's
 * organisation and becomes a collector of that plant) → `revoked` (its credentials and hellos
 * are refused from then on). Secrets are kept as hashes only: the claim code's and the uplink
 * password's (SHA-256 of a random 32-byte secret: a slow hash is for passwords people choose,
 * and the broker checks one per connection).
 *
 * Both adapters hash in the same way, `hex(SHA-256("claim:" + code))` and `hex(SHA-256("secret:"
 * + secret))` (this package is pure, so the hashing is theirs: `collector-hash.ts` in each), compare hashes with `timingSafeEqual`, refuse the same input
 * (the checks below: REQUEST_INVALID naming the field) and claim with one conditional UPDATE
 * (`state = 'unclaimed'` and the code's hash in its WHERE): of two nodes claiming at once one
 * wins, the other gets CONFLICT.
 */
import { BmsError } from '@openbms/core';
import { ident, invalid, text, time } from './validate.js';

export { ident, time };

export const REMOTE_COLLECTOR_STATES = ['unclaimed', 'claimed', 'revoked'] as const;
export type RemoteCollectorState = (typeof REMOTE_COLLECTOR_STATES)[number];

export interface RemoteCollector {
  /** `OB` + 10 characters (contract's SERIAL_PATTERN): the key. */
  serial: string;
  /** The collector's own gateway id (a ULID it made): its records in the cloud carry it. */
  gatewayId: string;
  state: RemoteCollectorState;
  /** Set once claimed: the plant's organisation and the plant. */
  orgId?: string;
  plantId?: string;
  /** The software version its last hello named. */
  version?: string;
  firstSeenAt: number;
  /** The last hello or uplink message (a node updates it at most once a minute). */
  lastSeenAt: number;
  claimedAt?: number;
  /** User id of who claimed it. */
  claimedBy?: string;
  revokedAt?: number;
  revokedBy?: string;
  /** When its current uplink credentials were made (absent: none yet). */
  credentialsAt?: number;
}

/** What a hello found: the collector as stored now, and whether the claim code matched. */
export interface HelloOutcome {
  collector: RemoteCollector;
  /** False: the serial is known with another claim code (the hello is refused). */
  codeMatches: boolean;
}

export interface RemoteCollectorStore {
  /**
   * Records a hello: an unknown serial becomes `unclaimed` with this claim code and gateway
   * id; a known one gets `lastSeenAt` and `version` when the code matches (an unclaimed one
   * its new gateway id too). REQUEST_INVALID (field `gateway_id`) when another serial has that
   * gateway id, or when a claimed or revoked collector names another gateway id than the one
   * it was claimed with. A code that does not match changes nothing.
   */
  hello(input: {
    serial: string;
    claimCode: string;
    gatewayId: string;
    version?: string;
    at: number;
  }): Promise<HelloOutcome>;
  /**
   * Claims an unclaimed collector for a plant with its claim code. NOT_FOUND (field `serial`)
   * when the serial is unknown or the code does not match (one answer: no oracle); CONFLICT
   * when it is claimed or revoked already.
   */
  claim(input: {
    serial: string;
    claimCode: string;
    orgId: string;
    plantId: string;
    by: string;
    at: number;
  }): Promise<RemoteCollector>;
  /**
   * Stores the hash of new uplink credentials of a claimed collector (the old stop working).
   * Takes the secret itself (the adapter hashes it: this package has no crypto), keeps only its
   * hash. NOT_FOUND: unknown serial; CONFLICT: not claimed (unclaimed, or revoked).
   */
  setCredentials(serial: string, secret: string, at: number): Promise<void>;
  /**
   * The claimed, unrevoked collector whose credentials these are; undefined otherwise (also
   * for a malformed serial or secret: the broker asks with whatever a client sent).
   */
  verify(serial: string, secret: string): Promise<RemoteCollector | undefined>;
  /**
   * Revokes a collector (claimed or not): its credentials are dropped and its hellos refused
   * from then on. NOT_FOUND: unknown; revoked already: unchanged (the first revocation stays).
   */
  revoke(serial: string, by: string, at: number): Promise<RemoteCollector>;
  get(serial: string): Promise<RemoteCollector | undefined>;
  byGateway(gatewayId: string): Promise<RemoteCollector | undefined>;
  /**
   * The collectors claimed (revoked ones included) by organisations of these subtrees, by
   * serial: `within` are subtree roots as in `DeviceStore` (the adapters apply them in SQL
   * through `org_closure`, at most 1000); undefined: every organisation's.
   */
  list(within?: readonly string[]): Promise<RemoteCollector[]>;
  /**
   * Notes traffic from a collector: `lastSeenAt` moves forward only (an older time changes
   * nothing; an unknown serial neither). Callers write at most once a minute per collector.
   */
  seen(serial: string, at: number): Promise<void>;
}

// ---------------------------------------------------------------- checks

/** The contract's SERIAL_PATTERN (`@openbms/contract/gateway`; the server's test checks they agree). */
export const SERIAL_PATTERN = /^OB[0-9A-HJKMNP-TV-Z]{10}$/;
/** The contract's CLAIM_CODE_PATTERN: 8 Crockford base-32 characters, normalized. */
export const CLAIM_CODE_PATTERN = /^[0-9A-HJKMNP-TV-Z]{8}$/;
/** The longest uplink secret `verify` looks at (ours are 43 characters: 32 bytes base64url). */
export const MAX_SECRET_CHARS = 256;
/** At most this many subtree roots in `list`. */
export const MAX_LIST_ROOTS = 1000;

export function serial(value: unknown, field = 'serial'): string {
  if (typeof value !== 'string' || !SERIAL_PATTERN.test(value))
    throw invalid(field, 'must be a collector serial: OB and 10 characters of 0-9 A-Z');
  return value;
}

export function claimCode(value: unknown, field = 'claimCode'): string {
  if (typeof value !== 'string' || !CLAIM_CODE_PATTERN.test(value))
    throw invalid(field, 'must be a claim code: 8 characters of 0-9 A-Z (normalized)');
  return value;
}

/** An uplink secret to store: 32-256 characters without control characters. */
export function secret(value: unknown, field = 'secret'): string {
  const s = text(value, field, MAX_SECRET_CHARS);
  if (s.length < 32) throw invalid(field, 'must be at least 32 characters');
  return s;
}

export function helloInput(value: unknown): {
  serial: string;
  claimCode: string;
  gatewayId: string;
  version: string | null;
  at: number;
} {
  if (typeof value !== 'object' || value === null) throw invalid('hello', 'must be an object');
  const v = value as Record<string, unknown>;
  return {
    serial: serial(v['serial']),
    claimCode: claimCode(v['claimCode']),
    gatewayId: ident(v['gatewayId'], 'gatewayId'),
    version: v['version'] == null ? null : text(v['version'], 'version', 64),
    at: Math.round(time(v['at'], 'at')),
  };
}

export function claimInput(value: unknown): {
  serial: string;
  claimCode: string;
  orgId: string;
  plantId: string;
  by: string;
  at: number;
} {
  if (typeof value !== 'object' || value === null) throw invalid('claim', 'must be an object');
  const v = value as Record<string, unknown>;
  return {
    serial: serial(v['serial']),
    claimCode: claimCode(v['claimCode']),
    orgId: ident(v['orgId'], 'orgId'),
    plantId: ident(v['plantId'], 'plantId'),
    by: ident(v['by'], 'by'),
    at: Math.round(time(v['at'], 'at')),
  };
}

/** `list`'s roots, checked: undefined (all) or 0..MAX_LIST_ROOTS organisation ids. */
export function listRoots(value: unknown): string[] | null {
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value) || value.length > MAX_LIST_ROOTS)
    throw invalid('within', `must be an array of at most ${MAX_LIST_ROOTS} organisation ids`);
  return value.map((o, i) => ident(o, `within[${i}]`));
}

// ---------------------------------------------------------------- errors

export const notFound = (s: string): BmsError =>
  new BmsError('NOT_FOUND', `serial ${s}: no collector with this claim code`, {
    field: 'serial',
  });

export const unknownSerial = (s: string): BmsError =>
  new BmsError('NOT_FOUND', `serial ${s}: no such collector`, { field: 'serial' });

export const conflict = (s: string, state: string): BmsError =>
  new BmsError('CONFLICT', `serial ${s}: the collector is ${state}`, { field: 'serial', state });

export const gatewayTaken = (): BmsError =>
  invalid('gateway_id', 'is the gateway id of another collector');

export const gatewayChanged = (): BmsError =>
  invalid('gateway_id', 'differs from the gateway id the collector was claimed with');

// ---------------------------------------------------------------- rows

export const REMOTE_COLLECTOR_COLUMNS =
  'serial, gateway_id, state, org_id, plant_id, claim_hash, secret_hash, version, first_seen_at, last_seen_at, claimed_at, claimed_by, revoked_at, revoked_by, credentials_at';

export interface RemoteCollectorRow {
  serial: string;
  gateway_id: string;
  state: string;
  org_id: string | null;
  plant_id: string | null;
  claim_hash: string;
  secret_hash: string | null;
  version: string | null;
  first_seen_at: number | string;
  last_seen_at: number | string;
  claimed_at: number | string | null;
  claimed_by: string | null;
  revoked_at: number | string | null;
  revoked_by: string | null;
  credentials_at: number | string | null;
}

export function remoteCollectorFromRow(r: RemoteCollectorRow): RemoteCollector {
  const c: RemoteCollector = {
    serial: r.serial,
    gatewayId: r.gateway_id,
    state: r.state as RemoteCollectorState,
    firstSeenAt: Number(r.first_seen_at),
    lastSeenAt: Number(r.last_seen_at),
  };
  if (r.org_id !== null) c.orgId = r.org_id;
  if (r.plant_id !== null) c.plantId = r.plant_id;
  if (r.version !== null) c.version = r.version;
  if (r.claimed_at !== null) c.claimedAt = Number(r.claimed_at);
  if (r.claimed_by !== null) c.claimedBy = r.claimed_by;
  if (r.revoked_at !== null) c.revokedAt = Number(r.revoked_at);
  if (r.revoked_by !== null) c.revokedBy = r.revoked_by;
  if (r.credentials_at !== null) c.credentialsAt = Number(r.credentials_at);
  return c;
}
