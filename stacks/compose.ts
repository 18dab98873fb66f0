/**
 * The composition every topology shares: validated config → topology plan → nodes and k3s →
 * platform → apps → routes. Stack files choose their apps; everything else about a stack is data
 * in its `Pulumi.<stack>.yaml`.
 */
import * as pulumi from "@pulumi/pulumi";
import { DatabaseSpec } from "../topology/apps";
import { CatalogEntry, entryUrl, NonWebMonitor } from "../topology/catalog";
import { planTopology, rawStackConfig, WorkloadsOf } from "../topology/plan";
import { PlatformSettings, Topology } from "../topology/types";
import { AnyAppModule } from "../components/apps/app";
import { K3sCluster } from "../components/cluster/k3s-cluster";
import {
  Platform,
  platformCatalog,
  platformMonitors,
  platformVolumes,
  platformWorkloads,
} from "../components/platform/platform";
import { OnePasswordSecrets } from "../components/secrets/onepassword";

/** What a composed stack returns: its plan (for the offline plan) and its stack outputs. */
export interface StackResult {
  readonly topology: Topology;
  readonly outputs: Record<string, unknown>;
}

/** What a stack file passes to the shared composition. */
export interface ComposeArgs {
  /** The apps the stack runs beyond the platform, in the order they deploy. */
  readonly apps: readonly AnyAppModule[];
}

/** The platform's workloads (which depend on its settings); apps add theirs when planned. */
export { platformVolumes };

export const platformWorkloadsOf: WorkloadsOf = (platform: PlatformSettings, hasMetallb) =>
  platformWorkloads(platform, hasMetallb);

/** The stack's catalog: the platform's entries, then each app's, names unique. */
export function stackCatalog(topology: Topology, apps: readonly AnyAppModule[]): CatalogEntry[] {
  const entries = [
    ...platformCatalog(),
    ...apps.flatMap((app) => app.endpoints?.(topology.apps[app.name], topology) ?? []),
  ];
  const seen = new Set<string>();
  for (const entry of entries) {
    for (const source of Object.values(entry.dashboard?.widget?.secrets ?? {})) {
      if (!topology.secrets[source]) {
        // A program error: the widget reads a secret no app declared in its `secrets`.
        throw new Error(
          `catalog entry "${entry.name}": its widget reads pi-cluster:secrets.${source}, which no app declares`,
        );
      }
    }
    if (seen.has(entry.name)) {
      // A program error: two modules claimed one catalog name.
      throw new Error(`catalog entry "${entry.name}" is declared twice; names must be unique`);
    }
    seen.add(entry.name);
  }
  return entries;
}

/** The stack's non-web monitors: the platform's, then each app's. */
export function stackMonitors(topology: Topology, apps: readonly AnyAppModule[]): NonWebMonitor[] {
  return [
    ...platformMonitors(topology),
    ...apps.flatMap((app) => app.monitors?.(topology.apps[app.name], topology) ?? []),
  ];
}

/** Every app's databases (what the dump jobs back up). */
export function stackDatabases(topology: Topology, apps: readonly AnyAppModule[]): DatabaseSpec[] {
  return apps.flatMap((app) => app.databases?.(topology.apps[app.name], topology) ?? []);
}

/** Plans the stack from its config and declares its resources. */
export function composeStack(stack: string, args: ComposeArgs): StackResult {
  const topology = planTopology(
    stack,
    rawStackConfig(pulumi.runtime.allConfig()),
    platformWorkloadsOf,
    args.apps,
    platformVolumes,
  );
  const catalog = stackCatalog(topology, args.apps);
  const monitors = stackMonitors(topology, args.apps);
  const secrets = new OnePasswordSecrets();
  const cluster = new K3sCluster(stack, { topology, secrets });
  const clusterOutputs = {
    apiServer: topology.k3s.serverUrl,
    nodes: topology.nodes.map((n) => ({ hostname: n.hostname, ip: n.ip, role: n.role })),
    // `pulumi stack output kubeconfig --show-secrets > kubeconfig` to use kubectl.
    kubeconfig: cluster.kubeconfig,
  };
  if (topology.takeover?.stage === "cluster") {
    // The handover's first step: nodes, k3s and the provider only, so `pulumi import` can adopt
    // the running objects with that provider before anything else is declared.
    return { topology, outputs: clusterOutputs };
  }
  const platform = new Platform("platform", { topology, cluster, secrets, catalog });
  const context = {
    topology,
    provider: cluster.provider,
    platform,
    catalog,
    monitors,
    volumes: topology.volumes,
    databases: stackDatabases(topology, args.apps),
    nodesReady: [...cluster.ready],
  };
  const deployed = args.apps.map((app) =>
    app.deploy(topology.apps[app.name], context, { dependsOn: [...cluster.ready] }),
  );
  platform.routeCatalog(deployed);
  return {
    topology,
    outputs: {
      ...clusterOutputs,
      urls: Object.fromEntries(
        catalog.flatMap((e) => {
          const url = entryUrl(e, topology.domain);
          return url ? [[e.name, url]] : [];
        }),
      ),
    },
  };
}
