import type { PlannedNode } from "../topology/types";
import { assertHostname } from "./checks";
import { renderScript, sh, shellQuote } from "./script";

/**
 * Sets the node's hostname (k3s registers the node under it) and points the `127.0.1.1` line of
 * `/etc/hosts` at it, so `sudo` and friends resolve the new name without DNS.
 */
export function hostnameScript(node: PlannedNode): string {
  assertHostname(node.hostname);
  return renderScript(
    { node: node.hostname, step: "hostname", summary: `set the hostname to ${node.hostname}` },
    sh`
want=${shellQuote(node.hostname)}

current="$(hostname)"
if [ "$current" != "$want" ]; then
  hostnamectl set-hostname "$want"
  changed "hostname set to $want (was $current)"
fi

hosts="$ROOT/etc/hosts"
if [ ! -f "$hosts" ]; then
  fail "$hosts is missing" "Restore it (Raspberry Pi OS ships one with localhost and a 127.0.1.1 line), then run again."
fi
# Keep a correct 127.0.1.1 line as it is; rewrite a wrong one; drop duplicates; add one if missing.
begin_file "$hosts"
awk -v host="$want" '
  $1 == "127.0.1.1" {
    if (!done) {
      if (NF == 2 && $2 == host) print; else print "127.0.1.1\t" host
      done = 1
    }
    next
  }
  { print }
  END { if (!done) print "127.0.1.1\t" host }
' "$hosts" >"$PI_TMP"
commit_file "$hosts"
if [ "$PI_UPDATED" -eq 1 ]; then
  changed "$hosts: 127.0.1.1 now maps to $want"
fi
`,
  );
}
