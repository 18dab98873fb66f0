/**
 * The stacks this program knows, one per topology, each composed in `stacks/<stack>.ts`.
 * `index.ts` runs the one `pulumi.getStack()` names.
 */
import { AnyAppModule } from "../components/apps/app";
import { StackResult } from "./compose";
import { HOMELAB_HA_APPS, homelabHa } from "./homelab-ha";
import { PI_K3S_APPS, piK3s } from "./pi-k3s";
import { PI5_EXPANSION_APPS, pi5Expansion } from "./pi5-expansion";

const STACKS: Readonly<
  Record<string, { compose: () => StackResult; apps: readonly AnyAppModule[] }>
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

/** The apps a known stack runs (their sections of `pi-cluster:apps`, their workloads). */
export function appsOf(stack: string): readonly AnyAppModule[] {
  const entry = STACKS[stack];
  if (!entry) throw new Error(`unknown stack "${stack}"`);
  return entry.apps;
}

export { platformVolumes, platformWorkloadsOf } from "./compose";
export type { StackResult };
