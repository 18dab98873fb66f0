/** The `pi-k3s` stack: see Pulumi.pi-k3s.yaml for its nodes. */
import { WorkloadSpec } from "../topology/workloads";
import { composeStack, StackResult } from "./compose";

/** The apps this stack runs beyond the platform (added app by app). */
export const PI_K3S_APPS: readonly WorkloadSpec[] = [];

/** Declares the `pi-k3s` stack. */
export function piK3s(): StackResult {
  return composeStack("pi-k3s", { workloads: PI_K3S_APPS });
}
