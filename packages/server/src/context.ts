/** What every route module receives: the stores, the gateways, the policy and the shared services. */
import type {
  AlarmStore,
  AuditStore,
  NewAuditEntry,
  Origin,
  Scope,
  TelemetryStore,
  UserStore,
  OrgStore,
  PlantStore,
} from '@openbms/storage';
import type { TokenIssuer } from './auth.js';
import type { BoxGateway } from './gateway-api.js';
import type { GatewayRegistry } from './gateways.js';
import type { ScryptCost } from './passwords.js';
import type { Policy } from './policy.js';
import type { FailureLimiter } from './rate-limit.js';
import type { Captchas } from './captcha.js';
import type { Limiter, Serial } from './serial.js';
import type { LiveRegistry } from './sessions.js';
import type { OrgLimits } from './limits.js';
import type { UplinkPort } from './uplink.js';

export interface ServerContext extends TokenIssuer {
  alarms: AlarmStore;
  audit: AuditStore;
  users: UserStore;
  /** Organisations and memberships, when the store has them (both adapters do). */
  orgs?: OrgStore;
  /** Plants, visitors and collectors, when the store has them (both adapters do). */
  plants?: PlantStore;
  telemetry: TelemetryStore;
  /**
   * This server's own identity: the box's organisation (whose accounts log in here, whose
   * settings the box's admin changes) and the gateway whose id its own records carry (logins,
   * account changes). What a request may see comes from its principal (policy.ts), not from here.
   */
  origin: Origin;
  /** The box organisation's accounts (login, setup). */
  scope: Scope;
  /** Every gateway the server serves, by id (the box's first). */
  gateways: GatewayRegistry;
  /** Who may see and do what (principal, organisation, role). */
  policy: Policy;
  /** The box's gateway: its link and the machine's own services (settings, metrics...). */
  box: BoxGateway;
  /** Account changes (setup, users, passwords) one at a time: a check and its change never interleave. */
  accounts: Serial;
  /** Per-organisation limits: members, devices, API requests per minute (limits.ts). */
  limits: OrgLimits;
  /** Heavy reads in flight at once (history, export chunks); see serial.ts. */
  reads: Limiter;
  clock: () => number;
  startedAt: number;
  passwordCost: ScryptCost;
  /** Failed logins per IP + user name. */
  loginLimiter: FailureLimiter;
  /** Failed logins per IP, whatever the user name (stops spraying many names). */
  ipLimiter: FailureLimiter;
  /** The login's captcha: challenges, and the failure counts that decide when it is asked. */
  captchas: Captchas;
  /** Always mark the session cookie Secure (it is anyway on requests that came over HTTPS). */
  secureCookie: boolean;
  /** The open live WebSockets, so ending a session closes its streams at once. */
  live: LiveRegistry;
  /** The node's collector uplink (`openbms cloud`); absent: this server takes no collectors. */
  uplink?: UplinkPort;
  /** The directory holding the database, when the store is a local file (disk space). */
  dataDir?: string;
  /**
   * Appends to the audit log as a record of `origin` (default: this server's own); an audit
   * failure is logged, never fails the request.
   */
  record(e: Omit<NewAuditEntry, 'at'>, origin?: Origin): Promise<void>;
}
