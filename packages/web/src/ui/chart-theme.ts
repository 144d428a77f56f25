/**
 * Chart colours come from the CSS variables of the current theme, read when a chart is
 * drawn (canvas cannot use var() itself). A chart is rebuilt when the theme attribute of
 * <html> changes, so light/dark switches recolour it at once.
 */
import { useEffect, useState } from 'react';

/** The value of a CSS variable on <html>, e.g. cssVar('--ok') -> "#1a9d63". */
export function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

let probe: CanvasRenderingContext2D | null | undefined;

/** A CSS colour with an alpha (the canvas normalises any colour syntax to rgb first). */
export function withAlpha(color: string, alpha: number): string {
  probe ??= document.createElement('canvas').getContext('2d');
  if (!probe) return color;
  probe.fillStyle = '#000';
  probe.fillStyle = color;
  const c = String(probe.fillStyle);
  const hex = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(c);
  if (hex) {
    const [r, g, b] = [hex[1]!, hex[2]!, hex[3]!].map((h) => parseInt(h, 16));
    return `rgba(${r}, ${g}, ${b}, ${alpha})`;
  }
  const rgb = /^rgba?\(([^,]+),([^,]+),([^,)]+)/.exec(c);
  return rgb ? `rgba(${rgb[1]},${rgb[2]},${rgb[3]}, ${alpha})` : c;
}

/** How many distinct series colours the stylesheet defines (--h-series-0 ...). */
export const SERIES_COLOURS = 16;

/** The CSS variable of the i-th series colour (cycling past the last). */
export const seriesVar = (i: number): string => `--h-series-${i % SERIES_COLOURS}`;

/** A counter that changes whenever the theme of the page changes. */
export function useThemeVersion(): number {
  const [v, setV] = useState(0);
  useEffect(() => {
    const o = new MutationObserver(() => setV((x) => x + 1));
    o.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
    return () => o.disconnect();
  }, []);
  return v;
}
