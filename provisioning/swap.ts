import type { PlannedNode } from "../topology/types";
import { assertHostname } from "./checks";
import { renderScript, sh } from "./script";

/** The zram swap unit systemd-zram-generator creates on Raspberry Pi OS. */
export const ZRAM_UNIT = "systemd-zram-setup@zram0.service";

/**
 * Turns swap off for good, as the kubelet expects: masks the zram swap unit, disables the
 * `dphys-swapfile` service (only where it exists and is on), and runs `swapoff -a` only while
 * `/proc/swaps` lists a swap area. Each action is reported; a second run does nothing.
 */
export function swapScript(node: PlannedNode): string {
  assertHostname(node.hostname);
  return renderScript(
    { node: node.hostname, step: "swap", summary: "disable zram and file swap" },
    sh`
zram='${ZRAM_UNIT}'
# Masked (not just disabled): the generator would otherwise bring zram back on the next boot.
zram_state="$(systemctl is-enabled "$zram" 2>/dev/null || true)"
if [ "$zram_state" != masked ]; then
  systemctl mask "$zram"
  changed "masked $zram (was \${zram_state:-not installed})"
fi

dphys_state="$(systemctl is-enabled dphys-swapfile.service 2>/dev/null || true)"
if [ "$dphys_state" = enabled ] || systemctl is-active --quiet dphys-swapfile.service; then
  systemctl disable --now dphys-swapfile.service
  changed "disabled and stopped dphys-swapfile.service"
fi

swaps="$ROOT/proc/swaps"
if [ ! -r "$swaps" ]; then
  fail "cannot read $swaps" "Is /proc mounted?"
fi
# /proc/swaps has a header line; every further line is an active swap area.
active="$(awk 'NR > 1 { printf "%s%s", sep, $1; sep = " " }' "$swaps")"
if [ -n "$active" ]; then
  swapoff -a
  changed "swapoff -a (was using: $active)"
fi
`,
  );
}
