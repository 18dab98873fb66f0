/**
 * The capacity check: where each workload's pods are expected to land and whether every node
 * can hold what is placed on it. It is a plan, not the scheduler: pinned pods and DaemonSets go
 * where they must, floating pods go to a preferred node with room, else to the node with the
 * most room left (what the default scheduler's LeastAllocated scoring does).
 */
import { ConfigProblem } from "./errors";
import { cpuMillis, formatMi, memoryMi } from "./quantity";
import { PlannedNode, PlannedPlacement } from "./types";
import { HostPort, WorkloadSpec } from "./workloads";

/** One pod counted on a node. */
export interface PlacedPod {
  readonly workload: string;
  readonly namespace: string;
  /** `pinned`: only one node qualifies; `daemonset`: one per node; `expected`: the planner's pick. */
  readonly how: "pinned" | "daemonset" | "expected";
  readonly memoryRequestMi: number;
  readonly memoryLimitMi: number;
  readonly cpuRequestMillis: number;
  readonly cpuLimitMillis: number;
}

/** A node's memory budget and what is placed on it. */
export interface NodeLoad {
  readonly hostname: string;
  readonly allocatableMi: number;
  readonly k3sOverheadMi: number;
  /** What pods may request: allocatable minus what k3s itself uses. */
  readonly budgetMi: number;
  readonly pods: readonly PlacedPod[];
  readonly memoryRequestMi: number;
  readonly memoryLimitMi: number;
  readonly cpuRequestMillis: number;
  readonly cpuLimitMillis: number;
}

export interface CapacityPlan {
  readonly nodes: readonly NodeLoad[];
  readonly problems: readonly ConfigProblem[];
}

interface PodShape {
  memoryRequestMi: number;
  memoryLimitMi: number;
  cpuRequestMillis: number;
  cpuLimitMillis: number;
}

/** Sums a workload's containers into one pod's requests and limits. */
export function podShape(workload: WorkloadSpec): PodShape {
  const containers = Object.values(workload.containers);
  const inits = Object.values(workload.initContainers ?? {});
  // Kubernetes' effective pod request: max(sum of containers, largest init container).
  const effective = (f: (c: (typeof containers)[number]) => number) =>
    Math.max(
      containers.reduce((acc, c) => acc + f(c), 0),
      ...inits.map(f),
    );
  return {
    memoryRequestMi: effective((c) => memoryMi(c.requests.memory)),
    memoryLimitMi: effective((c) => memoryMi(c.limits.memory)),
    cpuRequestMillis: effective((c) => cpuMillis(c.requests.cpu)),
    cpuLimitMillis: effective((c) => cpuMillis(c.limits.cpu)),
  };
}

/**
 * Places every workload's pods on the nodes and reports overcommitted nodes and host-port
 * clashes. `placements` must hold an entry per workload (see planTopology). `configured` names
 * the workloads placed by `pi-cluster:placement.<name>`, so an overcommitted node's message says
 * which config entry put each pod there (the others follow their default placement in code).
 */
export function planCapacity(
  nodes: readonly PlannedNode[],
  workloads: readonly WorkloadSpec[],
  placements: Readonly<Record<string, PlannedPlacement>>,
  configured: ReadonlySet<string> = new Set(),
): CapacityPlan {
  const placedBy = (workload: string) =>
    configured.has(workload) ? `pi-cluster:placement.${workload}` : "default placement in code";
  const pods = new Map<string, PlacedPod[]>(nodes.map((n) => [n.hostname, []]));
  const used = new Map<string, number>(nodes.map((n) => [n.hostname, 0]));
  const budget = new Map(nodes.map((n) => [n.hostname, n.allocatableMi - n.k3sOverheadMi]));
  const ports = new Map<string, { port: HostPort; workload: string }[]>();
  const problems: ConfigProblem[] = [];

  const place = (hostname: string, workload: WorkloadSpec, how: PlacedPod["how"]) => {
    const shape = podShape(workload);
    pods
      .get(hostname)!
      .push({ workload: workload.name, namespace: workload.namespace, how, ...shape });
    used.set(hostname, used.get(hostname)! + shape.memoryRequestMi);
    for (const port of workload.hostPorts ?? []) {
      const taken = ports.get(hostname) ?? [];
      const clash = taken.find(
        (t) =>
          t.port.port === port.port &&
          t.port.protocol === port.protocol &&
          t.workload !== workload.name,
      );
      if (clash) {
        problems.push({
          key: `pi-cluster:placement.${workload.name}`,
          message:
            `pi-cluster:placement.${workload.name}: host port ${port.port}/${port.protocol} on node ${hostname} ` +
            `is used by both ${clash.workload} and ${workload.name}; place one of them on another node ` +
            `or change its port`,
        });
      }
      ports.set(hostname, [...taken, { port, workload: workload.name }]);
    }
  };

  // Fixed pods first, so floating pods see the real room left.
  const floating: WorkloadSpec[] = [];
  for (const workload of workloads) {
    const placement = placements[workload.name];
    if (workload.kind === "DaemonSet") {
      placement.eligibleNodes.forEach((h) => place(h, workload, "daemonset"));
    } else if (placement.eligibleNodes.length === 1) {
      for (let i = 0; i < (workload.replicas ?? 1); i++)
        place(placement.eligibleNodes[0], workload, "pinned");
    } else {
      floating.push(workload);
    }
  }

  const byHostname = new Map(nodes.map((n) => [n.hostname, n]));
  floating.sort((a, b) => podShape(b).memoryRequestMi - podShape(a).memoryRequestMi);
  for (const workload of floating) {
    const placement = placements[workload.name];
    const shape = podShape(workload);
    const taken = new Set<string>();
    for (let i = 0; i < (workload.replicas ?? 1); i++) {
      const free = (h: string) => budget.get(h)! - used.get(h)!;
      const preferred = (h: string) =>
        placement.preferNodes.includes(h) ||
        (Object.keys(placement.prefer).length > 0 &&
          Object.entries(placement.prefer).every(([k, v]) => byHostname.get(h)!.labels[k] === v));
      // Spread replicas over distinct nodes while there are nodes left to spread over.
      const candidates = placement.eligibleNodes.filter((h) => !taken.has(h));
      const pool = candidates.length > 0 ? candidates : placement.eligibleNodes;
      const fits = pool.filter((h) => free(h) >= shape.memoryRequestMi);
      const ranked = (fits.length > 0 ? fits : pool)
        .slice()
        .sort((a, b) => Number(preferred(b)) - Number(preferred(a)) || free(b) - free(a));
      const chosen = ranked[0];
      taken.add(chosen);
      place(chosen, workload, "expected");
    }
  }

  const loads = nodes.map((node): NodeLoad => {
    const placed = pods.get(node.hostname)!;
    const total = (f: (p: PlacedPod) => number) => placed.reduce((acc, p) => acc + f(p), 0);
    return {
      hostname: node.hostname,
      allocatableMi: node.allocatableMi,
      k3sOverheadMi: node.k3sOverheadMi,
      budgetMi: budget.get(node.hostname)!,
      pods: placed,
      memoryRequestMi: total((p) => p.memoryRequestMi),
      memoryLimitMi: total((p) => p.memoryLimitMi),
      cpuRequestMillis: total((p) => p.cpuRequestMillis),
      cpuLimitMillis: total((p) => p.cpuLimitMillis),
    };
  });

  nodes.forEach((node, index) => {
    const load = loads[index];
    if (load.memoryRequestMi > load.budgetMi) {
      const biggest = [...load.pods]
        .sort((a, b) => b.memoryRequestMi - a.memoryRequestMi)
        .map(
          (p) => `${p.workload} ${formatMi(p.memoryRequestMi)} (${p.how}; ${placedBy(p.workload)})`,
        )
        .join(", ");
      problems.push({
        key: `pi-cluster:nodes[${index}]`,
        message:
          `node ${node.hostname} is overcommitted: pods request ${formatMi(load.memoryRequestMi)} of memory but ` +
          `only ${formatMi(load.budgetMi)} is free for pods (${formatMi(node.allocatableMi)} allocatable ` +
          `minus ${formatMi(node.k3sOverheadMi)} for k3s); move a workload with pi-cluster:placement or lower ` +
          `its requests. On this node: ${biggest}`,
      });
    }
  });

  return { nodes: loads, problems };
}
