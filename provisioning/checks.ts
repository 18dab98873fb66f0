/**
 * Last-line checks on values the script builders embed in scripts. The topology validator rejects
 * bad config with better messages first; these only make sure a builder never renders a script
 * from a value it cannot represent safely.
 */

/** Throws unless `hostname` is a single DNS label (RFC 1123: a-z, 0-9, '-', at most 63). */
export function assertHostname(hostname: string): void {
  if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(hostname)) {
    throw new Error(
      `hostname "${hostname}" is not a valid host name (lowercase letters, digits and '-', ` +
        `at most 63 characters, no leading or trailing '-')`,
    );
  }
}

/** Throws unless `name` looks like a Linux network interface name (e.g. `eth0`, `end0`). */
export function assertInterface(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,14}$/.test(name)) {
    throw new Error(`interface "${name}" is not a valid network interface name (e.g. eth0)`);
  }
}

/** Throws unless `address` is a dotted-quad IPv4 address. */
export function assertIpv4(address: string, what: string): void {
  const parts = address.split(".");
  const ok =
    parts.length === 4 && parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255);
  if (!ok) throw new Error(`${what} "${address}" is not an IPv4 address`);
}

/** Throws unless `version` is a k3s release tag such as `v1.33.6+k3s1`. */
export function assertK3sVersion(version: string): void {
  if (!/^v[0-9]+\.[0-9]+\.[0-9]+(-rc[0-9]+)?\+k3s[0-9]+$/.test(version)) {
    throw new Error(`k3s version "${version}" is not a k3s release tag (e.g. v1.33.6+k3s1)`);
  }
}
