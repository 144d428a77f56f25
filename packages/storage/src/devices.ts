/**
 * The fleet's device list (issue 14, seeds 002 EMS and 003 "List"; docs/fleet.md "Devices"):
 * BMS packs (later collectors and GPS trackers) registered by serial number, owned by an
 * organisation, with their activation status and expiry, and the approvals that move them.
 *
 * Every call takes `within` (the roots of the subtrees the caller sees, as `OrgStore` does);
 * the adapters apply it in SQL with the closure table's semi-join (`org_id IN (SELECT
 * descendant FROM org_closure WHERE ancestor IN within)`), so a device outside is NOT_FOUND
 * exactly like one that does not exist.
 *
 * Run status: a device is **online** when its pack was seen (`seen`) within `ONLINE_WINDOW_MS`
 * of the query's `now`, else offline. The server marks the packs its gateways report online
 * (`seen`, throttled) before it lists, so the status is a column compare in the database and
 * the filter stays indexed; a device without a gateway/pack link is offline.
 */
import { BmsError } from '@openbms/core';
import type { NewRenewal, Renewal, RenewalQuery } from './renewals.js';
import { invalid, ident, oneOf, optText, text, time } from './validate.js';

export { invalid, ident, text, time };

export const DEVICE_TYPES = ['bms', 'collector', 'tracker'] as const;
export type DeviceType = (typeof DEVICE_TYPES)[number];

export const ACTIVATIONS = ['enabled', 'not_enabled'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

/**
 * The list's filter tabs (seed 003: All, Online, Offline, Expired, Not enabled), and
 * `expiring`: an expiry within EXPIRING_WINDOW_MS after now, not yet passed (renew these).
 */
export const DEVICE_STATUSES = [
  'all',
  'online',
  'offline',
  'expired',
  'expiring',
  'not_enabled',
] as const;
export type DeviceStatus = (typeof DEVICE_STATUSES)[number];

/** A pack seen this recently (ms before the query's `now`) is online. */
export const ONLINE_WINDOW_MS = 120_000;

/** A device whose expiry falls within this after now (and has not passed) is `expiring`. */
export const EXPIRING_WINDOW_MS = 30 * 86_400_000;

/** The most rows one list page holds. */
export const MAX_DEVICE_PAGE = 500;

export interface Device {
  /** ULID. */
  id: string;
  /** Device no. / serial number: unique across the fleet. */
  serial: string;
  barcode?: string;
  nickname?: string;
  type: DeviceType;
  model?: string;
  manufacturer?: string;
  /** Production date, `YYYY-MM-DD`. */
  producedOn?: string;
  /** When it joined the fleet (ms). */
  joinedAt: number;
  /** Who registered it (their login name). */
  createdBy: string;
  /** The owning organisation. */
  orgId: string;
  activation: Activation;
  /** After this (ms) the device is expired; absent: never. */
  expiresAt?: number;
  /** The live-data link: the gateway (collector) and the pack on it. */
  gatewayId?: string;
  packId?: string;
  /** Last time its pack was reported online (ms). */
  lastSeenAt?: number;
}

/** A device as the list shows it: with its organisation's name and code. */
export interface ListedDevice extends Device {
  orgName: string;
  orgCode: string;
}

export type NewDevice = Omit<Device, 'id' | 'lastSeenAt'>;

export interface DevicePatch {
  nickname?: string | null;
  activation?: Activation;
  expiresAt?: number | null;
}

export interface DeviceQuery {
  status?: DeviceStatus;
  /** Device no., bar code or nickname beginning with this (any letter case). */
  q?: string;
  /** Narrows to this organisation's subtree (must lie within). */
  org?: string;
  /** Only devices of this type. */
  type?: DeviceType;
  /** The id of the last device of the previous page. */
  after?: string;
  limit?: number;
  /** ms: decides online (ONLINE_WINDOW_MS) and expired. */
  now: number;
}

export interface DevicePage {
  devices: ListedDevice[];
  /** Give as `after` for the next page; absent: this was the last. */
  next?: string;
}

export type DeviceCounts = Record<DeviceStatus, number>;

export const APPROVAL_STATES = ['pending', 'approved', 'rejected'] as const;
export type ApprovalState = (typeof APPROVAL_STATES)[number];

export interface Approval {
  id: string;
  kind: 'unbind';
  deviceId: string;
  serial: string;
  /** The device's owner when asked. */
  fromOrg: string;
  /** Where the device goes on approval: the organisation above the owner, or the approver's. */
  toOrg: string;
  requestedBy: string;
  requestedByName: string;
  requestedAt: number;
  reason?: string;
  state: ApprovalState;
  decidedBy?: string;
  decidedByName?: string;
  decidedAt?: number;
  decisionReason?: string;
}

export interface NewUnbind {
  deviceId: string;
  /** The organisation above the owner (the default destination and the deciding one). */
  toOrg: string;
  requestedBy: string;
  requestedByName: string;
  requestedAt: number;
  reason?: string;
}

export interface Decision {
  approve: boolean;
  by: string;
  byName: string;
  at: number;
  /** On approval, where the device goes (an ancestor of its owner); default the request's. */
  toOrg?: string;
  reason?: string;
}

export interface ApprovalQuery {
  state?: ApprovalState;
  /** Roots of the subtrees in which the caller decides (manager/administrator). */
  decides: readonly string[];
  /** The caller's user id: what they asked. */
  asker: string;
  limit?: number;
}

export interface DeviceStore {
  /** Registers a device in an organisation within; a serial taken is REQUEST_INVALID (`serial`). */
  create(within: readonly string[], d: NewDevice): Promise<Device>;
  /**
   * Registers every device or none (an import): a serial taken, or given twice, is
   * REQUEST_INVALID with `field: serial` and `row` the index in `ds`.
   */
  createMany(within: readonly string[], ds: readonly NewDevice[]): Promise<number>;
  get(within: readonly string[], id: string): Promise<ListedDevice | undefined>;
  /**
   * The device with this serial (any letter case) when it lies within: one lookup of the
   * unique serial index (the tracker servers identify every connection by serial).
   */
  bySerial(within: readonly string[], serial: string): Promise<ListedDevice | undefined>;
  /**
   * The tracker device within whose own pack this is (`tracker/<its serial>`, serials being
   * unique across the fleet) on one of these gateways (at most 100), if any: a tracker
   * battery's BMS polled by the node's gateway is its device's organisation's to see
   * (policy.ts `lookPack`). A device merely registered with a link to someone else's pack
   * (any pack id not its own serial's) grants nothing.
   */
  byPack(
    within: readonly string[],
    gatewayIds: readonly string[],
    packId: string,
  ): Promise<ListedDevice | undefined>;
  update(within: readonly string[], id: string, patch: DevicePatch): Promise<Device>;
  /** A page, newest first (joined_at, then id descending). */
  list(within: readonly string[], q: DeviceQuery): Promise<DevicePage>;
  /** How many devices each filter tab holds (same `q` and `org`; `status` ignored). */
  counts(within: readonly string[], q: DeviceQuery): Promise<DeviceCounts>;
  /**
   * How many devices one organisation holds itself (its subtree's not counted). Not scoped:
   * the server's per-organisation limit (`fleet.limits.devices`) asks it, never a caller.
   */
  countIn(orgId: string): Promise<number>;
  /** Marks packs of a gateway seen at `at` (run status). Returns how many devices. */
  seen(gatewayId: string, packIds: readonly string[], at: number): Promise<number>;
  /** Moves a device within to an organisation within; returns it as it was. */
  bind(within: readonly string[], id: string, orgId: string): Promise<Device>;
  /** A pending unbind; one pending approval per device (a second is REQUEST_INVALID `id`). */
  requestUnbind(within: readonly string[], r: NewUnbind): Promise<Approval>;
  /** An approval the caller may see: decides over its `toOrg`, or asked it. */
  approval(q: Pick<ApprovalQuery, 'decides' | 'asker'>, id: string): Promise<Approval | undefined>;
  /** Newest first. */
  approvals(q: ApprovalQuery): Promise<Approval[]>;
  /**
   * Decides a pending approval (approved: the device moves to `toOrg`, in one transaction);
   * one decided already is REQUEST_INVALID (`id`).
   */
  decide(id: string, d: Decision): Promise<Approval>;
  /**
   * Renews every device of `r.ids` (all within) or none: each expiry moves as
   * `renewedExpiry` says and a history row is written, in one transaction. An id not within
   * is NOT_FOUND (`field: ids`, `id`) and nothing changes. Answers the rows, in `ids` order.
   */
  renew(within: readonly string[], r: NewRenewal): Promise<Renewal[]>;
  /**
   * Renewal history, newest first: one device's (NOT_FOUND when the device is not within),
   * or every renewal made while the device belonged to an organisation within.
   */
  renewals(within: readonly string[], q: RenewalQuery): Promise<Renewal[]>;
}

// ---------------------------------------------------------------- checks

const DATE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

/** A device no. / serial: 1-64 characters of letters, digits and `-_.:/`. */
export function serial(value: unknown, field = 'serial'): string {
  const s = text(value, field, 64);
  if (!/^[A-Za-z0-9._:/-]+$/.test(s))
    throw invalid(field, 'must be letters, digits and - _ . : / only');
  return s;
}

/** The arguments of `byPack`, checked: 1-100 gateway ids and a pack id. */
export function packLink(
  gatewayIds: unknown,
  packId: unknown,
): { gatewayIds: string[]; packId: string } {
  if (!Array.isArray(gatewayIds) || gatewayIds.length > 100)
    throw invalid('gatewayIds', 'must be an array of at most 100 gateway ids');
  return {
    gatewayIds: gatewayIds.map((g, i) => ident(g, `gatewayIds[${i}]`)),
    packId: text(packId, 'packId', 200),
  };
}

export function date(value: unknown, field: string): string {
  if (typeof value !== 'string' || !DATE.test(value) || Number.isNaN(Date.parse(value)))
    throw invalid(field, 'must be a date YYYY-MM-DD');
  return value;
}

const object = (value: unknown, what: string): Record<string, unknown> => {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid(what, 'must be an object');
  return value as Record<string, unknown>;
};

const label = (value: unknown, field: string, max = 100): string | null => {
  const v = optText(value, field, max);
  if (v !== null && v.trim() !== v) throw invalid(field, 'must not begin or end with spaces');
  return v;
};

export interface DeviceColumns {
  serial: string;
  barcode: string | null;
  nickname: string | null;
  type: DeviceType;
  model: string | null;
  manufacturer: string | null;
  producedOn: string | null;
  joinedAt: number;
  createdBy: string;
  orgId: string;
  activation: Activation;
  expiresAt: number | null;
  gatewayId: string | null;
  packId: string | null;
}

export function newDevice(value: unknown): DeviceColumns {
  const d = object(value, 'device');
  const gatewayId = d['gatewayId'] == null ? null : ident(d['gatewayId'], 'gatewayId');
  const packId = d['packId'] == null ? null : text(d['packId'], 'packId', 200);
  if ((gatewayId === null) !== (packId === null))
    throw invalid(gatewayId === null ? 'gatewayId' : 'packId', 'goes with packId and gatewayId');
  return {
    serial: serial(d['serial']),
    barcode: d['barcode'] == null ? null : serial(d['barcode'], 'barcode'),
    nickname: label(d['nickname'], 'nickname', 64),
    type: oneOf(d['type'], 'type', DEVICE_TYPES),
    model: label(d['model'], 'model'),
    manufacturer: label(d['manufacturer'], 'manufacturer'),
    producedOn: d['producedOn'] == null ? null : date(d['producedOn'], 'producedOn'),
    joinedAt: time(d['joinedAt'], 'joinedAt'),
    createdBy: text(d['createdBy'], 'createdBy', 200),
    orgId: ident(d['orgId'], 'orgId'),
    activation: oneOf(d['activation'], 'activation', ACTIVATIONS),
    expiresAt: d['expiresAt'] == null ? null : time(d['expiresAt'], 'expiresAt'),
    gatewayId,
    packId,
  };
}

export function devicePatch(value: unknown): {
  nickname?: string | null;
  activation?: Activation;
  expiresAt?: number | null;
} {
  const p = object(value, 'patch');
  const out: ReturnType<typeof devicePatch> = {};
  for (const k of Object.keys(p))
    if (!['nickname', 'activation', 'expiresAt'].includes(k))
      throw invalid(k, 'is not a field a device changes');
  if (p['nickname'] !== undefined) out.nickname = label(p['nickname'], 'nickname', 64);
  if (p['activation'] !== undefined)
    out.activation = oneOf(p['activation'], 'activation', ACTIVATIONS);
  if (p['expiresAt'] !== undefined)
    out.expiresAt = p['expiresAt'] === null ? null : time(p['expiresAt'], 'expiresAt');
  return out;
}

/** The list query, checked (`q` becomes a `prefixRange`). */
export function deviceQuery(value: unknown): {
  status: DeviceStatus;
  q: string | null;
  org: string | null;
  type: DeviceType | null;
  after: string | null;
  limit: number;
  now: number;
} {
  const o = object(value, 'query');
  const limit = o['limit'] ?? 50;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_DEVICE_PAGE)
    throw invalid('limit', `must be a whole number 1..${MAX_DEVICE_PAGE}`);
  return {
    status: o['status'] === undefined ? 'all' : oneOf(o['status'], 'status', DEVICE_STATUSES),
    q: o['q'] === undefined || o['q'] === '' ? null : text(o['q'], 'q', 64),
    org: o['org'] === undefined ? null : ident(o['org'], 'org'),
    type: o['type'] === undefined ? null : oneOf(o['type'], 'type', DEVICE_TYPES),
    after: o['after'] === undefined ? null : ident(o['after'], 'after'),
    limit,
    now: time(o['now'], 'now'),
  };
}

/**
 * The search text as a range of the lower-cased copies the adapters keep of serial, bar code
 * and nickname (`*_lc`, indexed): `lo <= column < hi` is "begins with", which both databases
 * answer from a b-tree (no LIKE escaping, no collation rules).
 */
export function prefixRange(q: string): { lo: string; hi: string } {
  const lo = q.toLowerCase();
  return { lo, hi: `${lo}\u{10FFFF}` };
}

export const deviceNotFound = (id: string): BmsError =>
  new BmsError('NOT_FOUND', `no device ${JSON.stringify(id)}`);

export const approvalNotFound = (id: string): BmsError =>
  new BmsError('NOT_FOUND', `no approval ${JSON.stringify(id)}`);

export const serialTaken = (s: string, row?: number): BmsError =>
  new BmsError('REQUEST_INVALID', `serial ${s} is registered already`, {
    field: 'serial',
    ...(row !== undefined ? { row } : {}),
  });

export const alreadyPending = (): BmsError =>
  invalid('id', 'has a pending approval already: wait for its decision');

export const alreadyDecided = (state: string): BmsError =>
  invalid('id', `was decided already (${state})`);

// ---------------------------------------------------------------- rows

export interface DeviceRow {
  id: string;
  serial: string;
  barcode: string | null;
  nickname: string | null;
  type: DeviceType;
  model: string | null;
  manufacturer: string | null;
  produced_on: string | null;
  joined_at: number;
  created_by: string;
  org_id: string;
  activation: Activation;
  expires_at: number | null;
  gateway_id: string | null;
  pack_id: string | null;
  last_seen_at: number | null;
  org_name?: string;
  org_code?: string;
}

export function deviceFromRow(r: DeviceRow): Device {
  const d: Device = {
    id: r.id,
    serial: r.serial,
    type: r.type,
    joinedAt: Number(r.joined_at),
    createdBy: r.created_by,
    orgId: r.org_id,
    activation: r.activation,
  };
  if (r.barcode !== null) d.barcode = r.barcode;
  if (r.nickname !== null) d.nickname = r.nickname;
  if (r.model !== null) d.model = r.model;
  if (r.manufacturer !== null) d.manufacturer = r.manufacturer;
  if (r.produced_on !== null) d.producedOn = r.produced_on;
  if (r.expires_at !== null) d.expiresAt = Number(r.expires_at);
  if (r.gateway_id !== null) d.gatewayId = r.gateway_id;
  if (r.pack_id !== null) d.packId = r.pack_id;
  if (r.last_seen_at !== null) d.lastSeenAt = Number(r.last_seen_at);
  return d;
}

export function listedFromRow(r: DeviceRow): ListedDevice {
  return { ...deviceFromRow(r), orgName: r.org_name ?? '', orgCode: r.org_code ?? '' };
}

export interface ApprovalRow {
  id: string;
  kind: 'unbind';
  device_id: string;
  serial: string;
  from_org: string;
  to_org: string;
  requested_by: string;
  requested_by_name: string;
  requested_at: number;
  reason: string | null;
  state: ApprovalState;
  decided_by: string | null;
  decided_by_name: string | null;
  decided_at: number | null;
  decision_reason: string | null;
}

export function approvalFromRow(r: ApprovalRow): Approval {
  const a: Approval = {
    id: r.id,
    kind: r.kind,
    deviceId: r.device_id,
    serial: r.serial,
    fromOrg: r.from_org,
    toOrg: r.to_org,
    requestedBy: r.requested_by,
    requestedByName: r.requested_by_name,
    requestedAt: Number(r.requested_at),
    state: r.state,
  };
  if (r.reason !== null) a.reason = r.reason;
  if (r.decided_by !== null) a.decidedBy = r.decided_by;
  if (r.decided_by_name !== null) a.decidedByName = r.decided_by_name;
  if (r.decided_at !== null) a.decidedAt = Number(r.decided_at);
  if (r.decision_reason !== null) a.decisionReason = r.decision_reason;
  return a;
}

export function newUnbind(value: unknown): {
  deviceId: string;
  toOrg: string;
  requestedBy: string;
  requestedByName: string;
  requestedAt: number;
  reason: string | null;
} {
  const r = object(value, 'unbind');
  return {
    deviceId: ident(r['deviceId'], 'deviceId'),
    toOrg: ident(r['toOrg'], 'toOrg'),
    requestedBy: ident(r['requestedBy'], 'requestedBy'),
    requestedByName: text(r['requestedByName'], 'requestedByName', 200),
    requestedAt: time(r['requestedAt'], 'requestedAt'),
    reason: r['reason'] == null ? null : text(r['reason'], 'reason', 500),
  };
}

export function decision(value: unknown): {
  approve: boolean;
  by: string;
  byName: string;
  at: number;
  toOrg: string | null;
  reason: string | null;
} {
  const d = object(value, 'decision');
  if (typeof d['approve'] !== 'boolean') throw invalid('approve', 'must be true or false');
  return {
    approve: d['approve'],
    by: ident(d['by'], 'by'),
    byName: text(d['byName'], 'byName', 200),
    at: time(d['at'], 'at'),
    toOrg: d['toOrg'] == null ? null : ident(d['toOrg'], 'toOrg'),
    reason: d['reason'] == null ? null : text(d['reason'], 'reason', 500),
  };
}

export function approvalQuery(value: unknown): {
  state: ApprovalState | null;
  decides: string[];
  asker: string;
  limit: number;
} {
  const q = object(value, 'query');
  const decides = q['decides'];
  if (!Array.isArray(decides) || decides.length > 1000)
    throw invalid('decides', 'must be an array of at most 1000 organisation ids');
  const limit = q['limit'] ?? 200;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw invalid('limit', 'must be a whole number 1..1000');
  return {
    state: q['state'] == null ? null : oneOf(q['state'], 'state', APPROVAL_STATES),
    decides: decides.map((o, i) => ident(o, `decides[${i}]`)),
    asker: ident(q['asker'], 'asker'),
    limit,
  };
}
