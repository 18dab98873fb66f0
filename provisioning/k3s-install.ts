import type { K3sSettings, PlannedNode } from "../topology/types";
import { assertHostname, assertK3sVersion } from "./checks";
import { K3S_HELPERS, K3S_RESTART_MARKER, k3sService } from "./k3s-common";
import { renderScript, sh, shellQuote } from "./script";

/** Where the official installer is fetched from. */
export const K3S_INSTALLER_URL = "https://get.k3s.io";

/**
 * Installs k3s `k3s.version` with the official installer, as `server` or `agent`: every option
 * comes from the config file, the installer gets only `INSTALL_K3S_VERSION` and
 * `INSTALL_K3S_EXEC`. Skips the installer when `k3s --version` already reports that version (then
 * restarts the service once if the restart marker is present). A different installed version is
 * upgraded, and the output says so. Fails clearly if the installer cannot be downloaded.
 */
export function k3sInstallScript(node: PlannedNode, k3s: K3sSettings): string {
  assertHostname(node.hostname);
  assertK3sVersion(k3s.version);
  const service = k3sService(node);
  return renderScript(
    {
      node: node.hostname,
      step: "k3s-install",
      summary: `install k3s ${k3s.version} (${node.role})`,
    },
    sh`${K3S_HELPERS}
want=${shellQuote(k3s.version)}
service=${shellQuote(service)}
exec_cmd=${shellQuote(node.role)}
restart_marker="$ROOT${K3S_RESTART_MARKER}"
have="$(k3s_installed_version)"

if [ "$have" = "$want" ]; then
  if [ -e "$restart_marker" ]; then
    systemctl restart "$service"
    rm -f "$restart_marker"
    changed "restarted $service to load the changed config or token"
  else
    note "k3s $want is already installed"
  fi
else
  if [ -n "$have" ]; then
    note "upgrading k3s from $have to $want"
  else
    note "installing k3s $want as $exec_cmd"
  fi
  PI_TMP="$(mktemp)"
  if ! curl -sfL ${K3S_INSTALLER_URL} -o "$PI_TMP"; then
    fail "could not download the k3s installer from ${K3S_INSTALLER_URL}" "Check the node's internet access and DNS (static-dns step; try: curl -sfL ${K3S_INSTALLER_URL} -o /dev/null), then run again."
  fi
  if ! INSTALL_K3S_VERSION="$want" INSTALL_K3S_EXEC="$exec_cmd" sh "$PI_TMP"; then
    fail "the k3s installer failed (output above)" "Check journalctl -u $service -n 100 --no-pager on the node, then run again."
  fi
  rm -f "$PI_TMP"
  PI_TMP=''
  # The installer (re)started the service with the current config: no separate restart needed.
  rm -f "$restart_marker"
  if [ -n "$have" ]; then
    changed "upgraded k3s from $have to $want"
  else
    changed "installed k3s $want ($service)"
  fi
fi
`,
  );
}
