/** What every route module receives: the stores, the gateway and the shared services. */
import type {
  AlarmStore,
  AuditStore,
  NewAuditEntry,
  Origin,
  Scope,
  TelemetryStore,
  UserStore,
} from '@openbms/storage';
import type { TokenIssuer } from './auth.js';
import type { GatewayApi } from './gateway-api.js';
import type { ScryptCost } from './passwords.js';
import type { FailureLimiter } from './rate-limit.js';
import type { Limiter, Serial } from './serial.js';
import type { LiveRegistry } from './sessions.js';

export interface ServerContext extends TokenIssuer {
  alarms: AlarmStore;
  audit: AuditStore;
  users: UserStore;
  telemetry: TelemetryStore;
  /**
   * Whose records this server writes (audit entries, accounts): the single box's gateway and
   * organisation. Its queries see `scope` (the same gateway); a principal's scope replaces it
   * when requests carry one.
   */
  origin: Origin;
  scope: Scope;
  /** Account changes (setup, users, passwords) one at a time: a check and its change never interleave. */
  accounts: Serial;
  /** Heavy reads in flight at once (history, export chunks); see serial.ts. */
  reads: Limiter;
  gateway: GatewayApi;
  clock: () => number;
  startedAt: number;
  passwordCost: ScryptCost;
  /** Failed logins per IP + user name. */
  loginLimiter: FailureLimiter;
  /** Failed logins per IP, whatever the user name (stops spraying many names). */
  ipLimiter: FailureLimiter;
  /** Always mark the session cookie Secure (it is anyway on requests that came over HTTPS). */
  secureCookie: boolean;
  /** The open live WebSockets, so ending a session closes its streams at once. */
  live: LiveRegistry;
  /** The directory holding the database, when the store is a local file (disk space). */
  dataDir?: string;
  /** Appends to the audit log; an audit failure is logged, never fails the request. */
  record(e: Omit<NewAuditEntry, 'at'>): Promise<void>;
}
