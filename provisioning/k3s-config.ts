import { stringify } from "yaml";
import type { K3sSettings, PlannedNode } from "../topology/types";
import { assertHostname, assertIpv4 } from "./checks";
import { K3S_CONFIG_PATH, K3S_HELPERS, K3S_TOKEN_FILE } from "./k3s-common";
import { renderScript, sh } from "./script";

/** Heredoc delimiter that embeds the config; a config line equal to it is refused. */
const HEREDOC_END = "PI_CLUSTER_K3S_CONFIG_EOF";

/**
 * Whether the node reads the cluster token from `/etc/rancher/k3s/cluster-token` (so the k3s-token
 * step must install it first): every node except a first server whose token source is
 * `first-server`, which generates the token itself.
 */
export function usesTokenFile(
  node: Pick<PlannedNode, "isFirstServer">,
  k3s: Pick<K3sSettings, "token">,
): boolean {
  return !(node.isFirstServer && k3s.token.kind === "first-server");
}

/**
 * Text of `/etc/rancher/k3s/config.yaml` for one node, keys in a fixed order.
 *
 * Servers: `write-kubeconfig-mode`, `tls-san`, `disable`, `cluster-init: true` (only the node
 * with `clusterInit`), then the shared keys. Shared keys, on agents too: `server` (every node but
 * the first server), `token-file` (every node except a first server whose token source is
 * `first-server`: that one generates the token), `node-ip`, `node-label` (the node's
 * registration labels as `key=value`, sorted). Never a token value.
 *
 * @param joinUrl URL joining nodes register through.
 * @default k3s.serverUrl
 * @see https://docs.k3s.io/installation/configuration#configuration-file
 */
export function k3sConfigYaml(node: PlannedNode, k3s: K3sSettings, joinUrl?: string): string {
  assertHostname(node.hostname);
  assertIpv4(node.ip, `node ${node.hostname}: ip`);
  const where = `k3s config for ${node.hostname}`;
  if (node.role === "agent" && (node.isFirstServer || node.clusterInit)) {
    throw new Error(`${where}: an agent cannot be the first server or run cluster-init`);
  }
  if (node.clusterInit && !node.isFirstServer) {
    throw new Error(`${where}: clusterInit is set but isFirstServer is not`);
  }
  if (node.clusterInit && !k3s.embeddedEtcd) {
    throw new Error(`${where}: clusterInit is set but k3s.embeddedEtcd is false`);
  }
  if (node.isFirstServer && k3s.embeddedEtcd && !node.clusterInit) {
    throw new Error(`${where}: k3s.embeddedEtcd is true but the first server lacks clusterInit`);
  }
  if (node.role === "server" && !node.isFirstServer && !k3s.embeddedEtcd) {
    throw new Error(
      `${where}: a second server can join only with embedded etcd (k3s.embeddedEtcd is false)`,
    );
  }
  if (!/^0?[0-7]{3}$/.test(k3s.kubeconfigMode)) {
    throw new Error(`${where}: kubeconfigMode "${k3s.kubeconfigMode}" is not an octal mode`);
  }
  const server = joinUrl ?? k3s.serverUrl;
  if (!node.isFirstServer && !/^https:\/\/[^\s/]+:[0-9]+$/.test(server)) {
    throw new Error(`${where}: server URL "${server}" must look like https://<host>:6443`);
  }

  const doc: Record<string, string | boolean | string[]> = {};
  if (node.role === "server") {
    doc["write-kubeconfig-mode"] = k3s.kubeconfigMode;
    if (k3s.tlsSans.length > 0) doc["tls-san"] = [...k3s.tlsSans];
    if (k3s.disable.length > 0) doc["disable"] = [...k3s.disable];
    if (node.clusterInit) doc["cluster-init"] = true;
  }
  if (!node.isFirstServer) doc["server"] = server;
  if (usesTokenFile(node, k3s)) doc["token-file"] = K3S_TOKEN_FILE;
  doc["node-ip"] = node.ip;
  const labels = Object.entries(node.registrationLabels)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`);
  if (labels.length > 0) doc["node-label"] = labels;
  return stringify(doc);
}

/**
 * Writes `yamlText` (from {@link k3sConfigYaml}) to `/etc/rancher/k3s/config.yaml` (mode 0600,
 * directory 0755) only when the content differs. A change under an installed k3s leaves the
 * restart marker for the k3s-install step.
 */
export function k3sConfigScript(node: PlannedNode, yamlText: string): string {
  assertHostname(node.hostname);
  const text = yamlText.endsWith("\n") ? yamlText : `${yamlText}\n`;
  if (text.split("\n").includes(HEREDOC_END)) {
    throw new Error(`k3s config for ${node.hostname} contains the line "${HEREDOC_END}"`);
  }
  return renderScript(
    { node: node.hostname, step: "k3s-config", summary: `write ${K3S_CONFIG_PATH}` },
    sh`${K3S_HELPERS}
ensure_k3s_config_dir
target="$ROOT${K3S_CONFIG_PATH}"

begin_file "$target"
# Quoted delimiter: the shell expands nothing inside, the file gets the text exactly.
cat >"$PI_TMP" <<'${HEREDOC_END}'
${text}${HEREDOC_END}
commit_file "$target" 0600
if [ "$PI_UPDATED" -eq 1 ]; then
  changed "wrote $target"
  mark_k3s_restart
else
  note "$target is up to date"
fi
`,
  );
}
