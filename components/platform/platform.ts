/**
 * The cluster platform every stack runs, deployed directly (no Flux) in dependency order:
 * storage, External Secrets with the 1Password store, Cloudflare DNS, cert-manager and its
 * issuers, MetalLB where configured, the ingress controller, monitoring, and one Ingress per
 * catalog endpoint. Operators install in parallel; objects that need a CRD or a webhook wait
 * for the release that brings it.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { StatefulVolume } from "../../topology/apps";
import { CatalogEntry, isRouted, NonWebMonitor } from "../../topology/catalog";
import { PlatformSettings, Topology } from "../../topology/types";
import { WorkloadSpec } from "../../topology/workloads";
import { K3sCluster } from "../cluster/k3s-cluster";
import { OnePasswordSecrets } from "../secrets/onepassword";
import { CertManager, certManagerWorkloads } from "./cert-manager";
import { CloudflareDns } from "./cloudflare-dns";
import { ExternalSecrets, externalSecretsWorkloads } from "./external-secrets";
import { IngressController, ingressWorkloads } from "./ingress-controller";
import { Metallb, metallbWorkloads } from "./metallb";
import {
  grafanaEndpoint,
  Monitoring,
  monitoringVolumes,
  monitoringWorkloads,
  prometheusMonitor,
  prometheusTile,
} from "./monitoring";
import { CatalogRoutes } from "./routes";
import { Storage } from "./storage";

/** Every pod the platform runs, for the capacity check (which pods depends on the settings). */
export function platformWorkloads(platform: PlatformSettings, hasMetallb: boolean): WorkloadSpec[] {
  return [
    ...externalSecretsWorkloads(),
    ...certManagerWorkloads(),
    ...(hasMetallb ? metallbWorkloads() : []),
    ...ingressWorkloads(platform.ingress),
    ...monitoringWorkloads(),
  ];
}

/** The platform's stateful volumes (apps add theirs). */
export function platformVolumes(platform: PlatformSettings): StatefulVolume[] {
  return monitoringVolumes(platform);
}

/** The platform's own catalog entries (apps add theirs). */
export function platformCatalog(): CatalogEntry[] {
  return [grafanaEndpoint(), prometheusTile()];
}

/** The platform's own non-web checks: Prometheus (in-cluster only) and the k3s API. */
export function platformMonitors(topology: Topology): NonWebMonitor[] {
  return [
    prometheusMonitor(),
    {
      kind: "port",
      name: "K3s API",
      host: topology.k3s.apiEndpoint,
      port: 6443,
      // k3s refuses anonymous requests to /readyz, so an HTTP check would need a token; an open
      // API port on the endpoint every kubectl and node uses is what "up" means here.
      reason: "the API server every node and kubectl talk to (seed 001's K3s API monitor)",
    },
  ];
}

export interface PlatformArgs {
  readonly topology: Topology;
  /** The k3s cluster: its provider, and its nodes' readiness everything waits for. */
  readonly cluster: K3sCluster;
  /** Deploy-time secrets from 1Password. */
  readonly secrets: OnePasswordSecrets;
  /**
   * The stack's whole catalog (the platform's entries and the apps'); its routed entries get an
   * Ingress each through `routeCatalog`. @default platformCatalog()
   */
  readonly catalog?: readonly CatalogEntry[];
}

/** The platform of one stack. */
export class Platform extends pulumi.ComponentResource {
  public readonly externalSecrets: ExternalSecrets;
  public readonly certManager: CertManager;
  public readonly ingress: IngressController;
  public readonly monitoring: Monitoring;
  /** The catalog's Ingresses; declared by `routeCatalog` once the apps' namespaces exist. */
  public routes?: CatalogRoutes;
  public readonly dns: CloudflareDns;
  public readonly storage: Storage;
  public readonly metallb?: Metallb;
  /** Every catalog entry (platform and apps): the source for routes, tiles and uptime monitors. */
  public readonly catalog: readonly CatalogEntry[];
  private readonly topology: Topology;
  private readonly provider: k8s.Provider;

  constructor(name: string, args: PlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pi-cluster:platform:Platform", name, {}, opts);
    const { topology, cluster, secrets } = args;
    const provider = cluster.provider;
    // Deploy onto the cluster once every node has joined.
    const nodesReady = [...cluster.ready];
    const child = { parent: this };

    this.storage = new Storage("storage", { provider }, { ...child, dependsOn: nodesReady });
    this.externalSecrets = new ExternalSecrets(
      "external-secrets",
      { topology, provider, secrets, dependsOn: nodesReady },
      child,
    );
    this.dns = new CloudflareDns("cloudflare", { topology, secrets }, child);
    this.certManager = new CertManager(
      "cert-manager",
      {
        topology,
        provider,
        externalSecrets: this.externalSecrets,
        cloudflare: { provider: this.dns.provider, zoneId: this.dns.zoneId },
        dependsOn: nodesReady,
      },
      child,
    );
    const metallbTopology = topology.metallb
      ? { ...topology, metallb: topology.metallb }
      : undefined;
    this.metallb = metallbTopology
      ? new Metallb(
          "metallb",
          { topology: metallbTopology, provider, dependsOn: nodesReady },
          child,
        )
      : undefined;
    this.ingress = new IngressController(
      "ingress",
      {
        topology,
        provider,
        // A LoadBalancer Service gets its address only once MetalLB's pool exists.
        dependsOn: [...nodesReady, ...(this.metallb?.pool ?? [])],
      },
      child,
    );
    this.monitoring = new Monitoring(
      "monitoring",
      {
        topology,
        provider,
        externalSecrets: this.externalSecrets,
        dependsOn: [...nodesReady, this.storage],
      },
      child,
    );
    this.catalog = args.catalog ?? platformCatalog();
    this.topology = topology;
    this.provider = provider;
    this.registerOutputs({});
  }

  /**
   * Declares one Ingress per routed catalog entry. Called once the apps are declared:
   * `backends` are what the routes wait for beside the platform (the apps, whose namespaces the
   * Ingresses live in).
   */
  routeCatalog(backends: readonly pulumi.Resource[] = []): CatalogRoutes {
    if (this.routes) throw new Error("routeCatalog: the catalog is already routed");
    this.routes = new CatalogRoutes(
      "routes",
      {
        topology: this.topology,
        provider: this.provider,
        endpoints: this.catalog.filter(isRouted),
        // The controller's admission webhook, the issuers the annotation names, the backends' namespaces.
        dependsOn: [
          this.ingress.release,
          ...this.certManager.issuers,
          this.monitoring.namespace,
          ...backends,
        ],
      },
      { parent: this },
    );
    return this.routes;
  }
}
