/**
 * The charts of one history view move together: the cursor (uPlot's sync key) and the
 * zoom (a drag on one chart zooms all of them; double-click or "Reset zoom" goes back to
 * the requested range).
 */
import type uPlot from 'uplot';

let groups = 0;

export class ChartGroup {
  readonly key = `history-${++groups}`;
  private readonly plots = new Set<uPlot>();
  private readonly listeners = new Set<() => void>();
  private zoom: { min: number; max: number } | undefined;

  constructor(
    readonly from: number,
    readonly to: number,
  ) {}

  /** The zoomed x range, undefined when showing the whole requested range. */
  zoomed = (): { min: number; max: number } | undefined => this.zoom;

  subscribe = (l: () => void): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };

  /** A chart joins (taking the current zoom) or leaves the group. */
  add(u: uPlot): void {
    this.plots.add(u);
    if (this.zoom) this.apply(u, this.zoom);
  }

  remove(u: uPlot): void {
    this.plots.delete(u);
  }

  /** The x scale the charts start with: the zoom when there is one, else the whole range. */
  initial(): { min: number; max: number } {
    return this.zoom ?? { min: this.from, max: this.to };
  }

  /**
   * Called from a chart's setScale hook: spread its x range to the others. uPlot fires the
   * hook after its next commit, so the others answer with the same range; that echo is
   * recognised (same range as the group's) and stops there.
   */
  scaled(u: uPlot): void {
    const { min, max } = u.scales.x ?? {};
    if (min === undefined || max === undefined || min === null || max === null) return;
    const next = min <= this.from && max >= this.to ? undefined : { min, max };
    const same =
      next === undefined
        ? this.zoom === undefined
        : this.zoom !== undefined && this.zoom.min === min && this.zoom.max === max;
    if (same) return;
    this.zoom = next;
    for (const p of this.plots)
      if (p !== u) this.apply(p, next ?? { min: this.from, max: this.to });
    this.notify();
  }

  reset(): void {
    this.zoom = undefined;
    for (const p of this.plots) this.apply(p, { min: this.from, max: this.to });
    this.notify();
  }

  private apply(u: uPlot, r: { min: number; max: number }): void {
    u.setScale('x', r);
  }

  private notify(): void {
    for (const l of this.listeners) l();
  }
}
