/**
 * Daily energy on the live demo site (issue 12): the pack page's and the parallel system's
 * energy charts draw bars (pixels of the charged / discharged colours on the canvas) for the
 * figures the page received; 30 days and 12 months; the Today card shows the same figure for
 * today; the CSV download holds them. The demo runs at 60x, so a minute of wall time is an
 * hour of the packs' time: the meters count in the packs' time.
 */
import type { Browser, Page, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO, launchBrowser, openPage, packUrl, startConsole, type Console } from './harness';

interface Row {
  period: string;
  start: number;
  charged_kwh: number;
  discharged_kwh: number;
}
interface Energy {
  period: 'day' | 'month';
  time_zone: string;
  total: Row[];
  packs: { pack_id: string; rows: Row[] }[];
}

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

const isEnergy = (path: RegExp, period: string) => (r: Response) =>
  r.request().method() === 'GET' &&
  path.test(new URL(r.url()).pathname) &&
  new URL(r.url()).searchParams.get('period') === period;

/** Pixels of a CSS colour (±24 per channel) on the chart's canvas. */
async function pixelsOf(page: Page, testId: string, cssVar: string): Promise<number> {
  return page.evaluate(
    ([id, v]) => {
      const canvas = document.querySelector(`[data-testid="${id}"] canvas`) as HTMLCanvasElement;
      const probe = document.createElement('canvas').getContext('2d')!;
      probe.fillStyle = getComputedStyle(document.documentElement).getPropertyValue(v!).trim();
      const hex = String(probe.fillStyle);
      const want = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
      const img = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let n = 0;
      for (let i = 0; i < img.length; i += 4) {
        // Bars are drawn at alpha 0.8 over the white card: compare with that blend.
        const blend = want.map((c) => Math.round(c * 0.8 + 255 * 0.2));
        if (img[i + 3]! > 0 && blend.every((c, k) => Math.abs(img[i + k]! - c) <= 24)) n++;
      }
      return n;
    },
    [testId, cssVar],
  );
}

describe('energy charts', () => {
  it("draws the pack's charged and discharged bars for 30 days and 12 months, as the page received them", async () => {
    // Wait (without sleeping) until the meters have counted some energy both ways: the
    // demo's solar day charges and its load discharges; each poll extends the meters.
    const { page, context, errors } = await openPage(browser, server.url);
    const url = `/api/v1/packs/${encodeURIComponent(PACK)}/energy?count=1`;
    await expect
      .poll(
        async () => {
          const e = (await (await context.request.get(url)).json()) as Energy;
          return e.total[0]!.charged_kwh > 0 || e.total[0]!.discharged_kwh > 0;
        },
        { timeout: 90_000, interval: 1000 },
      )
      .toBe(true);

    const [resp] = await Promise.all([
      page.waitForResponse(isEnergy(/\/packs\/.+\/energy$/, 'day')),
      page.goto(packUrl(PACK)),
    ]);
    const days = (await resp.json()) as Energy;
    expect(days.total).toHaveLength(30);
    const chart = page.getByTestId('pack-energy');
    await chart.locator('canvas').waitFor();
    await expect.poll(() => chart.getAttribute('data-periods')).toBe('30');
    const sum = (k: 'charged_kwh' | 'discharged_kwh') =>
      days.total.reduce((a, r) => a + r[k], 0).toFixed(3);
    expect(await chart.getAttribute('data-charged')).toBe(sum('charged_kwh'));
    expect(await chart.getAttribute('data-discharged')).toBe(sum('discharged_kwh'));
    const today = days.total.at(-1)!;
    const upColour = today.charged_kwh > 0 ? '--ok' : '--info';
    await expect.poll(() => pixelsOf(page, 'pack-energy', upColour)).toBeGreaterThan(20);
    // The readout names today's figures (the cursor is away: the last period).
    expect(await chart.getByTestId('energy-readout').textContent()).toContain(today.period);

    // The Today card gives today's figure of the same source (it only grows since).
    const value = async (id: string) =>
      Number(
        ((await page.getByTestId(id).locator('.stat-value').textContent()) ?? '').replace(
          /[^\d.]/g,
          '',
        ),
      );
    await page.getByTestId('today-discharged').waitFor();
    expect(await value('today-discharged')).toBeGreaterThanOrEqual(
      Math.floor(today.discharged_kwh * 100) / 100,
    );
    expect(await value('today-charged')).toBeGreaterThanOrEqual(
      Math.floor(today.charged_kwh * 100) / 100,
    );

    // 12 months: one bar, this month.
    const [mresp] = await Promise.all([
      page.waitForResponse(isEnergy(/\/packs\/.+\/energy$/, 'month')),
      page.getByTestId('energy-month').click(),
    ]);
    const months = (await mresp.json()) as Energy;
    expect(months.total).toHaveLength(12);
    await expect.poll(() => chart.getAttribute('data-periods')).toBe('12');
    await expect.poll(() => chart.getAttribute('data-period')).toBe('month');
    await expect.poll(() => pixelsOf(page, 'pack-energy', upColour)).toBeGreaterThan(20);

    // The CSV download holds the same months.
    const csv = await context.request.get(
      (await chart.getByTestId('energy-csv').getAttribute('href'))!,
    );
    expect(csv.status()).toBe(200);
    const lines = (await csv.text()).trim().split('\n');
    expect(lines[0]).toBe('period,start,charged_kwh,discharged_kwh');
    expect(lines).toHaveLength(13);
    expect(errors).toEqual([]);
    await context.close();
  }, 150_000);

  it("draws the parallel system's bars (the bus's packs summed)", async () => {
    const { page, context, errors } = await openPage(browser, server.url);
    const [resp] = await Promise.all([
      page.waitForResponse(isEnergy(/\/sites\/demo\/energy$/, 'day')),
      page.goto('/parallel/demo/rack'),
    ]);
    const e = (await resp.json()) as Energy;
    expect(e.packs.map((p) => p.pack_id)).toEqual(DEMO.rack);
    const chart = page.getByTestId('system-energy');
    await chart.locator('canvas').waitFor();
    const today = e.total.at(-1)!;
    const each = e.packs.reduce((a, p) => a + p.rows.at(-1)!.charged_kwh, 0);
    expect(today.charged_kwh).toBeCloseTo(each, 2);
    const colour = today.charged_kwh > 0 ? '--ok' : '--info';
    await expect.poll(() => pixelsOf(page, 'system-energy', colour)).toBeGreaterThan(20);
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);
});
