/** Numbers typed into form fields. */

/** What the user typed, as a number: '' -> undefined (no change), junk -> NaN. */
export function parseInput(s: string): number | undefined {
  const t = s.trim().replace(',', '.');
  if (t === '') return undefined;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)$/.test(t)) return NaN;
  return Number(t);
}
