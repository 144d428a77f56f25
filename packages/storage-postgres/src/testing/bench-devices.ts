/**
 * `fleet_device_list_ms` for `npm run bench` (scripts/bench.mjs calls `benchDevices()`; prints
 * nothing): the device list's first page on PostgreSQL, through the port, as the route asks
 * for it (`list` + `counts`), on a database of its own (`openbms_t_<random>`, dropped after).
 *
 * The fleet: a platform, 5 battery makers, 50 dealers, 500 installers, 5,000 customers
 * (closure rows as the adapter keeps them) and 100,000 devices, 80 % owned by customers, the
 * rest by installers and dealers; a tenth seen recently (online), a twentieth not enabled, a
 * twentieth expired. Rows are written with one INSERT ... SELECT each (the port's create is
 * one transaction per device, which would take minutes to fill the table), then ANALYZEd.
 *
 * The figure: the median of RUNS first pages of 50 for the platform's administrator (the
 * whole fleet in scope, the widest case) with `status=online` and a search `q` matching one
 * device in ten (`SN01`: serials SN010000…SN019999), list and counts together. Also reported: a dealer's page
 * (2 % of the fleet) with the same filters, and an exact device-number search.
 */
import { performance } from 'node:perf_hooks';
import { newId } from '@openbms/storage';
import { PostgresStorage } from '../storage.js';
import { createTestDatabase } from './index.js';

const DEVICES = 100_000;
const RUNS = 31;
const median = (xs: number[]): number =>
  Math.round(xs.sort((a, b) => a - b)[xs.length >> 1]! * 100) / 100;

export async function benchDevices(): Promise<Record<string, number>> {
  const db = await createTestDatabase('openbms_t_');
  const s = await PostgresStorage.open({ url: db.url });
  try {
    const now = Date.UTC(2030, 0, 1);
    // The tree: ids and parents, then the closure from it.
    const orgs: { id: string; parent: string | null; kind: string; depth: number }[] = [];
    const add = (parent: string | null, kind: string, depth: number): string => {
      const id = newId(now);
      orgs.push({ id, parent, kind, depth });
      return id;
    };
    const platform = add(null, 'platform', 0);
    const dealers: string[] = [];
    const owners: string[] = [];
    for (let m = 0; m < 5; m++) {
      const maker = add(platform, 'battery_maker', 1);
      for (let d = 0; d < 10; d++) {
        const dealer = add(maker, 'dealer', 2);
        dealers.push(dealer);
        owners.push(dealer);
        for (let i = 0; i < 10; i++) {
          const inst = add(dealer, 'installer', 3);
          owners.push(inst);
          for (let c = 0; c < 10; c++) {
            const customer = add(inst, 'customer', 4);
            for (let k = 0; k < 8; k++) owners.push(customer);
          }
        }
      }
    }
    // Customers appear 8 times in `owners`, installers and dealers once: 80 % of devices go to customers.
    const orgRows = orgs;
    const byId = new Map(orgRows.map((o) => [o.id, o]));
    const anc: string[] = [];
    const desc: string[] = [];
    const dep: number[] = [];
    for (const o of orgRows) {
      let k = 0;
      for (let a: typeof o | undefined = o; a; a = a.parent ? byId.get(a.parent) : undefined) {
        anc.push(a.id);
        desc.push(o.id);
        dep.push(k++);
      }
    }
    await s.db.query(
      'bench orgs',
      `INSERT INTO orgs (id, parent_id, kind, name, code, depth, created_at)
       SELECT id, parent, kind, 'Org ' || n, lpad(upper(to_hex(n)), 6, '0'), depth, $5
       FROM unnest($1::text[], $2::text[], $3::text[], $4::int[]) WITH ORDINALITY AS t(id, parent, kind, depth, n)`,
      [
        orgRows.map((o) => o.id),
        orgRows.map((o) => o.parent),
        orgRows.map((o) => o.kind),
        orgRows.map((o) => o.depth),
        now,
      ],
    );
    await s.db.query(
      'bench closure',
      'INSERT INTO org_closure (ancestor, descendant, depth) SELECT * FROM unnest($1::text[], $2::text[], $3::int[])',
      [anc, desc, dep],
    );
    const ids = Array.from({ length: DEVICES }, () => newId(now));
    const owner = Array.from({ length: DEVICES }, (_, i) => owners[(i * 7919) % owners.length]!);
    await s.db.query(
      'bench devices',
      `INSERT INTO devices (id, serial, serial_lc, barcode, barcode_lc, nickname, nickname_lc, type,
         model, manufacturer, produced_on, joined_at, created_by, org_id, activation, expires_at,
         gateway_id, pack_id, last_seen_at)
       SELECT id, 'SN' || lpad(n::text, 6, '0'), 'sn' || lpad(n::text, 6, '0'),
         'BC' || lpad((n * 7)::text, 7, '0'), 'bc' || lpad((n * 7)::text, 7, '0'),
         CASE WHEN n % 3 = 0 THEN 'Pack ' || n END, CASE WHEN n % 3 = 0 THEN 'pack ' || n END,
         'bms', 'M-001', 'HYDX', '2021-01-18', $3::bigint, 'admin', org,
         CASE WHEN n % 20 = 7 THEN 'not_enabled' ELSE 'enabled' END,
         CASE WHEN n % 20 = 3 THEN $3::bigint - 1 END,
         'gw' || (n / 16), 'bus/' || (n % 16),
         CASE WHEN n % 10 = 1 THEN $3::bigint - 1000 END
       FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS t(id, org, n)`,
      [ids, owner, now],
    );
    await s.db.query('bench analyze', 'ANALYZE');

    const page = async (within: string[], q: string) => {
      const query = { status: 'online' as const, q, limit: 50, now };
      const t = performance.now();
      const [p] = await Promise.all([
        s.devices.list(within, query),
        s.devices.counts(within, query),
      ]);
      const ms = performance.now() - t;
      if (p.devices.length === 0) throw new Error(`bench: no devices for ${q}`);
      return ms;
    };
    const runs = async (within: string[], q: string): Promise<number> => {
      await page(within, q); // warm-up
      const xs: number[] = [];
      for (let i = 0; i < RUNS; i++) xs.push(await page(within, q));
      return median(xs);
    };
    return {
      fleet_device_list_ms: await runs([platform], 'SN01'),
      fleet_device_list_dealer_ms: await runs([dealers[3]!], 'SN01'),
      fleet_device_search_exact_ms: await runs([platform], 'SN012341'),
    };
  } finally {
    await s.close();
    await db.drop();
  }
}
