/**
 * Remote collectors of the fleet cloud in SQLite (the RemoteCollectorStore port, storage
 * remote-collectors.ts): one row per serial in `remote_collectors`, hashes only. A hello runs
 * in one transaction; a claim, new credentials and a revocation are each one conditional
 * UPDATE, so a claim is made once and a revoked collector stays revoked.
 */
import {
  remoteCollectorChecks as c,
  type HelloOutcome,
  type RemoteCollector,
} from '@openbms/storage';
import { storageError, type Db } from './db.js';
import { claimHash, sameHash, secretHash } from './collector-hash.js';

const WITHIN =
  'SELECT descendant FROM org_closure WHERE ancestor IN (SELECT value FROM json_each(?))';

export class SqliteRemoteCollectors {
  constructor(private readonly db: Db) {
    try {
      db.prepare('SELECT 1 FROM remote_collectors LIMIT 0');
    } catch (e) {
      throw storageError(
        e,
        'remote collectors are not available (were the records migrations applied?)',
      );
    }
  }

  private run<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw storageError(e, what);
    }
  }

  private row(serial: string): c.RemoteCollectorRow | undefined {
    return this.db
      .prepare(`SELECT ${c.REMOTE_COLLECTOR_COLUMNS} FROM remote_collectors WHERE serial = ?`)
      .get(serial) as c.RemoteCollectorRow | undefined;
  }

  private gatewayHolder(gatewayId: string): string | undefined {
    const r = this.db
      .prepare('SELECT serial FROM remote_collectors WHERE gateway_id = ?')
      .get(gatewayId) as { serial: string } | undefined;
    return r?.serial;
  }

  hello(input: unknown): HelloOutcome {
    const h = c.helloInput(input);
    return this.run('cannot record the hello', () =>
      this.db.transaction((): HelloOutcome => {
        const row = this.row(h.serial);
        if (!row) {
          if (this.gatewayHolder(h.gatewayId) !== undefined) throw c.gatewayTaken();
          this.db
            .prepare(
              `INSERT INTO remote_collectors (serial, gateway_id, state, claim_hash, version, first_seen_at, last_seen_at)
               VALUES (?, ?, 'unclaimed', ?, ?, ?, ?)`,
            )
            .run(h.serial, h.gatewayId, claimHash(h.claimCode), h.version, h.at, h.at);
          return { collector: c.remoteCollectorFromRow(this.row(h.serial)!), codeMatches: true };
        }
        if (!sameHash(claimHash(h.claimCode), row.claim_hash))
          return { collector: c.remoteCollectorFromRow(row), codeMatches: false };
        if (row.gateway_id !== h.gatewayId) {
          if (row.state !== 'unclaimed') throw c.gatewayChanged();
          if (this.gatewayHolder(h.gatewayId) !== undefined) throw c.gatewayTaken();
        }
        this.db
          .prepare(
            `UPDATE remote_collectors SET gateway_id = ?, version = coalesce(?, version),
               last_seen_at = max(last_seen_at, ?) WHERE serial = ?`,
          )
          .run(h.gatewayId, h.version, h.at, h.serial);
        return { collector: c.remoteCollectorFromRow(this.row(h.serial)!), codeMatches: true };
      })(),
    );
  }

  claim(input: unknown): RemoteCollector {
    const k = c.claimInput(input);
    const hash = claimHash(k.claimCode);
    return this.run('cannot claim the collector', () => {
      const row = this.row(k.serial);
      if (!row || !sameHash(hash, row.claim_hash)) throw c.notFound(k.serial);
      if (row.state !== 'unclaimed') throw c.conflict(k.serial, row.state);
      const made = this.db
        .prepare(
          `UPDATE remote_collectors SET state = 'claimed', org_id = ?, plant_id = ?, claimed_at = ?,
             claimed_by = ? WHERE serial = ? AND state = 'unclaimed' AND claim_hash = ?`,
        )
        .run(k.orgId, k.plantId, k.at, k.by, k.serial, hash);
      const now = this.row(k.serial)!;
      if (made.changes !== 1) throw c.conflict(k.serial, now.state);
      return c.remoteCollectorFromRow(now);
    });
  }

  setCredentials(serial: string, secret: string, at: number): void {
    const s = c.serial(serial);
    const hash = secretHash(c.secret(secret));
    const t = Math.round(c.time(at, 'at'));
    this.run('cannot store the credentials', () => {
      const made = this.db
        .prepare(
          `UPDATE remote_collectors SET secret_hash = ?, credentials_at = ?
            WHERE serial = ? AND state = 'claimed'`,
        )
        .run(hash, t, s);
      if (made.changes === 1) return;
      const row = this.row(s);
      throw row ? c.conflict(s, row.state) : c.unknownSerial(s);
    });
  }

  verify(serial: string, secret: string): RemoteCollector | undefined {
    if (typeof serial !== 'string' || !c.SERIAL_PATTERN.test(serial)) return undefined;
    if (typeof secret !== 'string' || secret.length === 0 || secret.length > c.MAX_SECRET_CHARS)
      return undefined;
    const row = this.run('cannot read collectors', () => this.row(serial));
    if (!row || row.state !== 'claimed') return undefined;
    return sameHash(secretHash(secret), row.secret_hash)
      ? c.remoteCollectorFromRow(row)
      : undefined;
  }

  revoke(serial: string, by: string, at: number): RemoteCollector {
    const s = c.serial(serial);
    const who = c.ident(by, 'by');
    const t = Math.round(c.time(at, 'at'));
    return this.run('cannot revoke the collector', () => {
      this.db
        .prepare(
          `UPDATE remote_collectors SET state = 'revoked', revoked_at = ?, revoked_by = ?,
             secret_hash = NULL WHERE serial = ? AND state <> 'revoked'`,
        )
        .run(t, who, s);
      const row = this.row(s);
      if (!row) throw c.unknownSerial(s);
      return c.remoteCollectorFromRow(row);
    });
  }

  get(serial: string): RemoteCollector | undefined {
    const s = c.serial(serial);
    const row = this.run('cannot read collectors', () => this.row(s));
    return row && c.remoteCollectorFromRow(row);
  }

  byGateway(gatewayId: string): RemoteCollector | undefined {
    const g = c.ident(gatewayId, 'gatewayId');
    const row = this.run(
      'cannot read collectors',
      () =>
        this.db
          .prepare(
            `SELECT ${c.REMOTE_COLLECTOR_COLUMNS} FROM remote_collectors WHERE gateway_id = ?`,
          )
          .get(g) as c.RemoteCollectorRow | undefined,
    );
    return row && c.remoteCollectorFromRow(row);
  }

  list(within?: readonly string[]): RemoteCollector[] {
    const roots = c.listRoots(within);
    if (roots !== null && roots.length === 0) return [];
    const rows = this.run('cannot read collectors', () =>
      roots === null
        ? this.db
            .prepare(
              `SELECT ${c.REMOTE_COLLECTOR_COLUMNS} FROM remote_collectors
                WHERE org_id IS NOT NULL ORDER BY serial`,
            )
            .all()
        : this.db
            .prepare(
              `SELECT ${c.REMOTE_COLLECTOR_COLUMNS} FROM remote_collectors
                WHERE org_id IN (${WITHIN}) ORDER BY serial`,
            )
            .all(JSON.stringify(roots)),
    ) as c.RemoteCollectorRow[];
    return rows.map(c.remoteCollectorFromRow);
  }

  seen(serial: string, at: number): void {
    const s = c.serial(serial);
    const t = Math.round(c.time(at, 'at'));
    this.run('cannot note the collector seen', () =>
      this.db
        .prepare(
          'UPDATE remote_collectors SET last_seen_at = ? WHERE serial = ? AND last_seen_at < ?',
        )
        .run(t, s, t),
    );
  }
}
