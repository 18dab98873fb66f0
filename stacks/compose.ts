/**
 * The composition every topology shares: validated config → topology plan → nodes and k3s →
 * platform → apps. Stack files choose what differs (their workloads); everything else about a
 * stack is data in its `Pulumi.<stack>.yaml`.
 */
import * as pulumi from "@pulumi/pulumi";
import { endpointHost } from "../topology/catalog";
import { planTopology, rawStackConfig, WorkloadsOf } from "../topology/plan";
import { Topology } from "../topology/types";
import { PlatformSettings } from "../topology/types";
import { WorkloadSpec } from "../topology/workloads";
import { K3sCluster } from "../components/cluster/k3s-cluster";
import { Platform, platformWorkloads } from "../components/platform/platform";
import { OnePasswordSecrets } from "../components/secrets/onepassword";

/** What a composed stack returns: its plan (for the offline plan) and its stack outputs. */
export interface StackResult {
  readonly topology: Topology;
  readonly outputs: Record<string, unknown>;
}

/** What a stack file passes to the shared composition. */
export interface ComposeArgs {
  /** Workloads the stack deploys beyond what k3s runs itself. */
  readonly workloads: readonly WorkloadSpec[];
}

/** Every workload of a stack: the platform's (which depend on its settings) and its apps'. */
export function stackWorkloads(apps: readonly WorkloadSpec[]): WorkloadsOf {
  return (platform: PlatformSettings, hasMetallb: boolean) => [
    ...platformWorkloads(platform, hasMetallb),
    ...apps,
  ];
}

/** Plans the stack from its config and declares its resources. */
export function composeStack(stack: string, args: ComposeArgs): StackResult {
  const topology = planTopology(
    stack,
    rawStackConfig(pulumi.runtime.allConfig()),
    stackWorkloads(args.workloads),
  );
  const secrets = new OnePasswordSecrets();
  const cluster = new K3sCluster(stack, { topology, secrets });
  const platform = new Platform("platform", { topology, cluster, secrets });
  return {
    topology,
    outputs: {
      apiServer: topology.k3s.serverUrl,
      nodes: topology.nodes.map((n) => ({ hostname: n.hostname, ip: n.ip, role: n.role })),
      // `pulumi stack output kubeconfig --show-secrets > kubeconfig` to use kubectl.
      kubeconfig: cluster.kubeconfig,
      urls: Object.fromEntries(
        platform.catalog.map((e) => [e.name, `https://${endpointHost(e, topology.domain)}`]),
      ),
    },
  };
}
