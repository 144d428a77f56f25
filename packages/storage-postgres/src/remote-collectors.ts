/**
 * Remote collectors of the fleet cloud in PostgreSQL (the RemoteCollectorStore port, storage
 * remote-collectors.ts): the same table as SQLite's, hashes only. Several cloud nodes share
 * it: a new serial is inserted with `ON CONFLICT DO NOTHING` (two first hellos at once: one
 * row), and a claim, new credentials and a revocation are each one conditional UPDATE, so of
 * two nodes claiming at once one wins and the other gets CONFLICT.
 */
import {
  remoteCollectorChecks as c,
  type HelloOutcome,
  type RemoteCollectorStore,
} from '@openbms/storage';
import type { PgDb } from './db.js';
import { claimHash, sameHash, secretHash } from './collector-hash.js';

const COLS = c.REMOTE_COLLECTOR_COLUMNS;

export function pgRemoteCollectors(db: PgDb): RemoteCollectorStore {
  const row = async (serial: string) =>
    (
      await db.query<c.RemoteCollectorRow>(
        'cannot read collectors',
        `SELECT ${COLS} FROM remote_collectors WHERE serial = $1`,
        [serial],
      )
    )[0];
  const holder = async (gatewayId: string) =>
    (
      await db.query<{ serial: string }>(
        'cannot read collectors',
        'SELECT serial FROM remote_collectors WHERE gateway_id = $1',
        [gatewayId],
      )
    )[0]?.serial;

  return {
    async hello(input) {
      const h = c.helloInput(input);
      const hash = claimHash(h.claimCode);
      // Twice at most: a first hello that loses the insert to another node's reads that row.
      for (let attempt = 0; ; attempt++) {
        const r = await row(h.serial);
        if (!r) {
          if ((await holder(h.gatewayId)) !== undefined) throw c.gatewayTaken();
          const made = await db.query<c.RemoteCollectorRow>(
            'cannot record the hello',
            `INSERT INTO remote_collectors (serial, gateway_id, state, claim_hash, version, first_seen_at, last_seen_at)
             VALUES ($1, $2, 'unclaimed', $3, $4, $5, $5) ON CONFLICT DO NOTHING RETURNING ${COLS}`,
            [h.serial, h.gatewayId, hash, h.version, h.at],
          );
          if (made[0]) return { collector: c.remoteCollectorFromRow(made[0]), codeMatches: true };
          if (attempt > 0 || (await row(h.serial)) === undefined) throw c.gatewayTaken();
          continue;
        }
        if (!sameHash(hash, r.claim_hash))
          return { collector: c.remoteCollectorFromRow(r), codeMatches: false };
        if (r.gateway_id !== h.gatewayId) {
          if (r.state !== 'unclaimed') throw c.gatewayChanged();
          if ((await holder(h.gatewayId)) !== undefined) throw c.gatewayTaken();
        }
        const updated = await db.query<c.RemoteCollectorRow>(
          'cannot record the hello',
          `UPDATE remote_collectors SET gateway_id = $1, version = coalesce($2, version),
             last_seen_at = greatest(last_seen_at, $3) WHERE serial = $4 RETURNING ${COLS}`,
          [h.gatewayId, h.version, h.at, h.serial],
        );
        const out: HelloOutcome = {
          collector: c.remoteCollectorFromRow(updated[0] ?? r),
          codeMatches: true,
        };
        return out;
      }
    },

    async claim(input) {
      const k = c.claimInput(input);
      const hash = claimHash(k.claimCode);
      const r = await row(k.serial);
      if (!r || !sameHash(hash, r.claim_hash)) throw c.notFound(k.serial);
      if (r.state !== 'unclaimed') throw c.conflict(k.serial, r.state);
      const made = await db.query<c.RemoteCollectorRow>(
        'cannot claim the collector',
        `UPDATE remote_collectors SET state = 'claimed', org_id = $1, plant_id = $2, claimed_at = $3,
           claimed_by = $4 WHERE serial = $5 AND state = 'unclaimed' AND claim_hash = $6
         RETURNING ${COLS}`,
        [k.orgId, k.plantId, k.at, k.by, k.serial, hash],
      );
      if (made[0]) return c.remoteCollectorFromRow(made[0]);
      throw c.conflict(k.serial, (await row(k.serial))?.state ?? 'claimed');
    },

    async setCredentials(serial, secret, at) {
      const s = c.serial(serial);
      const hash = secretHash(c.secret(secret));
      const t = Math.round(c.time(at, 'at'));
      const made = await db.query(
        'cannot store the credentials',
        `UPDATE remote_collectors SET secret_hash = $1, credentials_at = $2
          WHERE serial = $3 AND state = 'claimed' RETURNING 1`,
        [hash, t, s],
      );
      if (made.length === 1) return;
      const r = await row(s);
      throw r ? c.conflict(s, r.state) : c.unknownSerial(s);
    },

    async verify(serial, secret) {
      if (typeof serial !== 'string' || !c.SERIAL_PATTERN.test(serial)) return undefined;
      if (typeof secret !== 'string' || secret.length === 0 || secret.length > c.MAX_SECRET_CHARS)
        return undefined;
      const r = await row(serial);
      if (!r || r.state !== 'claimed') return undefined;
      return sameHash(secretHash(secret), r.secret_hash) ? c.remoteCollectorFromRow(r) : undefined;
    },

    async revoke(serial, by, at) {
      const s = c.serial(serial);
      const who = c.ident(by, 'by');
      const t = Math.round(c.time(at, 'at'));
      await db.query(
        'cannot revoke the collector',
        `UPDATE remote_collectors SET state = 'revoked', revoked_at = $1, revoked_by = $2,
           secret_hash = NULL WHERE serial = $3 AND state <> 'revoked'`,
        [t, who, s],
      );
      const r = await row(s);
      if (!r) throw c.unknownSerial(s);
      return c.remoteCollectorFromRow(r);
    },

    async get(serial) {
      const r = await row(c.serial(serial));
      return r && c.remoteCollectorFromRow(r);
    },

    async byGateway(gatewayId) {
      const rows = await db.query<c.RemoteCollectorRow>(
        'cannot read collectors',
        `SELECT ${COLS} FROM remote_collectors WHERE gateway_id = $1`,
        [c.ident(gatewayId, 'gatewayId')],
      );
      return rows[0] && c.remoteCollectorFromRow(rows[0]);
    },

    async list(within) {
      const roots = c.listRoots(within);
      if (roots !== null && roots.length === 0) return [];
      const rows =
        roots === null
          ? await db.query<c.RemoteCollectorRow>(
              'cannot read collectors',
              `SELECT ${COLS} FROM remote_collectors WHERE org_id IS NOT NULL ORDER BY serial`,
            )
          : await db.query<c.RemoteCollectorRow>(
              'cannot read collectors',
              `SELECT ${COLS} FROM remote_collectors WHERE org_id IN
                 (SELECT descendant FROM org_closure WHERE ancestor = ANY($1::text[]))
               ORDER BY serial`,
              [roots],
            );
      return rows.map(c.remoteCollectorFromRow);
    },

    async seen(serial, at) {
      const s = c.serial(serial);
      const t = Math.round(c.time(at, 'at'));
      await db.query(
        'cannot note the collector seen',
        'UPDATE remote_collectors SET last_seen_at = $1 WHERE serial = $2 AND last_seen_at < $1',
        [t, s],
      );
    },
  };
}
