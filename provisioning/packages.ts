import type { PlannedNode } from "../topology/types";
import { assertHostname } from "./checks";
import { renderScript, sh } from "./script";

/**
 * Debian packages every node needs beyond Raspberry Pi OS Lite. The kubelet mounts NFS volumes
 * (the Synology's media and photo exports) with the host's `mount.nfs`, which Lite lacks.
 */
export const NODE_PACKAGES: readonly string[] = ["nfs-common"];

const DEBIAN_PACKAGE = /^[a-z0-9][a-z0-9+.-]+$/;

/**
 * Installs the packages that are missing (checked with dpkg-query, so a second run installs and
 * downloads nothing). Runs after the static-DNS step: apt needs a resolver that does not depend
 * on the in-cluster Pi-hole.
 */
export function packagesScript(
  node: PlannedNode,
  packages: readonly string[] = NODE_PACKAGES,
): string {
  assertHostname(node.hostname);
  for (const pkg of packages) {
    if (!DEBIAN_PACKAGE.test(pkg))
      throw new Error(`packagesScript: "${pkg}" is not a Debian package name`);
  }
  return renderScript(
    { node: node.hostname, step: "packages", summary: `install ${packages.join(", ")} if missing` },
    sh`
wanted=(${packages.join(" ")})
missing=()
for pkg in "\${wanted[@]}"; do
  if ! dpkg-query -W -f='\${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done

if [ "\${#missing[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get update -qq; then
    fail "apt-get update failed" "Check the node reaches the Debian mirrors (DNS 1.1.1.1, internet), then run again."
  fi
  if ! apt-get install -y -qq --no-install-recommends "\${missing[@]}"; then
    fail "installing \${missing[*]} failed (apt output above)" "Fix apt on the node (dpkg --configure -a), then run again."
  fi
  changed "installed \${missing[*]}"
fi
`,
  );
}
