import type { PlannedNode } from "../topology/types";
import { assertHostname } from "./checks";
import { renderScript, sh } from "./script";

/**
 * First contact with a node: proves the SSH login and sudo work, that the node runs 64-bit
 * Raspberry Pi OS (Debian), and prints `boot-id=<id>` so later steps can tell a reboot happened.
 * Changes nothing and needs no root privileges.
 */
export function reachableScript(node: PlannedNode): string {
  assertHostname(node.hostname);
  return renderScript(
    { node: node.hostname, step: "reachable", summary: "check arch and OS, print the boot id" },
    sh`
arch="$(uname -m)"
if [ "$arch" != aarch64 ]; then
  fail "$PI_NODE runs a $arch kernel, not aarch64" "Flash Raspberry Pi OS Lite (64-bit); k3s and the images this cluster runs are arm64."
fi

os_release="$ROOT/etc/os-release"
if [ ! -r "$os_release" ]; then
  fail "cannot read $os_release" "Is this Raspberry Pi OS? It ships /etc/os-release."
fi
os_id="$(sed -n 's/^ID=//p' "$os_release" | tr -d '"')"
os_name="$(sed -n 's/^PRETTY_NAME=//p' "$os_release" | tr -d '"')"
case "$os_id" in
  debian) ;;
  raspbian)
    # 32-bit Raspberry Pi OS says ID=raspbian even when it boots a 64-bit kernel.
    fail "$PI_NODE runs 32-bit Raspberry Pi OS ($os_name)" "Flash Raspberry Pi OS Lite (64-bit)."
    ;;
  *)
    fail "$PI_NODE runs $os_name (ID=$os_id), not Raspberry Pi OS" "Flash Raspberry Pi OS Lite (64-bit, Debian based); the node scripts expect it."
    ;;
esac
printf 'os=%s\n' "$os_name"

boot_id_file="$ROOT/proc/sys/kernel/random/boot_id"
if [ ! -r "$boot_id_file" ]; then
  fail "cannot read $boot_id_file" "Is /proc mounted?"
fi
printf 'boot-id=%s\n' "$(cat "$boot_id_file")"
`,
  );
}
