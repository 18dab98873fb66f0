import type { PlannedNode } from "../topology/types";
import { assertHostname } from "./checks";
import { K3S_HELPERS, K3S_TOKEN_FILE } from "./k3s-common";
import { readSecretFileScript, renderScript, sh } from "./script";

/** Where a k3s server keeps the cluster token it generated (or was given). */
export const SERVER_TOKEN_PATH = "/var/lib/rancher/k3s/server/token";

/**
 * Installs the cluster token, read from **stdin**, as `/etc/rancher/k3s/cluster-token` (mode
 * 0600), which the config's `token-file:` points at. The token never appears in argv, the
 * environment or the output; the file is rewritten only when it differs, and a change under an
 * installed k3s leaves the restart marker. An empty stdin fails.
 */
export function k3sTokenScript(node: PlannedNode): string {
  assertHostname(node.hostname);
  return renderScript(
    { node: node.hostname, step: "k3s-token", summary: `install the cluster token from stdin` },
    sh`${K3S_HELPERS}
# The token is a secret: it is read from stdin into a variable and written with printf (a shell
# builtin), so it never shows up in a command line, and it is never printed: no tracing here.
token="$(cat)"
token="\${token%"\${token##*[![:space:]]}"}"
token="\${token#"\${token%%[![:space:]]*}"}"
if [ -z "$token" ]; then
  fail "no token on stdin" "Pass the cluster token on the command's stdin (from 1Password or the first server's read-token step)."
fi
case "$token" in
  *[[:space:]]*) fail "the token on stdin contains whitespace or several lines" "Pass exactly one token, on one line." ;;
esac

ensure_k3s_config_dir
target="$ROOT${K3S_TOKEN_FILE}"
begin_file "$target"
printf '%s\n' "$token" >"$PI_TMP"
token=''
commit_file "$target" 0600
if [ "$PI_UPDATED" -eq 1 ]; then
  changed "wrote the cluster token to $target"
  mark_k3s_restart
else
  note "$target already holds this token"
fi
`,
  );
}

/**
 * Prints the cluster token of a server (`/var/lib/rancher/k3s/server/token`) and nothing else on
 * stdout, so the caller can capture it as a secret. No report line; fails if the file is absent.
 *
 * @param node The first server it runs on; only names it in messages.
 * @default "k3s-server" as the name in messages
 */
export function readTokenScript(node?: Pick<PlannedNode, "hostname">): string {
  return readSecretFileScript(node, "read-token", SERVER_TOKEN_PATH, "the cluster token");
}
