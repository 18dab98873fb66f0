/**
 * AutoKuma's static monitors, generated: one per catalog entry with a monitor (its public URL,
 * HTTP or keyword), plus every app's non-web checks (DNS, TCP ports, in-cluster URLs). A new
 * catalog entry gets its monitor without anyone writing one.
 * @see https://github.com/BigBoot/AutoKuma#static-monitors
 */
import {
  CatalogEntry,
  entryTitle,
  entryUrl,
  MONITOR_INTERVAL_SECONDS,
  NonWebMonitor,
} from "../../../topology/catalog";

/** One monitor as AutoKuma reads it from `<id>.json` (the file stem is the monitor's id). */
export type AutoKumaMonitor = Readonly<Record<string, string | number>>;

/** A file-name-safe id: `Pi-hole DNS` → `pi-hole-dns`. */
export function monitorId(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
}

/** The monitor of one catalog entry, or undefined when it has none. */
export function entryMonitor(entry: CatalogEntry, domain: string): AutoKumaMonitor | undefined {
  if (entry.monitor === false) return undefined;
  const base = entryUrl(entry, domain);
  // A link-only entry is monitored only when it asks to be; a routed one by default.
  if (base === undefined || (!("service" in entry) && entry.monitor === undefined))
    return undefined;
  const check = entry.monitor ?? { kind: "http" as const };
  const url = `${base.replace(/\/$/, "")}${check.path ?? "/"}`;
  const name = check.name ?? entryTitle(entry);
  return check.kind === "keyword"
    ? {
        type: "keyword",
        name,
        url,
        keyword: check.keyword ?? "",
        interval: MONITOR_INTERVAL_SECONDS,
      }
    : { type: "http", name, url, interval: MONITOR_INTERVAL_SECONDS };
}

/** The monitor of a non-web check. */
export function nonWebMonitor(monitor: NonWebMonitor): AutoKumaMonitor {
  const interval = MONITOR_INTERVAL_SECONDS;
  switch (monitor.kind) {
    case "dns":
      return {
        type: "dns",
        name: monitor.name,
        hostname: monitor.query,
        dns_resolve_server: monitor.server,
        dns_resolve_type: "A",
        port: monitor.port,
        interval,
      };
    case "port":
      return {
        type: "port",
        name: monitor.name,
        hostname: monitor.host,
        port: monitor.port,
        interval,
      };
    case "http":
      return { type: "http", name: monitor.name, url: monitor.url, interval };
  }
}

/**
 * Every monitor of the stack, by file name (`<id>.json`).
 * @throws Error when two monitors would share an id (one would silently replace the other)
 */
export function autokumaMonitorFiles(
  catalog: readonly CatalogEntry[],
  monitors: readonly NonWebMonitor[],
  domain: string,
): Record<string, string> {
  const all = [
    ...catalog.flatMap((entry) => {
      const m = entryMonitor(entry, domain);
      return m ? [m] : [];
    }),
    ...monitors.map(nonWebMonitor),
  ];
  const files: Record<string, string> = {};
  for (const monitor of all) {
    const file = `${monitorId(String(monitor.name))}.json`;
    if (files[file]) {
      throw new Error(`two uptime monitors are named "${monitor.name}"; give one another name`);
    }
    files[file] = JSON.stringify(monitor, null, 2) + "\n";
  }
  return files;
}
