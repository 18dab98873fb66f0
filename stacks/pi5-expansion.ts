/** The `pi5-expansion` stack: see Pulumi.pi5-expansion.yaml for its nodes. */
import { composeStack, StackResult } from "./compose";

/** Declares the `pi5-expansion` stack. */
export function pi5Expansion(): StackResult {
  return composeStack("pi5-expansion", { workloads: [] });
}
