/** The `pi-k3s` stack: see Pulumi.pi-k3s.yaml for its nodes. */
import { composeStack, StackResult } from "./compose";

/** Declares the `pi-k3s` stack. */
export function piK3s(): StackResult {
  return composeStack("pi-k3s", { workloads: [] });
}
