import type { PlannedNode } from "../topology/types";
import { assertHostname } from "./checks";
import { K3S_RESTART_MARKER, K3S_TOKEN_FILE } from "./k3s-common";
import { renderScript, sh, shellQuote } from "./script";

/**
 * Runs on the first server when a node leaves: drains `hostname` (evicting its pods, DaemonSets
 * excepted, emptyDir data deleted, 300 s limit) and deletes its Node object. A node the cluster
 * does not know is not an error (a second run, or a node that never joined).
 */
export function drainScript(hostname: string): string {
  assertHostname(hostname);
  return renderScript(
    { node: hostname, step: "drain", summary: `drain ${hostname} and remove it from the cluster` },
    sh`
target=${shellQuote(hostname)}
if out="$(k3s kubectl get node "$target" -o name 2>&1)"; then
  if ! k3s kubectl drain "$target" --ignore-daemonsets --delete-emptydir-data --timeout=300s; then
    fail "draining $target failed (output above)" "Pods that cannot be evicted (PodDisruptionBudgets, bare pods) block it: fix them, then run again."
  fi
  changed "drained $target"
  k3s kubectl delete node "$target" --ignore-not-found
  changed "deleted node $target from the cluster"
else
  case "$out" in
    *"(NotFound)"*) note "node $target is not in the cluster; nothing to drain" ;;
    *) fail "cannot look up node $target: $out" "Check the API server on the first server: k3s kubectl get nodes." ;;
  esac
fi
`,
  );
}

/**
 * Uninstalls k3s from the node with the uninstall script the installer left
 * (`/usr/local/bin/k3s-uninstall.sh` on servers, `k3s-agent-uninstall.sh` on agents; the other one
 * is tried too), then removes the cluster token file and the restart marker. Without a script it
 * only says so. Node prep (cgroups, swap, DNS) is left as it is.
 */
export function uninstallScript(node: PlannedNode): string {
  assertHostname(node.hostname);
  const scripts =
    node.role === "server"
      ? ["k3s-uninstall.sh", "k3s-agent-uninstall.sh"]
      : ["k3s-agent-uninstall.sh", "k3s-uninstall.sh"];
  return renderScript(
    { node: node.hostname, step: "uninstall", summary: "uninstall k3s" },
    sh`
ran=''
for name in ${scripts.join(" ")}; do
  uninstaller="$ROOT/usr/local/bin/$name"
  if [ -x "$uninstaller" ]; then
    "$uninstaller"
    changed "ran $name"
    ran=1
    break
  fi
done
if [ -z "$ran" ]; then
  note "k3s is not installed (no ${scripts.join(" or ")} in /usr/local/bin)"
fi

# The uninstaller removes /etc/rancher/k3s on servers; make sure no token is left behind anyway.
token_file="$ROOT${K3S_TOKEN_FILE}"
if [ -e "$token_file" ]; then
  rm -f "$token_file"
  changed "removed $token_file"
fi
rm -f "$ROOT${K3S_RESTART_MARKER}"
`,
  );
}
