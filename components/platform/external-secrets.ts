/**
 * External Secrets Operator and the `onepassword` ClusterSecretStore: every in-cluster secret
 * syncs from the 1Password vault through the 1Password SDK provider. The service-account token
 * it authenticates with is the one bootstrap secret, created here by Pulumi from 1Password.
 * @see https://external-secrets.io/latest/provider/1password-sdk/
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { SecretRef, Topology } from "../../topology/types";
import { resources, WorkloadSpec } from "../../topology/workloads";
import { OnePasswordSecrets } from "../secrets/onepassword";
import { ChartRef, helmRelease, namespace, podValues } from "./helm";

/** The chart the seeds run (ESO v1.2.0, seed 001). */
export const EXTERNAL_SECRETS: ChartRef = {
  chart: "external-secrets",
  version: "1.2.0",
  repo: "https://charts.external-secrets.io",
};
export const EXTERNAL_SECRETS_NAMESPACE = "external-secrets";
/** The store every ExternalSecret reads from. */
export const CLUSTER_SECRET_STORE = "onepassword";
/** Secret holding the 1Password service-account token (key `token`). */
export const SERVICE_ACCOUNT_SECRET = "onepassword-service-account";

/** The operator's three pods (seed 002 saw ~71Mi for two of them). */
export function externalSecretsWorkloads(): WorkloadSpec[] {
  const pod = (name: string, container: string): WorkloadSpec => ({
    name,
    namespace: EXTERNAL_SECRETS_NAMESPACE,
    kind: "Deployment",
    containers: { [container]: resources("10m", "48Mi", "200m", "160Mi") },
  });
  return [
    pod("external-secrets", "external-secrets"),
    pod("external-secrets-webhook", "webhook"),
    pod("external-secrets-cert-controller", "cert-controller"),
  ];
}

/** Helm values: CRDs with the release, each pod's resources and placement from the plan. */
export function externalSecretsValues(
  topology: Topology,
  workloads: readonly WorkloadSpec[] = externalSecretsWorkloads(),
): Record<string, unknown> {
  const pod = (name: string) => podValues(topology, workloads, name);
  return {
    // The CRDs are chart templates: they upgrade with the release.
    installCRDs: true,
    replicaCount: 1,
    ...pod("external-secrets"),
    webhook: { replicaCount: 1, ...pod("external-secrets-webhook") },
    certController: { replicaCount: 1, ...pod("external-secrets-cert-controller") },
  };
}

/** The ClusterSecretStore reading the stack's vault with the service-account token. */
export function clusterSecretStoreManifest(vault: string): Record<string, unknown> {
  return {
    apiVersion: "external-secrets.io/v1",
    kind: "ClusterSecretStore",
    metadata: { name: CLUSTER_SECRET_STORE, labels: { "app.kubernetes.io/managed-by": "pulumi" } },
    spec: {
      provider: {
        onepasswordSDK: {
          vault,
          auth: {
            // A cluster-scoped store must name the secret's namespace (the webhook rejects it otherwise).
            serviceAccountSecretRef: {
              name: SERVICE_ACCOUNT_SECRET,
              key: "token",
              namespace: EXTERNAL_SECRETS_NAMESPACE,
            },
          },
        },
      },
    },
  };
}

/** One app secret: Kubernetes Secret key → 1Password reference, optionally templated. */
export interface ExternalSecretSpec {
  readonly name: string;
  readonly namespace: string;
  /** Secret key → 1Password field (must be in the store's vault). */
  readonly data: Readonly<Record<string, SecretRef>>;
  /**
   * Keys of the resulting Secret rendered from the fetched values (`{{ .<key> }}`), for
   * fixed companions such as a user name. @default the fetched keys as they are
   */
  readonly template?: Readonly<Record<string, string>>;
  /** @default "1h" (seed 001: secrets refresh hourly) */
  readonly refreshInterval?: string;
}

/** The ExternalSecret object; the reference's vault must be the store's. */
export function externalSecretManifest(
  spec: ExternalSecretSpec,
  vault: string,
): Record<string, unknown> {
  const data = Object.entries(spec.data).map(([secretKey, ref]) => {
    if (ref.vault !== vault) {
      throw new Error(
        `ExternalSecret ${spec.namespace}/${spec.name}: ${ref.uri} is not in vault "${vault}", the only vault the ${CLUSTER_SECRET_STORE} store reads`,
      );
    }
    // The 1Password SDK provider resolves `op://<vault>/<key>`: the key is `<item>/<field>`.
    return { secretKey, remoteRef: { key: `${ref.item}/${ref.field}` } };
  });
  return {
    apiVersion: "external-secrets.io/v1",
    kind: "ExternalSecret",
    metadata: {
      name: spec.name,
      namespace: spec.namespace,
      labels: { "app.kubernetes.io/managed-by": "pulumi" },
    },
    spec: {
      refreshInterval: spec.refreshInterval ?? "1h",
      secretStoreRef: { kind: "ClusterSecretStore", name: CLUSTER_SECRET_STORE },
      target: {
        name: spec.name,
        creationPolicy: "Owner",
        ...(spec.template ? { template: { engineVersion: "v2", data: { ...spec.template } } } : {}),
      },
      data,
    },
  };
}

export interface ExternalSecretsArgs {
  readonly topology: Topology;
  readonly provider: k8s.Provider;
  /** Reads the bootstrap service-account token from 1Password. */
  readonly secrets: OnePasswordSecrets;
  /** What must exist first (the cluster's nodes). @default [] */
  readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
}

/** External Secrets Operator with the 1Password store, and a one-line way to sync a secret. */
export class ExternalSecrets extends pulumi.ComponentResource {
  public readonly release: k8s.helm.v3.Release;
  public readonly store: k8s.apiextensions.CustomResource;
  private readonly vault: string;
  private readonly provider: k8s.Provider;

  constructor(name: string, args: ExternalSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pi-cluster:platform:ExternalSecrets", name, {}, opts);
    const { topology, provider } = args;
    this.vault = topology.onepasswordVault;
    this.provider = provider;
    const ns = namespace(EXTERNAL_SECRETS_NAMESPACE, {
      parent: this,
      provider,
      dependsOn: args.dependsOn,
    });
    const token = new k8s.core.v1.Secret(
      SERVICE_ACCOUNT_SECRET,
      {
        metadata: { name: SERVICE_ACCOUNT_SECRET, namespace: EXTERNAL_SECRETS_NAMESPACE },
        type: "Opaque",
        stringData: { token: args.secrets.get(topology.platform.secrets.externalSecretsToken) },
      },
      { parent: this, provider, dependsOn: [ns] },
    );
    this.release = helmRelease(
      "external-secrets",
      {
        chart: EXTERNAL_SECRETS,
        namespace: EXTERNAL_SECRETS_NAMESPACE,
        values: externalSecretsValues(topology),
      },
      { parent: this, provider, dependsOn: [ns] },
    );
    // The store is validated by ESO's webhook (failurePolicy Fail): it waits for the release.
    this.store = new k8s.apiextensions.CustomResource(
      `${CLUSTER_SECRET_STORE}-store`,
      clusterSecretStoreManifest(this.vault) as k8s.apiextensions.CustomResourceArgs,
      { parent: this, provider, dependsOn: [this.release, token] },
    );
    this.registerOutputs({});
  }

  /** Declares an ExternalSecret that syncs 1Password fields into a Secret `spec.name`. */
  secret(
    spec: ExternalSecretSpec,
    dependsOn: pulumi.Input<pulumi.Resource>[] = [],
  ): k8s.apiextensions.CustomResource {
    return new k8s.apiextensions.CustomResource(
      `${spec.namespace}-${spec.name}-external-secret`,
      externalSecretManifest(spec, this.vault) as k8s.apiextensions.CustomResourceArgs,
      { parent: this, provider: this.provider, dependsOn: [this.store, ...dependsOn] },
    );
  }
}
