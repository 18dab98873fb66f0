/**
 * The service catalog: each app declares its web endpoints once. The platform derives the
 * Ingress (TLS through cert-manager, `<host>.<domain>`) from an entry, and later issues derive the
 * dashboard tiles and uptime monitors from the same entries.
 */

/** How the ingress controller talks to the backend. */
export type BackendProtocol = "HTTP" | "HTTPS";

/** One web endpoint of an app. */
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
  /** Where the app appears on the dashboard. */
  readonly dashboard: {
    readonly group: string;
    /** Homepage icon name, e.g. `grafana.png` or `si-grafana`. */
    readonly icon: string;
    readonly description: string;
  };
  /** What the uptime monitor checks. @default { kind: "http", path: "/" } */
  readonly monitor?: {
    readonly kind: "http" | "keyword";
    readonly path?: string;
    readonly keyword?: string;
  };
}

/** The full name clients use: `<host>.<domain>`. */
export function endpointHost(endpoint: ServiceEndpoint, domain: string): string {
  return `${endpoint.host}.${domain}`;
}
