/** The `homelab-ha` stack: see Pulumi.homelab-ha.yaml for its nodes. */
import { WorkloadSpec } from "../topology/workloads";
import { composeStack, StackResult } from "./compose";

/** The apps this stack runs beyond the platform (added app by app). */
export const HOMELAB_HA_APPS: readonly WorkloadSpec[] = [];

/** Declares the `homelab-ha` stack. */
export function homelabHa(): StackResult {
  return composeStack("homelab-ha", { workloads: HOMELAB_HA_APPS });
}
