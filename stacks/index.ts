/**
 * The stacks this program knows, one per topology, each composed in `stacks/<stack>.ts`.
 * `index.ts` runs the one `pulumi.getStack()` names.
 */
import { StackResult } from "./compose";
import { homelabHa } from "./homelab-ha";
import { piK3s } from "./pi-k3s";
import { pi5Expansion } from "./pi5-expansion";

const STACKS: Readonly<Record<string, () => StackResult>> = {
  "pi-k3s": piK3s,
  "pi5-expansion": pi5Expansion,
  "homelab-ha": homelabHa,
};

/** Names of every known stack, in the order the project grew. */
export const KNOWN_STACKS = Object.keys(STACKS);

/** Declares the resources of the named stack and returns its plan and outputs. */
export function runStack(stack: string): StackResult {
  const compose = STACKS[stack];
  if (!compose) {
    throw new Error(
      `unknown stack "${stack}": known stacks are ${KNOWN_STACKS.join(", ")} ` +
        `(each has a Pulumi.<stack>.yaml; create one with \`pulumi stack init <name>\`)`,
    );
  }
  return compose();
}

export type { StackResult };
