/**
 * The stacks this program knows, one per topology, each composed in `stacks/<stack>.ts`.
 * `index.ts` runs the one `pulumi.getStack()` names.
 */
import { WorkloadsOf } from "../topology/plan";
import { WorkloadSpec } from "../topology/workloads";
import { StackResult, stackWorkloads } from "./compose";
import { HOMELAB_HA_APPS, homelabHa } from "./homelab-ha";
import { PI_K3S_APPS, piK3s } from "./pi-k3s";
import { PI5_EXPANSION_APPS, pi5Expansion } from "./pi5-expansion";

const STACKS: Readonly<
  Record<string, { compose: () => StackResult; apps: readonly WorkloadSpec[] }>
> = {
  "pi-k3s": { compose: piK3s, apps: PI_K3S_APPS },
  "pi5-expansion": { compose: pi5Expansion, apps: PI5_EXPANSION_APPS },
  "homelab-ha": { compose: homelabHa, apps: HOMELAB_HA_APPS },
};

/** Names of every known stack, in the order the project grew. */
export const KNOWN_STACKS = Object.keys(STACKS);

/** Declares the resources of the named stack and returns its plan and outputs. */
export function runStack(stack: string): StackResult {
  const entry = STACKS[stack];
  if (!entry) {
    throw new Error(
      `unknown stack "${stack}": known stacks are ${KNOWN_STACKS.join(", ")} ` +
        `(each has a Pulumi.<stack>.yaml; create one with \`pulumi stack init <name>\`)`,
    );
  }
  return entry.compose();
}

/** The workloads a known stack plans with (what `pi-cluster:placement` may name). */
export function workloadsOf(stack: string): WorkloadsOf {
  const entry = STACKS[stack];
  if (!entry) throw new Error(`unknown stack "${stack}"`);
  return stackWorkloads(entry.apps);
}

export type { StackResult };
