/** The `pi5-expansion` stack: see Pulumi.pi5-expansion.yaml for its nodes and the apps' settings. */
import { AnyAppModule } from "../components/apps/app";
import { composeStack, StackResult } from "./compose";
import { PI_K3S_APPS } from "./pi-k3s";

/**
 * The apps this stack runs: pi-k3s's, since it is the same cluster with a second Pi 5 (seed
 * 002); where they run is the stack file's placement, not a different list.
 */
export const PI5_EXPANSION_APPS: readonly AnyAppModule[] = PI_K3S_APPS;

/** Declares the `pi5-expansion` stack. */
export function pi5Expansion(): StackResult {
  return composeStack("pi5-expansion", { apps: PI5_EXPANSION_APPS });
}
