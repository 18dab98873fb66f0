/**
 * The typed topology plan: what the validated stack config says about the cluster, in the shape
 * the components consume. Everything here is a plain value (never an Output), so the number and
 * names of resources are decided before any resource is declared.
 */

/** Raspberry Pi boards the program knows how to prepare. */
export type PiModel = "pi3" | "pi4" | "pi5";

/** How a node takes part in the k3s cluster. */
export type NodeRole = "server" | "agent";

/** A 1Password secret reference in 1Password's own `op://<vault>/<item>/<field>` form. */
export interface SecretRef {
  readonly vault: string;
  readonly item: string;
  readonly field: string;
  /** The reference exactly as written in config, e.g. `op://pi-cluster/pihole/password`. */
  readonly uri: string;
}

/** SSH access to one node. */
export interface SshAccess {
  /** Login user (never defaulted to root). */
  readonly user: string;
  readonly port: number;
  /** Private key for this node, from 1Password. */
  readonly privateKey: SecretRef;
  /** Pinned host public key (`ssh-ed25519 AAAA...`); unchecked when absent. */
  readonly hostKey?: string;
}

/** One Raspberry Pi in the plan. */
export interface PlannedNode {
  readonly hostname: string;
  readonly ip: string;
  readonly model: PiModel;
  /** Installed RAM in GB, as sold (1, 2, 4, 8, 16). */
  readonly memoryGb: number;
  readonly role: NodeRole;
  /**
   * The server that starts the cluster. With embedded etcd it gets `cluster-init: true`; with a
   * single server it is simply the server every agent joins.
   */
  readonly isFirstServer: boolean;
  /** True on the one server that runs `cluster-init` (embedded etcd). */
  readonly clusterInit: boolean;
  /** Order in which the node joins: the first server is 0, other servers next, agents last. */
  readonly joinOrder: number;
  /** All labels the program manages on the node (applied with a NodePatch after join). */
  readonly labels: Readonly<Record<string, string>>;
  /**
   * The subset of `labels` the kubelet may set on itself at registration (`node-label` in the k3s
   * config). Labels in the `kubernetes.io` / `k8s.io` namespaces are refused by the NodeRestriction
   * admission plugin, so they are applied only by the NodePatch.
   */
  readonly registrationLabels: Readonly<Record<string, string>>;
  /** Memory the kubelet reports as allocatable, in MiB. */
  readonly allocatableMi: number;
  /** Memory k3s itself (server or agent process, etcd) uses outside any pod, in MiB. */
  readonly k3sOverheadMi: number;
  /** Network interface that carries the node's LAN address (for VRRP and MetalLB L2). */
  readonly interface: string;
  readonly ssh: SshAccess;
}

/** Where the k3s token comes from. */
export type K3sTokenSource =
  | { readonly kind: "first-server" }
  | { readonly kind: "onepassword"; readonly ref: SecretRef };

/** k3s settings shared by every node (servers must agree on them or the join fails). */
export interface K3sSettings {
  /** Pinned release, e.g. `v1.33.6+k3s1`. */
  readonly version: string;
  /** Packaged components k3s must not deploy (`disable:`), e.g. `traefik`, `servicelb`. */
  readonly disable: readonly string[];
  /** Address clients and joining nodes use for the API server (an IP or DNS name). */
  readonly apiEndpoint: string;
  /** `https://<apiEndpoint>:6443`. */
  readonly serverUrl: string;
  /** Extra names and addresses in the API server certificate. */
  readonly tlsSans: readonly string[];
  /** Embedded etcd (more than one server, or asked for) instead of the default SQLite. */
  readonly embeddedEtcd: boolean;
  readonly token: K3sTokenSource;
  /** `write-kubeconfig-mode` for /etc/rancher/k3s/k3s.yaml. */
  readonly kubeconfigMode: string;
}

/** LAN settings every node shares. */
export interface NetworkSettings {
  /** CIDR of the LAN the nodes sit on, e.g. `192.168.1.0/24`. */
  readonly subnet: string;
  readonly gateway: string;
  /** Static resolvers for the nodes themselves (never the in-cluster Pi-hole). */
  readonly nodeDns: readonly string[];
}

/** A workload's placement rule, resolved against the nodes. */
export interface PlannedPlacement {
  readonly workload: string;
  /** Required node labels (becomes a nodeSelector). Empty: the scheduler decides. */
  readonly nodeSelector: Readonly<Record<string, string>>;
  /** Preferred node labels (becomes a preferred node affinity). */
  readonly prefer: Readonly<Record<string, string>>;
  /** Preferred nodes by hostname (a preferred affinity on kubernetes.io/hostname). */
  readonly preferNodes: readonly string[];
  /** Nodes that satisfy `nodeSelector`, in node order. */
  readonly eligibleNodes: readonly string[];
}

/** MetalLB's pool and fixed per-service addresses (stacks without MetalLB have none). */
export interface MetallbSettings {
  readonly addresses: readonly string[];
  readonly services: Readonly<Record<string, string>>;
}

/** The whole validated plan of one stack. */
export interface Topology {
  /** Pulumi stack name, e.g. `pi-k3s`. */
  readonly stack: string;
  /** Web apps live at `<app>.<domain>`. */
  readonly domain: string;
  /** 1Password vault holding the stack's secrets. */
  readonly onepasswordVault: string;
  /** Every node, in config order. */
  readonly nodes: readonly PlannedNode[];
  /** The server every other node joins. */
  readonly firstServer: PlannedNode;
  readonly k3s: K3sSettings;
  readonly network: NetworkSettings & { readonly nas?: string };
  /** Placement per workload name, config rules over code defaults. */
  readonly placements: Readonly<Record<string, PlannedPlacement>>;
  /** Expected pods per node and their summed requests and limits. */
  readonly capacity: readonly import("./capacity").NodeLoad[];
  readonly metallb?: MetallbSettings;
  readonly platform: PlatformSettings;
  /** IANA time zone for schedules and app logs. */
  readonly timezone: string;
  /** Every `pi-cluster:secrets` reference by key (the platform's and the apps'). */
  readonly secrets: Readonly<Record<string, SecretRef>>;
  /**
   * Each app's parsed `pi-cluster:apps.<app>` section, by app name; the app's module reads its
   * own back with its own type.
   */
  readonly apps: Readonly<Record<string, unknown>>;
  /** The running cluster this stack takes over, if any (`pi-cluster:takeover`). */
  readonly takeover?: {
    readonly from: "flux";
    readonly stage: "cluster" | "all";
    readonly leftovers: Readonly<Record<string, string>>;
  };
  /** Every stateful volume (the platform's and the apps'), as this stack deploys it. */
  readonly volumes: readonly import("./apps").PlannedVolume[];
}

/** Cluster platform settings: ingress, certificates, monitoring, and the secrets they use. */
export interface PlatformSettings {
  readonly ingress: {
    readonly controller: "ingress-nginx" | "traefik";
    readonly exposure: "hostPort" | "loadBalancer";
    /** The address `*.<domain>` resolves to. */
    readonly address: string;
  };
  readonly certificates: {
    /** Contact on the ACME account, if the stack gives one. */
    readonly acmeEmail?: string;
    /** Which Let's Encrypt issuer the routes use (`pi-cluster:platform.certificates.issuer`). */
    readonly issuer: "staging" | "production";
    readonly dnsZone: string;
    readonly cloudflareToken:
      | { readonly kind: "create" }
      | { readonly kind: "onepassword"; readonly ref: SecretRef };
  };
  readonly monitoring: { readonly retention: string; readonly storage: string };
  readonly secrets: {
    readonly externalSecretsToken: SecretRef;
    readonly cloudflareApiToken: SecretRef;
    readonly grafanaAdminPassword: SecretRef;
    readonly discordWebhook: SecretRef;
  };
}
