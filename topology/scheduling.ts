/**
 * Pod scheduling from the topology plan: the nodeSelector and preferred affinity a workload's
 * pods get, from its planned placement, so Helm values and manifests place pods where the
 * capacity check counted them.
 */
import { Topology } from "./types";

/** Kubernetes `nodeSelector` and `affinity` for a pod spec (either may be absent). */
export interface PodScheduling {
  readonly nodeSelector?: Record<string, string>;
  readonly affinity?: {
    readonly nodeAffinity: {
      readonly preferredDuringSchedulingIgnoredDuringExecution: readonly {
        readonly weight: number;
        readonly preference: {
          readonly matchExpressions: readonly { key: string; operator: "In"; values: string[] }[];
        };
      }[];
    };
  };
}

/**
 * The scheduling fields of a workload's pods. Throws when the workload was not part of the plan
 * (a program error: every deployed workload must be declared to planTopology).
 */
export function schedulingFor(topology: Topology, workload: string): PodScheduling {
  const placement = topology.placements[workload];
  if (!placement) {
    throw new Error(
      `workload "${workload}" is not in the topology plan; add its WorkloadSpec to the stack's workloads`,
    );
  }
  const preferences = [
    ...(placement.preferNodes.length > 0
      ? [
          {
            key: "kubernetes.io/hostname",
            operator: "In" as const,
            values: [...placement.preferNodes],
          },
        ]
      : []),
    ...Object.entries(placement.prefer).map(([key, value]) => ({
      key,
      operator: "In" as const,
      values: [value],
    })),
  ];
  return {
    ...(Object.keys(placement.nodeSelector).length > 0
      ? { nodeSelector: { ...placement.nodeSelector } }
      : {}),
    ...(preferences.length > 0
      ? {
          affinity: {
            nodeAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: preferences.map((p) => ({
                weight: 100,
                preference: { matchExpressions: [p] },
              })),
            },
          },
        }
      : {}),
  };
}
