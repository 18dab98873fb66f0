import type { PlannedNode } from "../topology/types";
import { REBOOT_MARKER } from "./cgroups";
import { assertHostname } from "./checks";
import { renderScript, sh } from "./script";

/** Transient unit name of the scheduled reboot (lets a re-run see it is already scheduled). */
export const REBOOT_UNIT = "pi-cluster-reboot";

/**
 * Reboots the node if an earlier step left the reboot marker ({@link REBOOT_MARKER}). Prints
 * `boot-id=<current>` and `reboot=scheduled` or `reboot=not-needed`; the caller passes both to
 * {@link waitForBootScript}.
 *
 * The reboot is scheduled 5 s ahead with `systemd-run`, detached from this SSH session, so this
 * command ends cleanly instead of dying with its connection. `/run/nologin` then refuses new
 * (non-root) logins until the reboot, so the next step's SSH dial cannot land on the old boot.
 */
export function rebootScript(node: PlannedNode): string {
  assertHostname(node.hostname);
  return renderScript(
    { node: node.hostname, step: "reboot", summary: "reboot if an earlier step asked for it" },
    sh`
marker="$ROOT${REBOOT_MARKER}"
boot_id="$(cat "$ROOT/proc/sys/kernel/random/boot_id")"
printf 'boot-id=%s\n' "$boot_id"

if [ ! -e "$marker" ]; then
  echo "reboot=not-needed"
elif systemctl is-active --quiet ${REBOOT_UNIT}.timer; then
  note "a reboot is already scheduled"
  echo "reboot=scheduled"
else
  if ! systemd-run --unit=${REBOOT_UNIT} --on-active=5 --timer-property=AccuracySec=1s systemctl reboot; then
    fail "could not schedule the reboot with systemd-run" "Reboot the node by hand (as root: systemctl reboot), then run again."
  fi
  touch "$ROOT/run/nologin"
  changed "reboot scheduled in 5 s; new logins are refused until then"
  echo "reboot=scheduled"
fi
`,
  );
}

/**
 * Runs on the first SSH login after {@link rebootScript}. The caller prepends the reboot step's
 * output as variables (see `withEnv`): `PREVIOUS_BOOT_ID=<id>` and `REBOOT=scheduled|not-needed`.
 * If a reboot was scheduled and the boot id is unchanged, the node did not reboot: fail.
 * Prints `boot-id=<current>`. Changes nothing.
 */
export function waitForBootScript(node: PlannedNode): string {
  assertHostname(node.hostname);
  return renderScript(
    { node: node.hostname, step: "wait-for-boot", summary: "check the node came back from reboot" },
    sh`
previous="\${PREVIOUS_BOOT_ID:-}"
reboot_state="\${REBOOT:-}"
current="$(cat "$ROOT/proc/sys/kernel/random/boot_id")"
printf 'boot-id=%s\n' "$current"

case "$reboot_state" in
  not-needed)
    note "no reboot was needed"
    ;;
  scheduled)
    if [ -z "$previous" ]; then
      fail "PREVIOUS_BOOT_ID is empty" "Pass the boot-id printed by the reboot step (a pi-cluster bug if you see this)."
    fi
    if [ "$current" = "$previous" ]; then
      fail "$PI_NODE did not reboot (boot id $current is unchanged)" "Check the console and the power supply, then run again."
    fi
    note "rebooted (boot id was $previous)"
    ;;
  *)
    fail "REBOOT is '$reboot_state', expected scheduled or not-needed" "Pass the reboot= value printed by the reboot step (a pi-cluster bug if you see this)."
    ;;
esac
`,
  );
}
