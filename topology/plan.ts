/**
 * Turns a stack's raw config into the typed Topology every component consumes: validation first
 * (all problems at once, as a ConfigError), then roles, join order, labels, the API endpoint,
 * memory budgets, workload placement and the capacity check.
 */
import {
  AnyApp,
  AppPlanContext,
  checkAppSecrets,
  parseAppSections,
  PlannedVolume,
  planVolumes,
  StatefulVolume,
} from "./apps";
import { planCapacity } from "./capacity";
import {
  CONFIG_NAMESPACE,
  isNearNamespace,
  NodeConfig,
  PLATFORM_SECRET_KEYS,
  parseStackConfig,
  PlacementConfig,
  StackConfig,
} from "./config";
import { ConfigError, ConfigProblem, pastedSecrets, redactSecrets } from "./errors";
import { ALLOCATABLE_MI_BY_RAM_GB, DEFAULT_K3S_DISABLE, K3S_OVERHEAD_MI } from "./hardware";
import { memoryMi } from "./quantity";
import { parseSecretRef } from "./secret-ref";
import { K3sSettings, PlannedNode, PlannedPlacement, PlatformSettings, Topology } from "./types";
import {
  checkPlacementRule,
  eligibleNodes,
  implicitLabels,
  usesEmbeddedEtcd,
  validatePlacements,
  validateStackConfig,
} from "./validate";
import { K3S_SYSTEM_WORKLOADS, WorkloadSpec } from "./workloads";

/** The stack's workloads as a function of its platform settings (and whether it has MetalLB). */
export type WorkloadsOf = (
  platform: PlatformSettings,
  hasMetallb: boolean,
) => readonly WorkloadSpec[];

/** Time zone when `pi-cluster:cluster.timezone` is not set. */
export const DEFAULT_TIMEZONE = "UTC";

/** Default resolvers for the nodes themselves (seed 001, "DNS Resilience"). */
export const DEFAULT_NODE_DNS = ["1.1.1.1", "8.8.8.8"] as const;

/** k3s component each packaged workload belongs to, to drop it when `disable:` names it. */
const K3S_COMPONENT_OF: Record<string, string> = {
  coredns: "coredns",
  "metrics-server": "metrics-server",
  "local-path-provisioner": "local-storage",
};

/**
 * Reads every `pi-cluster:*` key out of a flat Pulumi config map (`{"pi-cluster:nodes": "[...]"}`,
 * values as JSON strings the way Pulumi stores structured config), decoding JSON values. Keys in
 * a namespace that looks like a misspelling of ours (`picluster:nodes`) are kept under their full
 * key, so validation can point at them; providers' namespaces are left out.
 */
export function rawStackConfig(
  allConfig: Readonly<Record<string, string>>,
): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(allConfig)) {
    const ours = key.startsWith(`${CONFIG_NAMESPACE}:`);
    if (!ours && !isNearNamespace(key.slice(0, Math.max(0, key.indexOf(":"))))) continue;
    let decoded: unknown = value;
    try {
      decoded = JSON.parse(value);
    } catch {
      // A plain string value stays a string.
    }
    raw[ours ? key.slice(CONFIG_NAMESPACE.length + 1) : key] = decoded;
  }
  return raw;
}

/**
 * Validates the config and plans the topology. `workloads` are the stack's own workloads (k3s's
 * packaged ones are added here), or a function of the platform settings when which pods run
 * depends on them (a DaemonSet on host ports or a Deployment behind MetalLB); their names are
 * what `pi-cluster:placement` may refer to. `apps` are the stack's apps: each reads its section of
 * `pi-cluster:apps` and adds its workloads.
 * @throws ConfigError naming every bad key, value and what is allowed
 */
export function planTopology(
  stack: string,
  raw: Record<string, unknown>,
  workloads: readonly WorkloadSpec[] | WorkloadsOf,
  apps: readonly AnyApp[] = [],
  platformVolumes: (platform: PlatformSettings) => readonly StatefulVolume[] = () => [],
): Topology {
  // Every message goes through showValue, which hides secrets; this catches any that slip past.
  const fail = (problems: readonly ConfigProblem[]) =>
    new ConfigError(stack, redactSecrets(problems, pastedSecrets(raw)));
  const parsed = parseStackConfig(raw);
  if (!parsed.ok) throw fail(parsed.problems);
  const config = parsed.config;

  const problems = [
    ...validateStackConfig(config),
    ...checkAppSecrets(apps, config.secrets, PLATFORM_SECRET_KEYS),
  ];
  const sections = parseAppSections(apps, config.apps);
  problems.push(...sections.problems);
  if (problems.length > 0) throw fail(problems);

  const nodes = planNodes(config);
  const firstServer = nodes.find((n) => n.isFirstServer)!;
  const platform = planPlatform(config, firstServer);
  const context = planContext(stack, config, nodes, platform);
  for (const app of apps)
    problems.push(...(app.validate?.(sections.configs[app.name], context) ?? []));
  if (problems.length > 0) throw fail(problems);

  const allWorkloads = [
    ...systemWorkloads(config),
    ...(typeof workloads === "function"
      ? workloads(platform, config.metallb !== undefined)
      : workloads),
    ...apps.flatMap((app) => app.workloads(sections.configs[app.name], context)),
  ];
  const duplicate = allWorkloads.find(
    (w, i) => allWorkloads.findIndex((o) => o.name === w.name) !== i,
  );
  if (duplicate) {
    // A program error, not a config error: two components claimed the same workload name.
    throw new Error(
      `workload name "${duplicate.name}" is declared twice; workload names must be unique`,
    );
  }
  problems.push(
    ...validatePlacements(
      config,
      allWorkloads.map((w) => w.name),
    ),
  );
  if (problems.length > 0) throw fail(problems);

  const placements = planPlacements(config, nodes, allWorkloads, problems);
  if (problems.length > 0) throw fail(problems);

  const volumes = planVolumes(
    [
      ...platformVolumes(platform),
      ...apps.flatMap((app) => app.volumes?.(sections.configs[app.name], context) ?? []),
    ],
    config.volumes,
  );
  if (volumes.problems.length > 0) throw fail(volumes.problems);
  const unpinned = localVolumesOnOneNode(volumes.volumes, placements);
  if (unpinned.length > 0) throw fail(unpinned);

  const capacity = planCapacity(
    nodes,
    allWorkloads,
    placements,
    new Set(Object.keys(config.placement ?? {})),
  );
  if (capacity.problems.length > 0) throw fail(capacity.problems);

  return {
    ...context,
    onepasswordVault: config.cluster.onepasswordVault,
    firstServer,
    k3s: planK3s(config, nodes, firstServer),
    placements,
    capacity: capacity.nodes,
    apps: sections.configs,
    volumes: volumes.volumes,
    ...(config.takeover
      ? {
          takeover: {
            from: config.takeover.from,
            stage: config.takeover.stage ?? "all",
            leftovers: config.takeover.leftovers ?? {},
          },
        }
      : {}),
  };
}

/** The part of the plan apps read while planning (everything but placement and capacity). */
function planContext(
  stack: string,
  config: StackConfig,
  nodes: readonly PlannedNode[],
  platform: PlatformSettings,
): AppPlanContext {
  return {
    stack,
    domain: config.cluster.domain,
    nodes,
    network: {
      subnet: config.network.subnet,
      gateway: config.network.gateway,
      nodeDns: config.network.nodeDns ?? [...DEFAULT_NODE_DNS],
      ...(config.network.nas ? { nas: config.network.nas } : {}),
    },
    ...(config.metallb
      ? {
          metallb: { addresses: config.metallb.addresses, services: config.metallb.services ?? {} },
        }
      : {}),
    platform,
    timezone: config.cluster.timezone ?? DEFAULT_TIMEZONE,
    // Validated above: every value is an op:// reference.
    secrets: Object.fromEntries(
      Object.entries(config.secrets).map(([key, uri]) => [key, parseSecretRef(uri)!]),
    ),
  };
}

/**
 * A local volume lives on the disk of the node its claim was first bound on: the workload that
 * mounts it must be pinned there, or a reschedule would start it elsewhere with no data (and the
 * backups would look for the data on the wrong node).
 */
function localVolumesOnOneNode(
  volumes: readonly PlannedVolume[],
  placements: Readonly<Record<string, PlannedPlacement>>,
): ConfigProblem[] {
  return volumes
    .filter((v) => v.storage === "local")
    .flatMap((v) => {
      const eligible = placements[v.workload]?.eligibleNodes ?? [];
      if (eligible.length <= 1) return [];
      const key = `pi-cluster:placement.${v.workload}`;
      return [
        {
          key,
          message:
            `${key}: ${v.workload} keeps ${v.key} (${v.size}) on one node's local disk but may run on ` +
            `${eligible.join(", ")}; pin it with ${key}.node (the node its volume is on)`,
        },
      ];
    });
}

function planPlatform(config: StackConfig, firstServer: PlannedNode): PlatformSettings {
  const { platform, secrets, cluster } = config;
  const exposure = platform.ingress?.exposure ?? "hostPort";
  const ref = (uri: string) => parseSecretRef(uri)!;
  const token = platform.certificates.cloudflareToken ?? "create";
  return {
    ingress: {
      controller: platform.ingress?.controller ?? "ingress-nginx",
      exposure,
      address:
        platform.ingress?.address ??
        (exposure === "loadBalancer" ? config.metallb!.services!.ingress : firstServer.ip),
    },
    certificates: {
      ...(platform.certificates.acmeEmail ? { acmeEmail: platform.certificates.acmeEmail } : {}),
      issuer: platform.certificates.issuer ?? "production",
      dnsZone: platform.certificates.dnsZone ?? cluster.domain.split(".").slice(-2).join("."),
      cloudflareToken:
        token === "create" ? { kind: "create" } : { kind: "onepassword", ref: ref(token) },
    },
    monitoring: {
      retention: platform.monitoring?.retention ?? "10d",
      storage: platform.monitoring?.storage ?? "10Gi",
    },
    secrets: {
      externalSecretsToken: ref(secrets.externalSecretsToken),
      cloudflareApiToken: ref(secrets.cloudflareApiToken),
      grafanaAdminPassword: ref(secrets.grafanaAdminPassword),
      discordWebhook: ref(secrets.discordWebhook),
    },
  };
}

function systemWorkloads(config: StackConfig): WorkloadSpec[] {
  const disabled = config.cluster.k3s.disable ?? DEFAULT_K3S_DISABLE;
  return K3S_SYSTEM_WORKLOADS.filter((w) => !disabled.includes(K3S_COMPONENT_OF[w.name]));
}

function planNodes(config: StackConfig): PlannedNode[] {
  const etcd = usesEmbeddedEtcd(config);
  const servers = config.nodes.filter((n) => n.role === "server");
  const first = servers.find((n) => n.clusterInit) ?? servers[0];
  // First server, then the other servers in config order, then agents: HA servers join one at a time.
  const order = [
    first,
    ...servers.filter((n) => n !== first),
    ...config.nodes.filter((n) => n.role === "agent"),
  ];
  return config.nodes.map((node) =>
    planNode(config, node, node === first, etcd, order.indexOf(node)),
  );
}

function planNode(
  config: StackConfig,
  node: NodeConfig,
  isFirstServer: boolean,
  etcd: boolean,
  joinOrder: number,
): PlannedNode {
  const labels = { ...(node.labels ?? {}) };
  const registrationLabels = Object.fromEntries(
    // The NodeRestriction admission plugin refuses self-set labels under kubernetes.io / k8s.io
    // (node-role.kubernetes.io/worker included): those come from the NodePatch only.
    Object.entries(labels).filter(([key]) => !/(^|[./])(kubernetes\.io|k8s\.io)\//.test(key)),
  );
  const overhead =
    node.role === "agent"
      ? K3S_OVERHEAD_MI.agent
      : etcd
        ? K3S_OVERHEAD_MI.serverWithEtcd
        : K3S_OVERHEAD_MI.server;
  const privateKey = parseSecretRef(node.ssh?.privateKey ?? config.ssh.privateKey)!;
  return {
    hostname: node.hostname,
    ip: node.ip,
    model: node.model,
    memoryGb: node.memoryGb,
    role: node.role,
    isFirstServer,
    clusterInit: isFirstServer && etcd,
    joinOrder,
    labels,
    registrationLabels,
    allocatableMi: node.allocatableMemory
      ? memoryMi(node.allocatableMemory)
      : ALLOCATABLE_MI_BY_RAM_GB[node.memoryGb],
    k3sOverheadMi: node.k3sMemory ? memoryMi(node.k3sMemory) : overhead,
    interface: node.interface ?? "eth0",
    ssh: {
      user: node.ssh?.user ?? config.ssh.user,
      port: node.ssh?.port ?? config.ssh.port ?? 22,
      privateKey,
      ...(node.ssh?.hostKey ? { hostKey: node.ssh.hostKey } : {}),
    },
  };
}

function planK3s(config: StackConfig, nodes: PlannedNode[], first: PlannedNode): K3sSettings {
  const k3s = config.cluster.k3s;
  const apiEndpoint = k3s.apiEndpoint ?? first.ip;
  const serverIps = nodes.filter((n) => n.role === "server").map((n) => n.ip);
  const tlsSans = [...new Set([apiEndpoint, ...serverIps, ...(k3s.tlsSans ?? [])])];
  const tokenRef =
    k3s.token && k3s.token !== "first-server" ? parseSecretRef(k3s.token) : undefined;
  return {
    version: k3s.version,
    disable: [...(k3s.disable ?? DEFAULT_K3S_DISABLE)],
    apiEndpoint,
    serverUrl: `https://${apiEndpoint}:6443`,
    tlsSans,
    embeddedEtcd: usesEmbeddedEtcd(config),
    token: tokenRef ? { kind: "onepassword", ref: tokenRef } : { kind: "first-server" },
    kubeconfigMode: k3s.kubeconfigMode ?? "0600",
  };
}

function planPlacements(
  config: StackConfig,
  nodes: PlannedNode[],
  workloads: WorkloadSpec[],
  problems: ConfigProblem[],
): Record<string, PlannedPlacement> {
  const etcd = usesEmbeddedEtcd(config);
  const labelled = nodes.map((n) => ({
    hostname: n.hostname,
    labels: { ...n.labels, ...implicitLabels(n.hostname, n.role, etcd) },
  }));
  const placements: Record<string, PlannedPlacement> = {};
  for (const workload of workloads) {
    const configured = config.placement?.[workload.name];
    const rule: PlacementConfig = configured ?? { ...workload.defaultPlacement };
    if (!configured && workload.defaultPlacement) {
      // A default in code can still name a label no node has (e.g. zigbee=true): same check.
      problems.push(
        ...checkPlacementRule(
          `pi-cluster:placement.${workload.name} (default)`,
          rule,
          nodes.map((n) => n.hostname),
          labelled,
        ),
      );
    }
    const node = "node" in rule ? rule.node : undefined;
    const nodeSelector = {
      ...(rule.nodeSelector ?? {}),
      ...(node ? { "kubernetes.io/hostname": node } : {}),
    };
    const preferNodes = "preferNodes" in rule ? (rule.preferNodes ?? []) : [];
    placements[workload.name] = {
      workload: workload.name,
      nodeSelector,
      prefer: rule.prefer ?? {},
      preferNodes,
      eligibleNodes: eligibleNodes({ nodeSelector }, labelled),
    };
  }
  return placements;
}
