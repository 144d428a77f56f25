/**
 * The fleet tenancy walk (issue 14, "How it is checked"): every operation of the OpenAPI
 * document, walked with its path parameters filled with dealer A's real ids, as
 *
 * - `ann`, dealer A's manager: reads every A thing (so the ids are real: what the others get
 *   404 for exists);
 * - `bob`, the manager of sibling dealer B: 404 for every A thing (like an unknown id), lists
 *   without any of A's ids, names, serials or pack ids;
 * - `vic`, a user of a B customer who visits A's plant "Alpha One": sees that plant, its
 *   collector's pack, history, alarms and live data, nothing else of A, and writes nothing;
 * - `eve`, an end user of A's customer whose End User Group hides `cycles`: never receives
 *   `cycles` in any answer (JSON, CSV, XLSX and zip bodies, the on-board records, the live
 *   WebSocket).
 *
 * A's remote collector (docs/collectors.md) said hello and was claimed by ann into Alpha One, so
 * vic sees it too; the server's uplink is a small stand-in `UplinkPort` (a fixed broker URL).
 *
 * `ROUTES` is the table of expectations, one row per operation; the walk first checks that the
 * table and the document name the same operations, so a route added without a row fails here.
 *
 * Real parts: SQLite and PostgreSQL, real Gateways polling simulated PACE packs over TCP (one
 * per collector: A's two plants, B's customer), the real server over HTTP, `ws` clients.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Gateway, validateConfig } from '@openbms/gateway';
import { simulatedBuses, type SimulatedBuses } from '@openbms/gateway/testing';
import { END_USER_GROUP, POINTS, newId, type Org, type Origin, type User } from '@openbms/storage';
import { openSqliteStorage } from '@openbms/storage-sqlite';
import { PostgresStorage } from '@openbms/storage-postgres';
import { createTestDatabase } from '@openbms/storage-postgres/testing';
import type { FastifyInstance } from 'fastify';
import { strFromU8, unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordsCsv } from '@openbms/core';
import { buildServer } from './app.js';
import { filterRecord } from './routes/control.js';
import { hashPassword } from './passwords.js';
import { TEST_COST } from './testing/harness.js';
import type { UplinkPort } from './uplink.js';
import { LiveClient } from './testing/ws-client.js';

type Store = Awaited<ReturnType<typeof openSqliteStorage>> | PostgresStorage;

const ADAPTERS: [string, () => Promise<{ storage: Store; done(): Promise<void> }>][] = [
  [
    'sqlite',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'openbms-walk-'));
      const storage = await openSqliteStorage({ dataDir: dir });
      return { storage, done: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  ],
  [
    'postgres',
    async () => {
      const db = await createTestDatabase('walk_');
      const storage = await PostgresStorage.open({
        url: db.url,
        identity: { orgId: newId(), gatewayId: newId() },
      });
      return { storage, done: () => db.drop() };
    },
  ],
];

/** The hidden point: removed from the End User Group of A's customer. */
const HIDDEN = 'cycles';
const A1 = 'alpha1/rack/1'; // the collector of plant Alpha One (visited)
const A2 = 'alpha2/rack/1'; // the collector of plant Alpha Two
const B1 = 'bravo/rack/1'; // B's customer's pack
const enc = encodeURIComponent;

type Who = 'ann' | 'bob' | 'vic' | 'eve';

/** What a walker gets: a status, or `ok` (any 2xx). */
type Want = number | 'ok';

/**
 * One operation of the document: the status each walker gets (bob, vic and eve always; ann
 * for reads, which prove the ids real), the query and body that make it reach the route's
 * scope check (a valid body: a schema refusal would hide a leak), and
 *
 * - `names`: the answer lists point *names* (a catalogue), never readings: exempt from the
 *   hidden-point check;
 * - `last`: ends the caller's session or sets its password: walked last, on a fresh session;
 * - `ws`: the live WebSocket, walked by its own test.
 */
interface Row {
  want: Partial<Record<Who, Want>>;
  query?: (ids: Ids) => string;
  body?: (ids: Ids, who: Who) => unknown;
  raw?: { type: string; body: (ids: Ids) => string };
  names?: true;
  last?: true;
  ws?: true;
}

interface Ids {
  dA: Org;
  iA: Org;
  cA: Org;
  dB: Org;
  cB: Org;
  cV: Org;
  plant1: string;
  plant2: string;
  device: string;
  serial: string;
  /** A's geofence (in A's customer, listing A's device). */
  fence: string;
  approval: string;
  alarm1: number;
  alarm2: number;
  gwA1: string;
  gwA2: string;
  token: string;
  annId: string;
  vicId: string;
  day: string;
  /** The visited plant's pack and its site. */
  pack: string;
  site: string;
  /** A's remote collector (claimed into the visited plant): serial, claim code, gateway id. */
  collector: string;
  collectorCode: string;
  collectorGw: string;
}

const ALL = (w: Want): Row['want'] => ({ ann: w, bob: w, vic: w, eve: w });
/** A's thing: ann reads it, bob 404, vic 404, eve (a viewer in A's customer) reads it. */
const THING_READ: Row['want'] = { ann: 200, bob: 404, vic: 404, eve: 200 };
/**
 * A change of A's thing in the customer: bob 404; vic and eve are viewers (vic has no higher
 * rank anywhere, so the route's gate refuses first), 403.
 */
const THING_WRITE: Row['want'] = { bob: 404, vic: 403, eve: 403 };
/** A change in A's organisation: the organisation routes look it up first (vic: 404). */
const ORG_WRITE: Row['want'] = { bob: 404, vic: 404, eve: 403 };
/** A thing of the visited plant: vic reads it too. */
const PLANT_READ: Row['want'] = { ann: 200, bob: 404, vic: 200, eve: 200 };
/** A write on the visited plant's thing: vic sees it, so 403. */
const PLANT_WRITE: Row['want'] = { bob: 404, vic: 403, eve: 403 };
/** A list: everyone gets one, filtered. */
const LIST: Row['want'] = ALL(200);
/** The box's own routes (installation settings, its accounts): no rank there. */
const BOX = (ann: Want = 403): Row['want'] => ({ ann, bob: 403, vic: 403, eve: 403 });

const packBody = { confirm: 'Pack 1' };
const ROUTES: Record<string, Row> = {
  // Public: nothing of a tenant in them.
  'GET /api/v1/health': { want: ALL(200) },
  'GET /api/v1/setup': { want: ALL(200) },
  'POST /api/v1/setup': {
    want: ALL(403),
    body: () => ({ username: 'intruder', password: 'intruder-password' }),
  },
  'GET /api/v1/auth/captcha': { want: ALL(200) },
  'POST /api/v1/auth/login': {
    want: ALL(200),
    body: (_ids, who) => ({ username: `${who}@${CODES[who]}`, password: `${who}-password` }),
  },
  'GET /api/v1/auth/signup': { want: ALL(200) },
  'POST /api/v1/auth/signup/code': { want: ALL(403), body: () => ({ email: 'x@example.com' }) },
  'POST /api/v1/auth/signup': {
    want: ALL(403),
    body: (ids) => ({
      email: 'x@example.com',
      code: '123456',
      name: 'newcomer',
      password: 'newcomer-password',
      timezone: 'UTC',
      org_code: ids.cA.code,
      agree: true,
    }),
  },
  'POST /api/v1/auth/reset/code': { want: ALL(403), body: () => ({ email: 'x@example.com' }) },
  'POST /api/v1/auth/reset': {
    want: ALL(403),
    body: () => ({ email: 'x@example.com', code: '123456', password: 'another-password' }),
  },
  // The caller's own account and session.
  'GET /api/v1/auth/me': { want: ALL(200) },
  'GET /api/v1/auth/account': { want: ALL(200) },
  'PATCH /api/v1/auth/account': { want: ALL(200), body: () => ({ language: 'en' }) },
  'POST /api/v1/auth/account/email/code': {
    want: ALL(403),
    body: () => ({ email: 'new@example.com' }),
  },
  'POST /api/v1/auth/account/email': {
    want: ALL(403),
    body: () => ({ email: 'new@example.com', code: '123456' }),
  },
  'POST /api/v1/tokens': { want: ALL(201), body: () => ({ name: 'walk' }) },
  // ann's own token: bob, vic and eve cannot end it.
  'DELETE /api/v1/tokens/{id}': { want: { bob: 404, vic: 404, eve: 404 } },
  'POST /api/v1/auth/password': {
    want: ALL(200),
    last: true,
    body: (_ids, who) => ({ current_password: `${who}-password`, password: `${who}-password` }),
  },
  'POST /api/v1/auth/logout': { want: ALL(200), last: true },
  'POST /api/v1/auth/logout/all': { want: ALL(200), last: true },
  // The box (the platform's own installation): accounts, settings, setup, integrations.
  // The accounts of the caller's own organisation (admin rank there): {username} is ann, whom
  // bob cannot reach; bob's POST makes an account in his own organisation.
  'GET /api/v1/users': { want: { ann: 200, bob: 200, vic: 403, eve: 403 } },
  'POST /api/v1/users': {
    want: { bob: 201, vic: 403, eve: 403 },
    body: () => ({ username: 'walker-made', password: 'intruder-password', role: 'viewer' }),
  },
  'PATCH /api/v1/users/{username}': {
    want: { bob: 404, vic: 403, eve: 403 },
    body: () => ({ role: 'viewer' }),
  },
  'DELETE /api/v1/users/{username}': { want: { bob: 404, vic: 403, eve: 403 } },
  'GET /api/v1/audit': { want: { ann: 200, bob: 200, vic: 403, eve: 403 } },
  'GET /metrics': { want: BOX() },
  'GET /api/v1/link': { want: BOX() },
  'GET /api/v1/settings': { want: BOX() },
  'PUT /api/v1/settings/{section}': { want: BOX(), body: () => ({ enabled: false }) },
  'POST /api/v1/settings/{section}/test': { want: BOX(), body: () => ({}) },
  'GET /api/v1/config/backup': { want: BOX() },
  'POST /api/v1/config/restore': { want: BOX(), body: () => ({ version: 1 }) },
  'GET /api/v1/setup/serial-ports': { want: BOX() },
  'GET /api/v1/setup/protocols': { want: BOX() },
  'POST /api/v1/setup/scans': {
    want: BOX(),
    body: () => ({ port: '/dev/ttyUSB0', protocols: ['pace'] }),
  },
  'GET /api/v1/setup/scans/{id}': { want: BOX() },
  'POST /api/v1/setup/test-read': {
    want: BOX(),
    body: () => ({ port: '/dev/ttyUSB0', protocol: 'pace', address: 1 }),
  },
  'PUT /api/v1/setup/sites/{site}/buses/{bus}': {
    want: BOX(),
    body: () => ({ port: '/dev/ttyUSB0', protocol: 'pace', packs: [{ address: 1 }] }),
  },
  'DELETE /api/v1/setup/sites/{site}/buses/{bus}': { want: BOX() },
  'GET /api/v1/integrations/mqtt/iot-panel.json': { want: BOX() },
  'GET /api/v1/integrations/tunnel': { want: BOX() },
  'GET /api/v1/integrations/notifications': {
    want: { ann: 403, bob: 403, vic: 403, eve: 403 },
  },
  'POST /api/v1/integrations/notifications/test': { want: BOX(), body: () => ({}) },
  'POST /api/v1/integrations/notifications/report': { want: BOX(), body: () => ({}) },
  // Pack data.
  'GET /api/v1/packs': { want: LIST },
  'GET /api/v1/packs/{id}': { want: PLANT_READ },
  'GET /api/v1/packs/{id}/history': {
    want: PLANT_READ,
    query: () => `?fields=${HIDDEN},soc_pct&resolution=raw`,
  },
  'GET /api/v1/packs/{id}/energy': { want: PLANT_READ },
  'GET /api/v1/sites': { want: LIST },
  'GET /api/v1/sites/{id}/energy': { want: PLANT_READ },
  'GET /api/v1/buses': { want: LIST },
  // The gateways (collectors) each caller sees: the lists are checked for A's ids below.
  'GET /api/v1/gateways': { want: LIST },
  'GET /api/v1/alarms': { want: LIST },
  'GET /api/v1/alarms/counts': { want: LIST },
  'POST /api/v1/alarms/{id}/ack': { want: PLANT_WRITE },
  'GET /api/v1/exports/daily': { want: LIST },
  'GET /api/v1/exports/daily/{pack}/{date}.csv': { want: PLANT_READ },
  'DELETE /api/v1/exports/daily/{pack}/{date}.csv': { want: PLANT_WRITE },
  // A pack nobody sees has no daily files: 400 `pack`, exactly as for an unknown pack.
  'GET /api/v1/exports/daily.zip': {
    want: { ann: 200, bob: 400, vic: 200, eve: 200 },
    query: (ids) => `?pack=${enc(ids.pack)}`,
  },
  'GET /api/v1/exports/disk': { want: LIST },
  'GET /api/v1/exports/csv': { want: PLANT_READ, query: (ids) => `?pack=${enc(ids.pack)}` },
  'GET /api/v1/exports/xlsx': { want: PLANT_READ, query: (ids) => `?pack=${enc(ids.pack)}` },
  'GET /api/v1/exports/energy/csv': { want: PLANT_READ, query: (ids) => `?pack=${enc(ids.pack)}` },
  'GET /api/v1/exports/energy/xlsx': { want: PLANT_READ, query: (ids) => `?pack=${enc(ids.pack)}` },
  'GET /api/v1/live': { want: LIST, ws: true },
  // Control (the real PACE simulator answers reads).
  'GET /api/v1/commands': { want: LIST },
  // The family's description: its calibrations name `cycles` (a kind), no reading.
  'GET /api/v1/packs/{id}/capabilities': { want: PLANT_READ, names: true },
  'GET /api/v1/packs/{id}/parameters': { want: PLANT_READ },
  'PUT /api/v1/packs/{id}/parameters': {
    want: PLANT_WRITE,
    body: () => ({ values: { cell_ov_l1_mv: 3600 }, dry_run: true }),
  },
  'GET /api/v1/packs/{id}/parameters/export': { want: PLANT_READ },
  // Every pack is looked up with the role before anything is sent: bob 404, viewers 403.
  'POST /api/v1/parameters/distribute': {
    want: PLANT_WRITE,
    body: (ids) => ({ pack_ids: [ids.pack], values: { cell_ov_l1_mv: 3600 } }),
  },
  'POST /api/v1/packs/{id}/parameters/diff': {
    want: PLANT_WRITE,
    body: () => ({ file: { format: 'openbms-parameters', version: 1 } }),
  },
  'POST /api/v1/packs/{id}/commands/mos': {
    want: PLANT_WRITE,
    body: () => ({ which: 'charge', on: true }),
  },
  'POST /api/v1/packs/{id}/commands/soc': { want: PLANT_WRITE, body: () => ({ pct: 50 }) },
  'POST /api/v1/packs/{id}/commands/clock': { want: PLANT_WRITE, body: () => ({}) },
  'POST /api/v1/packs/{id}/commands/restore-defaults': { want: PLANT_WRITE, body: () => packBody },
  'POST /api/v1/packs/{id}/commands/restart': { want: PLANT_WRITE, body: () => packBody },
  'POST /api/v1/packs/{id}/commands/factory-reset': { want: PLANT_WRITE, body: () => packBody },
  'POST /api/v1/packs/{id}/commands/shutdown': { want: PLANT_WRITE, body: () => packBody },
  'POST /api/v1/packs/{id}/commands/restore-profile': { want: PLANT_WRITE, body: () => packBody },
  'GET /api/v1/packs/{id}/clock': { want: PLANT_READ },
  'GET /api/v1/packs/{id}/records': { want: PLANT_READ },
  'GET /api/v1/packs/{id}/records/export': { want: PLANT_READ },
  'POST /api/v1/packs/{id}/commands/records-clear': {
    want: PLANT_WRITE,
    body: () => ({ kind: 'data', ...packBody }),
  },
  'GET /api/v1/packs/{id}/inverter-protocol': { want: PLANT_READ },
  'POST /api/v1/packs/{id}/commands/inverter-protocol': {
    want: PLANT_WRITE,
    body: () => ({ mode: 'auto' }),
  },
  'POST /api/v1/packs/{id}/commands/calibrate': {
    want: PLANT_WRITE,
    body: () => ({ kind: 'current_zero' }),
  },
  // Organisations, members, point groups. {id} is A's customer; eve is a member there.
  'GET /api/v1/orgs': { want: LIST },
  'POST /api/v1/orgs': {
    want: { bob: 404, vic: 404, eve: 404 },
    body: (ids) => ({ parent_id: ids.dA.id, name: 'Sneaky installer', kind: 'installer' }),
  },
  'GET /api/v1/orgs/{id}/members': { want: THING_READ },
  'POST /api/v1/orgs/{id}/members': {
    want: ORG_WRITE,
    body: (ids) => ({ user_id: ids.vicId, role: 'manager' }),
  },
  'PATCH /api/v1/orgs/{id}/members/{user}': { want: ORG_WRITE, body: () => ({ role: 'manager' }) },
  'DELETE /api/v1/orgs/{id}/members/{user}': { want: ORG_WRITE },
  'POST /api/v1/orgs/{id}/customers': {
    want: ORG_WRITE,
    body: () => ({ name: 'Sneaky customer', username: 'sneak', password: 'sneaky-password' }),
  },
  'GET /api/v1/orgs/{id}/point-groups': { want: THING_READ, names: true },
  'PUT /api/v1/orgs/{id}/point-groups': {
    want: ORG_WRITE,
    body: () => ({
      groups: [{ name: END_USER_GROUP, kind: 'end_user', roles: ['end_user'], points: {} }],
    }),
  },
  'GET /api/v1/orgs/{id}/points': { want: THING_READ, names: true },
  // Devices and approvals.
  'GET /api/v1/devices': { want: LIST },
  'GET /api/v1/devices/{id}': { want: THING_READ },
  // A tracker's positions and mileage: by the device's organisation, as the device itself.
  'GET /api/v1/devices/{id}/positions': { want: THING_READ },
  'GET /api/v1/devices/{id}/mileage': { want: THING_READ },
  // A tracker's instructions: listed as the device is read; a restart needs the operator
  // role in the device's organisation (eve, a viewer there: 403; vic does not see it: 404).
  'GET /api/v1/devices/{id}/instructions': { want: THING_READ },
  'POST /api/v1/devices/{id}/instructions': {
    want: { bob: 404, vic: 404, eve: 403 },
    body: () => ({ kind: 'restart' }),
  },
  'GET /api/v1/devices/{id}/position': { want: THING_READ },
  // The fleet map: each caller's own trackers (the lists are checked for A's ids below).
  'GET /api/v1/trackers/positions': { want: LIST },
  // The map's tiles: the same for every signed-in user.
  'GET /api/v1/map': { want: ALL(200) },
  // Tracker alarms and geofences (docs/trackers.md): by the device's / fence's organisation.
  'GET /api/v1/devices/{id}/alarms': { want: THING_READ },
  'GET /api/v1/tracker-alarms': { want: LIST },
  'GET /api/v1/geofences': { want: LIST },
  'POST /api/v1/geofences': {
    want: { bob: 404, vic: 403, eve: 403 },
    body: (ids) => ({
      org_id: ids.cA.id,
      name: 'Sneaky fence',
      shape: { kind: 'circle', lat: 1, lon: 1, radius_m: 100 },
      alarm: 'both',
    }),
  },
  'GET /api/v1/geofences/{id}': { want: THING_READ },
  'PATCH /api/v1/geofences/{id}': { want: THING_WRITE, body: () => ({ name: 'mine now' }) },
  'DELETE /api/v1/geofences/{id}': { want: THING_WRITE },
  // Renewals: a change of the device (manager or administrator of its organisation).
  'POST /api/v1/devices/renew': {
    want: THING_WRITE,
    body: (ids) => ({ ids: [ids.device], period: '1y' }),
  },
  'GET /api/v1/devices/{id}/renewals': { want: THING_READ },
  'GET /api/v1/renewals': { want: LIST },
  'POST /api/v1/devices': {
    want: { bob: 404, vic: 403, eve: 403 },
    body: (ids) => ({ serial: 'SNEAKY-1', type: 'bms', org_id: ids.cA.id }),
  },
  'PATCH /api/v1/devices/{id}': { want: THING_WRITE, body: () => ({ nickname: 'mine now' }) },
  'POST /api/v1/devices/{id}/bind': { want: THING_WRITE, body: (ids) => ({ org_id: ids.cV.id }) },
  'POST /api/v1/devices/{id}/unbind': { want: THING_WRITE, body: () => ({}) },
  'GET /api/v1/approvals': { want: LIST },
  'POST /api/v1/approvals/{id}/approve': { want: THING_WRITE, body: () => ({}) },
  'POST /api/v1/approvals/{id}/reject': { want: THING_WRITE, body: () => ({}) },
  'POST /api/v1/devices/import': {
    want: { bob: 404, vic: 403, eve: 403 },
    query: (ids) => `?org=${ids.cA.id}`,
    raw: { type: 'text/csv', body: () => 'serial,type\nSNEAKY-2,bms\n' },
  },
  'GET /api/v1/devices/export.csv': { want: LIST },
  'GET /api/v1/devices/export.xlsx': { want: LIST },
  // Plants: {id} is Alpha One, the visited plant.
  'GET /api/v1/plants': { want: LIST },
  'POST /api/v1/plants': {
    want: { bob: 404, vic: 404, eve: 403 },
    body: (ids) => ({
      org_id: ids.cA.id,
      name: 'Sneaky plant',
      business_type: 'residential',
      plant_type: 'pv_storage',
      time_zone: 'UTC',
    }),
  },
  'GET /api/v1/plants/{id}': { want: PLANT_READ },
  'PATCH /api/v1/plants/{id}': { want: PLANT_WRITE, body: () => ({ name: 'Mine now' }) },
  'DELETE /api/v1/plants/{id}': { want: PLANT_WRITE },
  'GET /api/v1/plants/{id}/visitors': { want: { ann: 200, bob: 404, vic: 403, eve: 200 } },
  'POST /api/v1/plants/{id}/visitors': {
    want: PLANT_WRITE,
    body: () => ({ email: 'vic@example.com' }),
  },
  'DELETE /api/v1/plants/{id}/visitors/{user}': { want: PLANT_WRITE },
  'GET /api/v1/plants/{id}/collectors': { want: PLANT_READ },
  'POST /api/v1/plants/{id}/collectors': {
    want: PLANT_WRITE,
    body: (ids) => ({ gateway_id: ids.gwA2 }),
  },
  'DELETE /api/v1/plants/{id}/collectors/{gateway_id}': { want: PLANT_WRITE },
  // Remote collectors: {serial} is A's, claimed into the visited plant. A hello is public:
  // each walker's own new serial (unclaimed).
  'POST /api/v1/collectors/hello': {
    want: ALL(202),
    body: (_ids, who) => ({
      serial: {
        ann: 'OBA0A0000001',
        bob: 'OBB0B0000001',
        vic: 'OBV0C0000001',
        eve: 'OBE0E0000001',
      }[who],
      claim_code: 'WA1K2345',
      gateway_id: `walk-gw-${who}`,
    }),
  },
  'POST /api/v1/collectors/claim': {
    want: PLANT_WRITE,
    body: (ids) => ({
      serial: ids.collector,
      claim_code: ids.collectorCode,
      plant_id: ids.plant1,
    }),
  },
  'GET /api/v1/collectors': { want: LIST },
  'GET /api/v1/collectors/{serial}': { want: PLANT_READ },
  'POST /api/v1/collectors/{serial}/revoke': { want: PLANT_WRITE },
};

/** The walkers' organisation codes, for the login row (filled in beforeAll). */
const CODES: Record<Who, string> = { ann: '', bob: '', vic: '', eve: '' };

/** The document's path with A's ids in it. */
function fill(path: string, ids: Ids): string {
  const first = path.startsWith('/api/') ? path.split('/')[3] : '';
  const byFirst: Record<string, string> = {
    packs: ids.pack,
    sites: ids.site,
    alarms: String(ids.alarm1),
    orgs: ids.cA.id,
    devices: ids.device,
    geofences: ids.fence,
    approvals: ids.approval,
    plants: ids.plant1,
    tokens: ids.token,
    users: 'ann',
    settings: 'mqtt',
    setup: 'scan-1',
  };
  return path.replace(/\{([a-z_]+)\}/g, (_m, name: string) => {
    const v =
      name === 'id'
        ? byFirst[first ?? '']
        : (
            {
              pack: ids.pack,
              date: ids.day,
              user: first === 'plants' ? ids.vicId : ids.annId,
              gateway_id: ids.gwA1,
              serial: ids.collector,
              username: 'ann',
              section: 'mqtt',
              site: ids.site,
              bus: 'rack',
            } as Record<string, string>
          )[name];
    if (v === undefined) throw new Error(`no id for {${name}} in ${path}`);
    return enc(v);
  });
}

it('an on-board record keeps only the points shown; its raw part goes unless every point is', () => {
  const r = {
    index: 0,
    kind: 'data' as const,
    wall_ms: 1,
    cycles: 7,
    soc_pct: 50,
    cell_mv: [3300],
    raw: { cycle_count: 7 },
    alarms: [{ code: 'soc_low', severity: 'warning' as const }],
  };
  const shown = new Set(POINTS.filter((p) => p !== HIDDEN));
  expect(filterRecord(r, shown)).toEqual({
    index: 0,
    kind: 'data',
    wall_ms: 1,
    soc_pct: 50,
    cell_mv: [3300],
    alarms: [{ code: 'soc_low', severity: 'warning' }],
  });
  expect(filterRecord(r, 'all')).toBe(r);
  expect(recordsCsv([r], (k) => shown.has(k)).split('\r\n')[0]).not.toMatch(HIDDEN);
  expect(recordsCsv([r]).split('\r\n')[0]).toMatch(HIDDEN);
});

for (const [adapter, openStore] of ADAPTERS) {
  describe(`the tenancy walk over every route (${adapter})`, () => {
    let storage: Store;
    let done: () => Promise<void>;
    let app: FastifyInstance;
    let url = '';
    const gws: Gateway[] = [];
    const sims: SimulatedBuses[] = [];
    const tok: Record<string, string> = {};
    const users: Record<string, User> = {};
    let ids: Ids;
    let identity: Origin | undefined;
    let doc: { paths: Record<string, Record<string, { 'x-access': string }>> };
    const T0 = Date.now();

    interface Res {
      status: number;
      text: string;
      body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
    }
    async function call(
      token: string,
      method: string,
      path: string,
      body?: unknown,
      raw?: { type: string; body: string },
    ): Promise<Res> {
      const headers: Record<string, string> = { authorization: `Bearer ${token}` };
      let payload: string | undefined;
      if (raw) {
        headers['content-type'] = raw.type;
        payload = raw.body;
      } else if (body !== undefined) {
        headers['content-type'] = 'application/json';
        payload = JSON.stringify(body);
      }
      const r = await fetch(url + path, {
        method,
        headers,
        ...(payload !== undefined ? { body: payload } : {}),
      });
      const bytes = new Uint8Array(await r.arrayBuffer());
      // Zip containers (XLSX, the daily zip): their parts' text is what a leak would be in.
      let text: string;
      if (bytes[0] === 0x50 && bytes[1] === 0x4b) {
        text = Object.values(unzipSync(bytes))
          .map((f) => strFromU8(f))
          .join('\n');
      } else text = strFromU8(bytes);
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // CSV, zip
      }
      return { status: r.status, text, body: parsed };
    }

    async function account(org: Org, username: string, role: User['role'], email?: string) {
      const hash = await hashPassword(`${username}-password`, TEST_COST);
      users[username] = await storage.users.create(
        { orgId: org.id, gatewayId: identity?.gatewayId ?? newId() },
        { username, role, createdAt: T0 },
        hash,
      );
      if (email) await storage.accounts.setProfile(users[username].id, { email });
    }
    async function login(username: string, org: Org): Promise<string> {
      const r = await fetch(`${url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          username: `${username}@${org.code}`,
          password: `${username}-password`,
        }),
      });
      const b = (await r.json()) as { token: string };
      expect(r.status, username).toBe(200);
      return b.token;
    }

    /** A real gateway of `org` polling one simulated PACE pack at `site/rack/1`. */
    async function gateway(org: Org, site: string): Promise<Gateway> {
      const s = simulatedBuses();
      sims.push(s);
      const identity: Origin = { orgId: org.id, gatewayId: newId() };
      const g = new Gateway({
        config: validateConfig({
          version: 1,
          sites: [
            {
              id: site,
              buses: [
                {
                  id: 'rack',
                  port: 'sim',
                  protocol: 'pace',
                  poll_interval_s: 0.2,
                  // Generous on a loaded machine: a comm_lost alarm of B's own gateway would
                  // take the local number A's alarm has, and bob's ack of it would be his.
                  timeout_ms: 15_000,
                  retries: 5,
                  simulator: { speed: 0, profile: 'idle' },
                  packs: [{ address: 1, name: 'Pack 1' }],
                },
              ],
            },
          ],
        }),
        storage,
        identity,
        busFactory: s.busFactory,
      });
      const read = new Promise<void>((resolve) => {
        const off = g.events.on((e) => {
          if (e.type === 'snapshot') {
            off();
            resolve();
          }
        });
      });
      await g.start();
      await read;
      expect(await g.writer.flush()).toBe(true);
      gws.push(g);
      return g;
    }

    beforeAll(async () => {
      ({ storage, done } = await openStore());
      const o = storage.orgs;
      // The platform is the server's own organisation (as `openbms cloud` runs it).
      const platform = await o.createRoot({ kind: 'platform', name: 'Platform', createdAt: T0 });
      identity = { orgId: platform.id, gatewayId: newId() };
      await account(platform, 'root', 'admin'); // the platform's manager: /setup is closed
      const under = (p: Org, kind: Org['kind'], name: string) =>
        o.create([p.id], { parentId: p.id, kind, name, createdAt: T0 });
      const maker = await under(platform, 'battery_maker', 'Maker');
      const dA = await under(maker, 'dealer', 'Dealer Alpha');
      const dB = await under(maker, 'dealer', 'Dealer Bravo');
      const iA = await under(dA, 'installer', 'Installer Alpha');
      const cA = await under(iA, 'customer', 'Customer Alpha');
      const cB = await under(dB, 'customer', 'Customer Bravo');
      const cV = await under(dB, 'customer', 'Customer Victor');
      await account(dA, 'ann', 'admin');
      await account(cA, 'carl', 'admin'); // A's customer's manager: saves its point groups
      await account(cA, 'eve', 'viewer');
      await o.setRole([cA.id], cA.id, users['eve']!.id, 'end_user');
      await account(dB, 'bob', 'admin');
      await account(cV, 'vic', 'viewer', 'vic@example.com');

      const box = await gatewayOnly();
      const gA1 = await gateway(cA, 'alpha1');
      const gA2 = await gateway(cA, 'alpha2');
      await gateway(cB, 'bravo');
      const uplink: UplinkPort = {
        brokerUrl: () => 'mqtt://127.0.0.1:1883',
        online: () => undefined,
        claimed: async () => undefined,
        revoked: async () => undefined,
      };
      app = await buildServer({
        storage,
        uplink,
        identity: identity!,
        gateway: box,
        gateways: gws.filter((g) => g !== box).map((g) => g.link),
        passwordCost: TEST_COST,
        captcha: { mode: 'off' },
      });
      await app.listen({ port: 0, host: '127.0.0.1' });
      const addr = app.server.address();
      url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
      const orgOf: Record<Who | 'carl', Org> = { ann: dA, bob: dB, vic: cV, eve: cA, carl: cA };
      for (const who of ['ann', 'bob', 'vic', 'eve', 'carl'] as const) {
        tok[who] = await login(who, orgOf[who]);
        if (who !== 'carl') CODES[who] = orgOf[who].code;
      }

      // A's things, made by ann through the API.
      const ann = (m: string, p: string, b?: unknown) => call(tok['ann']!, m, p, b);
      const plant = async (name: string, gw: Gateway) => {
        const r = await ann('POST', '/api/v1/plants', {
          org_id: cA.id,
          name,
          business_type: 'residential',
          plant_type: 'pv_storage',
          time_zone: 'UTC',
        });
        expect(r.status, r.text).toBe(201);
        const k = await ann('POST', `/api/v1/plants/${r.body.id}/collectors`, {
          gateway_id: gw.link.gatewayId,
        });
        expect(k.status, k.text).toBe(201);
        return r.body.id as string;
      };
      const plant1 = await plant('Alpha One', gA1);
      const plant2 = await plant('Alpha Two', gA2);
      expect(
        (await ann('POST', `/api/v1/plants/${plant1}/visitors`, { email: 'vic@example.com' }))
          .status,
      ).toBe(201);
      // A's remote collector: says hello, ann claims it into Alpha One (the visited plant).
      const collector = { serial: 'OBA1PHA00001', code: 'A1PHA234', gw: newId() };
      const hello = await call('', 'POST', '/api/v1/collectors/hello', {
        serial: collector.serial,
        claim_code: collector.code,
        gateway_id: collector.gw,
      });
      expect(hello.status, hello.text).toBe(202);
      const claimed = await ann('POST', '/api/v1/collectors/claim', {
        serial: collector.serial,
        claim_code: collector.code,
        plant_id: plant1,
      });
      expect(claimed.status, claimed.text).toBe(201);
      const dev = await ann('POST', '/api/v1/devices', {
        serial: 'ALPHA-SERIAL-1',
        type: 'bms',
        org_id: cA.id,
        gateway_id: gA2.link.gatewayId,
        pack_id: A2,
      });
      expect(dev.status, dev.text).toBe(201);
      const dev2 = await ann('POST', '/api/v1/devices', {
        serial: 'ALPHA-SERIAL-2',
        type: 'bms',
        org_id: cA.id,
      });
      const unbind = await ann('POST', `/api/v1/devices/${dev2.body.id}/unbind`, {
        reason: 'alpha-reason',
      });
      expect(unbind.status, unbind.text).toBe(201);
      const fence = await ann('POST', '/api/v1/geofences', {
        org_id: cA.id,
        name: 'alpha-fence',
        shape: { kind: 'circle', lat: 22.5, lon: 113.9, radius_m: 300 },
        alarm: 'both',
        device_ids: [dev.body.id],
      });
      expect(fence.status, fence.text).toBe(201);
      const token = await ann('POST', '/api/v1/tokens', { name: 'alpha-script' });
      expect(token.status).toBe(201);
      const raise = (g: Gateway, packId: string, code: string) =>
        storage.alarms.raise(
          { orgId: g.link.orgId, gatewayId: g.link.gatewayId },
          {
            packId,
            code,
            severity: 'warning',
            origin: 'bms',
            raisedAt: Date.now(),
            message: `alpha alarm on ${packId}`,
          },
        );
      const alarm1 = await raise(gA1, A1, 'soc_low');
      const alarm2 = await raise(gA2, A2, 'soc_low');
      // The customer's End User Group without `cycles`, saved by its manager.
      const saved = await call(tok['carl']!, 'PUT', `/api/v1/orgs/${cA.id}/point-groups`, {
        groups: [
          {
            name: END_USER_GROUP,
            kind: 'end_user',
            roles: ['end_user'],
            points: { '*': POINTS.filter((p) => p !== HIDDEN) },
          },
        ],
      });
      expect(saved.status, saved.text).toBe(200);
      ids = {
        dA,
        iA,
        cA,
        dB,
        cB,
        cV,
        plant1,
        plant2,
        device: dev.body.id,
        serial: dev.body.serial,
        fence: fence.body.id,
        approval: unbind.body.id,
        alarm1: alarm1.localId,
        alarm2: alarm2.localId,
        gwA1: gA1.link.gatewayId,
        gwA2: gA2.link.gatewayId,
        token: token.body.id,
        annId: users['ann']!.id,
        vicId: users['vic']!.id,
        day: new Date().toISOString().slice(0, 10),
        pack: A1,
        site: 'alpha1',
        collector: collector.serial,
        collectorCode: collector.code,
        collectorGw: collector.gw,
      };
      doc = (await call(tok['ann']!, 'GET', '/api/docs/openapi.json')).body;
    });

    /** The platform's own gateway: no packs of its own (as `openbms cloud` runs it by default). */
    async function gatewayOnly(): Promise<Gateway> {
      const g = new Gateway({
        config: validateConfig({ version: 1, sites: [] }),
        storage,
        identity: identity!,
      });
      await g.start();
      gws.push(g);
      return g;
    }

    afterAll(async () => {
      await app?.close();
      for (const g of gws) await g.stop();
      await storage?.close();
      await done?.();
    });

    /** What of A must never reach a walker (the visitor may see its plant's part). */
    function secrets(who: Who): string[] {
      const plantPart = [
        ids.plant1,
        'Alpha One',
        ids.gwA1,
        A1,
        'alpha1',
        'Customer Alpha',
        ids.collector,
        ids.collectorGw,
      ];
      const all = [
        ...plantPart,
        ids.dA.id,
        ids.iA.id,
        ids.cA.id,
        ids.dA.code,
        ids.iA.code,
        ids.cA.code,
        'Dealer Alpha',
        'Installer Alpha',
        ids.plant2,
        'Alpha Two',
        ids.gwA2,
        A2,
        'alpha2',
        ids.device,
        ids.serial,
        'ALPHA-SERIAL-2',
        ids.approval,
        'alpha-reason',
        'alpha-script',
        ids.annId,
        users['carl']!.id,
        users['eve']!.id,
      ];
      if (who === 'bob') return all;
      // vic sees its plant (and the owner's id on it); eve is in A's customer.
      if (who === 'vic') return all.filter((s) => !plantPart.includes(s) && s !== ids.cA.id);
      return [];
    }

    /**
     * `sent`: what the request itself named (its path and body): a refusal may quote it ("no
     * plant X", exactly as for an unknown id), which tells the caller nothing new.
     */
    function check(who: Who, key: string, row: Row, r: Res, sent = ''): void {
      const want = row.want[who];
      // Soft: one run names every route that differs from the table.
      if (want === 'ok') expect.soft(r.status, `${who} ${key}: ${r.text}`).toBeLessThan(300);
      else if (want !== undefined) expect.soft(r.status, `${who} ${key}: ${r.text}`).toBe(want);
      for (const s of secrets(who)) {
        if (r.status >= 400 && sent.includes(s)) continue;
        expect.soft(r.text.includes(s), `${who} ${key} shows A's "${s}": ${r.text}`).toBe(false);
      }
      if (who === 'eve' && !row.names) {
        expect
          .soft(r.text.includes(HIDDEN), `${who} ${key} shows ${HIDDEN}: ${r.text}`)
          .toBe(false);
      }
    }

    it('the table of expectations covers exactly the operations of the OpenAPI document', () => {
      const inDoc = Object.entries(doc.paths)
        .flatMap(([p, ms]) => Object.keys(ms).map((m) => `${m.toUpperCase()} ${p}`))
        .sort();
      expect(inDoc.length).toBeGreaterThan(100);
      expect(Object.keys(ROUTES).sort()).toEqual(inDoc);
      for (const [key, row] of Object.entries(ROUTES)) {
        for (const who of ['bob', 'vic', 'eve'] as const) expect(row.want[who], key).toBeDefined();
      }
    });

    it('the ids are real: ann reads every A thing the walk names, the hidden point among them', async () => {
      const withHidden: string[] = [];
      for (const [key, row] of Object.entries(ROUTES)) {
        const [method, path] = key.split(' ') as [string, string];
        if (method !== 'GET' || row.ws || row.want.ann === undefined) continue;
        const r = await call(tok['ann']!, method, fill(path, ids) + (row.query?.(ids) ?? ''));
        expect(r.status, `ann ${key}: ${r.text}`).toBe(row.want.ann);
        if (!row.names && r.text.includes(HIDDEN)) withHidden.push(key);
      }
      // What eve must not get is there for a member whose group shows it.
      expect(withHidden.sort()).toEqual(
        [
          'GET /api/v1/packs',
          'GET /api/v1/packs/{id}',
          'GET /api/v1/packs/{id}/history',
          'GET /api/v1/packs/{id}/records/export',
          'GET /api/v1/exports/csv',
          'GET /api/v1/exports/xlsx',
          'GET /api/v1/exports/daily/{pack}/{date}.csv',
          'GET /api/v1/exports/daily.zip',
        ].sort(),
      );
    });

    it('bob: A’s thing is refused exactly as an unknown one (status, code, field)', async () => {
      const org = (): Org => ({ ...ids.dB, id: newId(), code: 'ZZZZZZ' });
      const unknown: Ids = {
        ...ids,
        dA: org(),
        iA: org(),
        cA: org(),
        plant1: newId(),
        plant2: newId(),
        device: newId(),
        fence: newId(),
        approval: newId(),
        alarm1: 999_999,
        token: 'f'.repeat(64),
        annId: newId(),
        vicId: newId(),
        gwA1: newId(),
        gwA2: newId(),
        pack: 'zulu/rack/9',
        site: 'zulu',
        collector: 'OBZZZZZZZZZZ',
        collectorGw: newId(),
      };
      let compared = 0;
      for (const [key, row] of Object.entries(ROUTES)) {
        if (row.ws || row.last || row.want.bob !== 404) continue;
        const [method, path] = key.split(' ') as [string, string];
        const answer = async (i: Ids) => {
          const raw = row.raw ? { type: row.raw.type, body: row.raw.body(i) } : undefined;
          const q = row.query?.(i) ?? '';
          const r = await call(tok['bob']!, method, fill(path, i) + q, row.body?.(i, 'bob'), raw);
          return { status: r.status, code: r.body?.code, field: r.body?.field };
        };
        expect.soft(await answer(ids), key).toEqual(await answer(unknown));
        compared++;
      }
      expect(compared).toBeGreaterThan(40);
    });

    for (const who of ['bob', 'vic', 'eve'] as const) {
      it(`${who}: every route, A's ids in the path, nothing of A crosses`, async () => {
        for (const [key, row] of Object.entries(ROUTES)) {
          if (row.ws || row.last) continue;
          const [method, path] = key.split(' ') as [string, string];
          const target = fill(path, ids) + (row.query?.(ids) ?? '');
          const body = row.body?.(ids, who);
          const raw = row.raw ? { type: row.raw.type, body: row.raw.body(ids) } : undefined;
          const r = await call(tok[who]!, method, target, body, raw);
          check(who, key, row, r, decodeURIComponent(target) + JSON.stringify(body) + raw?.body);
        }
      });
    }

    it('the live WebSocket: bob gets nothing of A, vic its plant’s pack alone, eve no hidden point', async () => {
      const seen: Record<string, string[]> = {};
      for (const who of ['bob', 'vic', 'eve'] as const) {
        const ws = await LiveClient.connect(
          `${url.replace('http', 'ws')}/api/v1/live?token=${tok[who]}`,
        );
        expect(await ws.next()).toMatchObject({ type: 'hello' });
        ws.send({ subscribe: [A1, A2, B1] });
        const sub = await ws.next();
        expect(sub.type).toBe('subscribed');
        // Then snapshots of what the walker sees, as the gateways poll: read until each seen
        // pack has sent one after its first state.
        const msgs: Record<string, unknown>[] = [];
        const want: Record<Who, string[]> = {
          ann: [],
          bob: [B1],
          vic: [A1],
          eve: [A1, A2],
        };
        const counts = new Map<string, number>();
        while (want[who].some((p) => (counts.get(p) ?? 0) < 2)) {
          const m = await ws.next();
          msgs.push(m);
          if (m['type'] === 'snapshot') {
            const p = m['pack_id'] as string;
            counts.set(p, (counts.get(p) ?? 0) + 1);
          }
        }
        ws.close();
        seen[who] = [...counts.keys()].sort();
        // The answer to subscribe echoes what was asked; what the walker does not see is
        // `unknown`, exactly like a pack that does not exist.
        expect(sub['unknown'], who).toEqual([A1, A2, B1].filter((p) => !want[who].includes(p)));
        const text = JSON.stringify(msgs);
        check(who, 'GET /api/v1/live', ROUTES['GET /api/v1/live']!, {
          status: 200,
          text,
          body: msgs,
        });
      }
      expect(seen).toEqual({ bob: [B1], vic: [A1], eve: [A1, A2].sort() });
    });

    it('last: password, log out and log out everywhere end only the caller’s own sessions', async () => {
      for (const who of ['bob', 'vic', 'eve'] as const) {
        for (const key of [
          'POST /api/v1/auth/password',
          'POST /api/v1/auth/logout',
          'POST /api/v1/auth/logout/all',
        ]) {
          const row = ROUTES[key]!;
          const fresh = await login(who, who === 'bob' ? ids.dB : who === 'vic' ? ids.cV : ids.cA);
          const r = await call(fresh, 'POST', key.split(' ')[1]!, row.body?.(ids, who));
          check(who, key, row, r);
        }
      }
      // ann's session and token still work.
      expect((await call(tok['ann']!, 'GET', '/api/v1/auth/me')).status).toBe(200);
    });
  });
}
