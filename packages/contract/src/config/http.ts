/**
 * The `http:` section of the config file: where the API and web console listen, native
 * TLS, which reverse proxies to believe, and which other origins' pages may open the live
 * WebSocket.
 *
 * ```yaml
 * http:
 *   host: 0.0.0.0
 *   port: 8443
 *   tls: { cert: /etc/openbms/cert.pem, key: /etc/openbms/key.pem } # PEM files: HTTPS
 *   trust_proxy: [127.0.0.1] # or true (any), or false (the default)
 *   allowed_origins: [https://bms.example.com]
 * ```
 *
 * Browser-safe: addresses are checked with zod's own IP and CIDR formats (no node:net).
 * Reading and checking the certificate files is the gateway's (`loadHttpTls`).
 */
import { z } from 'zod';

/** proxy-addr's names for address ranges (Fastify's trustProxy accepts them). */
export const PROXY_RANGES = ['loopback', 'linklocal', 'uniquelocal'] as const;

const proxyAddress = z.union([z.enum(PROXY_RANGES), z.ipv4(), z.ipv6(), z.cidrv4(), z.cidrv6()]);

/** An IP address, a CIDR range (10.0.0.0/8, fd00::/8) or one of PROXY_RANGES. */
export function isProxyAddress(s: string): boolean {
  return proxyAddress.safeParse(s).success;
}

/** Whether `s` is exactly an http(s) origin: scheme, host, optional port; no path. */
export function isOrigin(s: string): boolean {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return false;
  }
  const rest = s.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  return (
    (u.protocol === 'http:' || u.protocol === 'https:') &&
    !u.username &&
    !u.password &&
    !/[/?#]/.test(rest.replace(/\/$/, ''))
  );
}

const tlsSchema = z
  .object({
    /** PEM certificate (the chain may follow the server's certificate in the same file). */
    cert: z.string().min(1),
    /** PEM private key, unencrypted. */
    key: z.string().min(1),
  })
  .strict();

export const httpConfigSchema = z
  .object({
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65_535).default(8080),
    /** Serve HTTPS with these files (read at start). */
    tls: tlsSchema.optional(),
    /**
     * Believe X-Forwarded-For/-Proto/-Host from these proxies (true: from anyone, only when
     * nothing but the proxy can reach the port). Absent: false.
     */
    trust_proxy: z
      .union([
        z.boolean(),
        z
          .array(
            z.string().refine(isProxyAddress, {
              error: (iss) =>
                `"${String(iss.input)}" is not an IP address, a CIDR range such as 10.0.0.0/8, or one of ${PROXY_RANGES.join(', ')}`,
            }),
          )
          .min(1),
      ])
      .optional(),
    /** Origins, besides the server's own, whose pages may open the live WebSocket. */
    allowed_origins: z
      .array(
        z.string().refine(isOrigin, {
          error: (iss) =>
            `"${String(iss.input)}" is not an origin such as https://bms.example.com or http://192.168.1.5:8080 (scheme, host, optional port; no path)`,
        }),
      )
      .optional(),
  })
  .strict();

export type HttpConfig = z.infer<typeof httpConfigSchema>;
