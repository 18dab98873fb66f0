/**
 * MetalLB in layer-2 mode for stacks that configure it (homelab-ha): LoadBalancer Services get
 * fixed addresses from `pi-cluster:metallb` on the nodes' wired LAN. k3s's ServiceLB must be
 * disabled (validated in config).
 * @see https://metallb.io/configuration/
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { MetallbSettings, Topology } from "../../topology/types";
import { resources, WorkloadSpec } from "../../topology/workloads";
import { ChartRef, helmRelease, namespace, podValues } from "./helm";

export const METALLB: ChartRef = {
  chart: "metallb",
  version: "0.15.3",
  repo: "https://metallb.github.io/metallb",
};
export const METALLB_NAMESPACE = "metallb-system";
/** The one pool every fixed address comes from. */
export const METALLB_POOL = "lan";

/** The controller and one speaker per node (speakers answer ARP for the addresses). */
export function metallbWorkloads(): WorkloadSpec[] {
  return [
    {
      name: "metallb-controller",
      namespace: METALLB_NAMESPACE,
      kind: "Deployment",
      containers: { controller: resources("10m", "32Mi", "200m", "128Mi") },
    },
    {
      name: "metallb-speaker",
      namespace: METALLB_NAMESPACE,
      kind: "DaemonSet",
      // Layer 2 only: the FRR (BGP) containers are off, leaving the speaker and its reloader-free pod.
      containers: { speaker: resources("10m", "32Mi", "200m", "128Mi") },
      // hostNetwork: memberlist between speakers and the metrics port.
      hostPorts: [
        { port: 7946, protocol: "TCP" },
        { port: 7946, protocol: "UDP" },
        { port: 7472, protocol: "TCP" },
      ],
    },
  ];
}

/** Helm values: L2 only, resources and placement from the plan. */
export function metallbValues(
  topology: Topology,
  workloads: readonly WorkloadSpec[] = metallbWorkloads(),
): Record<string, unknown> {
  const pod = (name: string) => podValues(topology, workloads, name);
  return {
    controller: pod("metallb-controller"),
    speaker: {
      ...pod("metallb-speaker"),
      // FRR is for BGP; layer 2 does not need it, and it costs memory on every node.
      frr: { enabled: false },
    },
  };
}

/** The address pool and its layer-2 advertisement. */
export function metallbPoolManifests(settings: MetallbSettings): Record<string, unknown>[] {
  const labels = { "app.kubernetes.io/managed-by": "pulumi" };
  return [
    {
      apiVersion: "metallb.io/v1beta1",
      kind: "IPAddressPool",
      metadata: { name: METALLB_POOL, namespace: METALLB_NAMESPACE, labels },
      spec: {
        addresses: [...settings.addresses],
        // Every address here is assigned to a named service: nothing is handed out at random.
        autoAssign: false,
      },
    },
    {
      apiVersion: "metallb.io/v1beta1",
      kind: "L2Advertisement",
      metadata: { name: METALLB_POOL, namespace: METALLB_NAMESPACE, labels },
      spec: { ipAddressPools: [METALLB_POOL] },
    },
  ];
}

/**
 * Annotations that give a LoadBalancer Service its fixed MetalLB address (`spec.loadBalancerIP`
 * is deprecated since Kubernetes 1.24).
 */
export function loadBalancerAnnotations(address: string): Record<string, string> {
  return { "metallb.io/loadBalancerIPs": address };
}

export interface MetallbArgs {
  readonly topology: Topology & { readonly metallb: MetallbSettings };
  readonly provider: k8s.Provider;
  /** @default [] */
  readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
}

/** MetalLB, its pool and advertisement. */
export class Metallb extends pulumi.ComponentResource {
  public readonly release: k8s.helm.v3.Release;
  /** Ready for LoadBalancer Services once these exist. */
  public readonly pool: readonly k8s.apiextensions.CustomResource[];

  constructor(name: string, args: MetallbArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pi-cluster:platform:Metallb", name, {}, opts);
    const { topology, provider } = args;
    const ns = namespace(
      METALLB_NAMESPACE,
      { parent: this, provider, dependsOn: args.dependsOn },
      // The speaker needs NET_RAW and hostNetwork: privileged under Pod Security.
      { "pod-security.kubernetes.io/enforce": "privileged" },
    );
    this.release = helmRelease(
      "metallb",
      { chart: METALLB, namespace: METALLB_NAMESPACE, values: metallbValues(topology) },
      { parent: this, provider, dependsOn: [ns] },
    );
    // MetalLB's webhook (failurePolicy Fail) validates these: after the release.
    this.pool = metallbPoolManifests(topology.metallb).map(
      (manifest) =>
        new k8s.apiextensions.CustomResource(
          `metallb-${String(manifest.kind).toLowerCase()}`,
          manifest as k8s.apiextensions.CustomResourceArgs,
          { parent: this, provider, dependsOn: [this.release] },
        ),
    );
    this.registerOutputs({});
  }
}
