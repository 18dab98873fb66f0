/**
 * How every chart is installed: a real Helm release (hooks, rollback) with a fixed release name
 * (otherwise the provider appends a random suffix and every object the chart names changes), a
 * pinned version, the namespace the program created, and timeouts sized for Raspberry Pis.
 * @see https://www.pulumi.com/registry/packages/kubernetes/api-docs/helm/v3/release/
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PodScheduling, schedulingFor } from "../../topology/scheduling";
import { Topology } from "../../topology/types";
import { ContainerResources, WorkloadSpec, workloadNamed } from "../../topology/workloads";

/** A chart pinned to one version in one repository. */
export interface ChartRef {
  readonly chart: string;
  readonly version: string;
  /** Helm repository URL (an `oci://` chart goes in `chart` with `repo` empty). */
  readonly repo: string;
}

export interface HelmReleaseArgs {
  readonly chart: ChartRef;
  /** Namespace the release installs into (created by the caller). */
  readonly namespace: pulumi.Input<string>;
  readonly values: pulumi.Input<Record<string, unknown>>;
  /**
   * Seconds to wait for the release's resources: image pulls on a Pi 3 are slow.
   * @default 600
   */
  readonly timeoutSeconds?: number;
}

/** Installs a pinned chart as a Helm release named `name`. */
export function helmRelease(
  name: string,
  args: HelmReleaseArgs,
  opts: pulumi.CustomResourceOptions,
): k8s.helm.v3.Release {
  return new k8s.helm.v3.Release(
    name,
    {
      name,
      namespace: args.namespace,
      chart: args.chart.chart,
      version: args.chart.version,
      ...(args.chart.repo ? { repositoryOpts: { repo: args.chart.repo } } : {}),
      values: args.values,
      createNamespace: false,
      // A failed upgrade rolls back instead of leaving a half-applied release behind.
      atomic: true,
      cleanupOnFail: true,
      maxHistory: 5,
      timeout: args.timeoutSeconds ?? 600,
    },
    opts,
  );
}

/** A namespace owned by the program (labelled so `kubectl get ns -l` finds them). */
export function namespace(
  name: string,
  opts: pulumi.CustomResourceOptions,
  labels: Record<string, string> = {},
): k8s.core.v1.Namespace {
  return new k8s.core.v1.Namespace(
    `${name}-namespace`,
    { metadata: { name, labels: { "app.kubernetes.io/managed-by": "pulumi", ...labels } } },
    opts,
  );
}

/**
 * The values most charts take side by side for one pod: its container's resources (from the
 * WorkloadSpec the capacity check counted) and its nodeSelector/affinity (from the plan).
 */
export function podValues(
  topology: Topology,
  workloads: readonly WorkloadSpec[],
  name: string,
): { resources: ContainerResources } & PodScheduling {
  const found = workloadNamed(workloads, name);
  const containers = Object.values(found.containers);
  if (containers.length !== 1) {
    throw new Error(
      `podValues: "${name}" has ${containers.length} containers; describe each chart key instead`,
    );
  }
  return { resources: containers[0], ...schedulingFor(topology, name) };
}
