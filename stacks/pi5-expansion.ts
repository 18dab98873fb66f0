/** The `pi5-expansion` stack: see Pulumi.pi5-expansion.yaml for its nodes. */
import { WorkloadSpec } from "../topology/workloads";
import { composeStack, StackResult } from "./compose";

/** The apps this stack runs beyond the platform (added app by app). */
export const PI5_EXPANSION_APPS: readonly WorkloadSpec[] = [];

/** Declares the `pi5-expansion` stack. */
export function pi5Expansion(): StackResult {
  return composeStack("pi5-expansion", { workloads: PI5_EXPANSION_APPS });
}
