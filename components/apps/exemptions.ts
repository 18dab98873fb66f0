/**
 * The one place where a workload is allowed to break a workload rule, each with the reason. The
 * workload-rules test (tests/apps/workload-rules.test.ts) checks every workload of every stack
 * against every rule and fails naming the workload and the rule unless it is listed here.
 */

/** The rules the test enforces; an exemption names one of them. */
export type WorkloadRule =
  | "runAsNonRoot"
  | "dropAllCapabilities"
  | "readOnlyRootFilesystem"
  | "probes"
  | "noPrivilegeEscalation";

/**
 * `<namespace>/<workload>` → rule → why the workload cannot follow it. A key ending in `*`
 * covers every workload whose name starts with what precedes it (names derived per node).
 */
export const WORKLOAD_EXEMPTIONS: Readonly<
  Record<string, Partial<Readonly<Record<WorkloadRule, string>>>>
> = {
  "pihole/pihole": {
    runAsNonRoot:
      "Pi-hole's start script runs as root to set FTL's capabilities and own /etc/pihole, then FTL drops to the pihole user",
    dropAllCapabilities:
      "FTL needs NET_BIND_SERVICE (port 53), NET_RAW, SYS_NICE and the start script CHOWN/SETUID/SETGID/SETFCAP; it exits when it cannot set them (facts-apps), so only those are added",
    readOnlyRootFilesystem:
      "the image writes its runtime files (/run, /var/log/pihole, /etc/dnsmasq.d) at start",
  },
  "pihole/unbound": {
    runAsNonRoot:
      "madnuttah/unbound's entrypoint starts as root to own iana.d/ (the trust anchor Unbound rewrites), then runs Unbound as _unbound through su-exec; only CHOWN, FOWNER, SETUID, SETGID and DAC_OVERRIDE are kept",
    readOnlyRootFilesystem:
      "Unbound rewrites the DNSSEC trust anchor in iana.d/ inside the image (RFC 5011 updates)",
  },
  "uptime-kuma/uptime-kuma": {
    runAsNonRoot:
      "the image runs as root and the live cluster's SQLite files are root-owned: running as another user needs a one-time chown of the volume (left to the hardening issue)",
    dropAllCapabilities: "as root it needs CHOWN/DAC_OVERRIDE on its data directory at start",
    readOnlyRootFilesystem: "Uptime Kuma writes to its install directory (uploads, screenshots)",
  },
  "uptime-kuma/autokuma": {
    runAsNonRoot:
      "the live sled database on autokuma-data is root-owned; a non-root AutoKuma could not write it without a chown",
    dropAllCapabilities: "as root it needs DAC_OVERRIDE for the root-owned database",
    readOnlyRootFilesystem: "AutoKuma writes temporary files next to its binary",
    probes:
      "AutoKuma serves no port and ships no health command; the container exits (and restarts) when the sync loop dies",
  },
  "jellyfin/jellyfin": {
    runAsNonRoot:
      "the official image runs as root and the live /config (database, metadata) is root-owned on a local-path volume, where fsGroup does not apply: running as a user needs a one-time chown (left to the hardening issue); it keeps no capabilities",
  },
  "backup-jobs/volume-backup-*": {
    runAsNonRoot:
      "reads every app's local-path volume through a read-only hostPath, files owned by many " +
      "users (Postgres keeps its data 0700): root with DAC_READ_SEARCH only",
    dropAllCapabilities:
      "drops ALL and adds back only DAC_READ_SEARCH, to read files it does not own",
  },
  "mtgibbs-site/mtgibbs-site": {
    readOnlyRootFilesystem:
      "Next.js writes its image-optimisation and fetch cache under .next/cache inside the app directory, whose path the site's own Dockerfile decides; the rest of the restricted settings apply",
  },
};

/** The reason a workload may break a rule, or undefined when it must follow it. */
export function exemption(
  namespace: string,
  workload: string,
  rule: WorkloadRule,
): string | undefined {
  const key = `${namespace}/${workload}`;
  const exact = WORKLOAD_EXEMPTIONS[key]?.[rule];
  if (exact !== undefined) return exact;
  const pattern = Object.keys(WORKLOAD_EXEMPTIONS).find(
    (k) => k.endsWith("*") && key.startsWith(k.slice(0, -1)),
  );
  return pattern ? WORKLOAD_EXEMPTIONS[pattern][rule] : undefined;
}
