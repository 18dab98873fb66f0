/** IPv4, CIDR and DNS-name checks for config validation (IPv4 only: the nodes run IPv4 flannel). */

/** Parses dotted-quad IPv4 into a 32-bit number; undefined when malformed. */
export function parseIpv4(ip: string): number | undefined {
  const parts = ip.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part) || Number(part) > 255) return undefined;
    value = value * 256 + Number(part);
  }
  return value;
}

export function isIpv4(ip: string): boolean {
  return parseIpv4(ip) !== undefined;
}

export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

/** An inclusive range of IPv4 addresses. */
export interface Ipv4Range {
  readonly first: number;
  readonly last: number;
}

/** Parses `10.0.0.0/24`; undefined when malformed or when host bits are set. */
export function parseCidr(cidr: string): Ipv4Range | undefined {
  const match = /^([0-9.]+)\/([0-9]{1,2})$/.exec(cidr);
  if (!match) return undefined;
  const base = parseIpv4(match[1]);
  const bits = Number(match[2]);
  if (base === undefined || bits > 32) return undefined;
  const size = 2 ** (32 - bits);
  if (base % size !== 0) return undefined;
  return { first: base, last: base + size - 1 };
}

/** Parses a MetalLB address entry: a CIDR or `first-last`. */
export function parseAddressRange(entry: string): Ipv4Range | undefined {
  if (entry.includes("/")) return parseCidr(entry);
  const [from, to, extra] = entry.split("-");
  if (extra !== undefined || to === undefined) return undefined;
  const first = parseIpv4(from.trim());
  const last = parseIpv4(to.trim());
  if (first === undefined || last === undefined || last < first) return undefined;
  return { first, last };
}

export function inRange(ip: string, range: Ipv4Range): boolean {
  const value = parseIpv4(ip);
  return value !== undefined && value >= range.first && value <= range.last;
}

export function rangesOverlap(a: Ipv4Range, b: Ipv4Range): boolean {
  return a.first <= b.last && b.first <= a.last;
}

/** An RFC 1123 label: what Kubernetes accepts as a node name and Linux as a hostname. */
export function isHostname(name: string): boolean {
  return /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(name);
}

/** A lowercase DNS name with at least two labels, e.g. `lab.mtgibbs.dev`. */
export function isDomain(name: string): boolean {
  const labels = name.split(".");
  return labels.length >= 2 && name.length <= 253 && labels.every(isHostname);
}
