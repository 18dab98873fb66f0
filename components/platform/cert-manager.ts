/**
 * cert-manager with Let's Encrypt ClusterIssuers (`letsencrypt-prod`, `letsencrypt-staging`)
 * solving DNS-01 through Cloudflare (seed 001, decision 9). The Cloudflare token it uses is either
 * made here (an API token allowed only DNS edit and zone read on the one zone) or synced from
 * 1Password by External Secrets.
 * @see https://cert-manager.io/docs/configuration/acme/dns01/cloudflare/
 */
import * as cloudflare from "@pulumi/cloudflare";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { Topology } from "../../topology/types";
import { resources, WorkloadSpec } from "../../topology/workloads";
import { ExternalSecrets } from "./external-secrets";
import { ChartRef, helmRelease, namespace, podValues } from "./helm";

/** cert-manager's chart versions carry a leading `v`. */
export const CERT_MANAGER: ChartRef = {
  chart: "cert-manager",
  version: "v1.21.1",
  repo: "https://charts.jetstack.io",
};
export const CERT_MANAGER_NAMESPACE = "cert-manager";
/** Secret with the Cloudflare token (key `api-token`); a ClusterIssuer reads it from cert-manager's namespace. */
export const CLOUDFLARE_TOKEN_SECRET = "cloudflare-api-token";

/**
 * Cloudflare's permission groups for a zone-scoped token, by their global ids (the same in every
 * account; the names were relabelled in the dashboard in 2026, the ids were not).
 */
export const CLOUDFLARE_PERMISSION_GROUPS = {
  dnsWrite: "4755a26eedb94da69e1066d98aa820be",
  zoneRead: "c8fed203ed3043cba015a93ad1616f1f",
} as const;

/** ACME directory of each ClusterIssuer; routes use the stack's (see routes.ts `clusterIssuer`). */
export const ACME_SERVERS = {
  "letsencrypt-prod": "https://acme-v02.api.letsencrypt.org/directory",
  "letsencrypt-staging": "https://acme-staging-v02.api.letsencrypt.org/directory",
} as const;

/** cert-manager's three long-running pods (seed 002: ~119Mi for the three). */
export function certManagerWorkloads(): WorkloadSpec[] {
  const pod = (name: string, container: string): WorkloadSpec => ({
    name,
    namespace: CERT_MANAGER_NAMESPACE,
    kind: "Deployment",
    containers: { [container]: resources("10m", "48Mi", "200m", "160Mi") },
  });
  return [
    pod("cert-manager", "cert-manager-controller"),
    pod("cert-manager-webhook", "cert-manager-webhook"),
    pod("cert-manager-cainjector", "cert-manager-cainjector"),
  ];
}

/** Helm values (checked against the chart's strict values schema in the tests). */
export function certManagerValues(
  topology: Topology,
  workloads: readonly WorkloadSpec[] = certManagerWorkloads(),
): Record<string, unknown> {
  // The chart's default selector (kubernetes.io/os: linux) stays unless the plan pins a pod.
  const pod = (name: string) => podValues(topology, workloads, name);
  return {
    crds: { enabled: true, keep: true },
    // The DNS-01 self-check asks public resolvers: the LAN's Pi-hole could answer from its own
    // records or blocklists and stall the check.
    dns01RecursiveNameservers: "1.1.1.1:53,8.8.8.8:53",
    dns01RecursiveNameserversOnly: true,
    ...pod("cert-manager"),
    webhook: pod("cert-manager-webhook"),
    cainjector: pod("cert-manager-cainjector"),
    // The post-install check Job runs once per install or upgrade.
    startupapicheck: { resources: resources("10m", "32Mi", "100m", "64Mi") },
  };
}

/** A Let's Encrypt ClusterIssuer solving DNS-01 in the stack's Cloudflare zone. */
export function clusterIssuerManifest(
  name: keyof typeof ACME_SERVERS,
  topology: Topology,
): Record<string, unknown> {
  return {
    apiVersion: "cert-manager.io/v1",
    kind: "ClusterIssuer",
    metadata: { name, labels: { "app.kubernetes.io/managed-by": "pulumi" } },
    spec: {
      acme: {
        server: ACME_SERVERS[name],
        ...(topology.platform.certificates.acmeEmail
          ? { email: topology.platform.certificates.acmeEmail }
          : {}),
        privateKeySecretRef: { name: `${name}-account-key` },
        solvers: [
          {
            selector: { dnsZones: [topology.platform.certificates.dnsZone] },
            dns01: {
              cloudflare: {
                apiTokenSecretRef: { name: CLOUDFLARE_TOKEN_SECRET, key: "api-token" },
              },
            },
          },
        ],
      },
    },
  };
}

/** The token policy: DNS edit and zone read on one zone, nothing else. */
export function dnsTokenPolicies(
  zoneId: pulumi.Input<string>,
): cloudflare.types.input.ApiTokenPolicy[] {
  return [
    {
      effect: "allow",
      permissionGroups: [
        { id: CLOUDFLARE_PERMISSION_GROUPS.dnsWrite },
        { id: CLOUDFLARE_PERMISSION_GROUPS.zoneRead },
      ],
      // A JSON string, as the provider expects.
      resources: pulumi
        .output(zoneId)
        .apply((id) => JSON.stringify({ [`com.cloudflare.api.account.zone.${id}`]: "*" })),
    },
  ];
}

export interface CertManagerArgs {
  readonly topology: Topology;
  readonly provider: k8s.Provider;
  /** Syncs the token when it comes from 1Password. */
  readonly externalSecrets: ExternalSecrets;
  /** Creates the scoped token when the stack makes its own. */
  readonly cloudflare: {
    readonly provider: cloudflare.Provider;
    readonly zoneId: pulumi.Input<string>;
  };
  /** @default [] */
  readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
}

/** cert-manager, its Cloudflare token and the two Let's Encrypt issuers. */
export class CertManager extends pulumi.ComponentResource {
  public readonly release: k8s.helm.v3.Release;
  public readonly issuers: readonly k8s.apiextensions.CustomResource[];

  constructor(name: string, args: CertManagerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pi-cluster:platform:CertManager", name, {}, opts);
    const { topology, provider } = args;
    const ns = namespace(CERT_MANAGER_NAMESPACE, {
      parent: this,
      provider,
      dependsOn: args.dependsOn,
    });
    this.release = helmRelease(
      "cert-manager",
      {
        chart: CERT_MANAGER,
        namespace: CERT_MANAGER_NAMESPACE,
        values: certManagerValues(topology),
      },
      { parent: this, provider, dependsOn: [ns] },
    );

    const source = topology.platform.certificates.cloudflareToken;
    let tokenSecret: pulumi.Resource;
    if (source.kind === "onepassword") {
      tokenSecret = args.externalSecrets.secret(
        {
          name: CLOUDFLARE_TOKEN_SECRET,
          namespace: CERT_MANAGER_NAMESPACE,
          data: { "api-token": source.ref },
        },
        [ns],
      );
    } else {
      const token = new cloudflare.ApiToken(
        "cert-manager-dns01",
        {
          name: `pi-cluster ${topology.stack} cert-manager DNS-01`,
          policies: dnsTokenPolicies(args.cloudflare.zoneId),
        },
        { parent: this, provider: args.cloudflare.provider },
      );
      tokenSecret = new k8s.core.v1.Secret(
        CLOUDFLARE_TOKEN_SECRET,
        {
          metadata: { name: CLOUDFLARE_TOKEN_SECRET, namespace: CERT_MANAGER_NAMESPACE },
          type: "Opaque",
          // The provider marks `value` secret in a real run; say so here too, for every path.
          stringData: { "api-token": pulumi.secret(token.value) },
        },
        { parent: this, provider, dependsOn: [ns] },
      );
    }
    // Issuers go through cert-manager's webhook: after the release, with the token in place.
    this.issuers = (Object.keys(ACME_SERVERS) as (keyof typeof ACME_SERVERS)[]).map(
      (issuer) =>
        new k8s.apiextensions.CustomResource(
          issuer,
          clusterIssuerManifest(issuer, topology) as k8s.apiextensions.CustomResourceArgs,
          { parent: this, provider, dependsOn: [this.release, tokenSecret] },
        ),
    );
    this.registerOutputs({});
  }
}
