/**
 * The device list and its approvals in PostgreSQL (the DeviceStore port, storage devices.ts):
 * the same tables and rules as the SQLite adapter. "Within" is the closure table's semi-join
 * (`org_id IN (SELECT descendant FROM org_closure WHERE ancestor = ANY($n))`), search a range
 * on the lower-cased copies, pages by id descending (keyset: `id < after`).
 */
import { BmsError } from '@openbms/core';
import {
  deviceChecks as c,
  EXPIRING_WINDOW_MS,
  newId,
  ONLINE_WINDOW_MS,
  renewalChecks as rc,
  type Approval,
  type DeviceStore,
  type ListedDevice,
} from '@openbms/storage';
import type { PoolClient } from 'pg';
import type { PgDb } from './db.js';

type DeviceRow = c.DeviceRow;
type ApprovalRow = c.ApprovalRow;

const WITHIN = (p: string): string =>
  `SELECT descendant FROM org_closure WHERE ancestor = ANY(${p}::text[])`;

const COLS = `d.*, o.name AS org_name, o.code AS org_code`;

/** Builds a query's parameters as it goes: `p(v)` adds a value and answers its `$n`. */
function params(): { values: unknown[]; p: (v: unknown) => string } {
  const values: unknown[] = [];
  return { values, p: (v) => `$${values.push(v)}` };
}

/** The WHERE parts shared by the list and the counts (without the status). */
function filters(
  within: readonly string[],
  q: ReturnType<typeof c.deviceQuery>,
  p: (v: unknown) => string,
): string[] {
  const where = [`d.org_id IN (${WITHIN(p(q.org !== null ? [q.org] : within))})`];
  if (q.type !== null) where.push(`d.type = ${p(q.type)}`);
  if (q.q !== null) {
    const { lo, hi } = c.prefixRange(q.q);
    const a = p(lo);
    const b = p(hi);
    where.push(
      `(d.serial_lc >= ${a} AND d.serial_lc < ${b} OR d.barcode_lc >= ${a} AND d.barcode_lc < ${b} OR d.nickname_lc >= ${a} AND d.nickname_lc < ${b})`,
    );
  }
  return where;
}

function statusSql(
  status: string,
  now: () => string,
  since: () => string,
  soon: () => string,
): string {
  switch (status) {
    case 'online':
      return `d.last_seen_at >= ${since()}`;
    case 'offline':
      return `(d.last_seen_at IS NULL OR d.last_seen_at < ${since()})`;
    case 'expired':
      return `d.expires_at <= ${now()}`;
    case 'expiring':
      return `(d.expires_at > ${now()} AND d.expires_at <= ${soon()})`;
    case 'not_enabled':
      return `d.activation = 'not_enabled'`;
    default:
      return 'TRUE';
  }
}

const lc = (v: string | null): string | null => (v === null ? null : v.toLowerCase());

export function pgDevices(db: PgDb): DeviceStore {
  const checkWithin = (w: unknown): string[] => {
    if (!Array.isArray(w) || w.length === 0 || w.length > 1000)
      throw c.invalid('within', 'must be a non-empty array of at most 1000 organisation ids');
    return w.map((o, i) => c.ident(o, `within[${i}]`));
  };

  const ORG_VISIBLE = `SELECT 1 FROM orgs WHERE id = $1 AND id IN (${WITHIN('$2')})`;
  const orgVisible = async (t: PoolClient | undefined, within: string[], id: string) =>
    (t
      ? (await t.query(ORG_VISIBLE, [id, within])).rows
      : await db.query('cannot read organisations', ORG_VISIBLE, [id, within])
    ).length > 0;

  const insertSql = `INSERT INTO devices (id, serial, serial_lc, barcode, barcode_lc, nickname, nickname_lc,
      type, model, manufacturer, produced_on, joined_at, created_by, org_id, activation, expires_at,
      gateway_id, pack_id)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
    ON CONFLICT (serial_lc) DO NOTHING RETURNING *`;
  const insertArgs = (id: string, d: c.DeviceColumns): unknown[] => [
    id,
    d.serial,
    d.serial.toLowerCase(),
    d.barcode,
    lc(d.barcode),
    d.nickname,
    lc(d.nickname),
    d.type,
    d.model,
    d.manufacturer,
    d.producedOn,
    d.joinedAt,
    d.createdBy,
    d.orgId,
    d.activation,
    d.expiresAt,
    d.gatewayId,
    d.packId,
  ];

  const getListed = async (within: string[], id: string): Promise<ListedDevice | undefined> => {
    const r = (
      await db.query<DeviceRow>(
        'cannot read devices',
        `SELECT ${COLS} FROM devices d JOIN orgs o ON o.id = d.org_id
         WHERE d.id = $1 AND d.org_id IN (${WITHIN('$2')})`,
        [id, within],
      )
    )[0];
    return r && c.listedFromRow(r);
  };

  return {
    async bySerial(within, serial) {
      const w = checkWithin(within);
      const key = c.serial(serial).toLowerCase();
      const r = (
        await db.query<DeviceRow>(
          'cannot read devices',
          `SELECT ${COLS} FROM devices d JOIN orgs o ON o.id = d.org_id
           WHERE d.serial_lc = $1 AND d.org_id IN (${WITHIN('$2')})`,
          [key, w],
        )
      )[0];
      return r && c.listedFromRow(r);
    },

    async byPack(within, gatewayIds, packId) {
      const w = checkWithin(within);
      const link = c.packLink(gatewayIds, packId);
      if (link.gatewayIds.length === 0) return undefined;
      const r = (
        await db.query<DeviceRow>(
          'cannot read devices',
          `SELECT ${COLS} FROM devices d JOIN orgs o ON o.id = d.org_id
           WHERE d.gateway_id = ANY($1::text[]) AND d.pack_id = $2
             AND d.type = 'tracker' AND d.pack_id = 'tracker/' || d.serial
             AND d.org_id IN (${WITHIN('$3')})
           ORDER BY d.id LIMIT 1`,
          [link.gatewayIds, link.packId, w],
        )
      )[0];
      return r && c.listedFromRow(r);
    },

    async create(within, device) {
      const w = checkWithin(within);
      const d = c.newDevice(device);
      return db.tx('cannot register the device', async (t) => {
        if (!(await orgVisible(t, w, d.orgId)))
          throw c.invalid('orgId', `names no organisation the caller sees`);
        const row = (await t.query<DeviceRow>(insertSql, insertArgs(newId(d.joinedAt), d))).rows[0];
        if (!row) throw c.serialTaken(d.serial);
        return c.deviceFromRow(row);
      });
    },

    async createMany(within, devices) {
      const w = checkWithin(within);
      if (!Array.isArray(devices)) throw c.invalid('devices', 'must be an array');
      const ds = devices.map((d) => c.newDevice(d));
      const seen = new Map<string, number>();
      ds.forEach((d, i) => {
        const k = d.serial.toLowerCase();
        if (seen.has(k)) throw c.serialTaken(d.serial, i);
        seen.set(k, i);
      });
      return db.tx('cannot import the devices', async (t) => {
        const orgs = [...new Set(ds.map((d) => d.orgId))];
        const visible = (
          await t.query<{ id: string }>(
            `SELECT id FROM orgs WHERE id = ANY($1::text[]) AND id IN (${WITHIN('$2')})`,
            [orgs, w],
          )
        ).rows.map((r) => r.id);
        const bad = ds.findIndex((d) => !visible.includes(d.orgId));
        if (bad >= 0)
          throw new BmsError('REQUEST_INVALID', 'orgId names no organisation the caller sees', {
            field: 'orgId',
            row: bad,
          });
        const taken = (
          await t.query<{ serial_lc: string }>(
            'SELECT serial_lc FROM devices WHERE serial_lc = ANY($1::text[])',
            [[...seen.keys()]],
          )
        ).rows;
        if (taken.length > 0) {
          // The first row (in the file's order) whose serial is taken.
          const i = Math.min(...taken.map((r) => seen.get(r.serial_lc)!));
          throw c.serialTaken(ds[i]!.serial, i);
        }
        for (const d of ds) {
          const made = await t.query(insertSql, insertArgs(newId(d.joinedAt), d));
          if (made.rows.length === 0) throw c.serialTaken(d.serial, ds.indexOf(d));
        }
        return ds.length;
      });
    },

    async get(within, id) {
      return getListed(checkWithin(within), c.ident(id, 'id'));
    },

    async update(within, id, patch) {
      const w = checkWithin(within);
      const key = c.ident(id, 'id');
      const p = c.devicePatch(patch);
      const set: string[] = [];
      const { values, p: arg } = params();
      if (p.nickname !== undefined)
        set.push(`nickname = ${arg(p.nickname)}, nickname_lc = ${arg(lc(p.nickname))}`);
      if (p.activation !== undefined) set.push(`activation = ${arg(p.activation)}`);
      if (p.expiresAt !== undefined) set.push(`expires_at = ${arg(p.expiresAt)}`);
      const sql =
        set.length === 0
          ? `SELECT * FROM devices d WHERE id = ${arg(key)} AND d.org_id IN (${WITHIN(arg(w))})`
          : `UPDATE devices d SET ${set.join(', ')} WHERE id = ${arg(key)} AND d.org_id IN (${WITHIN(arg(w))}) RETURNING *`;
      const row = (await db.query<DeviceRow>('cannot change the device', sql, values))[0];
      if (!row) throw c.deviceNotFound(key);
      return c.deviceFromRow(row);
    },

    async list(within, query) {
      const w = checkWithin(within);
      const q = c.deviceQuery(query);
      if (q.org !== null && !(await orgVisible(undefined, w, q.org)))
        throw new BmsError(
          'NOT_FOUND',
          `org ${JSON.stringify(q.org)} names no organisation the caller sees`,
          {
            field: 'org',
          },
        );
      const { values, p } = params();
      const where = filters(w, q, p);
      if (q.status !== 'all')
        where.push(
          statusSql(
            q.status,
            () => p(q.now),
            () => p(q.now - ONLINE_WINDOW_MS),
            () => p(q.now + EXPIRING_WINDOW_MS),
          ),
        );
      if (q.after !== null) where.push(`d.id < ${p(q.after)}`);
      const rows = await db.query<DeviceRow>(
        'cannot list devices',
        `SELECT ${COLS} FROM devices d JOIN orgs o ON o.id = d.org_id
         WHERE ${where.join(' AND ')} ORDER BY d.id DESC LIMIT ${p(q.limit + 1)}`,
        values,
      );
      const devices = rows.slice(0, q.limit).map(c.listedFromRow);
      return rows.length > q.limit ? { devices, next: devices.at(-1)!.id } : { devices };
    },

    async counts(within, query) {
      const w = checkWithin(within);
      const q = c.deviceQuery(query);
      if (q.org !== null && !(await orgVisible(undefined, w, q.org)))
        throw new BmsError(
          'NOT_FOUND',
          `org ${JSON.stringify(q.org)} names no organisation the caller sees`,
          {
            field: 'org',
          },
        );
      const { values, p } = params();
      const where = filters(w, q, p);
      const nowP = p(q.now);
      const sinceP = p(q.now - ONLINE_WINDOW_MS);
      const soonP = p(q.now + EXPIRING_WINDOW_MS);
      const now = () => nowP;
      const since = () => sinceP;
      const soon = () => soonP;
      const n = (s: string) =>
        `coalesce(sum(CASE WHEN ${statusSql(s, now, since, soon)} THEN 1 ELSE 0 END), 0)::int`;
      const r = (
        await db.query<Record<string, number>>(
          'cannot count devices',
          `SELECT count(*)::int AS "all", ${n('online')} AS online, ${n('offline')} AS offline,
             ${n('expired')} AS expired, ${n('expiring')} AS expiring,
             ${n('not_enabled')} AS not_enabled
           FROM devices d WHERE ${where.join(' AND ')}`,
          values,
        )
      )[0]!;
      return {
        all: r['all']!,
        online: r['online']!,
        offline: r['offline']!,
        expired: r['expired']!,
        expiring: r['expiring']!,
        not_enabled: r['not_enabled']!,
      };
    },

    async countIn(orgId) {
      const id = c.ident(orgId, 'orgId');
      const rows = await db.query<{ n: number }>(
        'cannot count devices',
        'SELECT count(*)::int AS n FROM devices WHERE org_id = $1',
        [id],
      );
      return rows[0]!.n;
    },

    async seen(gatewayId, packIds, at) {
      const gw = c.ident(gatewayId, 'gatewayId');
      if (!Array.isArray(packIds) || packIds.length > 10_000)
        throw c.invalid('packIds', 'must be an array of at most 10000 pack ids');
      const ids = packIds.map((p, i) => c.text(p, `packIds[${i}]`, 200));
      const when = c.time(at, 'at');
      if (ids.length === 0) return 0;
      const rows = await db.query(
        'cannot mark devices seen',
        `UPDATE devices SET last_seen_at = $3 WHERE gateway_id = $1 AND pack_id = ANY($2::text[])
           AND (last_seen_at IS NULL OR last_seen_at < $3) RETURNING 1`,
        [gw, ids, when],
      );
      return rows.length;
    },

    async bind(within, id, orgId) {
      const w = checkWithin(within);
      const key = c.ident(id, 'id');
      const to = c.ident(orgId, 'orgId');
      return db.tx('cannot bind the device', async (t) => {
        const row = (
          await t.query<DeviceRow>(
            `SELECT * FROM devices d WHERE id = $1 AND d.org_id IN (${WITHIN('$2')}) FOR UPDATE`,
            [key, w],
          )
        ).rows[0];
        if (!row) throw c.deviceNotFound(key);
        if (!(await orgVisible(t, w, to)))
          throw new BmsError(
            'NOT_FOUND',
            `orgId ${JSON.stringify(to)} names no organisation the caller sees`,
            {
              field: 'orgId',
            },
          );
        const pending = await t.query(
          "SELECT 1 FROM approvals WHERE device_id = $1 AND state = 'pending'",
          [key],
        );
        if (pending.rows.length > 0) throw c.alreadyPending();
        await t.query('UPDATE devices SET org_id = $1 WHERE id = $2', [to, key]);
        return c.deviceFromRow(row);
      });
    },

    async requestUnbind(within, r) {
      const w = checkWithin(within);
      const u = c.newUnbind(r);
      return db.tx('cannot ask for the unbind', async (t) => {
        const row = (
          await t.query<DeviceRow>(
            `SELECT * FROM devices d WHERE id = $1 AND d.org_id IN (${WITHIN('$2')}) FOR UPDATE`,
            [u.deviceId, w],
          )
        ).rows[0];
        if (!row) throw c.deviceNotFound(u.deviceId);
        const made = (
          await t.query<ApprovalRow>(
            `INSERT INTO approvals (id, kind, device_id, serial, from_org, to_org, requested_by,
               requested_by_name, requested_at, reason, state)
             VALUES ($1, 'unbind', $2, $3, $4, $5, $6, $7, $8, $9, 'pending')
             ON CONFLICT (device_id) WHERE state = 'pending' DO NOTHING RETURNING *`,
            [
              newId(u.requestedAt),
              u.deviceId,
              row.serial,
              row.org_id,
              u.toOrg,
              u.requestedBy,
              u.requestedByName,
              u.requestedAt,
              u.reason,
            ],
          )
        ).rows[0];
        if (!made) throw c.alreadyPending();
        return c.approvalFromRow(made);
      });
    },

    async approval(query, id) {
      const q = c.approvalQuery({ ...query, limit: 1 });
      const rows = await db.query<ApprovalRow>(
        'cannot read approvals',
        `SELECT * FROM approvals WHERE id = $1
           AND (requested_by = $2 OR to_org IN (${WITHIN('$3')}))`,
        [c.ident(id, 'id'), q.asker, q.decides],
      );
      return rows[0] && c.approvalFromRow(rows[0]);
    },

    async approvals(query) {
      const q = c.approvalQuery(query);
      const rows = await db.query<ApprovalRow>(
        'cannot read approvals',
        `SELECT * FROM approvals WHERE (requested_by = $1 OR to_org IN (${WITHIN('$2')}))
           ${q.state !== null ? 'AND state = $4' : ''}
         ORDER BY id DESC LIMIT $3`,
        q.state !== null ? [q.asker, q.decides, q.limit, q.state] : [q.asker, q.decides, q.limit],
      );
      return rows.map(c.approvalFromRow);
    },

    async decide(id, decision) {
      const key = c.ident(id, 'id');
      const d = c.decision(decision);
      return db.tx('cannot decide the approval', async (t): Promise<Approval> => {
        const a = (
          await t.query<ApprovalRow>('SELECT * FROM approvals WHERE id = $1 FOR UPDATE', [key])
        ).rows[0];
        if (!a) throw c.approvalNotFound(key);
        if (a.state !== 'pending') throw c.alreadyDecided(a.state);
        const to = d.toOrg ?? a.to_org;
        if (d.approve)
          await t.query('UPDATE devices SET org_id = $1 WHERE id = $2', [to, a.device_id]);
        const row = (
          await t.query<ApprovalRow>(
            `UPDATE approvals SET state = $2, decided_by = $3, decided_by_name = $4, decided_at = $5,
               decision_reason = $6, to_org = $7 WHERE id = $1 RETURNING *`,
            [key, d.approve ? 'approved' : 'rejected', d.by, d.byName, d.at, d.reason, to],
          )
        ).rows[0]!;
        return c.approvalFromRow(row);
      });
    },

    async renew(within, renewal) {
      const w = checkWithin(within);
      const r = rc.newRenewal(renewal);
      return db.tx('cannot renew the devices', async (t) => {
        const found = (
          await t.query<DeviceRow>(
            `SELECT * FROM devices d WHERE id = ANY($1::text[]) AND d.org_id IN (${WITHIN('$2')})
             ORDER BY id FOR UPDATE`,
            [r.ids, w],
          )
        ).rows;
        const byId = new Map(found.map((d) => [d.id, d]));
        const missing = r.ids.find((id) => !byId.has(id));
        if (missing !== undefined)
          throw new BmsError('NOT_FOUND', `no device ${JSON.stringify(missing)}`, {
            field: 'ids',
            id: missing,
          });
        const out: rc.RenewalRow[] = r.ids.map((id) => {
          const d = byId.get(id)!;
          const before = d.expires_at === null ? null : Number(d.expires_at);
          return {
            id: newId(r.at),
            device_id: d.id,
            serial: d.serial,
            org_id: d.org_id,
            period: r.period,
            previous_expires_at: before,
            new_expires_at: rc.renewedExpiry(before, r.period, r.at),
            by_user: r.by,
            by_name: r.byName,
            at: r.at,
          };
        });
        await t.query(
          `UPDATE devices d SET expires_at = v.e FROM
             unnest($1::text[], $2::bigint[]) AS v(id, e) WHERE d.id = v.id`,
          [out.map((x) => x.device_id), out.map((x) => x.new_expires_at)],
        );
        await t.query(
          `INSERT INTO renewals (${rc.RENEWAL_COLUMNS})
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
             $6::bigint[], $7::bigint[], $8::text[], $9::text[], $10::bigint[])`,
          [
            out.map((x) => x.id),
            out.map((x) => x.device_id),
            out.map((x) => x.serial),
            out.map((x) => x.org_id),
            out.map((x) => x.period),
            out.map((x) => x.previous_expires_at),
            out.map((x) => x.new_expires_at),
            out.map((x) => x.by_user),
            out.map((x) => x.by_name),
            out.map((x) => x.at),
          ],
        );
        return out.map(rc.renewalFromRow);
      });
    },

    async renewals(within, query) {
      const w = checkWithin(within);
      const q = rc.renewalQuery(query);
      if (q.deviceId !== null) {
        const seen = await db.query(
          'cannot read devices',
          `SELECT 1 FROM devices d WHERE id = $1 AND d.org_id IN (${WITHIN('$2')})`,
          [q.deviceId, w],
        );
        if (seen.length === 0) throw c.deviceNotFound(q.deviceId);
      }
      const rows = await db.query<rc.RenewalRow>(
        'cannot read renewals',
        `SELECT ${rc.RENEWAL_COLUMNS} FROM renewals WHERE
           ${q.deviceId !== null ? 'device_id = $1' : `org_id IN (${WITHIN('$1')})`}
           AND at >= $2 AND at < $3 ORDER BY id DESC LIMIT $4`,
        [q.deviceId ?? w, q.from, q.to, q.limit],
      );
      return rows.map(rc.renewalFromRow);
    },
  };
}
