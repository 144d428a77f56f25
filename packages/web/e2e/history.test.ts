/**
 * The History tab on the live demo site: a year of a 16-cell pack (the tier the server
 * picked is the one shown), legend toggles that really hide a line in the plot, the spread
 * view against the API's own numbers, the power chart, zoom and reset, and the keyboard
 * cursor. Every number is checked against the history response the page itself received.
 */
import type { Browser, Page, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO, launchBrowser, openPage, packUrl, startConsole, type Console } from './harness';

interface Series {
  t: number[];
  avg: number[];
  min: number[];
  max: number[];
}
interface History {
  pack_id: string;
  resolution: string;
  from: number;
  to: number;
  series: Record<string, Series>;
}

const DAY = 86400_000;
const PACK = DEMO.rack[0]!;

let server: Console;
let browser: Browser;

beforeAll(async () => {
  [server, browser] = await Promise.all([startConsole(), launchBrowser()]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

const isHistory = (r: Response) =>
  r.request().method() === 'GET' && /\/api\/v1\/packs\/[^/]+\/history\?/.test(r.url());

/** Clicks a range button and returns the history answer the page got for it. */
async function pickRange(page: Page, id: string, span: number, tier = 'auto'): Promise<History> {
  const [resp] = await Promise.all([
    page.waitForResponse((r) => {
      if (!isHistory(r)) return false;
      const q = new URL(r.url()).searchParams;
      return Number(q.get('to')) - Number(q.get('from')) === span && q.get('resolution') === tier;
    }),
    page.getByTestId(`range-${id}`).click(),
  ]);
  expect(resp.status()).toBe(200);
  return (await resp.json()) as History;
}

const cellKeys = (h: History) =>
  Object.keys(h.series)
    .filter((k) => /^cell_mv\.\d+$/.test(k))
    .sort((a, b) => Number(a.split('.')[1]) - Number(b.split('.')[1]));

/** Waits until the store holds at least `n` raw samples of the pack in the last hour. */
async function waitForSamples(page: Page, n: number): Promise<void> {
  await expect
    .poll(
      async () => {
        const to = Date.now() + 1000;
        const r = await page
          .context()
          .request.get(
            `/api/v1/packs/${encodeURIComponent(PACK)}/history?fields=soc_pct&resolution=raw&from=${to - 3600_000}&to=${to}`,
          );
        const h = (await r.json()) as History;
        return h.series.soc_pct?.t.length ?? 0;
      },
      { timeout: 30_000, interval: 250 },
    )
    .toBeGreaterThanOrEqual(n);
}

describe('history tab', () => {
  it('draws a year of a 16-cell pack with the tier the server chose, legend toggles and power', async () => {
    const { page, context, errors } = await openPage(browser, server.url);
    await page.goto(packUrl(PACK, 'history'));
    await page.getByTestId('chart-cells').locator('canvas').first().waitFor();

    const year = await pickRange(page, '1y', 365 * DAY);
    expect(year.to - year.from).toBe(365 * DAY);
    const cells = cellKeys(year);
    expect(cells).toHaveLength(16);

    // The label shows the tier of this answer (1 year: a rollup unless only raw was there).
    const res = page.getByTestId('history-resolution');
    await expect.poll(() => res.getAttribute('data-tier')).toBe(year.resolution);
    expect(['raw', '1m', '15m', '1h']).toContain(year.resolution);
    const tierText = {
      raw: 'raw samples',
      '1m': '1-minute rollup',
      '15m': '15-minute rollup',
      '1h': '1-hour rollup',
    }[year.resolution]!;
    expect(await res.textContent()).toContain(tierText);

    const chart = page.getByTestId('chart-cells');
    await expect.poll(() => chart.locator('canvas').count()).toBeGreaterThan(0);
    const items = chart.getByTestId('legend-item');
    await expect.poll(() => items.count()).toBe(16);
    expect(await items.nth(0).textContent()).toContain('Cell 1');
    expect(await items.nth(15).textContent()).toContain('Cell 16');
    expect(await chart.locator('.h-plot').getAttribute('data-points')).toBe(
      String(year.series[cells[0]!]!.t.length),
    );

    // A rollup answer holds ranges: the min-max band is drawn and named in the readout.
    const banded = cells.some((k) =>
      year.series[k]!.min.some((lo, i) => year.series[k]!.max[i]! > lo),
    );
    expect((await chart.getByTestId('readout').textContent())!.includes('Min–max')).toBe(banded);

    // Toggling cell 3 hides it in the plot itself (read back from uPlot), and back again.
    const plot = chart.locator('.h-plot');
    await items.nth(2).click();
    await expect.poll(() => items.nth(2).getAttribute('aria-pressed')).toBe('false');
    await expect.poll(() => plot.getAttribute('data-hidden')).toBe('cell_mv.2');
    await items.nth(2).click();
    await expect.poll(() => plot.getAttribute('data-hidden')).toBe('');
    await page.getByRole('button', { name: 'Hide all' }).click();
    await expect.poll(() => plot.getAttribute('data-hidden')).toBe(cells.join(','));
    await page.getByRole('button', { name: 'Show all' }).click();
    await expect.poll(() => plot.getAttribute('data-hidden')).toBe('');

    // Power flow: drawn, with charge and discharge, whose values at the newest point add up
    // to the API's power there (one of them is 0).
    const power = page.getByTestId('chart-power');
    await power.locator('canvas').first().waitFor();
    const pItems = power.getByTestId('legend-item');
    await expect.poll(() => pItems.count()).toBe(2);
    const p = year.series.power_w!;
    const lastP = p.avg[p.avg.length - 1]!;
    const shown =
      Number(await pItems.nth(0).getAttribute('data-value')) +
      Number(await pItems.nth(1).getAttribute('data-value'));
    expect(shown).toBeCloseTo(lastP, 6);
    // The direction is said by the label once: no minus sign beside "Discharging".
    expect(await pItems.nth(1).locator('.h-value').textContent()).not.toMatch(/[-−]/);
    await page.getByTestId('chart-soc').locator('canvas').first().waitFor();
    await page.getByTestId('chart-temps').locator('canvas').first().waitFor();

    // The render time of the cell chart is recorded for the bench.
    const measures = await page.evaluate(() =>
      performance.getEntriesByName('history-render').map((e) => e.duration),
    );
    expect(measures.length).toBeGreaterThan(0);
    expect(measures.every((d) => d > 0)).toBe(true);

    expect(errors).toEqual([]);
    await context.close();
  });

  it('shows the cell spread equal to max - min of the API data at the cursor', async () => {
    const { page, context, errors } = await openPage(browser, server.url);
    await waitForSamples(page, 4);
    await page.goto(packUrl(PACK, 'history'));
    await page.getByTestId('chart-cells').locator('canvas').first().waitFor();
    // Raw samples asked for explicitly: on a young store "auto" may answer from a rollup.
    await page.getByTestId('tier').selectOption('raw');
    const hour = await pickRange(page, '1h', 3600_000, 'raw');
    expect(hour.resolution).toBe('raw');
    const cells = cellKeys(hour);
    expect(cells).toHaveLength(16);
    await expect
      .poll(() => page.locator('[data-testid="chart-cells"] .h-plot').getAttribute('data-points'))
      .toBe(String(hour.series[cells[0]!]!.t.length));

    await page.getByTestId('view-delta').click();
    const chart = page.getByTestId('chart-cells');
    const item = chart.getByTestId('legend-item');
    await expect.poll(() => item.count()).toBe(1);
    expect(await item.textContent()).toContain('max − min');

    const spreadAt = (ts: number): number => {
      const i = hour.series[cells[0]!]!.t.indexOf(ts);
      expect(i, `time ${ts} is a point of the answer`).toBeGreaterThanOrEqual(0);
      const v = cells.map((k) => hour.series[k]!.avg[i]!);
      return Math.max(...v) - Math.min(...v);
    };

    // Hover the middle of the plot: the readout names the point, the legend its spread.
    const over = chart.locator('.u-over');
    const box = (await over.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.995, box.y + box.height / 2);
    const readout = chart.getByTestId('readout');
    const ts = Number(await readout.getAttribute('data-ts'));
    await expect
      .poll(async () => Number(await item.getAttribute('data-value')))
      .toBeCloseTo(spreadAt(ts), 6);

    // Keyboard: the arrow keys move the cursor to the previous point, same check there.
    const t = hour.series[cells[0]!]!.t;
    await chart.locator('.h-plot').focus();
    await page.keyboard.press('End');
    await expect
      .poll(async () => Number(await readout.getAttribute('data-ts')))
      .toBe(t[t.length - 1]);
    await page.keyboard.press('ArrowLeft');
    await expect
      .poll(async () => Number(await readout.getAttribute('data-ts')))
      .toBe(t[t.length - 2]);
    expect(Number(await item.getAttribute('data-value'))).toBeCloseTo(
      spreadAt(t[t.length - 2]!),
      6,
    );
    expect(await chart.getByTestId('legend-item').textContent()).toContain(
      `${Math.round(spreadAt(t[t.length - 2]!))} mV`,
    );

    expect(errors).toEqual([]);
    await context.close();
  });

  it('zooms by dragging, resets, and loads the details of a zoomed span', async () => {
    const { page, context, errors } = await openPage(browser, server.url);
    await page.goto(packUrl(PACK, 'history'));
    await pickRange(page, '1h', 3600_000);
    const over = page.getByTestId('chart-cells').locator('.u-over');
    await over.waitFor();
    const drag = async () => {
      const box = (await over.boundingBox())!;
      const y = box.y + box.height / 2;
      await page.mouse.move(box.x + box.width * 0.5, y);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width * 0.9, y, { steps: 8 });
      await page.mouse.up();
    };
    await drag();
    const reset = page.getByTestId('reset-zoom');
    await reset.waitFor();
    await reset.click();
    await expect.poll(() => reset.count()).toBe(0);
    // Double-click on a chart resets too.
    await drag();
    await reset.waitFor();
    const box = (await over.boundingBox())!;
    await page.mouse.dblclick(box.x + box.width / 2, box.y + box.height / 2);
    await expect.poll(() => reset.count()).toBe(0);

    // Zoomed to 40 % of the hour, "load details" asks the server for that span only.
    await drag();
    const [resp] = await Promise.all([
      page.waitForResponse((r) => {
        if (!isHistory(r)) return false;
        const q = new URL(r.url()).searchParams;
        return Number(q.get('to')) - Number(q.get('from')) < 3600_000;
      }),
      page.getByTestId('zoom-detail').click(),
    ]);
    const q = new URL(resp.url()).searchParams;
    const span = Number(q.get('to')) - Number(q.get('from'));
    expect(span).toBeGreaterThan(0.3 * 3600_000);
    expect(span).toBeLessThan(0.5 * 3600_000);
    expect(await page.getByTestId('range-custom').getAttribute('aria-pressed')).toBe('true');
    await expect.poll(() => reset.count()).toBe(0);
    expect(errors).toEqual([]);
    await context.close();
  });
});
