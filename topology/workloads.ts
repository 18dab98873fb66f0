/**
 * What a workload asks of the cluster, declared once as data by the component that deploys it
 * and read both by the capacity check (before any resource exists) and by the component itself
 * (for the pod spec's requests and limits), so the two cannot drift apart.
 */

/** Requests and limits of one container, as Kubernetes quantities. */
export interface ContainerResources {
  readonly requests: { readonly cpu: string; readonly memory: string };
  readonly limits: { readonly cpu: string; readonly memory: string };
}

/** A port a pod binds on its node's own address (hostNetwork or hostPort). */
export interface HostPort {
  readonly port: number;
  readonly protocol: "TCP" | "UDP";
}

/** A default placement rule in code; `pi-cluster:placement.<name>` in config replaces it. */
export interface DefaultPlacement {
  readonly nodeSelector?: Readonly<Record<string, string>>;
  readonly prefer?: Readonly<Record<string, string>>;
}

/** One schedulable thing: a Deployment, StatefulSet, DaemonSet or CronJob's pod template. */
export interface WorkloadSpec {
  /** Unique within the stack; the key for `pi-cluster:placement`. */
  readonly name: string;
  readonly namespace: string;
  readonly kind: "Deployment" | "StatefulSet" | "DaemonSet" | "CronJob" | "Job";
  /** Pods per workload. @default 1 (ignored for DaemonSets: one per eligible node) */
  readonly replicas?: number;
  /** Every container of the pod. */
  readonly containers: Readonly<Record<string, ContainerResources>>;
  /**
   * Init containers with resources of their own. They run one at a time before the others, so
   * the pod's effective request is the larger of their largest and the containers' sum.
   */
  readonly initContainers?: Readonly<Record<string, ContainerResources>>;
  readonly hostPorts?: readonly HostPort[];
  readonly defaultPlacement?: DefaultPlacement;
  /** Who runs it: `k3s` for what k3s deploys itself, else the component's name. */
  readonly owner?: string;
}

/** Shorthand for the common case of equal CPU/memory shapes. */
export function resources(
  cpuRequest: string,
  memoryRequest: string,
  cpuLimit: string,
  memoryLimit: string,
): ContainerResources {
  return {
    requests: { cpu: cpuRequest, memory: memoryRequest },
    limits: { cpu: cpuLimit, memory: memoryLimit },
  };
}

/**
 * What k3s itself runs in every cluster (its packaged manifests), with the requests and limits of
 * k3s v1.33's manifests, so the capacity check counts them.
 * @see https://github.com/k3s-io/k3s/tree/master/manifests
 */
export const K3S_SYSTEM_WORKLOADS: readonly WorkloadSpec[] = [
  {
    name: "coredns",
    namespace: "kube-system",
    kind: "Deployment",
    owner: "k3s",
    // k3s manifests/coredns.yaml: requests 100m/70Mi, limit memory 170Mi (no CPU limit upstream).
    containers: { coredns: resources("100m", "70Mi", "1", "170Mi") },
  },
  {
    name: "metrics-server",
    namespace: "kube-system",
    kind: "Deployment",
    owner: "k3s",
    // k3s manifests/metrics-server: requests 100m/70Mi.
    containers: { "metrics-server": resources("100m", "70Mi", "1", "256Mi") },
  },
  {
    name: "local-path-provisioner",
    namespace: "kube-system",
    kind: "Deployment",
    owner: "k3s",
    // Upstream sets no requests; counted with a small figure so the report is honest.
    containers: { "local-path-provisioner": resources("10m", "32Mi", "100m", "64Mi") },
  },
];
