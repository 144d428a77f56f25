/**
 * Column headings people read (CSV and XLSX exports): array elements numbered from 1, as
 * in Home Assistant, Modbus, the web console and the seeds (`cell_mv.1` is the first cell).
 * The API's series names (`?fields=cell_mv.0`, history) stay 0-based: they index arrays.
 */

import { dayZones } from '@openbms/storage';

/**
 * `cell_mv.0` -> `cell_mv.1`; other names unchanged. Defined by the storage port, whose
 * daily-file sizes count these headings.
 */
export const { columnHeading } = dayZones;

/**
 * A CSV stream from the store with its header line (the first line) relabelled by
 * `columnHeading`; the rows pass unchanged.
 */
export async function* relabelCsv(csv: AsyncIterable<string>): AsyncGenerator<string> {
  let head = '';
  let done = false;
  for await (const chunk of csv) {
    if (done) {
      yield chunk;
      continue;
    }
    head += chunk;
    const nl = head.indexOf('\n');
    if (nl < 0) continue;
    done = true;
    yield head.slice(0, nl).split(',').map(columnHeading).join(',') + head.slice(nl);
  }
  if (!done && head !== '') yield head.split(',').map(columnHeading).join(',');
}
