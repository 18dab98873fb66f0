/**
 * The node scripts of a run, recovered from the remote commands the program declares, so the
 * plan shows exactly the text that would run on each Pi, in order.
 */
import { parseCommandName, planFileName, STEPS } from "../provisioning/script";
import { Topology } from "../topology/types";
import { maskSecrets } from "./render";
import { RecordedResource } from "./record";

/** One script file of the plan. */
export interface NodeScript {
  readonly hostname: string;
  /** `NN-<step>.sh`, or `NN-<step>.on-delete.sh` for what runs when the node is removed. */
  readonly file: string;
  readonly text: string;
}

/** Inverse of `asRootCommand` / `asUserCommand`: the script inside `[sudo -n] bash -c '<script>'`. */
export function scriptOfRootCommand(command: string): string | undefined {
  const match = /^(?:sudo -n )?bash -c '([\s\S]*)'$/.exec(command);
  return match ? match[1].replace(/'\\''/g, "'") : undefined;
}

/** Every node's scripts, ordered by step, from the recorded `command:remote:Command`s. */
export function nodeScripts(
  topology: Topology,
  resources: readonly RecordedResource[],
): NodeScript[] {
  const hostnames = new Set(topology.nodes.map((n) => n.hostname));
  const scripts: NodeScript[] = [];
  for (const resource of resources.filter((r) => r.type === "command:remote:Command")) {
    const id = parseCommandName(resource.name);
    if (!id || !hostnames.has(id.hostname)) continue;
    const inputs = maskSecrets(resource.inputs) as Record<string, unknown>;
    const host = (inputs.connection as { host?: string } | undefined)?.host;
    const runsOn = topology.nodes.find((n) => n.ip === host)?.hostname ?? String(host);
    // A delete-phase step's create is a placeholder; what matters is what runs on removal.
    const deleteStep = STEPS.find((s) => s.id === id.step)?.phase === "delete";
    const phases = deleteStep ? (["delete"] as const) : (["create", "delete"] as const);
    for (const phase of phases) {
      const command = inputs[phase];
      if (typeof command !== "string") continue;
      const script =
        scriptOfRootCommand(command) ??
        `#!/usr/bin/env bash\n# Runs as the SSH user.\n${command}\n`;
      const where =
        phase === "delete"
          ? `# Runs on ${runsOn} when ${id.hostname} is removed from the stack.\n`
          : runsOn !== id.hostname
            ? `# Runs on ${runsOn}.\n`
            : "";
      const text = script.replace(/^(#!.*\n)/, `$1${where}`);
      const suffix = phase === "delete" ? ".on-delete" : "";
      scripts.push({
        hostname: id.hostname,
        file: planFileName(id.step).replace(/\.sh$/, `${suffix}.sh`),
        text,
      });
    }
  }
  return scripts.sort(
    (a, b) => a.hostname.localeCompare(b.hostname) || a.file.localeCompare(b.file),
  );
}
