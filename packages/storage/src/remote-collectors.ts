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
 */

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
   * id; a known one gets `lastSeenAt` and `version` when the code matches. REQUEST_INVALID
   * (field `gateway_id`) when another serial has that gateway id.
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
  /** Stores the hash of new uplink credentials of a claimed collector (the old stop working). */
  setCredentials(serial: string, secretHash: string, at: number): Promise<void>;
  /** The claimed, unrevoked collector whose credentials these are; undefined otherwise. */
  verify(serial: string, secret: string): Promise<RemoteCollector | undefined>;
  /** Revokes a claimed collector (NOT_FOUND: unknown; idempotent when revoked already). */
  revoke(serial: string, by: string, at: number): Promise<RemoteCollector>;
  get(serial: string): Promise<RemoteCollector | undefined>;
  byGateway(gatewayId: string): Promise<RemoteCollector | undefined>;
  /** The claimed collectors of these organisations (all when `orgIds` is undefined), by serial. */
  list(orgIds?: readonly string[]): Promise<RemoteCollector[]>;
  /** Notes traffic from a collector (at most one write a minute per collector is enough). */
  seen(serial: string, at: number): Promise<void>;
}
