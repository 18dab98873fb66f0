/**
 * `npm run adopt -- <stack> --live <dump folder>`: plans the takeover of the running cluster
 * offline and writes `out/<stack>/adopt/import.json` (for `pulumi import --file`) and `adopt.md`.
 * Exits 1 when the handover would lose data or the input is unusable, 2 on bad arguments.
 */
import * as fs from "fs";
import * as path from "path";
import { ConfigError } from "../topology/errors";
import { DumpError, planAdoption, readLiveDump } from "./adopt";
import { adoptReport } from "./adopt-report";
import { PROJECT_ROOT, runStackOffline } from "./run";

const USAGE = "usage: npm run adopt -- <stack> --live <folder of kubectl/helm JSON>";

async function main(argv: string[]): Promise<number> {
  const args = argv.filter((a) => a !== "--");
  const liveAt = args.indexOf("--live");
  const stack = args.find((a, i) => !a.startsWith("--") && i !== liveAt + 1);
  const dump = liveAt >= 0 ? args[liveAt + 1] : undefined;
  if (!stack || !dump) {
    console.error(USAGE);
    return 2;
  }
  const { KNOWN_STACKS } = await import("../stacks");
  if (!KNOWN_STACKS.includes(stack)) {
    console.error(`unknown stack "${stack}": known stacks are ${KNOWN_STACKS.join(", ")}`);
    return 2;
  }
  try {
    const run = await runStackOffline(stack);
    if (!run.topology.takeover) {
      console.error(
        `stack ${stack} has no live cluster to take over: Pulumi.${stack}.yaml sets no pi-cluster:takeover ` +
          `(only a stack describing a running cluster does; pi-k3s describes the Flux-run one)`,
      );
      return 1;
    }
    const live = readLiveDump(path.resolve(dump));
    const adoption = planAdoption(run, live, run.topology.takeover);
    const dir = path.join(PROJECT_ROOT, "out", stack, "adopt");
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(
      path.join(dir, "import.json"),
      JSON.stringify(adoption.importFile, null, 2) + "\n",
    );
    fs.writeFileSync(path.join(dir, "adopt.md"), adoptReport(adoption));
    const changed = adoption.adopted.filter((a) => a.differences.length + a.replaces.length > 0);
    console.log(
      [
        `stack ${stack}: adoption plan written to ${path.relative(process.cwd(), dir) || "."}/ (import.json, adopt.md)`,
        `  adopted as is:            ${adoption.adopted.length - changed.length}`,
        `  adopted with a change:    ${changed.length}`,
        `  planned, will be created: ${adoption.absent.length}`,
        `  live, not planned:        ${adoption.unplanned.length}`,
        `  volumes to patch Retain:  ${adoption.patchToRetain.length}`,
      ].join("\n"),
    );
    if (adoption.problems.length > 0) {
      console.error(
        `\nthe handover must not go ahead, ${adoption.problems.length} problem(s):\n` +
          adoption.problems.map((p) => `  - ${p}`).join("\n"),
      );
      return 1;
    }
    return 0;
  } catch (error) {
    if (error instanceof ConfigError || error instanceof DumpError) {
      console.error(error.message);
      return 1;
    }
    throw error;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
