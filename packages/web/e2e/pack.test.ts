/**
 * Pack detail tabs (Status, Cells, System, Alarms) and the Alarms page, against a real
 * `openbms start`: the demo site plus a lab site with a 32-cell DALY pack whose temperature
 * sensor 2 reads open circuit (simulator fault) and a 4-cell JK pack, and one alarm rule
 * that is true from the first reading (so there is an alarm to count and acknowledge).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Locator, Page } from 'playwright-core';
import {
  ADMIN,
  DEMO,
  launchBrowser,
  openPage,
  packUrl,
  startConsole,
  type Console,
} from './harness';

const BIG = 'lab/big/64';
const SMALL = 'lab/small/1';

const CONFIG = `version: 1
demo: true
sites:
  - id: lab
    name: Lab
    buses:
      - id: big
        port: sim
        protocol: daly
        poll_interval_s: 1
        simulator: { cells: 32, seed: 7, soc_pct: 50, faults: ["sensor-open:2"] }
        packs: [{ address: 64, name: "Big DALY" }]
      - id: small
        port: sim
        protocol: jk
        poll_interval_s: 1
        simulator: { cells: 4, seed: 8, soc_pct: 80 }
        packs: [{ address: 1, name: "Small JK" }]
alarm_rules:
  - id: e2e-soc
    name: "SOC above 1 %"
    metric: soc_pct
    op: ">"
    threshold: 1
    severity: protection
    packs: ["${BIG}"]
`;

interface Snap {
  ts: string;
  voltage_v?: number;
  current_a?: number;
  soc_pct?: number;
  cell_mv?: number[];
  max_cell_index?: number;
  min_cell_index?: number;
  max_cell_mv?: number;
  min_cell_mv?: number;
  temps_c?: number[];
  info?: Record<string, string>;
}
interface Link {
  polls: number;
  requests: number;
  replies: number;
  timeouts: number;
  checksum_errors: number;
}
interface PackJson {
  id: string;
  snapshot: Snap | null;
  link: Link;
}
interface AlarmJson {
  id: number;
  pack_id: string;
  code: string;
  severity: string;
  acknowledged_by?: string;
}

let server: Console;
let browser: Browser;
let cookie = '';

async function get<T>(path: string): Promise<T> {
  const r = await fetch(`${server.url}/api/v1${path}`, { headers: { cookie } });
  if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}
const getPack = (id: string) => get<PackJson>(`/packs/${encodeURIComponent(id)}`);

/** Checks `cond` every 250 ms until it holds; fails after `ms` (outside a test, no expect.poll). */
async function until(cond: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  [server, browser] = await Promise.all([startConsole({ config: CONFIG }), launchBrowser()]);
  const r = await fetch(`${server.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(ADMIN),
  });
  expect(r.ok).toBe(true);
  cookie = (r.headers.get('set-cookie') ?? '').split(';')[0]!;
  // Every pack read at least once, and the rule's alarm raised, before the tests look.
  await until(async () => {
    const packs = await get<PackJson[]>('/packs');
    const alarms = await get<AlarmJson[]>(`/alarms?active=true&pack=${BIG}`);
    return packs.every((p) => p.snapshot !== null) && alarms.length >= 2;
  }, 30_000);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

/** Snapshots the page receives on its WebSocket, by pack. */
function recordSnapshots(page: Page): Map<string, Snap[]> {
  const seen = new Map<string, Snap[]>();
  page.on('websocket', (ws) => {
    ws.on('framereceived', ({ payload }) => {
      let m: { type?: string; pack_id?: string; snapshot?: Snap };
      try {
        m = JSON.parse(String(payload)) as typeof m;
      } catch {
        return;
      }
      if (m.type !== 'snapshot' || !m.pack_id || !m.snapshot) return;
      const list = seen.get(m.pack_id) ?? [];
      list.push(m.snapshot);
      seen.set(m.pack_id, list);
    });
  });
  return seen;
}

/** What the Cells tab shows, read in one go (no render in between). */
function readCells(page: Page) {
  return page.evaluate(() => {
    const root = document.querySelector('[data-testid="cells-tab"]');
    const items = [...document.querySelectorAll<HTMLElement>('[data-testid^="cell-"][data-mv]')];
    return {
      ts: root?.getAttribute('data-ts') ?? '',
      texts: items.map(
        (li) => li.querySelector(`[data-testid="${li.dataset.testid}-value"]`)?.textContent ?? '',
      ),
      max: items.findIndex((li) => li.dataset.extreme === 'max') + 1,
      min: items.findIndex((li) => li.dataset.extreme === 'min') + 1,
      maxCount: items.filter((li) => li.dataset.extreme === 'max').length,
      minCount: items.filter((li) => li.dataset.extreme === 'min').length,
    };
  });
}

/** A locator's text ('' while it is not there). */
const textOf = async (l: Locator): Promise<string> =>
  (await l.textContent({ timeout: 500 }).catch(() => null)) ?? '';
/** A locator's attribute (null while it is not there). */
const attrOf = (l: Locator, name: string): Promise<string | null> =>
  l.getAttribute(name, { timeout: 500 }).catch(() => null);
/** expect.poll with the patience a live page needs. */
const poll = <T>(fn: () => Promise<T> | T, timeout = 15_000) =>
  expect.poll(fn, { timeout, interval: 100 });

/** "3.312 V" -> 3312 (mV). */
const mvOf = (text: string): number => Math.round(Number.parseFloat(text) * 1000);

describe('pack detail', () => {
  it('Cells tab: a cell value changes live and equals the latest WebSocket snapshot', async () => {
    const { page, context, errors } = await openPage(browser, server.url);
    const seen = recordSnapshots(page);
    const id = DEMO.rack[0]!;
    await page.goto(packUrl(id, 'cells'));
    await page.getByTestId('cell-1-value').waitFor();
    const first = await readCells(page);
    expect(first.texts).toHaveLength(16);

    // Wait until some cell shows another value than when we first looked.
    let changed = -1;
    await expect
      .poll(
        async () => {
          const now = await readCells(page);
          changed = now.texts.findIndex((t, i) => t !== first.texts[i]);
          return changed;
        },
        { timeout: 45_000, interval: 200 },
      )
      .toBeGreaterThanOrEqual(0);

    // What is shown is the newest snapshot the socket delivered, cell by cell.
    await expect
      .poll(
        async () => {
          const now = await readCells(page);
          const list = seen.get(id) ?? [];
          const latest = list[list.length - 1];
          if (!latest || latest.ts !== now.ts) return 'not the latest yet';
          return now.texts.map(mvOf).join(',') === latest.cell_mv!.join(',')
            ? 'equal'
            : `${now.texts.join(' ')} vs ${latest.cell_mv!.join(' ')}`;
        },
        { timeout: 10_000, interval: 100 },
      )
      .toBe('equal');
    const cellText = await page.getByTestId(`cell-${changed + 1}-value`).textContent();
    expect(cellText).toMatch(/^\d\.\d{3} V$/);

    // mV view: the same numbers, no digit grouping.
    await page.getByRole('button', { name: 'mV', exact: true }).click();
    await poll(() => textOf(page.getByTestId('cell-1-value'))).toMatch(/^\d{4} mV$/);
    await page.getByRole('button', { name: 'V', exact: true }).click();
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);

  it('Cells tab: max and min markers follow the snapshot, for 16, 32 and 4 cells', async () => {
    const { page, context, errors } = await openPage(browser, server.url);
    const seen = recordSnapshots(page);
    for (const [id, count] of [
      [DEMO.jk, 16],
      [BIG, 32],
      [SMALL, 4],
    ] as const) {
      await page.goto(packUrl(id, 'cells'));
      await page.getByTestId(`cell-${count}-value`).waitFor();
      await poll(() => page.locator('[data-testid^="cell-"][data-mv]').count()).toBe(count);
      await expect
        .poll(
          async () => {
            const ui = await readCells(page);
            const snap = (seen.get(id) ?? []).find((s) => s.ts === ui.ts);
            if (!snap) return 'waiting for a snapshot the socket delivered';
            const spread = snap.max_cell_mv! > snap.min_cell_mv!;
            const want = spread
              ? { max: snap.max_cell_index, min: snap.min_cell_index, maxCount: 1, minCount: 1 }
              : { max: 0, min: 0, maxCount: 0, minCount: 0 };
            const got = { max: ui.max, min: ui.min, maxCount: ui.maxCount, minCount: ui.minCount };
            return JSON.stringify(got) === JSON.stringify(want)
              ? 'match'
              : `${JSON.stringify(got)} != ${JSON.stringify(want)}`;
          },
          { timeout: 15_000, interval: 100 },
        )
        .toBe('match');
    }
    // The summary names the same cells as the markers.
    const ui = await readCells(page);
    if (ui.max > 0) {
      await poll(() => textOf(page.getByTestId('cells-max'))).toContain(`cell ${ui.max}`);
    }
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);

  it('Status tab: SOC, voltage and current equal the API; an open sensor reads "Open circuit"', async () => {
    const { page, context, errors } = await openPage(browser, server.url);
    const id = DEMO.rack[1]!;
    await page.goto(packUrl(id, 'status'));
    await page.getByTestId('status-voltage').waitFor();
    await expect
      .poll(
        async () => {
          const ui = await page.evaluate(() => {
            const q = (s: string) => document.querySelector(`[data-testid="${s}"]`);
            return {
              ts: q('status-tab')?.getAttribute('data-ts'),
              soc: q('status-soc')?.getAttribute('data-value'),
              gauge: q('status-soc')?.querySelector('text')?.textContent,
              v: q('status-voltage')?.querySelector('.stat-value')?.textContent,
              a: q('status-current')?.querySelector('.stat-value')?.textContent,
            };
          });
          const api = (await getPack(id)).snapshot!;
          if (api.ts !== ui.ts) return 'different readings';
          const want = {
            soc: String(api.soc_pct),
            gauge: `${Math.round(api.soc_pct!)}%`,
            v: `${api.voltage_v!.toFixed(2)} V`,
            a: `${api.current_a!.toFixed(2)} A`,
          };
          const got = { soc: ui.soc, gauge: ui.gauge, v: ui.v, a: ui.a };
          return JSON.stringify(got) === JSON.stringify(want)
            ? 'equal'
            : `${JSON.stringify(got)} != ${JSON.stringify(want)}`;
        },
        { timeout: 15_000, interval: 150 },
      )
      .toBe('equal');

    // The 32-cell DALY's sensor 2 is open (simulator fault): named, not shown as -40 °C.
    await page.goto(packUrl(BIG, 'status'));
    const t2 = page.getByTestId('temp-t2');
    await poll(() => attrOf(t2, 'data-open')).toBe('true');
    expect(await t2.textContent()).toContain('Open circuit');
    expect(await page.getByTestId('temp-t1').textContent()).toMatch(/\d+\.\d °C/);
    const big = (await getPack(BIG)).snapshot!;
    expect(big.temps_c![1]).toBe(-40);
    // Its BMS fault flag, in words.
    await poll(() => textOf(page.getByTestId('status-faults'))).toContain(
      'Temperature sensor fault',
    );
    // JK reports no ambient sensor: the row is left out, not shown as 0.
    await page.goto(packUrl(DEMO.jk, 'status'));
    await page.getByTestId('temp-mos').waitFor();
    await poll(() => page.getByTestId('temp-ambient').count()).toBe(0);
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);

  it('Status tab: "Today" shows the highest SOC since midnight, at least the SOC now (seed 001)', async () => {
    const { page, context, errors } = await openPage(browser, server.url);
    await page.goto(packUrl(DEMO.jk, 'status'));
    const max = page.getByTestId('today-max-soc');
    await max.waitFor();
    const shown = async (): Promise<number> =>
      Number(/([\d.]+)\s*%/.exec((await max.textContent()) ?? '')?.[1] ?? NaN);
    const now = (await getPack(DEMO.jk)).snapshot?.soc_pct ?? NaN;
    await expect.poll(shown).toBeGreaterThanOrEqual(Math.floor(now) - 1);
    // The stored history agrees: the highest SOC since midnight is what the card shows.
    const from = await page.evaluate(() => new Date().setHours(0, 0, 0, 0));
    const h = await get<{ series: { soc_pct?: { max: number[] } } }>(
      `/packs/${encodeURIComponent(DEMO.jk)}/history?from=${from}&fields=soc_pct`,
    );
    const stored = Math.max(...(h.series.soc_pct?.max ?? [0]));
    expect(await shown()).toBeGreaterThanOrEqual(Math.round(stored) - 1);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('System tab: the serial and the link counters the API reports', async () => {
    const { page, context, errors } = await openPage(browser, server.url);
    const id = DEMO.rack[0]!;
    const before = await getPack(id);
    await page.goto(packUrl(id, 'system'));
    await poll(() => textOf(page.getByTestId('system-serial'))).toContain(
      before.snapshot!.info!.serial!,
    );
    await page.getByText(/Counters as of/).waitFor();
    const after = await getPack(id);
    for (const [key, field] of [
      ['polls', 'polls'],
      ['requests', 'requests'],
      ['replies', 'replies'],
      ['timeouts', 'timeouts'],
      ['checksum-errors', 'checksum_errors'],
    ] as const) {
      const shown = Number(await page.getByTestId(`system-${key}`).getAttribute('data-value'));
      expect(shown, key).toBeGreaterThanOrEqual(before.link[field]);
      expect(shown, key).toBeLessThanOrEqual(after.link[field]);
      expect(await page.getByTestId(`system-${key}`).textContent()).toContain(
        shown.toLocaleString('en-GB'),
      );
    }
    expect(before.link.polls).toBeGreaterThan(0);
    // Refresh reads the counters again: polls keep growing.
    const shownPolls = Number(await page.getByTestId('system-polls').getAttribute('data-value'));
    await expect
      .poll(
        async () => {
          await page.getByTestId('system-refresh').click();
          return Number(await page.getByTestId('system-polls').getAttribute('data-value'));
        },
        { timeout: 15_000, interval: 1000 },
      )
      .toBeGreaterThan(shownPolls);
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);

  it('Alarms tab: counts table equals the API; acknowledging shows live on another page', async () => {
    const a = await openPage(browser, server.url);
    const b = await openPage(browser, server.url);
    const counts = await get<Record<string, number>>(`/alarms/counts?pack=${BIG}`);
    expect(counts.soc_high).toBeGreaterThanOrEqual(1);
    for (const p of [a.page, b.page]) {
      await p.goto(packUrl(BIG, 'alarms'));
      await p.getByTestId('alarm-counts-table').waitFor();
    }
    const table = a.page.getByTestId('alarm-counts-table');
    for (const [code, n] of Object.entries(counts)) {
      await poll(() => attrOf(table.locator(`tr[data-code="${code}"]`), 'data-count')).toBe(
        String(n),
      );
    }
    // Protections that never tripped are listed with 0 (seed 003 Stats).
    expect(await table.locator('tr[data-code="short_circuit"]').getAttribute('data-count')).toBe(
      '0',
    );
    await poll(() => textOf(table.locator('tr[data-code="soc_high"]'))).toContain('SOC high');

    const active = await get<AlarmJson[]>(`/alarms?active=true&pack=${BIG}`);
    const soc = active.find((x) => x.code === 'soc_high')!;
    const rowA = a.page.getByTestId('pack-alarms-active').getByTestId(`alarm-${soc.id}`);
    const rowB = b.page.getByTestId('pack-alarms-active').getByTestId(`alarm-${soc.id}`);
    await poll(() => attrOf(rowB, 'data-acked')).toBe('false');
    await rowA.getByTestId('ack').click();
    await poll(() => attrOf(rowA, 'data-acked')).toBe('true');
    // Page B did not reload: the socket's "acknowledged" message updated it.
    await poll(() => attrOf(rowB, 'data-acked'), 10_000).toBe('true');
    await poll(() => textOf(rowB)).toContain(ADMIN.username);
    const after = await get<AlarmJson[]>(`/alarms?active=true&pack=${BIG}`);
    expect(after.find((x) => x.id === soc.id)?.acknowledged_by).toBe(ADMIN.username);
    expect([...a.errors, ...b.errors]).toEqual([]);
    await a.context.close();
    await b.context.close();
  }, 60_000);

  it('Alarms page: filters by pack, severity and status, links to the pack; viewers cannot acknowledge', async () => {
    const { page, context, errors } = await openPage(browser, server.url);
    await page.goto('/alarms');
    const list = page.getByTestId('alarms-list');
    /** The list shows what the API has that passes `keep` (alarms may be raised meanwhile). */
    const showsApi = (keep: (a: AlarmJson) => boolean) =>
      expect
        .poll(
          async () => {
            const api = (await get<AlarmJson[]>('/alarms?limit=1000')).filter(keep);
            return `${await attrOf(list, 'data-count')} of ${api.length}`;
          },
          { timeout: 10_000, interval: 200 },
        )
        .toMatch(/^(\d+) of \1$/);
    await showsApi(() => true);

    await page.getByTestId('filter-severity').selectOption('fault');
    await showsApi((x) => x.severity === 'fault');
    await list.locator('tr[data-code="temp_sensor_fault"]').first().waitFor();
    await poll(() => list.locator('tr[data-code="soc_high"]').count()).toBe(0);

    await page.getByTestId('filter-severity').selectOption('');
    await page.getByTestId('filter-status').selectOption('acknowledged');
    await showsApi((x) => x.acknowledged_by !== undefined);
    await poll(() => list.locator('tr[data-code="soc_high"]').count()).toBe(1);

    await page.getByTestId('filter-status').selectOption('');
    await page.getByTestId('filter-pack').selectOption(SMALL);
    await showsApi((x) => x.pack_id === SMALL);
    await page.getByTestId('filter-pack').selectOption(BIG);
    await showsApi((x) => x.pack_id === BIG);
    await list.getByRole('link', { name: 'Big DALY' }).first().click();
    await page.waitForURL(`**${packUrl(BIG, 'alarms')}`);
    await page.getByTestId('alarm-counts-table').waitFor();
    expect(errors).toEqual([]);
    await context.close();

    // A viewer sees the alarms but gets no Acknowledge button.
    const created = await fetch(`${server.url}/api/v1/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie },
      body: JSON.stringify({ username: 'watcher', password: 'watcher-password', role: 'viewer' }),
    });
    expect(created.status).toBeLessThan(300);
    const v = await openPage(browser, server.url, { login: false });
    const login = await v.context.request.post('/api/v1/auth/login', {
      data: { username: 'watcher', password: 'watcher-password' },
    });
    expect(login.ok()).toBe(true);
    await v.page.goto('/alarms');
    await v.page.locator('[data-testid="alarms-list"] tr[data-code="soc_high"]').waitFor();
    await poll(() => v.page.getByTestId('ack').count()).toBe(0);
    expect(v.errors).toEqual([]);
    await v.context.close();
  }, 60_000);

  it('on a 390×844 phone the Cells tab does not scroll sideways', async () => {
    const { page, context, errors } = await openPage(browser, server.url, {
      width: 390,
      height: 844,
    });
    for (const id of [BIG, DEMO.rack[0]!]) {
      await page.goto(packUrl(id, 'cells'));
      await page.getByTestId('cell-1-value').waitFor();
      const { scroll, width } = await page.evaluate(() => ({
        scroll: document.documentElement.scrollWidth,
        width: window.innerWidth,
      }));
      expect(scroll, id).toBeLessThanOrEqual(width);
      // Two columns of bars: cell 2 sits beside cell 1.
      const one = await page.getByTestId('cell-1').boundingBox();
      const two = await page.getByTestId('cell-2').boundingBox();
      expect(two!.y).toBeCloseTo(one!.y, 0);
      expect(two!.x).toBeGreaterThan(one!.x);
    }
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);
});
