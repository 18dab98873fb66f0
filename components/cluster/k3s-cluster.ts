/**
 * The k3s cluster of a topology: every node prepared and joined in the planned order, the token
 * and kubeconfig read from the first server as secrets, a Kubernetes provider built from that
 * kubeconfig, node labels kept declaratively, and removal handled (drain, then uninstall).
 */
import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  asRootCommand,
  commandName,
  drainScript,
  readKubeconfigScript,
  readTokenScript,
  rewriteKubeconfigServer,
} from "../../provisioning";
import { PlannedNode, Topology } from "../../topology/types";
import { OnePasswordSecrets } from "../secrets/onepassword";
import { K3sNode } from "./k3s-node";
import { sshConnection } from "./ssh";

export interface K3sClusterArgs {
  readonly topology: Topology;
  /** Where SSH keys (and a configured k3s token) come from. */
  readonly secrets: OnePasswordSecrets;
}

/** A running k3s cluster and the means to deploy onto it. */
export class K3sCluster extends pulumi.ComponentResource {
  /** Kubeconfig pointing at the API endpoint, admin credentials inside: a secret. */
  public readonly kubeconfig: pulumi.Output<string>;
  /** The cluster join token: a secret. */
  public readonly token: pulumi.Output<string>;
  /** Provider for everything deployed onto the cluster. */
  public readonly provider: k8s.Provider;
  /** Each node by hostname. */
  public readonly nodes: Readonly<Record<string, K3sNode>>;
  /** Resources that exist once every node has joined (depend on these to deploy workloads). */
  public readonly ready: readonly pulumi.Resource[];

  constructor(name: string, args: K3sClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pi-cluster:cluster:K3sCluster", name, {}, opts);
    const { topology, secrets } = args;
    const { k3s } = topology;
    const keyOf = (node: PlannedNode) => secrets.get(node.ssh.privateKey);

    const first = topology.firstServer;
    const configuredToken =
      k3s.token.kind === "onepassword" ? secrets.get(k3s.token.ref) : undefined;
    const firstNode = new K3sNode(
      first.hostname,
      {
        node: first,
        k3s,
        network: topology.network,
        privateKey: keyOf(first),
        token: configuredToken,
      },
      { parent: this },
    );

    const fromFirst = (step: "read-token" | "read-kubeconfig", script: string) =>
      new command.remote.Command(
        commandName(first.hostname, step),
        {
          connection: sshConnection(first, keyOf(first)),
          create: asRootCommand(script),
          // The output is the secret itself: keep it out of logs and mark it secret in state.
          logging: "none",
          addPreviousOutputInEnv: false,
        },
        { parent: this, dependsOn: [firstNode.ready], additionalSecretOutputs: ["stdout"] },
      );
    this.token =
      configuredToken ??
      pulumi.secret(fromFirst("read-token", readTokenScript(first)).stdout.apply((t) => t.trim()));
    this.kubeconfig = pulumi.secret(
      fromFirst("read-kubeconfig", readKubeconfigScript(first)).stdout.apply((text) =>
        rewriteKubeconfigServer(text, k3s.serverUrl),
      ),
    );

    // Servers join one at a time, each after the one before is ready (etcd adds one member at a
    // time); agents join in parallel once the first server is ready.
    const nodes: Record<string, K3sNode> = { [first.hostname]: firstNode };
    const byJoinOrder = [...topology.nodes]
      .sort((a, b) => a.joinOrder - b.joinOrder)
      .filter((n) => n !== first);
    let lastServer = firstNode;
    for (const node of byJoinOrder) {
      const joined = new K3sNode(
        node.hostname,
        {
          node,
          k3s,
          network: topology.network,
          privateKey: keyOf(node),
          token: this.token,
          joinAfter: [node.role === "server" ? lastServer.ready : firstNode.ready],
        },
        { parent: this },
      );
      if (node.role === "server") lastServer = joined;
      nodes[node.hostname] = joined;

      // Removing a node from config drains it from the first server, then (its own membership
      // resource being deleted next) uninstalls k3s on it.
      new command.remote.Command(
        commandName(node.hostname, "drain"),
        {
          connection: sshConnection(first, keyOf(first)),
          create: `echo "pi-cluster: ${node.hostname} will be drained from ${first.hostname} when it leaves"`,
          delete: asRootCommand(drainScript(node.hostname)),
          addPreviousOutputInEnv: false,
        },
        { parent: this, dependsOn: [joined.membership, firstNode.membership] },
      );
    }
    this.nodes = nodes;

    this.provider = new k8s.Provider(
      `${topology.stack}-k3s`,
      {
        kubeconfig: this.kubeconfig,
        // A stable identity: a re-issued kubeconfig (new certs, same cluster) must not replace
        // every Kubernetes resource.
        clusterIdentifier: `pi-cluster-${topology.stack}`,
      },
      { parent: this },
    );

    const readyAll = Object.values(nodes).map((n) => n.ready);
    // Labels managed declaratively after the join (k3s's node-label only applies at first
    // registration; node-role labels are refused there): relabelling is a NodePatch update.
    for (const node of topology.nodes) {
      if (Object.keys(node.labels).length === 0) continue;
      new k8s.core.v1.NodePatch(
        `${node.hostname}-labels`,
        { metadata: { name: node.hostname, labels: { ...node.labels } } },
        { parent: this, provider: this.provider, dependsOn: [nodes[node.hostname].ready] },
      );
    }
    this.ready = readyAll;

    this.registerOutputs({ kubeconfig: this.kubeconfig });
  }
}
