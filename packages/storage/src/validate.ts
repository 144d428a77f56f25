/**
 * Input checks of the records stores (alarm events, audit, users), shared by every adapter
 * so they refuse the same input: anything malformed is REQUEST_INVALID naming the field,
 * before a database sees it. The contract suites hold each adapter to them.
 */
import { BmsError } from '@openbms/core';

export const invalid = (field: string, why: string): BmsError =>
  new BmsError('REQUEST_INVALID', `${field} ${why}`, { field });

/** A non-empty string without control characters, at most `max` characters. */
export function text(value: unknown, field: string, max = 1000): string {
  if (typeof value !== 'string' || value.length === 0)
    throw invalid(field, 'must be a non-empty string');
  if (value.length > max) throw invalid(field, `must be at most ${max} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value))
    throw invalid(field, 'must not contain control characters');
  return value;
}

export function optText(value: unknown, field: string, max = 1000): string | null {
  return value === undefined || value === null ? null : text(value, field, max);
}

/** Free text (messages, details): any string, newlines allowed. */
export function prose(value: unknown, field: string, max = 10_000): string {
  if (typeof value !== 'string') throw invalid(field, 'must be a string');
  if (value.length > max) throw invalid(field, `must be at most ${max} characters`);
  return value;
}

/** A time in ms since the epoch. */
export function time(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw invalid(field, 'must be a finite number (ms since the epoch)');
  return value;
}

export function optTime(value: unknown, field: string): number | null {
  return value === undefined || value === null ? null : time(value, field);
}

export function oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw invalid(
      field,
      `must be one of ${allowed.join(', ')} (got ${JSON.stringify(value) ?? String(value)})`,
    );
  }
  return value as T;
}

export function optInt(value: unknown, field: string, min = 0): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min)
    throw invalid(field, `must be an integer >= ${min}`);
  return value;
}

/** A user name: 1-64 characters, no control characters, no surrounding spaces. */
export function username(value: unknown, field = 'username'): string {
  const name = text(value, field, 64);
  if (name.trim() !== name) throw invalid(field, 'must not begin or end with spaces');
  return name;
}

/** JSON text of an audit value; undefined stays absent (NULL). */
export function json(value: unknown, field: string): string | null {
  if (value === undefined) return null;
  let out: string | undefined;
  try {
    out = JSON.stringify(value);
  } catch (e) {
    throw invalid(field, `cannot be stored as JSON: ${(e as Error).message}`);
  }
  if (out === undefined) throw invalid(field, 'cannot be stored as JSON');
  return out;
}

/** The informative `value` of an alarm: a non-finite number is dropped, not refused. */
export function measured(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** `deleteUserTokens`'s filter, checked: absent parts are null. */
export function tokenFilter(value: unknown): {
  kind: 'session' | 'api' | null;
  except: string | null;
} {
  if (value === undefined || value === null) return { kind: null, except: null };
  if (typeof value !== 'object' || Array.isArray(value))
    throw invalid('filter', 'must be an object like {kind?, except?}');
  const f = value as Record<string, unknown>;
  for (const k of Object.keys(f)) {
    if (k !== 'kind' && k !== 'except') throw invalid(`filter.${k}`, 'is not a known field');
  }
  return {
    kind: f['kind'] === undefined ? null : oneOf(f['kind'], 'kind', ['session', 'api'] as const),
    except: optText(f['except'], 'except', 200),
  };
}

// ---------------------------------------------------------------- identity

/** An organisation or gateway id: a non-empty string of at most 64 characters, no control characters. */
export function ident(value: unknown, field: string): string {
  return text(value, field, 64);
}

/** Whose a written record is: `{orgId, gatewayId}`. */
export function origin(value: unknown): { orgId: string; gatewayId: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid('origin', 'must be an object like {orgId, gatewayId}');
  const o = value as Record<string, unknown>;
  return {
    orgId: ident(o['orgId'], 'origin.orgId'),
    gatewayId: ident(o['gatewayId'], 'origin.gatewayId'),
  };
}

/**
 * What a query may see: `{orgIds, roots?, gatewayId?, gatewayIds?}`, at least one organisation
 * id in `orgIds` or `roots`. `roots` (1-1000 subtree roots) adds every organisation of their
 * subtrees, which the adapters find through `org_closure` in SQL (records: alarm events and
 * the audit log). `gatewayIds` (1-1000) narrows the organisations' records to those gateways
 * (a plant visitor sees its collectors, not the whole organisation); with `gatewayId` it must
 * include that gateway.
 */
export function scope(value: unknown): {
  orgIds: string[];
  roots: string[] | null;
  gatewayId: string | null;
  gatewayIds: string[] | null;
} {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid('scope', 'must be an object like {orgIds, roots?, gatewayId?, gatewayIds?}');
  const s = value as Record<string, unknown>;
  let roots: string[] | null = null;
  const rs = s['roots'];
  if (rs !== undefined && rs !== null) {
    if (!Array.isArray(rs) || rs.length === 0)
      throw invalid('scope.roots', 'must be a non-empty array of organisation ids');
    if (rs.length > 1000) throw invalid('scope.roots', 'must hold at most 1000 ids');
    roots = rs.map((r, i) => ident(r, `scope.roots[${i}]`));
  }
  const orgs = s['orgIds'];
  if (!Array.isArray(orgs) || (orgs.length === 0 && roots === null))
    throw invalid(
      'scope.orgIds',
      'must be an array of organisation ids, not empty unless scope.roots is given',
    );
  if (orgs.length > 1000) throw invalid('scope.orgIds', 'must hold at most 1000 ids');
  const gatewayId =
    s['gatewayId'] === undefined || s['gatewayId'] === null
      ? null
      : ident(s['gatewayId'], 'scope.gatewayId');
  let gatewayIds: string[] | null = null;
  const gws = s['gatewayIds'];
  if (gws !== undefined && gws !== null) {
    if (!Array.isArray(gws) || gws.length === 0)
      throw invalid('scope.gatewayIds', 'must be a non-empty array of gateway ids');
    if (gws.length > 1000) throw invalid('scope.gatewayIds', 'must hold at most 1000 ids');
    gatewayIds = gws.map((g, i) => ident(g, `scope.gatewayIds[${i}]`));
    if (gatewayId !== null && !gatewayIds.includes(gatewayId))
      throw invalid('scope.gatewayIds', 'must include scope.gatewayId when both are given');
  }
  return {
    orgIds: orgs.map((o, i) => ident(o, `scope.orgIds[${i}]`)),
    roots,
    gatewayId,
    gatewayIds,
  };
}

/** A scope that names one gateway: what a query naming a pack (or a local id) needs. */
export function gatewayScope(value: unknown): { orgIds: string[]; gatewayId: string } {
  const s = scope(value);
  if (s.gatewayId === null)
    throw invalid(
      'scope.gatewayId',
      'is needed: pack ids and local ids are unique within a gateway',
    );
  return { orgIds: s.orgIds, gatewayId: s.gatewayId };
}

/** A scope of exactly one organisation: what a lookup by user name needs. */
export function orgScope(value: unknown): { orgId: string; gatewayId: string | null } {
  const s = scope(value);
  if (s.orgIds.length !== 1)
    throw invalid(
      'scope.orgIds',
      'must name exactly one organisation: user names are unique within one',
    );
  return { orgId: s.orgIds[0]!, gatewayId: s.gatewayId };
}

/** A reference to a stored record: `{id}` (a ULID) or `{localId}` (the gateway's number). */
export function recordRef(value: unknown): { id: string } | { localId: number } {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid('ref', 'must be an object like {id} or {localId}');
  const r = value as Record<string, unknown>;
  if (r['id'] !== undefined) return { id: text(r['id'], 'id', 64) };
  const n = optInt(r['localId'], 'localId', 1);
  if (n === null) throw invalid('ref', 'must name an id or a localId');
  return { localId: n };
}
