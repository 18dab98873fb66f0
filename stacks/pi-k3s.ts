/** The `pi-k3s` stack: see Pulumi.pi-k3s.yaml for its nodes and the apps' settings. */
import { AnyAppModule } from "../components/apps/app";
import { homepage } from "../components/apps/homepage";
import { personalSite } from "../components/apps/personal-site";
import { pihole } from "../components/apps/pihole";
import { uptimeKuma } from "../components/apps/uptime-kuma";
import { composeStack, StackResult } from "./compose";

/** The apps this stack runs beyond the platform, in the order they deploy. */
export const PI_K3S_APPS: readonly AnyAppModule[] = [pihole, uptimeKuma, homepage, personalSite];

/** Declares the `pi-k3s` stack. */
export function piK3s(): StackResult {
  return composeStack("pi-k3s", { apps: PI_K3S_APPS });
}
