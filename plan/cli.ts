/**
 * `npm run plan -- [stack]`: evaluates a stack offline (the real program under the mock runtime,
 * with the real Pulumi.<stack>.yaml) and writes everything it would create to out/<stack>/.
 * `npm run plan -- --all` plans every stack.
 */
import * as path from "path";
import { ConfigError } from "../topology/errors";
import { formatMi } from "../topology/quantity";
import { writePlan } from "./render";
import { PROJECT_ROOT, runStackOffline, StackRun } from "./run";

const DEFAULT_STACK = "pi-k3s";

function summary(run: StackRun, outDir: string, files: string[]): string {
  const byType = new Map<string, number>();
  for (const r of run.resources) byType.set(r.type, (byType.get(r.type) ?? 0) + 1);
  const lines = [
    `stack ${run.stack}: ${run.resources.length} resources, plan written to ${path.relative(process.cwd(), outDir) || "."}/ (${files.length} files)`,
    "",
    "resources by type:",
    ...[...byType.entries()]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([t, n]) => `  ${String(n).padStart(4)}  ${t}`),
    "",
    "nodes (memory requested by pods / free for pods):",
    ...run.topology.capacity.map((load) => {
      const node = run.topology.nodes.find((n) => n.hostname === load.hostname)!;
      const pct = Math.round((load.memoryRequestMi / load.budgetMi) * 100);
      return `  ${load.hostname.padEnd(14)} ${node.role.padEnd(6)} ${node.ip.padEnd(15)} ${formatMi(load.memoryRequestMi).padStart(7)} / ${formatMi(load.budgetMi).padEnd(7)} ${String(pct).padStart(3)}%`;
    }),
  ];
  return lines.join("\n");
}

async function main(argv: string[]): Promise<number> {
  const { KNOWN_STACKS } = await import("../stacks");
  const args = argv.filter((a) => a !== "--");
  if (args.includes("--help") || args.includes("-h")) {
    console.log(
      `usage: npm run plan -- [stack | --all] [--config-dir <dir>]   (stacks: ${KNOWN_STACKS.join(", ")}; ` +
        `default ${DEFAULT_STACK}; --config-dir: where Pulumi.<stack>.yaml is, default the project root)`,
    );
    return 0;
  }
  const dirAt = args.indexOf("--config-dir");
  const configDir = dirAt >= 0 ? args[dirAt + 1] : undefined;
  if (dirAt >= 0 && configDir === undefined) {
    console.error("--config-dir needs a directory");
    return 2;
  }
  const positional = args.filter((a, i) => !a.startsWith("--") && (dirAt < 0 || i !== dirAt + 1));
  const stacks = args.includes("--all") ? KNOWN_STACKS : [positional[0] ?? DEFAULT_STACK];
  const outRoot = path.join(PROJECT_ROOT, "out");
  for (const stack of stacks) {
    if (!KNOWN_STACKS.includes(stack)) {
      console.error(`unknown stack "${stack}": known stacks are ${KNOWN_STACKS.join(", ")}`);
      return 2;
    }
    try {
      const run = await runStackOffline(stack, {
        ...(configDir ? { configDir: path.resolve(configDir) } : {}),
      });
      const files = writePlan(run, outRoot);
      console.log(summary(run, path.join(outRoot, stack), files) + "\n");
    } catch (error) {
      if (error instanceof ConfigError) {
        console.error(error.message);
        return 1;
      }
      throw error;
    }
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
