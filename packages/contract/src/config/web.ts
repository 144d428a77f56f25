/**
 * The `web:` section of the config file: what the web console draws with. Today the map's
 * tiles (docs/trackers.md "Map and playback"):
 *
 * ```yaml
 * web:
 *   map:
 *     tiles: https://tile.openstreetmap.org/{z}/{x}/{y}.png
 *     attribution: '© OpenStreetMap contributors'
 *     max_zoom: 19
 * ```
 *
 * Without `tiles` (the default) the console's maps are a graticule on a blank background: no
 * request leaves for a tile server, which suits a LAN or offline install. The server adds the
 * tiles' origin to the Content-Security-Policy's `img-src` (`mapTileSource`).
 */
import { z } from 'zod';

/**
 * The Content-Security-Policy source of a tile URL template (`https://{s}.tile.example.org`
 * → `https://*.tile.example.org`), or undefined when the template is not an http(s) URL with
 * `{z}`, `{x}` and `{y}` and, if any, `{s}` as the host's first label.
 */
export function mapTileSource(template: string): string | undefined {
  if (!/\{z\}/.test(template) || !/\{x\}/.test(template) || !/\{y\}/.test(template))
    return undefined;
  const m = /^(https?):\/\/(\{s\}\.)?([a-z0-9.-]+)(:\d{1,5})?\//i.exec(template);
  if (!m) return undefined;
  const [, scheme, sub, host, port] = m;
  const rest = template.slice(m[0].length);
  if (/\{s\}/.test(rest) || /\s/.test(template)) return undefined;
  try {
    new URL(`${scheme}://${sub ? 'a.' : ''}${host}${port ?? ''}/`);
  } catch {
    return undefined;
  }
  return `${scheme!.toLowerCase()}://${sub ? '*.' : ''}${host!.toLowerCase()}${port ?? ''}`;
}

export const webMapSchema = z
  .object({
    /** Tile URL template; absent: no tiles (graticule). */
    tiles: z
      .string()
      .max(512)
      .refine((s) => mapTileSource(s) !== undefined, {
        error:
          'must be an http(s) URL template with {z}, {x} and {y} (and {s} only as the first label of the host), e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png',
      })
      .optional(),
    /** Shown in the map's corner: the tiles' licence and source (HTML is not interpreted). */
    attribution: z.string().max(300).default(''),
    max_zoom: z.number().int().min(1).max(22).default(19),
  })
  .strict();

export const webConfigSchema = z
  .object({ map: webMapSchema.default({ attribution: '', max_zoom: 19 }) })
  .strict();

export type WebConfig = z.infer<typeof webConfigSchema>;
