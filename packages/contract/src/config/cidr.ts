/** IPv4 addresses and CIDR blocks for the tunnel's allow-list. */

export interface Cidr {
  base: number;
  bits: number;
}

/** Parses "a.b.c.d" into a 32-bit unsigned number; undefined when it is not one. */
export function parseIpv4(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s.trim());
  if (!m) return undefined;
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const o = Number(m[i]);
    if (o > 255) return undefined;
    n = n * 256 + o;
  }
  return n;
}

/** Parses "a.b.c.d" (a /32) or "a.b.c.d/n"; undefined when it is neither. */
export function parseCidr(s: string): Cidr | undefined {
  const [addr, len, extra] = s.split('/');
  if (addr === undefined || extra !== undefined) return undefined;
  const base = parseIpv4(addr);
  if (base === undefined) return undefined;
  if (len === undefined) return { base, bits: 32 };
  if (!/^\d{1,2}$/.test(len) || Number(len) > 32) return undefined;
  return { base, bits: Number(len) };
}

/** A socket's remote address as IPv4 ("::ffff:10.0.0.1" counts as 10.0.0.1), else undefined. */
export function ipv4Of(remote: string | undefined): number | undefined {
  if (remote === undefined) return undefined;
  return parseIpv4(remote.replace(/^::ffff:/i, ''));
}

export function cidrContains(c: Cidr, ip: number): boolean {
  if (c.bits === 0) return true;
  const size = 2 ** (32 - c.bits);
  return Math.floor(ip / size) === Math.floor(c.base / size);
}

/**
 * True when `remote` may connect: the list is empty, or the address is IPv4 and inside one
 * of the blocks. IPv6 clients are refused by a non-empty list (it holds only IPv4 blocks).
 */
export function allowed(list: readonly Cidr[], remote: string | undefined): boolean {
  if (list.length === 0) return true;
  const ip = ipv4Of(remote);
  return ip !== undefined && list.some((c) => cidrContains(c, ip));
}
