import type { PlannedNode } from "../topology/types";

/** Directory of the k3s config, the kubeconfig and the cluster token file. */
export const K3S_CONFIG_DIR = "/etc/rancher/k3s";

/** The k3s config file: every k3s option is set here, none on the installer's command line. */
export const K3S_CONFIG_PATH = "/etc/rancher/k3s/config.yaml";

/** Root-only file holding the cluster token (`token-file:` in the config; never the token itself). */
export const K3S_TOKEN_FILE = "/etc/rancher/k3s/cluster-token";

/**
 * Marker left by the config and token steps when they change a file under a running k3s; the
 * k3s-install step restarts the service once and removes it.
 */
export const K3S_RESTART_MARKER = "/run/pi-cluster/k3s-restart-required";

/** systemd unit k3s runs as on the node: `k3s` on servers, `k3s-agent` on agents. */
export function k3sService(node: Pick<PlannedNode, "role">): "k3s" | "k3s-agent" {
  return node.role === "server" ? "k3s" : "k3s-agent";
}

/**
 * Bash functions for the k3s scripts: `k3s_installed_version` prints the installed release
 * (`v1.33.6+k3s1`) or nothing, and `mark_k3s_restart` leaves {@link K3S_RESTART_MARKER} when k3s
 * is already installed.
 */
export const K3S_HELPERS = `
# Prints the installed k3s release (first line of \`k3s --version\`: "k3s version v1.33.6+k3s1
# (...)"), or nothing when k3s is not installed.
k3s_installed_version() {
  local out
  out="$(k3s --version 2>/dev/null)" || return 0
  printf '%s\\n' "$out" | sed -n '1s/^k3s version \\([^ ]*\\).*$/\\1/p'
}

# A running k3s reads its config and token only at start: ask the k3s-install step to restart it.
mark_k3s_restart() {
  if [ -n "$(k3s_installed_version)" ]; then
    mkdir -p "$ROOT/run/pi-cluster"
    touch "$ROOT${K3S_RESTART_MARKER}"
    note "k3s is installed: the k3s-install step will restart it"
  fi
}

# Creates ${K3S_CONFIG_DIR} (0755) if missing, for the config and token files.
ensure_k3s_config_dir() {
  local dir="$ROOT${K3S_CONFIG_DIR}"
  if [ ! -d "$dir" ]; then
    mkdir -p "$(dirname "$dir")"
    mkdir -m 0755 "$dir"
  fi
}
`;
