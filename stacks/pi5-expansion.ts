/** The `pi5-expansion` stack: see Pulumi.pi5-expansion.yaml for its nodes and the apps' settings. */
import { AnyAppModule } from "../components/apps/app";
import { homepage } from "../components/apps/homepage";
import { personalSite } from "../components/apps/personal-site";
import { pihole } from "../components/apps/pihole";
import { uptimeKuma } from "../components/apps/uptime-kuma";
import { composeStack, StackResult } from "./compose";

/** The apps this stack runs beyond the platform, in the order they deploy. */
export const PI5_EXPANSION_APPS: readonly AnyAppModule[] = [
  pihole,
  uptimeKuma,
  homepage,
  personalSite,
];

/** Declares the `pi5-expansion` stack. */
export function pi5Expansion(): StackResult {
  return composeStack("pi5-expansion", { apps: PI5_EXPANSION_APPS });
}
