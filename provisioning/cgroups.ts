import type { PlannedNode } from "../topology/types";
import { assertHostname } from "./checks";
import { renderScript, sh } from "./script";

/** Marker the reboot step looks for; /run is a tmpfs, so the reboot itself clears it. */
export const REBOOT_MARKER = "/run/pi-cluster/reboot-required";

/**
 * Turns on the memory cgroup controller k3s needs: adds `cgroup_memory=1 cgroup_enable=memory` to
 * the kernel command line (`/boot/firmware/cmdline.txt` on bookworm, `/boot/cmdline.txt` before),
 * each only if missing, keeping the file one line. On a change it keeps a one-time backup
 * (`cmdline.txt.pi-cluster.bak`) and leaves the reboot marker ({@link REBOOT_MARKER}).
 */
export function cgroupScript(node: PlannedNode): string {
  assertHostname(node.hostname);
  return renderScript(
    {
      node: node.hostname,
      step: "cgroups",
      summary: "enable the memory cgroup on the kernel line",
    },
    sh`
# Bookworm mounts the boot partition at /boot/firmware (its /boot/cmdline.txt is only a pointer);
# older releases mount it at /boot.
if [ -f "$ROOT/boot/firmware/cmdline.txt" ]; then
  cmdline="$ROOT/boot/firmware/cmdline.txt"
elif [ -d "$ROOT/boot/firmware" ]; then
  fail "$ROOT/boot/firmware/cmdline.txt is missing" "Is the boot partition mounted at /boot/firmware? (mount | grep firmware)"
elif [ -f "$ROOT/boot/cmdline.txt" ]; then
  cmdline="$ROOT/boot/cmdline.txt"
else
  fail "no kernel command line: neither $ROOT/boot/firmware/cmdline.txt nor $ROOT/boot/cmdline.txt exists" "Is this Raspberry Pi OS, with its boot partition mounted?"
fi

# The firmware reads only the first line: a second one means someone edited it by hand.
lines="$(awk 'END { print NR }' "$cmdline")"
if [ "$lines" -ne 1 ]; then
  fail "$cmdline has $lines lines; the kernel command line must be exactly one line" "Join it into one line by hand (the firmware ignores every line after the first), then run again."
fi
line=''
IFS= read -r line <"$cmdline" || true # the only line may lack a trailing newline
read -r -a words <<<"$line"
padded=" \${words[*]} "
case "$padded" in
  *" root="*) ;;
  *) fail "$cmdline has no root= parameter, so it does not look like a kernel command line" "Restore it (a backup may be at $cmdline.pi-cluster.bak), then run again." ;;
esac

# cgroup_memory=1 is ignored by newer kernels (6.12 needs only cgroup_enable=memory); adding it
# is harmless, matches the manual setup, and still matters on older kernels.
new="\${line%"\${line##*[![:space:]]}"}"
added=''
for flag in cgroup_memory=1 cgroup_enable=memory; do
  case "$padded" in
    *" $flag "*) ;; # already there as a whole word
    *)
      new="$new $flag"
      added="$added $flag"
      ;;
  esac
done

if [ -z "$added" ]; then
  note "$cmdline already has cgroup_memory=1 and cgroup_enable=memory"
else
  backup="$cmdline.pi-cluster.bak"
  if [ ! -e "$backup" ]; then
    cp -- "$cmdline" "$backup"
  fi
  begin_file "$cmdline"
  printf '%s\n' "$new" >"$PI_TMP"
  commit_file "$cmdline"
  mkdir -p "$ROOT/run/pi-cluster"
  touch "$ROOT${REBOOT_MARKER}"
  changed "added$added to $cmdline (backup: $backup); a reboot is required"
fi
`,
  );
}

/**
 * After the reboot: proves the memory controller is on (`memory` listed in
 * `/sys/fs/cgroup/cgroup.controllers`); without it the kubelet refuses to start.
 */
export function verifyCgroupsScript(node: PlannedNode): string {
  assertHostname(node.hostname);
  return renderScript(
    { node: node.hostname, step: "verify-cgroups", summary: "check the memory cgroup is enabled" },
    sh`
controllers="$ROOT/sys/fs/cgroup/cgroup.controllers"
if [ ! -r "$controllers" ]; then
  fail "cannot read $controllers, so cgroup v2 is not mounted" "Raspberry Pi OS bookworm uses cgroup v2; check the kernel command line for systemd.unified_cgroup_hierarchy=0 and remove it."
fi
if ! grep -qw memory "$controllers"; then
  fail "the memory cgroup controller is not enabled (cgroup.controllers: $(cat "$controllers"))" "Check that cmdline.txt (/boot/firmware/cmdline.txt) has cgroup_enable=memory on its single line, then reboot."
fi
note "memory cgroup controller enabled"
`,
  );
}
