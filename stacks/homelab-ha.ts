/** The `homelab-ha` stack: see Pulumi.homelab-ha.yaml for its nodes and the apps' settings. */
import { AnyAppModule } from "../components/apps/app";
import { composeStack, StackResult } from "./compose";

/** The apps this stack runs beyond the platform, in the order they deploy. */
export const HOMELAB_HA_APPS: readonly AnyAppModule[] = [];

/** Declares the `homelab-ha` stack. */
export function homelabHa(): StackResult {
  return composeStack("homelab-ha", { apps: HOMELAB_HA_APPS });
}
