/**
 * The device list and its approvals in SQLite (the DeviceStore port, storage devices.ts): the
 * same tables and rules as the PostgreSQL adapter. "Within" is the closure table's semi-join,
 * search a range on the lower-cased copies (`*_lc`, indexed), pages by id descending.
 */
import { BmsError } from '@openbms/core';
import {
  deviceChecks as c,
  EXPIRING_WINDOW_MS,
  newId,
  ONLINE_WINDOW_MS,
  renewalChecks as rc,
  type NewRenewal,
  type Renewal,
  type RenewalQuery,
  type Approval,
  type Decision,
  type Device,
  type DeviceCounts,
  type DevicePage,
  type DevicePatch,
  type DeviceQuery,
  type ListedDevice,
  type NewDevice,
  type NewUnbind,
  type ApprovalQuery,
} from '@openbms/storage';
import { storageError, type Db } from './db.js';

const WITHIN = (p: string): string =>
  `SELECT descendant FROM org_closure WHERE ancestor IN (SELECT value FROM json_each(${p}))`;

const COLS = 'd.*, o.name AS org_name, o.code AS org_code';

const INSERT = `INSERT INTO devices (id, serial, serial_lc, barcode, barcode_lc, nickname, nickname_lc,
    type, model, manufacturer, produced_on, joined_at, created_by, org_id, activation, expires_at,
    gateway_id, pack_id)
  VALUES (@id, @serial, @serialLc, @barcode, @barcodeLc, @nickname, @nicknameLc, @type, @model,
    @manufacturer, @producedOn, @joinedAt, @createdBy, @orgId, @activation, @expiresAt, @gatewayId,
    @packId)
  ON CONFLICT (serial_lc) DO NOTHING`;

const lc = (v: string | null): string | null => (v === null ? null : v.toLowerCase());

function statusSql(status: string): string {
  switch (status) {
    case 'online':
      return 'd.last_seen_at >= @since';
    case 'offline':
      return '(d.last_seen_at IS NULL OR d.last_seen_at < @since)';
    case 'expired':
      return 'd.expires_at <= @now';
    case 'expiring':
      return '(d.expires_at > @now AND d.expires_at <= @soon)';
    case 'not_enabled':
      return "d.activation = 'not_enabled'";
    default:
      return '1';
  }
}

function checkWithin(w: unknown): string {
  if (!Array.isArray(w) || w.length === 0 || w.length > 1000)
    throw c.invalid('within', 'must be a non-empty array of at most 1000 organisation ids');
  return JSON.stringify(w.map((o, i) => c.ident(o, `within[${i}]`)));
}

export class SqliteDevices {
  constructor(private readonly db: Db) {
    try {
      db.prepare('SELECT 1 FROM devices LIMIT 0');
    } catch (e) {
      throw storageError(e, 'devices are not available (were the records migrations applied?)');
    }
  }

  private run<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw storageError(e, what);
    }
  }

  private orgVisible(within: string, id: string): boolean {
    return (
      this.db
        .prepare(`SELECT 1 FROM orgs WHERE id = ? AND id IN (${WITHIN('?')})`)
        .get(id, within) !== undefined
    );
  }

  private insert(d: c.DeviceColumns): c.DeviceRow | undefined {
    const id = newId(d.joinedAt);
    const made = this.db.prepare(INSERT).run({
      ...d,
      id,
      serialLc: d.serial.toLowerCase(),
      barcodeLc: lc(d.barcode),
      nicknameLc: lc(d.nickname),
    });
    return made.changes === 1
      ? (this.db.prepare('SELECT * FROM devices WHERE id = ?').get(id) as c.DeviceRow)
      : undefined;
  }

  create(within: readonly string[], device: NewDevice): Device {
    const w = checkWithin(within);
    const d = c.newDevice(device);
    return this.run('cannot register the device', () =>
      this.db.transaction(() => {
        if (!this.orgVisible(w, d.orgId))
          throw c.invalid('orgId', 'names no organisation the caller sees');
        const row = this.insert(d);
        if (!row) throw c.serialTaken(d.serial);
        return c.deviceFromRow(row);
      })(),
    );
  }

  createMany(within: readonly string[], devices: readonly NewDevice[]): number {
    const w = checkWithin(within);
    if (!Array.isArray(devices)) throw c.invalid('devices', 'must be an array');
    const ds = devices.map((d) => c.newDevice(d));
    const seen = new Set<string>();
    ds.forEach((d, i) => {
      const k = d.serial.toLowerCase();
      if (seen.has(k)) throw c.serialTaken(d.serial, i);
      seen.add(k);
    });
    return this.run('cannot import the devices', () =>
      this.db.transaction(() => {
        const visible = new Map<string, boolean>();
        ds.forEach((d, i) => {
          if (!visible.has(d.orgId)) visible.set(d.orgId, this.orgVisible(w, d.orgId));
          if (!visible.get(d.orgId))
            throw new BmsError('REQUEST_INVALID', 'orgId names no organisation the caller sees', {
              field: 'orgId',
              row: i,
            });
        });
        ds.forEach((d, i) => {
          if (!this.insert(d)) throw c.serialTaken(d.serial, i);
        });
        return ds.length;
      })(),
    );
  }

  get(within: readonly string[], id: string): ListedDevice | undefined {
    const w = checkWithin(within);
    const r = this.run(
      'cannot read devices',
      () =>
        this.db
          .prepare(
            `SELECT ${COLS} FROM devices d JOIN orgs o ON o.id = d.org_id
             WHERE d.id = ? AND d.org_id IN (${WITHIN('?')})`,
          )
          .get(c.ident(id, 'id'), w) as c.DeviceRow | undefined,
    );
    return r && c.listedFromRow(r);
  }

  bySerial(within: readonly string[], serial: string): ListedDevice | undefined {
    const w = checkWithin(within);
    const key = c.serial(serial).toLowerCase();
    const r = this.run(
      'cannot read devices',
      () =>
        this.db
          .prepare(
            `SELECT ${COLS} FROM devices d JOIN orgs o ON o.id = d.org_id
             WHERE d.serial_lc = ? AND d.org_id IN (${WITHIN('?')})`,
          )
          .get(key, w) as c.DeviceRow | undefined,
    );
    return r && c.listedFromRow(r);
  }

  byPack(
    within: readonly string[],
    gatewayIds: readonly string[],
    packId: string,
  ): ListedDevice | undefined {
    const w = checkWithin(within);
    const link = c.packLink(gatewayIds, packId);
    if (link.gatewayIds.length === 0) return undefined;
    const r = this.run(
      'cannot read devices',
      () =>
        this.db
          .prepare(
            `SELECT ${COLS} FROM devices d JOIN orgs o ON o.id = d.org_id
             WHERE d.gateway_id IN (SELECT value FROM json_each(?)) AND d.pack_id = ?
               AND d.type = 'tracker' AND d.pack_id = 'tracker/' || d.serial
               AND d.org_id IN (${WITHIN('?')})
             ORDER BY d.id LIMIT 1`,
          )
          .get(JSON.stringify(link.gatewayIds), link.packId, w) as c.DeviceRow | undefined,
    );
    return r && c.listedFromRow(r);
  }

  update(within: readonly string[], id: string, patch: DevicePatch): Device {
    const w = checkWithin(within);
    const key = c.ident(id, 'id');
    const p = c.devicePatch(patch);
    return this.run('cannot change the device', () =>
      this.db.transaction(() => {
        const found = this.db
          .prepare(`SELECT id FROM devices d WHERE id = ? AND d.org_id IN (${WITHIN('?')})`)
          .get(key, w);
        if (!found) throw c.deviceNotFound(key);
        if (p.nickname !== undefined)
          this.db
            .prepare('UPDATE devices SET nickname = ?, nickname_lc = ? WHERE id = ?')
            .run(p.nickname, lc(p.nickname), key);
        if (p.activation !== undefined)
          this.db.prepare('UPDATE devices SET activation = ? WHERE id = ?').run(p.activation, key);
        if (p.expiresAt !== undefined)
          this.db.prepare('UPDATE devices SET expires_at = ? WHERE id = ?').run(p.expiresAt, key);
        return c.deviceFromRow(
          this.db.prepare('SELECT * FROM devices WHERE id = ?').get(key) as c.DeviceRow,
        );
      })(),
    );
  }

  private filters(
    w: string,
    q: ReturnType<typeof c.deviceQuery>,
  ): { where: string[]; args: Record<string, unknown> } {
    if (q.org !== null && !this.orgVisible(w, q.org))
      throw new BmsError(
        'NOT_FOUND',
        `org ${JSON.stringify(q.org)} names no organisation the caller sees`,
        {
          field: 'org',
        },
      );
    const args: Record<string, unknown> = {
      roots: q.org !== null ? JSON.stringify([q.org]) : w,
      now: q.now,
      soon: q.now + EXPIRING_WINDOW_MS,
      since: q.now - ONLINE_WINDOW_MS,
    };
    const where = [`d.org_id IN (${WITHIN('@roots')})`];
    if (q.type !== null) {
      where.push('d.type = @type');
      args['type'] = q.type;
    }
    if (q.q !== null) {
      const { lo, hi } = c.prefixRange(q.q);
      Object.assign(args, { lo, hi });
      where.push(
        '(d.serial_lc >= @lo AND d.serial_lc < @hi OR d.barcode_lc >= @lo AND d.barcode_lc < @hi OR d.nickname_lc >= @lo AND d.nickname_lc < @hi)',
      );
    }
    return { where, args };
  }

  list(within: readonly string[], query: DeviceQuery): DevicePage {
    const w = checkWithin(within);
    const q = c.deviceQuery(query);
    return this.run('cannot list devices', () => {
      const { where, args } = this.filters(w, q);
      if (q.status !== 'all') where.push(statusSql(q.status));
      if (q.after !== null) {
        where.push('d.id < @after');
        args['after'] = q.after;
      }
      args['limit'] = q.limit + 1;
      const used = Object.fromEntries(
        Object.entries(args).filter(([k]) => where.join(' ').includes(`@${k}`) || k === 'limit'),
      );
      const rows = this.db
        .prepare(
          `SELECT ${COLS} FROM devices d JOIN orgs o ON o.id = d.org_id
           WHERE ${where.join(' AND ')} ORDER BY d.id DESC LIMIT @limit`,
        )
        .all(used) as c.DeviceRow[];
      const devices = rows.slice(0, q.limit).map(c.listedFromRow);
      return rows.length > q.limit ? { devices, next: devices.at(-1)!.id } : { devices };
    });
  }

  counts(within: readonly string[], query: DeviceQuery): DeviceCounts {
    const w = checkWithin(within);
    const q = c.deviceQuery(query);
    return this.run('cannot count devices', () => {
      const { where, args } = this.filters(w, q);
      const n = (s: string) => `coalesce(sum(CASE WHEN ${statusSql(s)} THEN 1 ELSE 0 END), 0)`;
      return this.db
        .prepare(
          `SELECT count(*) AS "all", ${n('online')} AS online, ${n('offline')} AS offline,
             ${n('expired')} AS expired, ${n('expiring')} AS expiring,
             ${n('not_enabled')} AS not_enabled
           FROM devices d WHERE ${where.join(' AND ')}`,
        )
        .get(args) as DeviceCounts;
    });
  }

  countIn(orgId: string): number {
    const id = c.ident(orgId, 'orgId');
    return this.run(
      'cannot count devices',
      () =>
        (
          this.db.prepare('SELECT count(*) AS n FROM devices WHERE org_id = ?').get(id) as {
            n: number;
          }
        ).n,
    );
  }

  seen(gatewayId: string, packIds: readonly string[], at: number): number {
    const gw = c.ident(gatewayId, 'gatewayId');
    if (!Array.isArray(packIds) || packIds.length > 10_000)
      throw c.invalid('packIds', 'must be an array of at most 10000 pack ids');
    const ids = packIds.map((p, i) => c.text(p, `packIds[${i}]`, 200));
    const when = c.time(at, 'at');
    if (ids.length === 0) return 0;
    return this.run(
      'cannot mark devices seen',
      () =>
        this.db
          .prepare(
            `UPDATE devices SET last_seen_at = @at WHERE gateway_id = @gw
               AND pack_id IN (SELECT value FROM json_each(@ids))
               AND (last_seen_at IS NULL OR last_seen_at < @at)`,
          )
          .run({ gw, ids: JSON.stringify(ids), at: when }).changes,
    );
  }

  private lockedDevice(w: string, id: string): c.DeviceRow {
    const row = this.db
      .prepare(`SELECT * FROM devices d WHERE id = ? AND d.org_id IN (${WITHIN('?')})`)
      .get(id, w) as c.DeviceRow | undefined;
    if (!row) throw c.deviceNotFound(id);
    return row;
  }

  bind(within: readonly string[], id: string, orgId: string): Device {
    const w = checkWithin(within);
    const key = c.ident(id, 'id');
    const to = c.ident(orgId, 'orgId');
    return this.run('cannot bind the device', () =>
      this.db.transaction(() => {
        const row = this.lockedDevice(w, key);
        if (!this.orgVisible(w, to))
          throw new BmsError(
            'NOT_FOUND',
            `orgId ${JSON.stringify(to)} names no organisation the caller sees`,
            {
              field: 'orgId',
            },
          );
        if (
          this.db
            .prepare("SELECT 1 FROM approvals WHERE device_id = ? AND state = 'pending'")
            .get(key)
        )
          throw c.alreadyPending();
        this.db.prepare('UPDATE devices SET org_id = ? WHERE id = ?').run(to, key);
        return c.deviceFromRow(row);
      })(),
    );
  }

  requestUnbind(within: readonly string[], r: NewUnbind): Approval {
    const w = checkWithin(within);
    const u = c.newUnbind(r);
    return this.run('cannot ask for the unbind', () =>
      this.db.transaction(() => {
        const row = this.lockedDevice(w, u.deviceId);
        const id = newId(u.requestedAt);
        const made = this.db
          .prepare(
            `INSERT INTO approvals (id, kind, device_id, serial, from_org, to_org, requested_by,
               requested_by_name, requested_at, reason, state)
             VALUES (?, 'unbind', ?, ?, ?, ?, ?, ?, ?, ?, 'pending')
             ON CONFLICT (device_id) WHERE state = 'pending' DO NOTHING`,
          )
          .run(
            id,
            u.deviceId,
            row.serial,
            row.org_id,
            u.toOrg,
            u.requestedBy,
            u.requestedByName,
            u.requestedAt,
            u.reason,
          );
        if (made.changes === 0) throw c.alreadyPending();
        return c.approvalFromRow(
          this.db.prepare('SELECT * FROM approvals WHERE id = ?').get(id) as c.ApprovalRow,
        );
      })(),
    );
  }

  approval(query: Pick<ApprovalQuery, 'decides' | 'asker'>, id: string): Approval | undefined {
    const q = c.approvalQuery({ ...query, limit: 1 });
    const r = this.run(
      'cannot read approvals',
      () =>
        this.db
          .prepare(
            `SELECT * FROM approvals WHERE id = ? AND (requested_by = ? OR to_org IN (${WITHIN('?')}))`,
          )
          .get(c.ident(id, 'id'), q.asker, JSON.stringify(q.decides)) as c.ApprovalRow | undefined,
    );
    return r && c.approvalFromRow(r);
  }

  approvals(query: ApprovalQuery): Approval[] {
    const q = c.approvalQuery(query);
    return this.run('cannot read approvals', () =>
      (
        this.db
          .prepare(
            `SELECT * FROM approvals WHERE (requested_by = @asker OR to_org IN (${WITHIN('@decides')}))
             ${q.state !== null ? 'AND state = @state' : ''} ORDER BY id DESC LIMIT @limit`,
          )
          .all({
            asker: q.asker,
            decides: JSON.stringify(q.decides),
            limit: q.limit,
            ...(q.state !== null ? { state: q.state } : {}),
          }) as c.ApprovalRow[]
      ).map(c.approvalFromRow),
    );
  }

  decide(id: string, decision: Decision): Approval {
    const key = c.ident(id, 'id');
    const d = c.decision(decision);
    return this.run('cannot decide the approval', () =>
      this.db.transaction(() => {
        const a = this.db.prepare('SELECT * FROM approvals WHERE id = ?').get(key) as
          c.ApprovalRow | undefined;
        if (!a) throw c.approvalNotFound(key);
        if (a.state !== 'pending') throw c.alreadyDecided(a.state);
        const to = d.toOrg ?? a.to_org;
        if (d.approve)
          this.db.prepare('UPDATE devices SET org_id = ? WHERE id = ?').run(to, a.device_id);
        this.db
          .prepare(
            `UPDATE approvals SET state = ?, decided_by = ?, decided_by_name = ?, decided_at = ?,
               decision_reason = ?, to_org = ? WHERE id = ?`,
          )
          .run(d.approve ? 'approved' : 'rejected', d.by, d.byName, d.at, d.reason, to, key);
        return c.approvalFromRow(
          this.db.prepare('SELECT * FROM approvals WHERE id = ?').get(key) as c.ApprovalRow,
        );
      })(),
    );
  }

  renew(within: readonly string[], renewal: NewRenewal): Renewal[] {
    const w = checkWithin(within);
    const r = rc.newRenewal(renewal);
    return this.run('cannot renew the devices', () =>
      this.db.transaction(() => {
        const find = this.db.prepare(
          `SELECT * FROM devices d WHERE id = ? AND d.org_id IN (${WITHIN('?')})`,
        );
        const rows = r.ids.map((id) => {
          const row = find.get(id, w) as c.DeviceRow | undefined;
          if (!row)
            throw new BmsError('NOT_FOUND', `no device ${JSON.stringify(id)}`, {
              field: 'ids',
              id,
            });
          return row;
        });
        const set = this.db.prepare('UPDATE devices SET expires_at = ? WHERE id = ?');
        const add = this.db.prepare(
          `INSERT INTO renewals (${rc.RENEWAL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        );
        return rows.map((d) => {
          const before = d.expires_at === null ? null : Number(d.expires_at);
          const after = rc.renewedExpiry(before, r.period, r.at);
          set.run(after, d.id);
          const row: rc.RenewalRow = {
            id: newId(r.at),
            device_id: d.id,
            serial: d.serial,
            org_id: d.org_id,
            period: r.period,
            previous_expires_at: before,
            new_expires_at: after,
            by_user: r.by,
            by_name: r.byName,
            at: r.at,
          };
          add.run(
            row.id,
            row.device_id,
            row.serial,
            row.org_id,
            row.period,
            row.previous_expires_at,
            row.new_expires_at,
            row.by_user,
            row.by_name,
            row.at,
          );
          return rc.renewalFromRow(row);
        });
      })(),
    );
  }

  renewals(within: readonly string[], query: RenewalQuery): Renewal[] {
    const w = checkWithin(within);
    const q = rc.renewalQuery(query);
    return this.run('cannot read renewals', () => {
      if (q.deviceId !== null) {
        this.lockedDevice(w, q.deviceId);
        return (
          this.db
            .prepare(
              `SELECT ${rc.RENEWAL_COLUMNS} FROM renewals WHERE device_id = ? AND at >= ? AND at < ?
               ORDER BY id DESC LIMIT ?`,
            )
            .all(q.deviceId, q.from, q.to, q.limit) as rc.RenewalRow[]
        ).map(rc.renewalFromRow);
      }
      return (
        this.db
          .prepare(
            `SELECT ${rc.RENEWAL_COLUMNS} FROM renewals WHERE org_id IN (${WITHIN('?')})
               AND at >= ? AND at < ? ORDER BY id DESC LIMIT ?`,
          )
          .all(w, q.from, q.to, q.limit) as rc.RenewalRow[]
      ).map(rc.renewalFromRow);
    });
  }
}
