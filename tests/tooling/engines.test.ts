/**
 * `engines.node` says what the locked dependencies really need, so the launcher's decision and
 * the README's list of supported Nodes stay true when a dependency raises its floor.
 */
import * as fs from "fs";
import * as path from "path";
import * as semver from "semver";
import pkg from "../../package.json";

const ROOT = path.resolve(__dirname, "../..");

/** Every `engines.node` in the lockfile, with the package that declares it. */
function lockedEngines(): { name: string; range: string }[] {
  const lock = JSON.parse(fs.readFileSync(path.join(ROOT, "package-lock.json"), "utf8")) as {
    packages: Record<string, { engines?: { node?: string } | string[] }>;
  };
  return Object.entries(lock.packages)
    .filter(([name]) => name !== "") // the project itself
    .flatMap(([name, entry]) => {
      // A few old packages still write engines as an array of strings; npm ignores those.
      const node = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
      return node === undefined ? [] : [{ name, range: node }];
    });
}

/** X.Y.0 for every Node release line from 14 to 26 (the active LTS), oldest first. */
const CANDIDATES = Array.from({ length: 13 }, (_, i) => 14 + i).flatMap((major) =>
  Array.from({ length: 41 }, (_, minor) => `${major}.${minor}.0`),
);

const engines = lockedEngines();
const admitsAll = (version: string) => engines.every((e) => semver.satisfies(version, e.range));

test("the lockfile declares engines (the check below is not vacuous)", () => {
  expect(engines.map((e) => e.name)).toContain("node_modules/@pulumi/pulumi");
});

test("engines.node is the lowest Node every locked package accepts", () => {
  const lowest = CANDIDATES.find(admitsAll);
  expect(pkg.engines.node).toBe(`>=${lowest}`);
});

test("every locked package accepts every Node from that minimum up to 26", () => {
  const minimum = semver.minVersion(pkg.engines.node)!.version;
  const rejected = CANDIDATES.filter((v) => semver.gte(v, minimum)).flatMap((v) =>
    engines.filter((e) => !semver.satisfies(v, e.range)).map((e) => `${e.name} on ${v}`),
  );
  expect(rejected).toEqual([]);
});

test("the pinned Node satisfies engines.node", () => {
  expect(semver.satisfies(pkg.config.node, pkg.engines.node)).toBe(true);
});
