/** The `pi-k3s` stack: see Pulumi.pi-k3s.yaml for its nodes and the apps' settings. */
import { AnyAppModule } from "../components/apps/app";
import { externalServices } from "../components/apps/external-services";
import { backups } from "../components/apps/backups/backups";
import { deployNotifications } from "../components/apps/deploy-notifications/deploy-notifications";
import { homepage } from "../components/apps/homepage";
import { immich } from "../components/apps/immich";
import { jellyfin } from "../components/apps/jellyfin";
import { links } from "../components/apps/links";
import { personalSite } from "../components/apps/personal-site";
import { pihole } from "../components/apps/pihole";
import { uptimeKuma } from "../components/apps/uptime-kuma";
import { composeStack, StackResult } from "./compose";

/** The apps this stack runs beyond the platform, in the order they deploy. */
export const PI_K3S_APPS: readonly AnyAppModule[] = [
  pihole,
  uptimeKuma,
  homepage,
  immich,
  jellyfin,
  externalServices,
  links,
  personalSite,
  backups,
  // Last: its notice waits for the platform and names what this deploy changed.
  deployNotifications,
];

/** Declares the `pi-k3s` stack. */
export function piK3s(): StackResult {
  return composeStack("pi-k3s", { apps: PI_K3S_APPS });
}
