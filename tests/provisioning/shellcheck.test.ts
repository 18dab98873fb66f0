/**
 * shellcheck passes on every generated script for every fixture node. A missing shellcheck is a
 * failure, not a skip: CI installs it, and an unchecked script must not look green.
 */
import { spawnSync } from "child_process";
import { allScripts } from "./all-scripts";
import { ALL_NODES } from "./fixtures";

function shellcheckVersion(): string | undefined {
  const r = spawnSync("shellcheck", ["--version"], { encoding: "utf8" });
  return r.error === undefined && r.status === 0 ? r.stdout : undefined;
}

describe("shellcheck", () => {
  it("is installed", () => {
    if (shellcheckVersion() === undefined) {
      throw new Error("shellcheck not found: install shellcheck (apt-get install -y shellcheck)");
    }
  });

  const cases = ALL_NODES.flatMap((node) =>
    Object.entries(allScripts(node)).map(([step, text]) => [node.hostname, step, text] as const),
  );

  it.each(cases)("%s %s passes shellcheck -s bash", (_hostname, _step, text) => {
    const r = spawnSync("shellcheck", ["-s", "bash", "-"], { input: text, encoding: "utf8" });
    if (r.error !== undefined) {
      throw new Error(
        `shellcheck not found: install shellcheck (apt-get install -y shellcheck) (${r.error.message})`,
      );
    }
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
  });
});
