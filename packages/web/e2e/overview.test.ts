// The overview, the parallel view and the large screen against a real `openbms start` on the
// demo site (and, for the virtualised list and the 16-pack wall, a site of 64 simulated
// packs): values equal to the API's within display rounding, filters, search, sort, the
// URL keeping them, live language switching, and no console errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { DEMO, launchBrowser, openPage, startConsole, type Console } from './harness';

interface ApiPack {
  id: string;
  name: string;
  address: number;
  online: boolean;
  snapshot: {
    soc_pct?: number;
    voltage_v?: number;
    current_a?: number;
    power_w?: number;
    full_ah?: number;
    min_temp_c?: number;
    max_temp_c?: number;
    delta_cell_mv?: number;
    state?: string;
    info?: { serial?: string };
  } | null;
}

let server: Console;
let browser: Browser;

async function apiPacks(context: BrowserContext): Promise<ApiPack[]> {
  const r = await context.request.get('/api/v1/packs');
  expect(r.ok()).toBe(true);
  return (await r.json()) as ApiPack[];
}

/** Waits (with a deadline) until every pack is online with a snapshot. */
async function allOnline(context: BrowserContext, n: number): Promise<ApiPack[]> {
  let packs: ApiPack[] = [];
  await expect
    .poll(
      async () => {
        packs = await apiPacks(context);
        return packs.filter((p) => p.online && p.snapshot?.soc_pct !== undefined).length;
      },
      { timeout: 60_000, interval: 250 },
    )
    .toBe(n);
  return packs;
}

/** "-1,094 W" -> -1094, "13.3 kW" -> 13300, "54.7 %" -> 54.7, "—" -> NaN. */
function value(text: string | null | undefined): number {
  const t = (text ?? '').trim().replace(/,/g, '');
  const m = /^(-?\d+(?:\.\d+)?)\s*(kW)?/.exec(t);
  if (!m) return NaN;
  return Number(m[1]) * (m[2] === 'kW' ? 1000 : 1);
}

/** "24.4 – 25.5 °C" or "24.4–25.5 °C" -> [24.4, 25.5]. */
function range(text: string | null | undefined): number[] {
  return [...(text ?? '').matchAll(/-?\d+(?:\.\d+)?/g)].map((m) => Number(m[0]));
}

type Fields = Record<string, { text: string; state?: string; online?: string; count?: string }>;

/** Every shown item's data-field texts, keyed by pack id, in DOM order. */
async function fieldsOf(page: Page, testId: string): Promise<[string, Fields][]> {
  return page.getByTestId(testId).evaluateAll((els) =>
    els.map((el) => {
      const f: Fields = {};
      for (const x of el.querySelectorAll('[data-field]')) {
        f[x.getAttribute('data-field')!] = {
          text: x.textContent ?? '',
          state: x.getAttribute('data-state') ?? undefined,
          online: x.getAttribute('data-online') ?? undefined,
          count: x.getAttribute('data-count') ?? undefined,
        };
      }
      return [el.getAttribute('data-pack-id')!, f] as [string, Fields];
    }),
  );
}

const near = (a: number, b: number | undefined, tol: number): boolean =>
  b !== undefined && Math.abs(a - b) <= tol + 1e-9;

const derivedState = (s: NonNullable<ApiPack['snapshot']>): string | undefined =>
  s.state ??
  (s.current_a === undefined
    ? undefined
    : s.current_a > 0.05
      ? 'charging'
      : s.current_a < -0.05
        ? 'discharging'
        : 'idle');

/** What differs between the shown pack values and the API's (empty when they agree). */
function mismatches(api: ApiPack[], shown: [string, Fields][], fields: string[]): string[] {
  const out: string[] = [];
  const byId = new Map(api.map((p) => [p.id, p]));
  for (const [id, f] of shown) {
    const s = byId.get(id)?.snapshot;
    if (!s) {
      out.push(`${id}: not in the API`);
      continue;
    }
    const check = (name: string, ok: boolean) => {
      if (!ok) out.push(`${id} ${name}: shown "${f[name]?.text}", API ${JSON.stringify(s)}`);
    };
    for (const name of fields) {
      const text = f[name]?.text;
      switch (name) {
        case 'soc':
          check(name, near(value(text), s.soc_pct, 0.05));
          break;
        case 'voltage':
          check(name, near(value(text), s.voltage_v, 0.005));
          break;
        case 'current':
          check(name, near(value(text), s.current_a, 0.05));
          break;
        case 'power': {
          const w = s.power_w ?? (s.voltage_v ?? NaN) * (s.current_a ?? NaN);
          check(name, near(value(text), w, Math.abs(w) >= 10_000 ? 50 : 0.5));
          break;
        }
        case 'temp': {
          const [lo, hi] = range(text);
          check(name, near(lo!, s.min_temp_c, 0.05) && near(hi ?? lo!, s.max_temp_c, 0.05));
          break;
        }
        case 'delta':
          check(name, near(value(text), s.delta_cell_mv, 0.5));
          break;
        case 'state':
          check(name, f.state?.state === derivedState(s));
          break;
      }
    }
  }
  return out;
}

const ALL_FIELDS = ['soc', 'voltage', 'current', 'power', 'temp', 'delta', 'state'];

beforeAll(async () => {
  [server, browser] = await Promise.all([startConsole(), launchBrowser()]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('the overview', () => {
  it('shows all 7 demo packs and the rack parallel system with the API values', async () => {
    const { page, context, errors } = await openPage(browser, server.url);
    const api = await allOnline(context, 7);
    await page.goto('/');
    await expect.poll(() => page.getByTestId('pack-card').count(), { timeout: 15_000 }).toBe(7);
    const ids = (await fieldsOf(page, 'pack-card')).map(([id]) => id).sort();
    expect(ids).toEqual(api.map((p) => p.id).sort());

    // Shown values equal the API's within display rounding (read both until they agree:
    // the simulated packs move every poll).
    await expect
      .poll(
        async () =>
          mismatches(await apiPacks(context), await fieldsOf(page, 'pack-card'), ALL_FIELDS),
        {
          timeout: 20_000,
        },
      )
      .toEqual([]);

    // Each pack links to its page, with the id encoded.
    const jk = page.locator(`[data-pack-id="${DEMO.jk}"]`).getByTestId('pack-link');
    expect(await jk.getAttribute('href')).toBe('/packs/demo%2Fjk%2F1');

    // The rack is a parallel system (one bus, 4 packs); Pylontech, JK and DALY are alone on theirs.
    const systems = page.getByTestId('system-card');
    await expect.poll(() => systems.count(), { timeout: 15_000 }).toBe(1);
    const rack = page.locator('[data-system="demo/rack"]');
    expect(await systems.getByTestId('system-link').getAttribute('href')).toBe(
      '/parallel/demo/rack',
    );
    expect(await systems.locator('[data-field="online-count"]').textContent()).toBe(
      '4/4 packs online',
    );
    await expect
      .poll(
        async () => {
          const packs = (await apiPacks(context)).filter((p) => DEMO.rack.includes(p.id));
          const sum = packs.reduce((a, p) => a + p.snapshot!.current_a!, 0);
          const full = packs.reduce((a, p) => a + p.snapshot!.full_ah!, 0);
          const soc = packs.reduce((a, p) => a + p.snapshot!.soc_pct! * p.snapshot!.full_ah!, 0);
          const shownI = value(await rack.locator('[data-field="current"]').textContent());
          const shownSoc = value(await rack.locator('[data-field="soc"]').textContent());
          return near(shownI, sum, 0.05) && near(shownSoc, soc / full, 0.05);
        },
        { timeout: 20_000 },
      )
      .toBe(true);

    // The summary: packs online and the capacity-weighted SOC of every pack.
    expect(await page.getByTestId('summary-online').locator('.stat-value').textContent()).toBe(
      '7 / 7',
    );
    expect(errors).toEqual([]);
    await context.close();
  });

  it('filters by state with counts, and keeps the filter in the URL over a reload', async () => {
    const { page, context, errors } = await openPage(browser, server.url);
    const api = await allOnline(context, 7);
    const offline = api.filter((p) => !p.online).length;
    await page.goto('/');
    await expect.poll(() => page.getByTestId('pack-card').count(), { timeout: 15_000 }).toBe(7);
    expect(await page.getByTestId('filter-all').locator('.ov-count').textContent()).toBe('7');
    expect(await page.getByTestId('filter-offline').locator('.ov-count').textContent()).toBe(
      String(offline),
    );

    await page.getByTestId('filter-offline').click();
    await page.getByTestId('empty').waitFor();
    expect(await page.getByTestId('pack-card').count()).toBe(0);
    expect(await page.getByTestId('system-card').count()).toBe(0);
    expect(new URL(page.url()).searchParams.get('filter')).toBe('offline');
    expect(await page.getByTestId('filter-offline').getAttribute('aria-pressed')).toBe('true');

    await page.reload();
    await page.getByTestId('empty').waitFor();
    expect(await page.getByTestId('filter-offline').getAttribute('aria-pressed')).toBe('true');

    await page.getByTestId('filter-online').click();
    await expect.poll(() => page.getByTestId('pack-card').count(), { timeout: 15_000 }).toBe(7);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('searches by name, serial number and address', async () => {
    const { page, context, errors } = await openPage(browser, server.url);
    await allOnline(context, 7);
    await page.goto('/');
    await expect.poll(() => page.getByTestId('pack-card').count(), { timeout: 15_000 }).toBe(7);

    await page.getByTestId('search').fill('JK');
    await expect.poll(() => page.getByTestId('pack-card').count(), { timeout: 15_000 }).toBe(1);
    expect((await fieldsOf(page, 'pack-card')).map(([id]) => id)).toEqual([DEMO.jk]);
    expect(await page.getByTestId('system-card').count()).toBe(0);
    expect(new URL(page.url()).searchParams.get('q')).toBe('JK');
    await page.reload();
    await expect.poll(() => page.getByTestId('pack-card').count(), { timeout: 15_000 }).toBe(1);
    expect(await page.getByTestId('search').inputValue()).toBe('JK');

    // A serial number the pack reports (PACE "product information", 0xC2).
    let serial: string | undefined;
    await expect
      .poll(
        async () => {
          const p = (await apiPacks(context)).find((x) => x.id === DEMO.rack[2]);
          serial = p?.snapshot?.info?.serial;
          return serial !== undefined;
        },
        { timeout: 20_000 },
      )
      .toBe(true);
    await page.getByTestId('search').fill(serial!.toLowerCase());
    await expect
      .poll(async () => (await fieldsOf(page, 'pack-card')).map(([id]) => id), { timeout: 15_000 })
      .toEqual([DEMO.rack[2]]);

    // An address in hex: the DALY pack answers at 0x40.
    await page.getByTestId('search').fill('0x40');
    await expect
      .poll(async () => (await fieldsOf(page, 'pack-card')).map(([id]) => id), { timeout: 15_000 })
      .toEqual([DEMO.daly]);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('sorts by SOC both ways, in cards and in the list', async () => {
    const { page, context, errors } = await openPage(browser, server.url);
    await allOnline(context, 7);
    await page.goto('/');
    await expect.poll(() => page.getByTestId('pack-card').count(), { timeout: 15_000 }).toBe(7);
    await page.getByTestId('sort').selectOption('soc');
    expect(new URL(page.url()).searchParams.get('sort')).toBe('soc');

    const order = async (testId: string) => {
      const f = await fieldsOf(page, testId);
      return { ids: f.map(([id]) => id), soc: f.map(([, x]) => value(x.soc?.text)) };
    };
    const sorted = (xs: number[], dir: 1 | -1) =>
      xs.every((x, i) => i === 0 || dir * (x - xs[i - 1]!) >= 0);

    // Highest first by default: JK (starts at 70 %) first, DALY (40 %) last.
    await expect
      .poll(
        async () => {
          const o = await order('pack-card');
          return sorted(o.soc, -1) && o.ids[0] === DEMO.jk && o.ids[6] === DEMO.daly;
        },
        { timeout: 15_000 },
      )
      .toBe(true);

    await page.getByTestId('sort-dir').click();
    expect(new URL(page.url()).searchParams.get('dir')).toBe('asc');
    await expect
      .poll(
        async () => {
          const o = await order('pack-card');
          return sorted(o.soc, 1) && o.ids[0] === DEMO.daly && o.ids[6] === DEMO.jk;
        },
        { timeout: 15_000 },
      )
      .toBe(true);

    // The list layout keeps the order, and its column headers sort too.
    await page.getByTestId('view-list').click();
    await expect.poll(() => page.getByTestId('pack-row').count(), { timeout: 15_000 }).toBe(7);
    await expect
      .poll(async () => sorted((await order('pack-row')).soc, 1), { timeout: 15_000 })
      .toBe(true);
    await page.getByRole('columnheader', { name: 'SOC' }).getByRole('button').click();
    await expect
      .poll(
        async () => {
          const o = await order('pack-row');
          return sorted(o.soc, -1) && o.ids[0] === DEMO.jk;
        },
        { timeout: 15_000 },
      )
      .toBe(true);
    expect(await page.getByRole('columnheader', { name: 'SOC' }).getAttribute('aria-sort')).toBe(
      'descending',
    );
    // The list shows the same values as the API.
    await expect
      .poll(
        async () =>
          mismatches(await apiPacks(context), await fieldsOf(page, 'pack-row'), ALL_FIELDS),
        { timeout: 15_000 },
      )
      .toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('switches to Chinese without a reload, and the choice survives a reload', async () => {
    const { page, context, errors } = await openPage(browser, server.url);
    await page.goto('/');
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    await page.evaluate(() => {
      (window as unknown as { notReloaded: boolean }).notReloaded = true;
    });
    const url = page.url();
    await page.getByTestId('language').selectOption('zh');
    await page.getByRole('heading', { name: '总览', level: 1 }).waitFor();
    expect(await page.getByTestId('filter-all').textContent()).toContain('全部');
    expect(await page.getByTestId('filter-offline').textContent()).toContain('离线');
    expect(await page.getByTestId('summary-soc').locator('.stat-label').textContent()).toBe(
      '系统 SOC',
    );
    expect(
      await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded),
    ).toBe(true);
    expect(page.url()).toBe(url);

    await page.reload();
    await page.getByRole('heading', { name: '总览', level: 1 }).waitFor();
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('zh-CN');
    expect(errors).toEqual([]);
    await context.close();
  });
});

describe('the parallel view', () => {
  it('shows the 4 rack packs by address, the master, and the bus current as their sum', async () => {
    const { page, context, errors } = await openPage(browser, server.url);
    await allOnline(context, 7);
    await page.goto('/parallel/demo/rack');
    const rows = page.getByTestId('parallel-row');
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(4);
    expect(
      await page.getByTestId('pack-count').locator('[data-count]').getAttribute('data-count'),
    ).toBe('4');
    expect((await fieldsOf(page, 'parallel-row')).map(([id]) => id)).toEqual(DEMO.rack);
    // The lowest address is the master (seed 002's "host"), the others are slaves.
    expect(await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-role')))).toEqual([
      'master',
      'slave',
      'slave',
      'slave',
    ]);
    expect(await page.getByTestId('master').textContent()).toContain('Rack 1');

    // Bus current = the sum of the packs' currents, as shown and as the API says.
    await expect
      .poll(
        async () => {
          const shown = await fieldsOf(page, 'parallel-row');
          const sumShown = shown.reduce((a, [, f]) => a + value(f.current?.text), 0);
          const bus = value(
            await page.getByTestId('bus-current').locator('.stat-value').textContent(),
          );
          const api = (await apiPacks(context)).filter((p) => DEMO.rack.includes(p.id));
          const sumApi = api.reduce((a, p) => a + p.snapshot!.current_a!, 0);
          return near(bus, sumShown, 0.05) && near(bus, sumApi, 0.05);
        },
        { timeout: 20_000 },
      )
      .toBe(true);
    await expect
      .poll(
        async () =>
          mismatches(await apiPacks(context), await fieldsOf(page, 'parallel-row'), ALL_FIELDS),
        { timeout: 20_000 },
      )
      .toEqual([]);

    // A pack opens its own page.
    await rows.nth(1).getByTestId('pack-link').click();
    await page.waitForURL((u) => u.pathname === '/packs/demo%2Frack%2F2');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('says so for a bus that does not exist', async () => {
    const { page, context, errors } = await openPage(browser, server.url);
    await page.goto('/parallel/demo/nope');
    await page.getByRole('alert').filter({ hasText: 'nope' }).waitFor();
    expect(errors).toEqual([]);
    await context.close();
  });
});

describe('the large screen', () => {
  it('fills a 1920×1080 screen, dark, with a live tile per pack and a clock', async () => {
    const { page, context, errors } = await openPage(browser, server.url, {
      width: 1920,
      height: 1080,
    });
    await allOnline(context, 7);
    await page.goto('/wall');
    const tiles = page.getByTestId('wall-tile');
    await expect.poll(() => tiles.count(), { timeout: 15_000 }).toBe(7);
    // Dark whatever the console's theme (the browser prefers light here).
    const bg = await page.getByTestId('wall').evaluate((e) => getComputedStyle(e).backgroundColor);
    expect(bg).toBe('rgb(14, 20, 25)');
    // No scrolling: everything is inside the viewport.
    const fits = await page.evaluate(() => {
      const inside = [...document.querySelectorAll('[data-testid="wall-tile"]')].every((e) => {
        const r = e.getBoundingClientRect();
        return r.top >= 0 && r.bottom <= innerHeight && r.left >= 0 && r.right <= innerWidth;
      });
      return inside && document.documentElement.scrollHeight <= innerHeight;
    });
    expect(fits).toBe(true);
    await expect
      .poll(
        async () =>
          mismatches(await apiPacks(context), await fieldsOf(page, 'wall-tile'), [
            'current',
            'temp',
          ]),
        { timeout: 20_000 },
      )
      .toEqual([]);
    // SOC is shown whole on the tiles.
    await expect
      .poll(
        async () => {
          const api = await apiPacks(context);
          const shown = await fieldsOf(page, 'wall-tile');
          return shown.every(([id, f]) =>
            near(value(f.soc?.text), api.find((p) => p.id === id)?.snapshot?.soc_pct, 0.5),
          );
        },
        { timeout: 15_000 },
      )
      .toBe(true);
    // The clock ticks and the values move without a reload.
    const clock = page.getByTestId('wall-clock').locator('time');
    const t0 = await clock.textContent();
    expect(t0).toMatch(/^\d{2}:\d{2}:\d{2}$/);
    await expect.poll(() => clock.textContent(), { timeout: 5000 }).not.toBe(t0);
    const currents = async () =>
      (await fieldsOf(page, 'wall-tile')).map(([, f]) => f.current?.text).join('|');
    const c0 = await currents();
    await expect.poll(currents, { timeout: 15_000 }).not.toBe(c0);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('on a 390×844 phone every tile shows its pack name and its whole alarm badge', async () => {
    const { page, context, errors } = await openPage(browser, server.url, {
      width: 390,
      height: 844,
    });
    await allOnline(context, 7);
    await page.goto('/wall');
    const tiles = page.getByTestId('wall-tile');
    await expect.poll(() => tiles.count(), { timeout: 15_000 }).toBe(7);
    // Pack names had height 0 and the "No alarms" badges were cut at the tile's edge.
    const problems = await page.evaluate(() =>
      [...document.querySelectorAll('[data-testid="wall-tile"]')].flatMap((tile) => {
        const t = tile.getBoundingClientRect();
        const name = tile.querySelector('.wall-tile-name')!.getBoundingClientRect();
        const foot = tile.querySelector('.wall-tile-foot')!;
        const out: string[] = [];
        if (name.height < 10) out.push(`name height ${name.height}`);
        for (const e of foot.querySelectorAll('*')) {
          const r = e.getBoundingClientRect();
          if (r.bottom > t.bottom + 0.5 || r.right > t.right + 0.5)
            out.push(`${e.textContent} cut at ${r.bottom}/${t.bottom}`);
        }
        return out;
      }),
    );
    expect(problems).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });
});

describe('a site of 64 packs, and one with faults', () => {
  let big: Console;

  const config = (): string => {
    const bus = (b: number) =>
      [
        `      - id: b${b}`,
        '        port: sim',
        '        protocol: pylontech',
        '        poll_interval_s: 5',
        `        simulator: { seed: ${b}, soc_pct: ${30 + b * 10} }`,
        '        packs:',
        ...Array.from(
          { length: 16 },
          (_, i) =>
            `          - { address: ${i + 2}, name: 'B${b} pack ${String(i + 1).padStart(2, '0')}' }`,
        ),
      ].join('\n');
    return [
      'version: 1',
      'sites:',
      '  - id: wall16',
      '    name: Sixteen packs',
      '    buses:',
      bus(1),
      '  - id: big',
      '    name: Big site',
      '    buses:',
      bus(2),
      bus(3),
      bus(4),
      // One pack that never answers and one whose simulated load trips over-current.
      '  - id: faulty',
      '    name: Faulty site',
      '    buses:',
      '      - id: f1',
      '        port: sim',
      '        protocol: pylontech',
      '        poll_interval_s: 2',
      "        simulator: { seed: 9, soc_pct: 50, faults: ['offline@3', 'overcurrent@2'] }",
      '        packs:',
      "          - { address: 2, name: 'Hot pack' }",
      "          - { address: 3, name: 'Silent pack' }",
      '',
    ].join('\n');
  };

  beforeAll(async () => {
    big = await startConsole({ config: config() });
  }, 90_000);

  afterAll(async () => {
    await big?.stop();
  });

  it('keeps only the visible rows of the list in the page', async () => {
    const { page, context, errors } = await openPage(browser, big.url);
    await allOnline(context, 65);
    await page.goto('/?view=list');
    await expect
      .poll(() => page.getByTestId('shown-count').textContent(), { timeout: 15_000 })
      .toBe('66 of 66');
    const rows = page.getByTestId('pack-row');
    await rows.first().waitFor();
    const n = await rows.count();
    expect(n).toBeGreaterThan(5);
    expect(n).toBeLessThan(40);
    expect(await rows.first().getAttribute('data-pack-id')).toBe('wall16/b1/2');

    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    // Sorted by name, the last is the faulty site's "Silent pack".
    await page.locator('[data-testid="pack-row"][data-pack-id="faulty/f1/3"]').waitFor();
    expect(await page.locator('[data-pack-id="wall16/b1/2"]').count()).toBe(0);
    expect(await rows.count()).toBeLessThan(40);

    // Cards are virtualised by rows too.
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.getByTestId('view-cards').click();
    await page.getByTestId('pack-card').first().waitFor();
    expect(await page.getByTestId('pack-card').count()).toBeLessThan(66);
    expect(errors).toEqual([]);
    await context.close();
    // 66 packs coming online on a machine that runs other test files too: more than 30 s.
  }, 60_000);

  it('fits 16 pack tiles on a 1920×1080 large screen without scrolling', async () => {
    const { page, context, errors } = await openPage(browser, big.url, {
      width: 1920,
      height: 1080,
    });
    await page.goto('/wall/wall16');
    const tiles = page.getByTestId('wall-tile');
    await expect.poll(() => tiles.count(), { timeout: 15_000 }).toBe(16);
    const fits = await page.evaluate(() => {
      const inside = [...document.querySelectorAll('[data-testid="wall-tile"]')].every((e) => {
        const r = e.getBoundingClientRect();
        return r.top >= 0 && r.bottom <= innerHeight && r.left >= 0 && r.right <= innerWidth;
      });
      return inside && document.documentElement.scrollHeight <= innerHeight;
    });
    expect(fits).toBe(true);
    // The site's name comes with /sites, which may answer after the packs: until then the
    // heading shows the site id.
    await expect
      .poll(() => page.getByRole('heading', { level: 1 }).textContent(), { timeout: 15_000 })
      .toBe('Sixteen packs');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('shows the offline pack and the alarms, and follows alarm events live', async () => {
    const { page, context, errors } = await openPage(browser, big.url);
    await allOnline(context, 65);
    type ApiAlarm = { id: number; pack_id: string; code: string; acknowledged_at?: number };
    const activeAlarms = async (): Promise<ApiAlarm[]> => {
      const r = await context.request.get('/api/v1/alarms?active=true&limit=1000');
      return (await r.json()) as ApiAlarm[];
    };
    // The silent pack is reported lost, the other trips over-current.
    await expect
      .poll(async () => new Set((await activeAlarms()).map((a) => a.pack_id)).size, {
        timeout: 30_000,
      })
      .toBeGreaterThanOrEqual(2);
    const same = (a: string[], b: string[]) =>
      JSON.stringify(a.sort()) === JSON.stringify(b.sort());
    const shownIds = async () => (await fieldsOf(page, 'pack-card')).map(([id]) => id);

    await page.goto('/');
    await page.getByTestId('filter-offline').click();
    // What is offline is what the API says (the loaded machine may drop another pack now
    // and then, so compare sets taken at the same moment).
    await expect
      .poll(
        async () => {
          const off = (await apiPacks(context)).filter((p) => !p.online).map((p) => p.id);
          const shown = await shownIds();
          const count = await page.getByTestId('filter-offline').locator('.ov-count').textContent();
          return same(off, shown) && shown.includes('faulty/f1/3') && count === String(off.length);
        },
        { timeout: 15_000 },
      )
      .toBe(true);
    const silent = (await fieldsOf(page, 'pack-card')).find(([id]) => id === 'faulty/f1/3')!;
    expect(silent[1].online?.online).toBe('false');
    // The parallel system holding it shows.
    expect(await page.locator('[data-system="faulty/f1"]').count()).toBe(1);

    await page.getByTestId('filter-alarm').click();
    await expect
      .poll(
        async () => {
          const api = await activeAlarms();
          const shown = await fieldsOf(page, 'pack-card');
          const counts = shown.every(
            ([id, f]) => Number(f.alarms?.count) === api.filter((a) => a.pack_id === id).length,
          );
          const ids = shown.map(([id]) => id);
          return (
            same([...new Set(api.map((a) => a.pack_id))], ids) &&
            counts &&
            ids.includes('faulty/f1/2') &&
            ids.includes('faulty/f1/3')
          );
        },
        { timeout: 15_000 },
      )
      .toBe(true);

    // The parallel view lists the group's alarms; an acknowledgement shows without reload.
    await page.goto('/parallel/faulty/f1');
    const rows = page.getByTestId('parallel-row');
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(2);
    expect(await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-role')))).toEqual([
      'master',
      'slave',
    ]);
    const groupAlarms = (await activeAlarms()).filter((a) => a.pack_id.startsWith('faulty/f1/'));
    await expect
      .poll(() => page.getByTestId('group-alarm').count(), { timeout: 15_000 })
      .toBe(groupAlarms.length);
    const target = groupAlarms.find((a) => a.acknowledged_at === undefined)!;
    const ack = await context.request.post(`/api/v1/alarms/${target.id}/ack`);
    expect(ack.ok()).toBe(true);
    await page.getByTestId('group-alarm').filter({ hasText: 'acknowledged' }).waitFor();
    expect(errors).toEqual([]);
    await context.close();
  });
});
