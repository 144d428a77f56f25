/**
 * Security headers on every response (@fastify/helmet), and the Origin check of WebSocket
 * upgrades.
 *
 * The Content-Security-Policy fits the built web console (packages/web/dist): its index.html
 * loads one module script and one stylesheet from /assets and has no inline script or
 * style; React and uPlot set styles through the CSSOM (`element.style`), which style-src
 * does not govern; the favicon is a data: URL; the live WebSocket goes to the same origin
 * ('self' covers ws:/wss: to it). `/api/docs` adds the hash of its one inline <style>
 * (routes/docs.ts).
 *
 * - frame-ancestors 'none' and X-Frame-Options DENY: nothing may frame the console (no
 *   clickjacking of the control buttons).
 * - Referrer-Policy no-referrer: the console links nowhere that needs to know where the user
 *   came from, and its URLs carry pack ids.
 * - Strict-Transport-Security only on requests that came over HTTPS (native TLS or a trusted
 *   proxy saying so): browsers ignore it over HTTP, and a LAN install on plain HTTP must not
 *   be told otherwise. No includeSubDomains: other hosts of the domain are not ours.
 * - Helmet's other defaults stay (nosniff, Cross-Origin-Opener/Resource-Policy same-origin,
 *   no X-Powered-By...). Its `upgrade-insecure-requests` is left out: on plain HTTP it would
 *   send the console's own requests to an HTTPS port that does not exist.
 */
import fastifyHelmet from '@fastify/helmet';
import { BmsError } from '@openbms/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';

type Directives = Record<string, string[]>;

/** The console's policy (see the file comment for why each source is needed). */
export const CSP_DIRECTIVES: Readonly<Directives> = Object.freeze({
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
  'img-src': ["'self'", 'data:'],
  'font-src': ["'self'"],
  'connect-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
});

/** Route-level helmet options: the console's policy with `extra` sources added. */
export function cspWith(extra: Directives): {
  contentSecurityPolicy: { useDefaults: false; directives: Directives };
} {
  const directives: Directives = {};
  for (const [k, v] of Object.entries(CSP_DIRECTIVES)) directives[k] = [...v];
  for (const [k, v] of Object.entries(extra)) directives[k] = [...(directives[k] ?? []), ...v];
  return { contentSecurityPolicy: { useDefaults: false, directives } };
}

export const HSTS = 'max-age=31536000';

const BASE = {
  ...cspWith({}),
  strictTransportSecurity: false, // per request, below
  xFrameOptions: { action: 'deny' },
  referrerPolicy: { policy: 'no-referrer' },
} satisfies HelmetOptions;

/** Registers the headers; call before any route so every response carries them. */
export async function registerSecurityHeaders(
  app: FastifyInstance,
  imgSrc: readonly string[] = [],
): Promise<void> {
  // The map's tile server (config web.map.tiles), when one is configured.
  const OPTIONS = imgSrc.length > 0 ? { ...BASE, ...cspWith({ 'img-src': [...imgSrc] }) } : BASE;
  // Fastify answers a malformed URL (bad percent-encoding, too long a parameter) before any
  // hook runs, so the same headers are first put on every raw response here; the plugin's
  // hook then covers WebSocket upgrades (which bypass 'request') and per-route policies.
  const raw = helmet(OPTIONS);
  app.server.prependListener('request', (req, res) => raw(req, res, () => undefined));
  await app.register(fastifyHelmet, OPTIONS);
  app.addHook('onRequest', async (req, reply) => {
    // On the raw response, as helmet does, so error replies keep it too.
    if (isHttps(req)) reply.raw.setHeader('strict-transport-security', HSTS);
  });
}

export function isHttps(req: FastifyRequest): boolean {
  return req.protocol.toLowerCase() === 'https';
}

/**
 * `s` as an origin (`scheme://host[:port]`, lower case, default port dropped), or undefined
 * when it is not an http(s) origin (a path, query, fragment or credentials make it none).
 */
export function normalizeOrigin(s: string): string | undefined {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
  if (u.username || u.password || u.search || u.hash || u.pathname !== '/') return undefined;
  if (/[?#]/.test(s) || /\/.+/.test(s.replace(/^[a-z]+:\/\//i, ''))) return undefined;
  return u.origin;
}

/** The origin the client reached: scheme and Host (X-Forwarded-* only from a trusted proxy). */
export function ownOrigin(req: FastifyRequest): string | undefined {
  return normalizeOrigin(`${req.protocol.toLowerCase()}://${req.host}`);
}

/**
 * Refuses a WebSocket upgrade whose Origin is neither this server's own nor allowed.
 * Browsers always send Origin on a WebSocket and cannot fake it; another site (or another
 * port of the same host, which SameSite cookies do not tell apart) would otherwise open
 * the live stream with the user's session cookie. No Origin: not a browser (curl, ws,
 * Home Assistant); those must present a token anyway.
 */
export function checkWebSocketOrigin(req: FastifyRequest, allowed: ReadonlySet<string>): void {
  const origin = req.headers.origin;
  if (origin === undefined) return;
  const own = ownOrigin(req);
  const o = normalizeOrigin(origin);
  if (o !== undefined && (o === own || allowed.has(o))) return;
  throw new BmsError(
    'FORBIDDEN',
    `WebSocket from origin ${JSON.stringify(origin)} refused: it is not this server's origin (${own ?? 'unknown'}); ` +
      'add it to http.allowed_origins, or behind a reverse proxy set http.trust_proxy so the forwarded host and scheme count',
  );
}
