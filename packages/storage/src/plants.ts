/**
 * Plants, their visitors and their collectors (issue 14, seed 000 "Create Plant", "Add
 * collector", "Plant Visitor"; docs/fleet.md "Plants"): the types of the `PlantStore` port and
 * the input checks every adapter applies.
 *
 * - A **plant** (a power station) belongs to one organisation (normally a customer) and holds
 *   collectors. Who sees it: the members of its organisation's subtree (`within`, as for
 *   organisations) and the users it is shared with (its **visitors**, read-only).
 * - A **collector** is a gateway (a logger: the single box's own gateway, later remote ones)
 *   attached to the plant; a gateway is a collector of at most one plant. The batteries under a
 *   collector are the gateway's packs (the server lists them live).
 *
 * The store enforces visibility and the data's own rules; who may *do* what (admin rank in the
 * owner organisation to create, edit and share) is the server's policy. The checks name the
 * fields as the API spells them (snake_case), since the API's bodies carry them unchanged.
 */
import { BmsError, isTimeZone } from '@openbms/core';
import { ident, invalid, text, time } from './validate.js';

/** Seed 000's "Business Type" of a plant (who runs it). */
export const BUSINESS_TYPES = [
  'residential',
  'commercial',
  'industrial',
  'utility',
  'public',
  'other',
] as const;
export type BusinessType = (typeof BUSINESS_TYPES)[number];

/** Seed 000's "Plant Type" (what the batteries serve). */
export const PLANT_TYPES = [
  'energy_storage',
  'pv_storage',
  'pv_grid_tied',
  'off_grid',
  'backup',
  'microgrid',
  'other',
] as const;
export type PlantType = (typeof PLANT_TYPES)[number];

export interface Plant {
  /** ULID. */
  id: string;
  /** The owner organisation. */
  orgId: string;
  name: string;
  businessType: BusinessType;
  plantType: PlantType;
  /** WGS 84 degrees; both or neither. */
  lat?: number;
  lon?: number;
  /** IANA time zone (`Europe/Berlin`). */
  timeZone: string;
  createdAt: number;
  /** The user id of who created it (absent: made by the system, such as a demo fleet). */
  createdBy?: string;
}

export interface NewPlant {
  orgId: string;
  name: string;
  businessType: BusinessType;
  plantType: PlantType;
  lat?: number;
  lon?: number;
  timeZone: string;
  createdAt: number;
  createdBy?: string;
}

/** What an edit may change; a field left out stays; `lat`/`lon` null clears the location. */
export interface PlantPatch {
  name?: string;
  businessType?: BusinessType;
  plantType?: PlantType;
  lat?: number | null;
  lon?: number | null;
  timeZone?: string;
}

/** A user a plant is shared with (read-only). */
export interface PlantVisitor {
  plantId: string;
  userId: string;
  username: string;
  /** The account's organisation (its login is `username@CODE`). */
  orgId: string;
  email?: string;
  createdAt: number;
  /** Who shared it (user id). */
  createdBy?: string;
}

/** A gateway attached to a plant. */
export interface Collector {
  plantId: string;
  gatewayId: string;
  /** What people call it (seed 000 shows the logger's name or serial). */
  name?: string;
  /** The serial printed on the logger (seed 000 "enter the serial number to add"). */
  serial?: string;
  createdAt: number;
  createdBy?: string;
}

export interface NewCollector {
  gatewayId: string;
  name?: string;
  serial?: string;
  createdAt: number;
  createdBy?: string;
}

/** A plant a user visits, with its collectors: what the principal needs to see them. */
export interface Visit {
  plantId: string;
  /** The plant's owner organisation. */
  orgId: string;
  gatewayIds: string[];
}

/**
 * Which plants a caller sees: those owned within the subtrees of `within` (may be empty), and,
 * with `visitor`, those shared with that user.
 */
export interface PlantView {
  within: readonly string[];
  visitor?: string;
}

/**
 * Plants, visitors and collectors. Reads take a `PlantView`; changes take `within` (the
 * subtrees where the caller may change things: visitors never change anything). A plant
 * outside is NOT_FOUND, exactly as one that does not exist.
 */
export interface PlantStore {
  /** A new plant of an organisation within (else NOT_FOUND, field `org_id`). */
  create(within: readonly string[], plant: NewPlant): Promise<Plant>;
  get(view: PlantView, id: string): Promise<Plant | undefined>;
  /** Every plant seen, by name then id. */
  list(view: PlantView): Promise<Plant[]>;
  /** Changes a plant within; returns it as it is now. */
  update(within: readonly string[], id: string, patch: PlantPatch): Promise<Plant>;
  /**
   * Deletes a plant within with its visitors; returns it as it was. A plant that still has
   * collectors is refused (REQUEST_INVALID, field `id`): detach them first, so no logger
   * drops out of sight by accident.
   */
  delete(within: readonly string[], id: string): Promise<Plant>;
  /**
   * Shares a plant within with a user (read-only). NOT_FOUND (`user_id`) for an unknown
   * user; REQUEST_INVALID (`user_id`) for a user who visits it already.
   */
  addVisitor(
    within: readonly string[],
    plantId: string,
    v: { userId: string; createdAt: number; createdBy?: string },
  ): Promise<PlantVisitor>;
  /** A plant's visitors (plant within), oldest first. */
  visitors(within: readonly string[], plantId: string): Promise<PlantVisitor[]>;
  /** Ends a share; returns it as it was. NOT_FOUND for a plant outside or a user not visiting. */
  removeVisitor(within: readonly string[], plantId: string, userId: string): Promise<PlantVisitor>;
  /** The plants a user visits with their collectors' gateways (for the principal). Not scoped. */
  visitsOf(userId: string): Promise<Visit[]>;
  /**
   * Attaches a gateway to a plant within. REQUEST_INVALID (`gateway_id`) when the gateway is a
   * collector of a plant already (this one or another: the other is not named).
   */
  attachCollector(within: readonly string[], plantId: string, c: NewCollector): Promise<Collector>;
  /** A plant's collectors (the plant seen through `view`), oldest first. */
  collectors(view: PlantView, plantId: string): Promise<Collector[]>;
  /** Detaches a collector; returns it as it was. NOT_FOUND for a plant outside or a gateway not attached. */
  detachCollector(
    within: readonly string[],
    plantId: string,
    gatewayId: string,
  ): Promise<Collector>;
}

// ---------------------------------------------------------------- checks

const object = (value: unknown, what: string): Record<string, unknown> => {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid(what, 'must be an object');
  return value as Record<string, unknown>;
};

const oneOf = <T extends string>(value: unknown, field: string, allowed: readonly T[]): T => {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value))
    throw invalid(field, `must be one of ${allowed.join(', ')}`);
  return value as T;
};

/** A plant's (or collector's) name: 1-100 characters, no control characters, no surrounding spaces. */
export function plantName(value: unknown, field = 'name'): string {
  const name = text(value, field, 100);
  if (name.trim() !== name) throw invalid(field, 'must not begin or end with spaces');
  return name;
}

function degrees(value: unknown, field: string, limit: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || Math.abs(value) > limit)
    throw invalid(field, `must be a number of degrees from -${limit} to ${limit}`);
  return value;
}

export function timeZone(value: unknown, field = 'time_zone'): string {
  if (typeof value !== 'string' || value.length > 64 || !isTimeZone(value))
    throw invalid(field, 'must be an IANA time zone such as Europe/Berlin');
  return value;
}

/** The location: both degrees or neither (null: none). */
function location(lat: unknown, lon: unknown): { lat: number; lon: number } | null {
  if ((lat === undefined || lat === null) && (lon === undefined || lon === null)) return null;
  if (lat === undefined || lat === null) throw invalid('lat', 'is needed with lon');
  if (lon === undefined || lon === null) throw invalid('lon', 'is needed with lat');
  return { lat: degrees(lat, 'lat', 90), lon: degrees(lon, 'lon', 180) };
}

const optUser = (value: unknown, field: string): string | null =>
  value === undefined || value === null ? null : ident(value, field);

export interface CheckedPlant {
  orgId: string;
  name: string;
  businessType: BusinessType;
  plantType: PlantType;
  lat: number | null;
  lon: number | null;
  timeZone: string;
  createdAt: number;
  createdBy: string | null;
}

export function newPlant(value: unknown): CheckedPlant {
  const p = object(value, 'plant');
  const at = location(p['lat'], p['lon']);
  return {
    orgId: ident(p['orgId'], 'org_id'),
    name: plantName(p['name']),
    businessType: oneOf(p['businessType'], 'business_type', BUSINESS_TYPES),
    plantType: oneOf(p['plantType'], 'plant_type', PLANT_TYPES),
    lat: at?.lat ?? null,
    lon: at?.lon ?? null,
    timeZone: timeZone(p['timeZone']),
    createdAt: time(p['createdAt'], 'created_at'),
    createdBy: optUser(p['createdBy'], 'created_by'),
  };
}

/** A patch applied to the plant as stored: the whole row as it will be. */
export function patched(before: Plant, value: unknown): CheckedPlant {
  const p = object(value, 'patch');
  const has = (k: string) => p[k] !== undefined;
  const lat = has('lat') ? p['lat'] : before.lat;
  const lon = has('lon') ? p['lon'] : before.lon;
  const at = location(lat, lon);
  return {
    orgId: before.orgId,
    name: has('name') ? plantName(p['name']) : before.name,
    businessType: has('businessType')
      ? oneOf(p['businessType'], 'business_type', BUSINESS_TYPES)
      : before.businessType,
    plantType: has('plantType')
      ? oneOf(p['plantType'], 'plant_type', PLANT_TYPES)
      : before.plantType,
    lat: at?.lat ?? null,
    lon: at?.lon ?? null,
    timeZone: has('timeZone') ? timeZone(p['timeZone']) : before.timeZone,
    createdAt: before.createdAt,
    createdBy: before.createdBy ?? null,
  };
}

export function newCollector(value: unknown): {
  gatewayId: string;
  name: string | null;
  serial: string | null;
  createdAt: number;
  createdBy: string | null;
} {
  const c = object(value, 'collector');
  return {
    gatewayId: ident(c['gatewayId'], 'gateway_id'),
    name: c['name'] === undefined || c['name'] === null ? null : plantName(c['name']),
    serial:
      c['serial'] === undefined || c['serial'] === null ? null : text(c['serial'], 'serial', 64),
    createdAt: time(c['createdAt'], 'created_at'),
    createdBy: optUser(c['createdBy'], 'created_by'),
  };
}

export function newVisitor(value: unknown): {
  userId: string;
  createdAt: number;
  createdBy: string | null;
} {
  const v = object(value, 'visitor');
  return {
    userId: ident(v['userId'], 'user_id'),
    createdAt: time(v['createdAt'], 'created_at'),
    createdBy: optUser(v['createdBy'], 'created_by'),
  };
}

/** `within` of a change: 0-1000 organisation ids (empty: the caller may change nothing). */
export function changeWithin(value: unknown): string[] {
  if (!Array.isArray(value)) throw invalid('within', 'must be an array of organisation ids');
  if (value.length > 1000) throw invalid('within', 'must hold at most 1000 ids');
  return value.map((o, i) => ident(o, `within[${i}]`));
}

export function plantView(value: unknown): { within: string[]; visitor: string | null } {
  const v = object(value, 'view');
  return { within: changeWithin(v['within']), visitor: optUser(v['visitor'], 'visitor') };
}

export const plantId = (value: unknown): string => ident(value, 'id');
export const recordUser = (value: unknown): string => ident(value, 'user_id');
export const collectorGateway = (value: unknown): string => ident(value, 'gateway_id');

// ---------------------------------------------------------------- rows

export interface PlantRow {
  id: string;
  org_id: string;
  name: string;
  business_type: BusinessType;
  plant_type: PlantType;
  lat: number | null;
  lon: number | null;
  time_zone: string;
  created_at: number | string;
  created_by: string | null;
}

export function plantFromRow(r: PlantRow): Plant {
  const p: Plant = {
    id: r.id,
    orgId: r.org_id,
    name: r.name,
    businessType: r.business_type,
    plantType: r.plant_type,
    timeZone: r.time_zone,
    createdAt: Number(r.created_at),
  };
  if (r.lat !== null && r.lon !== null) {
    p.lat = Number(r.lat);
    p.lon = Number(r.lon);
  }
  if (r.created_by !== null) p.createdBy = r.created_by;
  return p;
}

export interface VisitorRow {
  plant_id: string;
  user_id: string;
  username: string;
  user_org_id: string;
  email: string | null;
  created_at: number | string;
  created_by: string | null;
}

export function visitorFromRow(r: VisitorRow): PlantVisitor {
  const v: PlantVisitor = {
    plantId: r.plant_id,
    userId: r.user_id,
    username: r.username,
    orgId: r.user_org_id,
    createdAt: Number(r.created_at),
  };
  if (r.email !== null) v.email = r.email;
  if (r.created_by !== null) v.createdBy = r.created_by;
  return v;
}

export interface CollectorRow {
  plant_id: string;
  gateway_id: string;
  name: string | null;
  serial: string | null;
  created_at: number | string;
  created_by: string | null;
}

export function collectorFromRow(r: CollectorRow): Collector {
  const c: Collector = {
    plantId: r.plant_id,
    gatewayId: r.gateway_id,
    createdAt: Number(r.created_at),
  };
  if (r.name !== null) c.name = r.name;
  if (r.serial !== null) c.serial = r.serial;
  if (r.created_by !== null) c.createdBy = r.created_by;
  return c;
}

export const plantNotFound = (id: string): BmsError =>
  new BmsError('NOT_FOUND', `no plant ${JSON.stringify(id)}`);

export const hasCollectors = (n: number): BmsError =>
  invalid('id', `names a plant with ${n} collector(s): detach them before deleting the plant`);

export const attachedAlready = (gatewayId: string): BmsError =>
  invalid('gateway_id', `${gatewayId} is a collector of a plant already: detach it there first`);

export const visitingAlready = (): BmsError => invalid('user_id', 'visits this plant already');

export const visitorNotFound = (userId: string): BmsError =>
  new BmsError('NOT_FOUND', `user ${JSON.stringify(userId)} does not visit this plant`);

export const collectorNotFound = (gatewayId: string): BmsError =>
  new BmsError(
    'NOT_FOUND',
    `gateway ${JSON.stringify(gatewayId)} is not a collector of this plant`,
  );

export const ownerNotFound = (orgId: string): BmsError =>
  new BmsError('NOT_FOUND', `org_id: no organisation ${JSON.stringify(orgId)}`, {
    field: 'org_id',
  });

export const userNotFound = (userId: string): BmsError =>
  new BmsError('NOT_FOUND', `user_id: no user ${JSON.stringify(userId)}`, {
    field: 'user_id',
  });
