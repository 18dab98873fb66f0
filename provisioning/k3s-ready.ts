import type { PlannedNode } from "../topology/types";
import { assertHostname } from "./checks";
import { k3sService } from "./k3s-common";
import { renderScript, sh } from "./script";

/** How long {@link k3sReadyScript} waits. */
export interface ReadyWait {
  /** @default 60 */
  readonly attempts?: number;
  /** Seconds between attempts. @default 5 */
  readonly intervalSeconds?: number;
}

/**
 * Waits, bounded, until k3s works on the node: on a server until the API server answers `ok` on
 * `/readyz`; on an agent until the `k3s-agent` unit is active. On timeout prints the unit's last
 * journal lines and fails with the journalctl command to look further. Changes nothing.
 */
export function k3sReadyScript(node: PlannedNode, wait: ReadyWait = {}): string {
  assertHostname(node.hostname);
  const attempts = wait.attempts ?? 60;
  const interval = wait.intervalSeconds ?? 5;
  if (!Number.isInteger(attempts) || attempts < 1 || !Number.isInteger(interval) || interval < 0) {
    throw new Error(`k3sReadyScript: attempts must be >= 1 and intervalSeconds >= 0 (integers)`);
  }
  const service = k3sService(node);
  const probe =
    node.role === "server"
      ? `answer="$(k3s kubectl get --raw /readyz 2>/dev/null || true)"
  if [ "$answer" = ok ]; then`
      : `if systemctl is-active --quiet "$service"; then`;
  const what =
    node.role === "server" ? "the k3s API server is not ready" : "k3s-agent is not active";
  return renderScript(
    { node: node.hostname, step: "k3s-ready", summary: `wait for ${service} to be ready` },
    sh`
service='${service}'
attempts=${attempts}
interval=${interval}
ready=0
for ((i = 1; i <= attempts; i++)); do
  ${probe}
    ready=1
    break
  fi
  if [ "$i" -lt "$attempts" ]; then sleep "$interval"; fi
done

if [ "$ready" -ne 1 ]; then
  echo "last lines of journalctl -u $service:" >&2
  journalctl -u "$service" -n 30 --no-pager >&2 || true
  fail "${what} after $((attempts * interval)) s" "Look at journalctl -u $service -n 200 --no-pager and systemctl status $service on the node."
fi
note "$service is ready"
`,
  );
}
