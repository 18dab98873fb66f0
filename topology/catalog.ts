/**
 * The service catalog: each app declares its web endpoints once, as data. From the same entries
 * the platform derives the Ingress (TLS through cert-manager, `<host>.<domain>`), Homepage its
 * tiles and widgets, and AutoKuma the uptime monitors, so adding an entry adds all three.
 */

/** How the ingress controller talks to the backend. */
export type BackendProtocol = "HTTP" | "HTTPS";

/**
 * A Homepage service widget (live figures on the tile).
 * @see https://gethomepage.dev/widgets/
 */
export interface DashboardWidget {
  /** Homepage widget type, e.g. `pihole`, `prometheus`, `uptimekuma`. */
  readonly type: string;
  /** Where Homepage's server fetches the figures (an in-cluster URL where there is one). */
  readonly url: string;
  /** Further widget keys as they are (`version: 6`, `slug: home`, `fields: [...]`). */
  readonly options?: Readonly<Record<string, unknown>>;
  /**
   * Widget keys whose value is a secret: widget key → `pi-cluster:secrets` key. Homepage gets
   * each as a `HOMEPAGE_VAR_*` variable from an ExternalSecret, never as text in its ConfigMap.
   */
  readonly secrets?: Readonly<Record<string, string>>;
}

/** Where and how an entry appears on the dashboard. */
export interface DashboardTile {
  readonly group: string;
  /** Homepage icon name, e.g. `grafana.png` or `si-grafana`. */
  readonly icon: string;
  readonly description: string;
  readonly widget?: DashboardWidget;
}

/** What an entry's uptime monitor checks. */
export interface MonitorCheck {
  /** `http`: the URL answers 2xx; `keyword`: and its body contains `keyword`. */
  readonly kind: "http" | "keyword";
  /** Path on the entry's URL. @default "/" */
  readonly path?: string;
  readonly keyword?: string;
  /** The monitor's name in Uptime Kuma. @default the entry's title */
  readonly name?: string;
}

/** One web endpoint of an app, routed through the ingress controller. */
export interface ServiceEndpoint {
  /** Catalog name, unique in the stack, e.g. `grafana`. */
  readonly name: string;
  /** Subdomain under the stack's domain: `grafana` → `grafana.lab.mtgibbs.dev`. */
  readonly host: string;
  readonly namespace: string;
  /** Kubernetes Service the ingress routes to. */
  readonly service: string;
  readonly port: number;
  /**
   * `HTTPS` for backends that only speak TLS (Unifi's 8443); the platform translates it for the
   * controller in use. @default "HTTP"
   */
  readonly backendProtocol?: BackendProtocol;
  /**
   * No limit on a request's body (uploads of photos and videos): ingress-nginx refuses bodies
   * over 1 MiB by default; Traefik sets no limit. @default false
   */
  readonly unlimitedRequestBody?: boolean;
  /** Where the app appears on the dashboard; absent for no tile (the dashboard itself). */
  readonly dashboard?: DashboardTile;
  /** What the uptime monitor checks; `false` for none. @default { kind: "http", path: "/" } */
  readonly monitor?: MonitorCheck | false;
  /** The tile's title. @default the name, capitalised */
  readonly title?: string;
}

/**
 * A catalog entry with no Ingress: a page elsewhere (the production site, Cloudflare's
 * dashboard) or an in-cluster service shown only by its widget (Prometheus).
 */
export interface CatalogLink {
  readonly name: string;
  /** Where the tile links; absent for a tile that only shows its widget. */
  readonly href?: string;
  readonly dashboard: DashboardTile;
  /** What the uptime monitor checks on `href`; absent or `false` for none. */
  readonly monitor?: MonitorCheck | false;
  readonly title?: string;
}

/** Anything in the catalog. */
export type CatalogEntry = ServiceEndpoint | CatalogLink;

/** True for entries the ingress controller routes. */
export function isRouted(entry: CatalogEntry): entry is ServiceEndpoint {
  return "service" in entry;
}

/** The full name clients use: `<host>.<domain>`. */
export function endpointHost(endpoint: ServiceEndpoint, domain: string): string {
  return `${endpoint.host}.${domain}`;
}

/** The URL a person opens for an entry (undefined for a widget-only tile). */
export function entryUrl(entry: CatalogEntry, domain: string): string | undefined {
  return isRouted(entry) ? `https://${endpointHost(entry, domain)}` : entry.href;
}

/** The title on the entry's tile and monitor. */
export function entryTitle(entry: CatalogEntry): string {
  return entry.title ?? entry.name.charAt(0).toUpperCase() + entry.name.slice(1);
}

/**
 * A check that is not a web page: DNS answered by a resolver, a TCP port open, or an in-cluster
 * URL. Apps declare these beside their workloads; AutoKuma creates them with the catalog's.
 */
export type NonWebMonitor =
  | {
      readonly kind: "dns";
      readonly name: string;
      /** The resolver asked. */
      readonly server: string;
      readonly port: number;
      /** The name it must resolve. */
      readonly query: string;
      /** Why it exists, for the reader of the monitor list. */
      readonly reason: string;
    }
  | {
      readonly kind: "port";
      readonly name: string;
      readonly host: string;
      readonly port: number;
      readonly reason: string;
    }
  | {
      readonly kind: "http";
      readonly name: string;
      readonly url: string;
      readonly reason: string;
    };

/** Seconds between checks (seed 003: every monitor checks once a minute). */
export const MONITOR_INTERVAL_SECONDS = 60;
