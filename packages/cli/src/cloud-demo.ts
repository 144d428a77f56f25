/**
 * The fleet `openbms cloud` serves (docs/fleet.md, "openbms cloud"): the platform root with its
 * manager, and unless `--no-demo`, the demo fleet under it: a battery maker, two dealers,
 * installers and five customers, each customer with one simulated site (an in-process gateway
 * owned by the customer's organisation, simulated packs on simulated buses).
 *
 * Made once per database, by every node alike: each organisation's code and each demo
 * gateway's id are derived from the database's identity (an HMAC keyed by its ids) and the
 * organisation codes are unique in the database, so a node that finds a code taken uses the
 * organisation that holds it. A second start, or two nodes starting together on one
 * PostgreSQL database, therefore converge on one fleet without a lock and without duplicates:
 * whichever node's insert lands first makes an organisation or an account, the other finds it.
 * Accounts get random passwords, printed by the node that made them (and kept in a 0600 file
 * of its data directory); an account found already keeps the password it was given.
 *
 * Each site's packs are registered in the device list (linked to their gateway and pack);
 * plants (another part of issue 14) hook in at `seedFleet`'s marked place once merged.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { isBmsError } from '@openbms/core';
import { validateConfig, type Config } from '@openbms/gateway';
import {
  ORG_CODE_ALPHABET,
  type Org,
  type OrgKind,
  type OrgRole,
  type OrgStore,
  type Origin,
  type DeviceStore,
  type UserStore,
} from '@openbms/storage';

/** What seeding needs of the storage (both adapters have it). */
export interface FleetStorage {
  readonly identity: Origin;
  readonly orgs: OrgStore;
  readonly users: UserStore;
  /** The device list (both adapters): the demo's packs are registered in it. */
  readonly devices?: DeviceStore;
}

type Local = 'admin' | 'operator' | 'viewer';

interface AccountPlan {
  username: string;
  /** The fleet role in its own organisation (seed 000's). */
  role: OrgRole;
}

interface OrgPlan {
  /** Stable key: the organisation's code and its gateway's id are derived from it. */
  key: string;
  kind: OrgKind;
  name: string;
  accounts: AccountPlan[];
  /** Customers: their simulated site. */
  site?: DemoSite;
  children?: OrgPlan[];
}

/** One customer's simulated site: buses of simulated packs (`port: sim`). */
interface DemoSite {
  timezone: string;
  /** Degrees, north and east positive (the site's location). */
  lat: number;
  lon: number;
  buses: { id: string; protocol: string; packs: number; soc: number; seed: number }[];
}

/** The platform root and its manager: every `openbms cloud` has them, demo or not. */
export const PLATFORM: OrgPlan = {
  key: 'platform',
  kind: 'platform',
  name: 'OpenBMS Cloud',
  accounts: [{ username: 'admin', role: 'manager' }],
};

const site = (
  [timezone, lat, lon]: [string, number, number],
  ...buses: DemoSite['buses']
): DemoSite => ({ timezone, lat, lon, buses });

/**
 * The demo fleet under the platform: 5 customers, 26 simulated packs. One place to extend:
 * plants and devices of the demo go with these rows once their stores exist.
 */
export const DEMO_FLEET: OrgPlan[] = [
  {
    key: 'maker',
    kind: 'battery_maker',
    name: 'Volta Cells',
    accounts: [
      { username: 'maker', role: 'manager' },
      { username: 'service', role: 'om_user' },
    ],
    children: [
      {
        key: 'dealer-north',
        kind: 'dealer',
        name: 'North Energy Dealer',
        accounts: [
          { username: 'north', role: 'manager' },
          { username: 'sales', role: 'marketing' },
        ],
        children: [
          {
            key: 'installer-north',
            kind: 'installer',
            name: 'North Installs',
            accounts: [{ username: 'fitter', role: 'installer' }],
            children: [
              {
                key: 'customer-cafe',
                kind: 'customer',
                name: 'Harbour Cafe',
                accounts: [{ username: 'cafe', role: 'end_user' }],
                site: site(
                  ['Europe/Berlin', 53.55, 9.99],
                  { id: 'rack', protocol: 'pace', packs: 4, soc: 55, seed: 11 },
                  { id: 'jk', protocol: 'jk', packs: 1, soc: 70, seed: 12 },
                ),
              },
              {
                key: 'customer-lin',
                kind: 'customer',
                name: 'Lin Family',
                accounts: [{ username: 'lin', role: 'end_user' }],
                site: site(['Asia/Shanghai', 31.23, 121.47], {
                  id: 'pylon',
                  protocol: 'pylontech',
                  packs: 4,
                  soc: 60,
                  seed: 21,
                }),
              },
            ],
          },
          {
            key: 'customer-school',
            kind: 'customer',
            name: 'Hill School',
            accounts: [{ username: 'school', role: 'end_user' }],
            site: site(
              ['Europe/London', 51.51, -0.13],
              { id: 'rack', protocol: 'pace', packs: 6, soc: 45, seed: 31 },
              { id: 'daly', protocol: 'daly', packs: 1, soc: 40, seed: 32 },
            ),
          },
        ],
      },
      {
        key: 'dealer-south',
        kind: 'dealer',
        name: 'South Power Dealer',
        accounts: [
          { username: 'south', role: 'manager' },
          { username: 'ops', role: 'operation_manager' },
        ],
        children: [
          {
            key: 'installer-south',
            kind: 'installer',
            name: 'South Solar Installers',
            accounts: [{ username: 'tech', role: 'installer' }],
            children: [
              {
                key: 'customer-farm',
                kind: 'customer',
                name: 'Green Farm Co-op',
                accounts: [{ username: 'farm', role: 'end_user' }],
                site: site(['America/Sao_Paulo', -23.55, -46.63], {
                  id: 'rack',
                  protocol: 'pace',
                  packs: 5,
                  soc: 65,
                  seed: 41,
                }),
              },
              {
                key: 'customer-park',
                kind: 'customer',
                name: 'Park Homes',
                accounts: [{ username: 'park', role: 'end_user' }],
                site: site(
                  ['Australia/Sydney', -33.87, 151.21],
                  { id: 'jk', protocol: 'jk', packs: 1, soc: 50, seed: 51 },
                  { id: 'daly', protocol: 'daly', packs: 1, soc: 35, seed: 52 },
                  { id: 'pylon', protocol: 'pylontech', packs: 3, soc: 75, seed: 53 },
                ),
              },
            ],
          },
        ],
      },
    ],
  },
];

/** The single-box rank an account of a fleet role is created with (its role is set after). */
function localOf(role: OrgRole): Local {
  if (role === 'manager' || role === 'administrator') return 'admin';
  if (role === 'operation_manager' || role === 'om_user' || role === 'installer') return 'operator';
  return 'viewer';
}

/** `n` characters of Crockford's base32 from an HMAC keyed by the database's identity. */
function derived(identity: Origin, what: string, n: number): string {
  const mac = createHmac('sha256', `${identity.orgId}:${identity.gatewayId}`)
    .update(`openbms cloud fleet/${what}`)
    .digest();
  let out = '';
  for (let i = 0; i < n; i++) out += ORG_CODE_ALPHABET[mac[i]! & 31];
  return out;
}

/** The code the fleet's organisation `key` has in this database. */
export const fleetCode = (identity: Origin, key: string): string =>
  derived(identity, `org/${key}`, 6);

/**
 * The id of a customer's demo gateway: a ULID whose time part is the organisation's (so it
 * sorts with it) and whose other 16 characters are derived; every node computes the same.
 */
const gatewayIdOf = (identity: Origin, org: Org): string =>
  org.id.slice(0, 10) + derived(identity, `gateway/${org.code}`, 16);

/** An account made by this start, with its password (shown once). */
export interface MadeAccount {
  login: string;
  role: OrgRole;
  org: string;
  password: string;
}

/** One simulated site of the demo: the gateway's identity and the config it runs. */
export interface DemoGateway {
  identity: Origin;
  orgName: string;
  config: Config;
}

export interface Fleet {
  platform: Org;
  /** Organisations the fleet has, in the order walked. */
  orgs: Org[];
  /** Organisations this start made (0 when the fleet was there already). */
  madeOrgs: number;
  accounts: MadeAccount[];
  gateways: DemoGateway[];
}

/**
 * The config of one customer's site: `port: sim` buses the simulator serves. `siteId` is the
 * first part of its packs' ids (`cafe/rack/1`): distinct per site, so a pack id names one pack
 * across the whole fleet (a platform manager sees every site, and the pack routes refuse an id
 * that two visible gateways have).
 */
export function siteConfig(siteId: string, orgName: string, s: DemoSite): Config {
  return validateConfig(
    {
      version: 1,
      location: { timezone: s.timezone, latitude: s.lat, longitude: s.lon },
      sites: [
        {
          id: siteId,
          name: orgName,
          buses: s.buses.map((b) => ({
            id: b.id,
            port: 'sim',
            protocol: b.protocol,
            poll_interval_s: 5,
            simulator: { profile: 'solar', speed: 60, seed: b.seed, soc_pct: b.soc },
            packs: Array.from({ length: b.packs }, (_, i) => ({
              address: firstAddress(b.protocol) + i,
              name: b.packs > 1 ? `${b.id} ${i + 1}` : `${b.id} pack`,
            })),
          })),
        },
      ],
    },
    `demo site of ${orgName}`,
  );
}

/** The first bus address of a family's packs (as the single-box demo uses them). */
function firstAddress(protocol: string): number {
  if (protocol === 'daly') return 0x40;
  if (protocol === 'pylontech') return 2;
  return 1;
}

const takenField = (e: unknown, field: string): boolean =>
  isBmsError(e) && e.code === 'REQUEST_INVALID' && e.details?.['field'] === field;

/**
 * Makes what is missing of the fleet and returns all of it. `hash` turns a new password into
 * its stored hash (the server's scrypt).
 */
export async function seedFleet(
  storage: FleetStorage,
  opts: { demo: boolean; hash: (password: string) => Promise<string>; now?: () => number },
): Promise<Fleet> {
  const now = opts.now ?? Date.now;
  const { identity } = storage;
  const fleet: Omit<Fleet, 'platform'> & { platform?: Org } = {
    orgs: [],
    madeOrgs: 0,
    accounts: [],
    gateways: [],
  };

  async function ensureOrg(plan: OrgPlan, parent: Org | undefined): Promise<Org> {
    const code = fleetCode(identity, plan.key);
    const found = async (): Promise<Org | undefined> => {
      const o = await storage.orgs.byCode(code);
      if (!o) return undefined;
      if (o.kind !== plan.kind || o.parentId !== parent?.id) {
        throw new Error(
          `organisation ${code} (${o.name}) is not the fleet's ${plan.kind} "${plan.name}"; ` +
            'the database holds another organisation with the code the fleet derives',
        );
      }
      return o;
    };
    const had = await found();
    if (had) return had;
    try {
      const made = parent
        ? await storage.orgs.create([parent.id], {
            parentId: parent.id,
            kind: plan.kind,
            name: plan.name,
            code,
            createdAt: now(),
          })
        : await storage.orgs.createRoot({
            kind: plan.kind,
            name: plan.name,
            code,
            createdAt: now(),
          });
      fleet.madeOrgs++;
      return made;
    } catch (e) {
      // Another node made it between our look and our insert: the code's unique index decided.
      if (!takenField(e, 'code')) throw e;
      const o = await found();
      if (!o) throw e;
      return o;
    }
  }

  async function ensureAccount(org: Org, a: AccountPlan): Promise<void> {
    const password = randomBytes(12).toString('base64url');
    let id: string;
    try {
      const user = await storage.users.create(
        { orgId: org.id, gatewayId: identity.gatewayId },
        { username: a.username, role: localOf(a.role), createdAt: now() },
        await opts.hash(password),
      );
      id = user.id;
    } catch (e) {
      if (takenField(e, 'username')) return; // made before (its password was shown then)
      throw e;
    }
    // The first admin became the manager on creation; other roles are set now.
    if (a.role !== 'manager') await storage.orgs.setRole([org.id], org.id, id, a.role);
    fleet.accounts.push({
      login: `${a.username}@${org.code}`,
      role: a.role,
      org: org.name,
      password,
    });
  }

  async function registerDevices(devices: DeviceStore, org: Org, site: DemoSite): Promise<void> {
    const gatewayId = gatewayIdOf(identity, org);
    for (const b of site.buses) {
      for (let i = 0; i < b.packs; i++) {
        const packId = `site/${b.id}/${firstAddress(b.protocol) + i}`;
        const serial = `DEMO-${org.code}-${b.id}-${i + 1}`.toUpperCase().replace(/[^A-Z0-9-]/g, '');
        try {
          await devices.create([org.id], {
            serial,
            type: 'bms',
            nickname: b.packs > 1 ? `${b.id} ${i + 1}` : `${b.id} pack`,
            manufacturer: b.protocol,
            joinedAt: now(),
            createdBy: 'admin',
            orgId: org.id,
            activation: 'enabled',
            gatewayId,
            packId,
          });
        } catch (e) {
          if (!takenField(e, 'serial')) throw e;
        }
      }
    }
  }

  async function walk(plan: OrgPlan, parent: Org | undefined): Promise<Org> {
    const org = await ensureOrg(plan, parent);
    fleet.orgs.push(org);
    for (const a of plan.accounts) await ensureAccount(org, a);
    if (plan.site) {
      fleet.gateways.push({
        identity: { orgId: org.id, gatewayId: gatewayIdOf(identity, org) },
        orgName: org.name,
        config: siteConfig(plan.key.replace(/^customer-/, ''), org.name, plan.site),
      });
      // Its batteries in the device list (docs/fleet.md "Devices"), linked to their live pack;
      // the serial derives from the gateway and the pack, so every start and node registers
      // each once (a serial taken: made before, or by another node meanwhile).
      if (storage.devices) await registerDevices(storage.devices, org, plan.site);
      // The customer's plant (this site) is registered here once the plant store is merged.
    }
    for (const child of plan.children ?? []) await walk(child, org);
    return org;
  }

  const platform = await walk(PLATFORM, undefined);
  if (opts.demo) for (const plan of DEMO_FLEET) await walk(plan, platform);
  return { ...fleet, platform };
}

/** How many packs the demo's sites have (the README's figure). */
export function demoPackCount(): number {
  let n = 0;
  const count = (p: OrgPlan): void => {
    for (const b of p.site?.buses ?? []) n += b.packs;
    p.children?.forEach(count);
  };
  DEMO_FLEET.forEach(count);
  return n;
}
