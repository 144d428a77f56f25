/**
 * An existing install upgraded: `testing/fixtures/v0.sqlite` was written by the code before
 * the storage became tenant-aware (make-v0.mjs says what it holds and how it was made). Opened
 * by today's code, its migrations give every record the gateway's new organisation and gateway
 * ids and ULIDs, and everything is found again: samples, rollups, latest snapshots, daily
 * files, alarm events (under their old numbers too), audit entries, users and their tokens,
 * with the same pack ids.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { dayZones, isId, localScope } from '@openbms/storage';
import { chunksOf } from '@openbms/storage/testing';
import { SqliteStorage } from './storage.js';

const FIXTURE = fileURLToPath(new URL('./testing/fixtures/v0.sqlite', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'openbms-upgrade-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// What make-v0.mjs wrote.
const T0 = Date.UTC(2025, 10, 3, 8, 0, 0);
const DAY = 86_400_000;
const snap = (i: number, pack: number) => ({
  voltage_v: Math.round((52 + (i % 30) / 100) * 100) / 100,
  soc_pct: 50 + (i % 40),
  cell_mv: Array.from({ length: 16 }, (_, c) => 3290 + ((i + c * 3 + pack) % 17)),
});

async function upgraded(): Promise<{ s: SqliteStorage; dir: string }> {
  const dir = mkdtempSync(join(root, 'd'));
  copyFileSync(FIXTURE, join(dir, 'openbms.sqlite'));
  return { s: await SqliteStorage.open({ dataDir: dir, clock: () => T0 + 3 * DAY }), dir };
}

describe('upgrading a database written before the storage was tenant-aware (v0.sqlite)', () => {
  it('finds every sample, rollup, latest snapshot and daily file under the same pack ids', async () => {
    const { s } = await upgraded();
    try {
      const S = localScope(s.identity);
      const raw = async (pack: string, from: number, to: number) =>
        (
          await s.telemetry.history(S, {
            packId: pack,
            from,
            to,
            fields: ['soc_pct', 'voltage_v', 'cell_mv.15'],
            resolution: 'raw',
            maxPoints: 10_000,
          })
        ).series;
      const r3 = await raw('home/rack/3', T0, T0 + DAY);
      expect(r3['soc_pct']!.t).toEqual(Array.from({ length: 288 }, (_, i) => T0 + i * 300_000));
      expect(r3['soc_pct']!.avg).toEqual(Array.from({ length: 288 }, (_, i) => snap(i, 3).soc_pct));
      expect(r3['cell_mv.15']!.avg).toEqual(
        Array.from({ length: 288 }, (_, i) => snap(i, 3).cell_mv[15]),
      );
      const r2 = await raw('home/rack/2', T0, T0 + 3 * DAY);
      expect(r2['voltage_v']!.t).toHaveLength(288 + 120);
      expect(r2['voltage_v']!.avg.slice(288)).toEqual(
        Array.from({ length: 120 }, (_, i) => snap(i, 2).voltage_v),
      );
      expect((await s.telemetry.latest(S, 'home/rack/2'))?.ts).toBe(T0 + 2 * DAY + 119 * 60_000);
      expect((await s.telemetry.latest(S, 'home/rack/2'))?.snapshot).toMatchObject({
        info: { model: 'SIM-16S', serial: 'S2' },
      });
      // The 1 h rollups folded before the upgrade.
      const h = await s.telemetry.history(S, {
        packId: 'home/rack/3',
        from: T0,
        to: T0 + DAY - 1,
        fields: ['soc_pct'],
        resolution: '1h',
      });
      expect(h.series['soc_pct']!.t).toEqual(
        Array.from({ length: 24 }, (_, k) => T0 + k * 3_600_000),
      );
      expect(h.series['soc_pct']!.max[0]).toBe(
        Math.max(...Array.from({ length: 12 }, (_, i) => snap(i, 3).soc_pct)),
      );
      expect(
        (await s.telemetry.dailyFiles(S)).map((f) => [f.gatewayId, f.packId, f.date, f.samples]),
      ).toEqual([
        // from 08:00 UTC: 192 samples on the first day, 96 on the next
        [s.identity.gatewayId, 'home/rack/2', '2025-11-03', 192],
        [s.identity.gatewayId, 'home/rack/2', '2025-11-04', 96],
        [s.identity.gatewayId, 'home/rack/2', '2025-11-05', 120],
        [s.identity.gatewayId, 'home/rack/3', '2025-11-03', 192],
        [s.identity.gatewayId, 'home/rack/3', '2025-11-04', 96],
      ]);
      // telemetry/003 turned the per-UTC-day counters into 15-minute slots: the same samples
      // fall on Shanghai's days (UTC+8: 08:00 UTC is 16:00 there), sizes within 10 % of the
      // download (characters shared out in proportion to the samples).
      const shanghai = await s.telemetry.dailyFiles(S, undefined, { timeZone: 'Asia/Shanghai' });
      expect(shanghai.map((f) => [f.packId, f.date, f.samples])).toEqual([
        ['home/rack/2', '2025-11-03', 96],
        ['home/rack/2', '2025-11-04', 192],
        ['home/rack/2', '2025-11-05', 120],
        ['home/rack/3', '2025-11-03', 96],
        ['home/rack/3', '2025-11-04', 192],
      ]);
      for (const f of shanghai) {
        const [from, to] = dayZones.dayRanges(
          Date.parse(`${f.date}T00:00:00Z`) / DAY,
          'Asia/Shanghai',
        )[0]!;
        const text = (
          await chunksOf(s.telemetry.exportCsv(S, { packId: f.packId, from, to: to - 1 }))
        ).join('');
        expect(text.split('\n').length - 2).toBe(f.samples);
        expect(Math.abs(f.bytes - text.length) / text.length).toBeLessThan(0.1);
      }
      const csv = (
        await chunksOf(
          s.telemetry.exportCsv(S, {
            packId: 'home/rack/3',
            from: T0,
            to: T0 + DAY,
            fields: ['soc_pct'],
          }),
        )
      ).join('');
      expect(csv.split('\n')[1]).toBe(`${new Date(T0).toISOString()},${snap(0, 3).soc_pct}`);
      // New samples go on beside the old ones.
      await s.telemetry.writeSamples(s.identity, [
        { packId: 'home/rack/3', ts: T0 + DAY, snapshot: { soc_pct: 77 } },
      ]);
      expect((await raw('home/rack/3', T0, T0 + 2 * DAY))['soc_pct']!.t).toHaveLength(289);
    } finally {
      await s.close();
    }
  });

  it('finds every alarm event, under a ULID and its old number, with the gateway and organisation of the install', async () => {
    const { s } = await upgraded();
    try {
      const S = localScope(s.identity);
      const events = await s.alarms.list(S);
      expect(events.map((e) => [e.localId, e.code, e.packId])).toEqual([
        [4, 'storage_full', 'gateway'],
        [3, 'soc_low', 'home/rack/2'], // raised at the same instant as 2: the later id first
        [2, 'comm_lost', 'home/rack/3'],
        [1, 'cell_ov', 'home/rack/2'],
      ]);
      for (const e of events) {
        expect(isId(e.id)).toBe(true);
        expect([e.orgId, e.gatewayId]).toEqual([s.identity.orgId, s.identity.gatewayId]);
      }
      const old = await s.alarms.get(S, { localId: 1 });
      expect(old).toMatchObject({
        severity: 'protection',
        level: 2,
        origin: 'bms',
        raisedAt: T0 + 3_600_000,
        acknowledgedBy: 'Bob',
        acknowledgedAt: T0 + 3_700_000,
        clearedAt: T0 + 3_900_000,
        message: 'Cell over-voltage',
      });
      expect(await s.alarms.get(S, { localId: 3 })).toMatchObject({ ruleId: 'low', value: 14.5 });
      expect((await s.alarms.list(S, { active: true })).map((e) => e.localId)).toEqual([4, 3, 2]);
      expect(await s.alarms.counts(S)).toEqual({ cell_ov: 1, comm_lost: 1, storage_full: 1 });
      // New events continue after the old numbers.
      const next = await s.alarms.raise(s.identity, {
        packId: 'home/rack/2',
        code: 'cell_uv',
        severity: 'protection',
        origin: 'bms',
        raisedAt: T0 + 3 * DAY,
        message: 'new',
      });
      expect(next.localId).toBe(5);
      expect(next.id > old!.id).toBe(true);
    } finally {
      await s.close();
    }
  });

  it('finds every audit entry, user and token; logins still work', async () => {
    const { s, dir } = await upgraded();
    try {
      const S = localScope(s.identity);
      const audit = await s.audit.list(S);
      expect(audit.map((e) => [e.localId, e.action, e.user, e.result])).toEqual([
        [3, 'mos.charge', 'Bob', 'refused'],
        [2, 'parameter.write', 'Bob', 'ok'],
        [1, 'user.add', 'admin', 'ok'],
      ]);
      expect(audit[1]).toMatchObject({
        packId: 'home/rack/2',
        old: { cell_ov_v: 3.65 },
        new: { cell_ov_v: 3.6 },
        detail: 'read back 3.6',
      });
      expect(audit.every((e) => isId(e.id) && e.gatewayId === s.identity.gatewayId)).toBe(true);
      const users = await s.users.list(S);
      expect(users.map((u) => [u.username, u.role, u.createdAt])).toEqual([
        ['admin', 'admin', T0],
        ['Bob', 'operator', T0 + 1000],
        ['viewer', 'viewer', T0 + 2000],
      ]);
      expect(users.every((u) => isId(u.id) && u.orgId === s.identity.orgId)).toBe(true);
      expect((await s.users.get(S, 'BOB'))?.passwordHash).toBe('scrypt$32768$8$1$c2FsdA$aGFzaDI');
      const bob = users.find((u) => u.username === 'Bob')!;
      expect(await s.users.findToken('b'.repeat(64), T0)).toEqual({
        userId: bob.id,
        orgId: s.identity.orgId,
        username: 'Bob',
        kind: 'api',
      });
      expect(await s.users.findToken('a'.repeat(64), T0 + 8 * DAY)).toMatchObject({
        username: 'admin',
        kind: 'session',
        expiresAt: T0 + 9 * DAY,
      });
      expect(await s.users.listTokens(S, 'bob')).toEqual([
        {
          hash: 'b'.repeat(64),
          username: 'Bob',
          kind: 'api',
          name: 'grafana',
          createdAt: T0 + 4000,
        },
      ]);
      // The ids made for the install are kept in the data directory too.
      expect(JSON.parse(readFileSync(join(dir, 'identity.json'), 'utf8'))).toEqual({
        org_id: s.identity.orgId,
        gateway_id: s.identity.gatewayId,
      });
    } finally {
      await s.close();
    }
  });

  it("makes the install's organisation a root and its accounts members with their roles mapped", async () => {
    const { s } = await upgraded();
    try {
      const org = s.identity.orgId;
      const [root, ...more] = await s.orgs.subtree([org]);
      expect(more).toEqual([]);
      expect(root).toMatchObject({
        id: org,
        kind: 'customer',
        name: 'Local organisation',
        depth: 0,
        createdAt: T0,
      });
      expect(root!.parentId).toBeUndefined();
      expect(root!.code).toMatch(/^[0-9A-HJKMNP-TV-Z]{6}$/);
      expect(await s.orgs.byCode(root!.code)).toEqual(root);
      // admin (the oldest admin: the person in charge), operator, viewer.
      const members = await s.orgs.members([org], org);
      expect(members.map((m) => [m.username, m.role, m.createdAt])).toEqual([
        ['admin', 'manager', T0],
        ['Bob', 'operation_manager', T0 + 1000],
        ['viewer', 'general_user', T0 + 2000],
      ]);
      const users = await s.users.list(localScope(s.identity));
      expect(members.map((m) => m.userId)).toEqual(users.map((u) => u.id));
      // The single box's roles are untouched; an account made now joins the organisation.
      expect(users.map((u) => u.role)).toEqual(['admin', 'operator', 'viewer']);
      const carol = await s.users.create(
        s.identity,
        { username: 'carol', role: 'admin', createdAt: T0 + 5 * DAY },
        'h',
      );
      expect(await s.orgs.membershipsOf(carol.id)).toEqual([
        { userId: carol.id, orgId: org, role: 'administrator', createdAt: T0 + 5 * DAY },
      ]);
    } finally {
      await s.close();
    }
  });

  it('migrates once: opened again, the ids stay as they were', async () => {
    const { s, dir } = await upgraded();
    const before = {
      identity: s.identity,
      alarms: await s.alarms.list(localScope(s.identity)),
      users: await s.users.list(localScope(s.identity)),
      orgs: await s.orgs.subtree([s.identity.orgId]),
      members: await s.orgs.members([s.identity.orgId], s.identity.orgId),
    };
    await s.close();
    const again = await SqliteStorage.open({ dataDir: dir });
    try {
      expect(again.identity).toEqual(before.identity);
      expect(await again.alarms.list(localScope(again.identity))).toEqual(before.alarms);
      expect(await again.users.list(localScope(again.identity))).toEqual(before.users);
      expect(await again.orgs.subtree([again.identity.orgId])).toEqual(before.orgs);
      expect(await again.orgs.members([again.identity.orgId], again.identity.orgId)).toEqual(
        before.members,
      );
    } finally {
      await again.close();
    }
  });

  it('merges a file from before the identity columns (a set-aside file of the old version) as its migration would', async () => {
    const dir = mkdtempSync(join(root, 'm'));
    const s = await SqliteStorage.open({ dataDir: dir, clock: () => T0 + 3 * DAY });
    try {
      const S = localScope(s.identity);
      // The fresh file has numbered an event of its own already: 1 is taken.
      const mine = await s.alarms.raise(s.identity, {
        packId: 'home/rack/2',
        code: 'comm_lost',
        severity: 'fault',
        origin: 'gateway',
        raisedAt: T0 + 2 * DAY,
        message: 'after the damage',
      });
      expect(mine.localId).toBe(1);
      const old = join(dir, 'old.sqlite');
      copyFileSync(FIXTURE, old);
      const report = await s.merge(old);
      expect(report).toMatchObject({ alarms: 4, audit: 3, users: 3, tokens: 2, unreadable: [] });
      // Every old event is there: under its old number, or the next free one when it was taken.
      const events = await s.alarms.list(S);
      expect(events.map((e) => [e.code, e.localId])).toEqual([
        ['comm_lost', 1],
        ['storage_full', 4],
        ['soc_low', 3],
        ['comm_lost', 2],
        ['cell_ov', 5],
      ]);
      expect((await s.audit.list(S)).map((e) => [e.localId, e.action])).toEqual([
        [3, 'mos.charge'],
        [2, 'parameter.write'],
        [1, 'user.add'],
      ]);
      expect((await s.users.findToken('b'.repeat(64), T0))?.username).toBe('Bob');
      // The merged accounts are members of the organisation, as the upgrade makes them.
      expect(
        (await s.orgs.members([s.identity.orgId], s.identity.orgId)).map((m) => [
          m.username,
          m.role,
        ]),
      ).toEqual([
        ['admin', 'manager'],
        ['Bob', 'operation_manager'],
        ['viewer', 'general_user'],
      ]);
      const h = await s.telemetry.history(S, {
        packId: 'home/rack/3',
        from: T0,
        to: T0 + DAY,
        fields: ['soc_pct'],
        resolution: 'raw',
        maxPoints: 10_000,
      });
      expect(h.series['soc_pct']!.t).toHaveLength(288);
      // Twice: nothing more.
      expect(await s.merge(old)).toMatchObject({ alarms: 0, audit: 0, users: 0, tokens: 0 });
    } finally {
      await s.close();
    }
  });
});
