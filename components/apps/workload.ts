/**
 * Pure builders every app's manifests go through, so the rules every workload follows live in
 * one place: requests and limits come from the WorkloadSpec the capacity check counted,
 * placement from the plan, one replica and `Recreate` with a ReadWriteOnce volume, images from
 * the pinned table, and stateful claims protected and kept on delete.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PlannedVolume, StatefulVolume } from "../../topology/apps";
import { schedulingFor } from "../../topology/scheduling";
import { Topology } from "../../topology/types";
import { WorkloadSpec, workloadNamed } from "../../topology/workloads";

export { workloadNamed };

export type { PlannedVolume, StatefulVolume };

/** A container as an app writes it: everything but `resources`, which come from the spec. */
export type ContainerInput = Omit<k8s.types.input.core.v1.Container, "resources" | "name"> & {
  readonly name: string;
};

/** The pod an app describes; scheduling and resources are filled in from the plan. */
export interface PodInput {
  readonly containers: readonly ContainerInput[];
  /** Init containers get the resources of the spec's container with the same name. */
  readonly initContainers?: readonly ContainerInput[];
  readonly volumes?: readonly k8s.types.input.core.v1.Volume[];
  /** Everything else of the pod spec (securityContext, hostNetwork, serviceAccountName...). */
  readonly spec?: Omit<
    k8s.types.input.core.v1.PodSpec,
    "containers" | "initContainers" | "volumes" | "nodeSelector" | "affinity"
  >;
  /** Extra pod annotations (e.g. a config hash that restarts the pod when its config changes). */
  readonly annotations?: Readonly<Record<string, pulumi.Input<string>>>;
}

/** Labels on everything an app declares; `app.kubernetes.io/name` is what selectors match. */
export function appLabels(workload: string, part?: string): Record<string, string> {
  return {
    "app.kubernetes.io/name": workload,
    ...(part ? { "app.kubernetes.io/part-of": part } : {}),
    "app.kubernetes.io/managed-by": "pulumi",
  };
}

/** The selector of a workload's pods. */
export function selectorLabels(workload: string): Record<string, string> {
  return { "app.kubernetes.io/name": workload };
}

/**
 * The containers with their requests and limits from `spec` (init containers may also use
 * their own entry in `spec.initContainers`).
 * @throws Error when a container has no entry in the spec, or the spec names one the pod lacks
 */
function withResources(
  spec: WorkloadSpec,
  containers: readonly ContainerInput[],
  init: boolean,
): k8s.types.input.core.v1.Container[] {
  const table = init ? { ...spec.containers, ...(spec.initContainers ?? {}) } : spec.containers;
  return containers.map((c) => {
    const resources = table[c.name];
    if (!resources) {
      throw new Error(
        `workload ${spec.name}: container "${c.name}" has no resources in its WorkloadSpec ` +
          `(declared: ${Object.keys(table).join(", ")})`,
      );
    }
    return {
      ...c,
      resources: { requests: { ...resources.requests }, limits: { ...resources.limits } },
    };
  });
}

/** True when the pod mounts a claim that only one node can attach (ReadWriteOnce). */
function mountsSingleWriterClaim(pod: PodInput, rwoClaims: readonly string[]): boolean {
  return (pod.volumes ?? []).some((v) =>
    rwoClaims.includes(
      String((v.persistentVolumeClaim as { claimName?: unknown } | undefined)?.claimName),
    ),
  );
}

/** A pod template with the spec's resources and the plan's placement. */
export function podTemplate(
  topology: Topology,
  spec: WorkloadSpec,
  pod: PodInput,
  labels: Record<string, string>,
): k8s.types.input.core.v1.PodTemplateSpec {
  const declared = pod.containers.map((c) => c.name).sort();
  const expected = Object.keys(spec.containers).sort();
  if (declared.join() !== expected.join()) {
    throw new Error(
      `workload ${spec.name}: the pod runs [${declared.join(", ")}] but its WorkloadSpec counts ` +
        `[${expected.join(", ")}]; the capacity check must count what runs`,
    );
  }
  return {
    metadata: { labels, ...(pod.annotations ? { annotations: { ...pod.annotations } } : {}) },
    spec: {
      ...pod.spec,
      // The plan's readonly lists are what the API takes; the cast only drops `readonly`.
      ...(schedulingFor(topology, spec.name) as Pick<
        k8s.types.input.core.v1.PodSpec,
        "nodeSelector" | "affinity"
      >),
      ...(pod.initContainers
        ? { initContainers: withResources(spec, pod.initContainers, true) }
        : {}),
      containers: withResources(spec, pod.containers, false),
      ...(pod.volumes ? { volumes: [...pod.volumes] } : {}),
    },
  };
}

/**
 * A Deployment for a WorkloadSpec. With a ReadWriteOnce claim (`rwoClaims`) it runs one replica
 * and `Recreate`s: a rolling update's new pod would wait forever for the old one's volume.
 */
export function deploymentManifest(
  topology: Topology,
  spec: WorkloadSpec,
  pod: PodInput,
  options: { readonly rwoClaims?: readonly string[]; readonly part?: string } = {},
): k8s.types.input.apps.v1.Deployment {
  const singleWriter = mountsSingleWriterClaim(pod, options.rwoClaims ?? []);
  const replicas = spec.replicas ?? 1;
  if (singleWriter && replicas !== 1) {
    throw new Error(
      `workload ${spec.name}: ${replicas} replicas cannot share a ReadWriteOnce volume; run one`,
    );
  }
  return {
    metadata: {
      name: spec.name,
      namespace: spec.namespace,
      labels: appLabels(spec.name, options.part),
    },
    spec: {
      replicas,
      // Keep a few old ReplicaSets for `kubectl rollout undo`, not the default ten.
      revisionHistoryLimit: 3,
      ...(singleWriter ? { strategy: { type: "Recreate" } } : {}),
      selector: { matchLabels: selectorLabels(spec.name) },
      template: podTemplate(topology, spec, pod, appLabels(spec.name, options.part)),
    },
  };
}

/** A ClusterIP Service in front of a workload's pods. */
export function serviceManifest(
  spec: Pick<WorkloadSpec, "name" | "namespace">,
  ports: readonly { name: string; port: number; protocol?: "TCP" | "UDP"; targetPort?: number }[],
  name = spec.name,
): k8s.types.input.core.v1.Service {
  return {
    metadata: { name, namespace: spec.namespace, labels: appLabels(spec.name) },
    spec: {
      type: "ClusterIP",
      selector: selectorLabels(spec.name),
      ports: ports.map((p) => ({
        name: p.name,
        port: p.port,
        targetPort: p.targetPort ?? p.port,
        protocol: p.protocol ?? "TCP",
      })),
    },
  };
}

/** The claim of a local stateful volume (one node, ReadWriteOnce, data kept on release). */
export function localClaimManifest(
  volume: PlannedVolume,
): k8s.types.input.core.v1.PersistentVolumeClaim {
  if (volume.storage !== "local") {
    throw new Error(`volume ${volume.claim} is on ${volume.storage}; use nfsVolume for it`);
  }
  return {
    metadata: {
      name: volume.claim,
      namespace: volume.namespace,
      labels: {
        ...appLabels(volume.workload, volume.app),
        "pi-cluster/backup": String(volume.backup),
      },
    },
    spec: {
      accessModes: ["ReadWriteOnce"],
      storageClassName: volume.storageClass,
      resources: { requests: { storage: volume.size } },
    },
  };
}

/**
 * Declares a local stateful claim: `protect` refuses a `pulumi destroy` or a removal from the
 * program, `retainOnDelete` keeps it in the cluster if protection is lifted on purpose.
 */
export function statefulClaim(
  volume: PlannedVolume,
  opts: pulumi.CustomResourceOptions,
): k8s.core.v1.PersistentVolumeClaim {
  return new k8s.core.v1.PersistentVolumeClaim(
    // Named after the program's claim: keeping a live name changes the object, not its URN.
    `${volume.namespace}-${volume.declaredClaim}`,
    localClaimManifest(volume),
    {
      ...opts,
      protect: true,
      retainOnDelete: true,
    },
  );
}

/** A pod volume mounting a claim. */
export function claimVolume(name: string, claim: string): k8s.types.input.core.v1.Volume {
  return { name, persistentVolumeClaim: { claimName: claim } };
}

/**
 * The container security settings of the restricted Pod Security level: no root, no privilege
 * escalation, no capabilities, a read-only root filesystem, the runtime's seccomp profile.
 */
export function restrictedContainer(
  user: number,
  readOnlyRootFilesystem = true,
): k8s.types.input.core.v1.SecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: user,
    runAsGroup: user,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  };
}
