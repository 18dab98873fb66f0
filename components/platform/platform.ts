/**
 * The cluster platform every stack runs, deployed directly (no Flux) in dependency order:
 * storage, External Secrets with the 1Password store, Cloudflare DNS, cert-manager and its
 * issuers, MetalLB where configured, the ingress controller, monitoring, and one Ingress per
 * catalog endpoint. Operators install in parallel; objects that need a CRD or a webhook wait
 * for the release that brings it.
 */
import * as pulumi from "@pulumi/pulumi";
import { ServiceEndpoint } from "../../topology/catalog";
import { PlatformSettings, Topology } from "../../topology/types";
import { WorkloadSpec } from "../../topology/workloads";
import { K3sCluster } from "../cluster/k3s-cluster";
import { OnePasswordSecrets } from "../secrets/onepassword";
import { CertManager, certManagerWorkloads } from "./cert-manager";
import { CloudflareDns } from "./cloudflare-dns";
import { ExternalSecrets, externalSecretsWorkloads } from "./external-secrets";
import { IngressController, ingressWorkloads } from "./ingress-controller";
import { Metallb, metallbWorkloads } from "./metallb";
import { grafanaEndpoint, Monitoring, monitoringWorkloads } from "./monitoring";
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

/** The platform's own web endpoints (apps add theirs). */
export function platformEndpoints(): ServiceEndpoint[] {
  return [grafanaEndpoint()];
}

export interface PlatformArgs {
  readonly topology: Topology;
  /** The k3s cluster: its provider, and its nodes' readiness everything waits for. */
  readonly cluster: K3sCluster;
  /** Deploy-time secrets from 1Password. */
  readonly secrets: OnePasswordSecrets;
  /** Web endpoints of the stack's apps, routed beside the platform's own. @default [] */
  readonly endpoints?: readonly ServiceEndpoint[];
}

/** The platform of one stack. */
export class Platform extends pulumi.ComponentResource {
  public readonly externalSecrets: ExternalSecrets;
  public readonly certManager: CertManager;
  public readonly ingress: IngressController;
  public readonly monitoring: Monitoring;
  public readonly routes: CatalogRoutes;
  public readonly dns: CloudflareDns;
  public readonly storage: Storage;
  public readonly metallb?: Metallb;
  /** Every routed endpoint (platform and apps): the source for dashboards and uptime monitors. */
  public readonly catalog: readonly ServiceEndpoint[];

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
    this.catalog = [...platformEndpoints(), ...(args.endpoints ?? [])];
    this.routes = new CatalogRoutes(
      "routes",
      {
        topology,
        provider,
        endpoints: this.catalog,
        // The controller's admission webhook, the issuers the annotation names, the backends' namespaces.
        dependsOn: [this.ingress.release, ...this.certManager.issuers, this.monitoring.namespace],
      },
      child,
    );
    this.registerOutputs({});
  }
}
