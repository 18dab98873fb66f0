/** The `homelab-ha` stack: see Pulumi.homelab-ha.yaml for its nodes. */
import { composeStack, StackResult } from "./compose";

/** Declares the `homelab-ha` stack. */
export function homelabHa(): StackResult {
  return composeStack("homelab-ha", { workloads: [] });
}
