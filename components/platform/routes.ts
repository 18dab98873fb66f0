/**
 * The catalog's routes: one Ingress per ServiceEndpoint at `<host>.<domain>`, with a Let's
 * Encrypt certificate from cert-manager, for whichever controller the stack runs. What an entry
 * says once (`backendProtocol: "HTTPS"` for Unifi's 8443) is translated here into what each
 * controller reads: an Ingress annotation for ingress-nginx, Service annotations and a
 * ServersTransport for Traefik.
 * @see https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/annotations/#backend-protocol
 * @see https://doc.traefik.io/traefik/reference/routing-configuration/kubernetes/ingress/
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { endpointHost, ServiceEndpoint } from "../../topology/catalog";
import { PlatformSettings, Topology } from "../../topology/types";
import { ACME_SERVERS } from "./cert-manager";
import { controllerProfile, IngressControllerKind } from "./ingress-controller";

/**
 * The ClusterIssuer for each `pi-cluster:platform.certificates.issuer`: every route's certificate
 * comes from the stack's one. Both issuers always exist; staging certificates are not trusted by
 * browsers but Let's Encrypt's staging limits are generous (for trying a stack out).
 */
export const CLUSTER_ISSUERS: Readonly<
  Record<PlatformSettings["certificates"]["issuer"], keyof typeof ACME_SERVERS>
> = { production: "letsencrypt-prod", staging: "letsencrypt-staging" };

/** The ClusterIssuer the stack's routes use. */
export function clusterIssuer(topology: Topology): keyof typeof ACME_SERVERS {
  return CLUSTER_ISSUERS[topology.platform.certificates.issuer];
}

/** Name of the per-namespace Traefik ServersTransport that skips backend certificate checks. */
export const INSECURE_BACKEND_TRANSPORT = "insecure-backend";

/**
 * How a Service in `namespace` names that namespace's insecure-backend ServersTransport:
 * `<namespace>-<name>@kubernetescrd`, the CRD provider's name for it.
 */
export function serversTransportRef(namespace: string): string {
  return `${namespace}-${INSECURE_BACKEND_TRANSPORT}@kubernetescrd`;
}

/** Annotations of the Ingress for one endpoint. */
export function routeAnnotations(
  controller: IngressControllerKind,
  endpoint: ServiceEndpoint,
  issuer: keyof typeof ACME_SERVERS,
): Record<string, string> {
  const annotations: Record<string, string> = { "cert-manager.io/cluster-issuer": issuer };
  if (endpoint.backendProtocol === "HTTPS" && controller === "ingress-nginx") {
    // The upstream certificate is not verified (proxy-ssl-verify defaults to "off").
    annotations["nginx.ingress.kubernetes.io/backend-protocol"] = "HTTPS";
  }
  if (endpoint.unlimitedRequestBody && controller === "ingress-nginx") {
    annotations["nginx.ingress.kubernetes.io/proxy-body-size"] = "0";
  }
  // Traefik reads the backend scheme from the Service, not the Ingress: see serviceAnnotations.
  return annotations;
}

/**
 * Annotations the endpoint's backend Service needs (empty for ingress-nginx and plain-HTTP
 * backends). The component that owns the Service (an app, or the Endpoints+Service pair of an
 * external device) adds them.
 */
export function serviceAnnotations(
  controller: IngressControllerKind,
  endpoint: ServiceEndpoint,
): Record<string, string> {
  if (controller !== "traefik" || endpoint.backendProtocol !== "HTTPS") return {};
  return {
    "traefik.ingress.kubernetes.io/service.serversscheme": "https",
    "traefik.ingress.kubernetes.io/service.serverstransport": serversTransportRef(
      endpoint.namespace,
    ),
  };
}

/**
 * A Traefik ServersTransport that does not verify the backend's certificate. HTTPS backends in
 * the catalog are home devices with self-signed certificates (Unifi's controller on 8443) that no
 * CA in the cluster can vouch for; ingress-nginx skips the check by default, Traefik needs this.
 * The route to the client is still TLS with a Let's Encrypt certificate.
 * @see https://doc.traefik.io/traefik/reference/routing-configuration/kubernetes/crd/http/serverstransport/
 */
export function serversTransportManifest(namespace: string): Record<string, unknown> {
  return {
    apiVersion: "traefik.io/v1alpha1",
    kind: "ServersTransport",
    metadata: {
      name: INSECURE_BACKEND_TRANSPORT,
      namespace,
      labels: { "app.kubernetes.io/managed-by": "pulumi" },
    },
    spec: { insecureSkipVerify: true },
  };
}

/** A `networking.k8s.io/v1` Ingress as plain data. */
export interface IngressManifest {
  readonly apiVersion: "networking.k8s.io/v1";
  readonly kind: "Ingress";
  readonly metadata: {
    name: string;
    namespace: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
  };
  readonly spec: {
    ingressClassName: string;
    tls: { hosts: string[]; secretName: string }[];
    rules: {
      host: string;
      http: {
        paths: {
          path: string;
          pathType: "Prefix";
          backend: { service: { name: string; port: { number: number } } };
        }[];
      };
    }[];
  };
}

/** The Ingress of one catalog endpoint, for the stack's controller. */
export function ingressManifest(topology: Topology, endpoint: ServiceEndpoint): IngressManifest {
  const { controller } = topology.platform.ingress;
  const host = endpointHost(endpoint, topology.domain);
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: {
      name: endpoint.name,
      namespace: endpoint.namespace,
      labels: { "app.kubernetes.io/managed-by": "pulumi", "pi-cluster/catalog": endpoint.name },
      annotations: routeAnnotations(controller, endpoint, clusterIssuer(topology)),
    },
    spec: {
      ingressClassName: controllerProfile(controller).ingressClass,
      // cert-manager's ingress-shim issues the certificate into this Secret.
      tls: [{ hosts: [host], secretName: `${endpoint.name}-tls` }],
      rules: [
        {
          host,
          http: {
            paths: [
              {
                path: "/",
                pathType: "Prefix",
                backend: { service: { name: endpoint.service, port: { number: endpoint.port } } },
              },
            ],
          },
        },
      ],
    },
  };
}

/**
 * Rejects endpoints that would collide: two with one name (one Ingress and one certificate per
 * name) or two with one host (the controller would pick one of them silently).
 * @throws Error naming the value and both endpoints
 */
export function checkRoutes(endpoints: readonly ServiceEndpoint[], domain: string): void {
  const byName = new Map<string, ServiceEndpoint>();
  const byHost = new Map<string, ServiceEndpoint>();
  for (const endpoint of endpoints) {
    const sameName = byName.get(endpoint.name);
    if (sameName) {
      throw new Error(
        `catalog endpoint name "${endpoint.name}" is used twice ` +
          `(namespaces ${sameName.namespace} and ${endpoint.namespace}); ` +
          `endpoint names must be unique in the stack`,
      );
    }
    byName.set(endpoint.name, endpoint);
    const host = endpointHost(endpoint, domain);
    const sameHost = byHost.get(host);
    if (sameHost) {
      throw new Error(
        `host ${host} is claimed by both catalog endpoints "${sameHost.name}" and ` +
          `"${endpoint.name}"; give one of them another host`,
      );
    }
    byHost.set(host, endpoint);
  }
}

export interface CatalogRoutesArgs {
  /** The stack's plan: domain and ingress controller. */
  readonly topology: Topology;
  /** Provider of the k3s cluster. */
  readonly provider: k8s.Provider;
  /** Every web endpoint of the stack's apps; names and hosts must be unique. */
  readonly endpoints: readonly ServiceEndpoint[];
  /**
   * Must include the IngressController's release (ingress-nginx's admission webhook rejects
   * Ingresses until the controller is ready; Traefik's chart installs the ServersTransport CRD)
   * and cert-manager's issuers; also the backends' namespaces.
   * @default []
   */
  readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
}

/** The Ingresses (and Traefik ServersTransports) for the stack's catalog. */
export class CatalogRoutes extends pulumi.ComponentResource {
  /** Each endpoint's Ingress, by endpoint name. */
  public readonly ingresses: Readonly<Record<string, k8s.networking.v1.Ingress>>;
  /** Traefik's insecure-backend ServersTransport, by namespace (empty for ingress-nginx). */
  public readonly serversTransports: Readonly<Record<string, k8s.apiextensions.CustomResource>>;

  constructor(name: string, args: CatalogRoutesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pi-cluster:platform:CatalogRoutes", name, {}, opts);
    const { topology, provider, endpoints } = args;
    checkRoutes(endpoints, topology.domain);
    const dependsOn = args.dependsOn ?? [];

    const transports: Record<string, k8s.apiextensions.CustomResource> = {};
    if (topology.platform.ingress.controller === "traefik") {
      const namespaces = [
        ...new Set(endpoints.filter((e) => e.backendProtocol === "HTTPS").map((e) => e.namespace)),
      ];
      for (const ns of namespaces) {
        transports[ns] = new k8s.apiextensions.CustomResource(
          `${ns}-${INSECURE_BACKEND_TRANSPORT}`,
          serversTransportManifest(ns) as k8s.apiextensions.CustomResourceArgs,
          { parent: this, provider, dependsOn },
        );
      }
    }

    const ingresses: Record<string, k8s.networking.v1.Ingress> = {};
    for (const endpoint of endpoints) {
      const transport = transports[endpoint.namespace];
      ingresses[endpoint.name] = new k8s.networking.v1.Ingress(
        `${endpoint.name}-ingress`,
        ingressManifest(topology, endpoint),
        {
          parent: this,
          provider,
          dependsOn:
            transport && endpoint.backendProtocol === "HTTPS"
              ? [...dependsOn, transport]
              : dependsOn,
        },
      );
    }

    this.ingresses = ingresses;
    this.serversTransports = transports;
    this.registerOutputs({});
  }
}
