/**
 * Runs one stack's real program in-process under the mock runtime, with the stack's real
 * `Pulumi.<stack>.yaml`, and returns everything it declared.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import { CONFIG_NAMESPACE } from "../topology/config";
import { ConfigError, ConfigProblem } from "../topology/errors";
import { Topology } from "../topology/types";
import { CommandStdout, PlanMocks } from "./mocks";
import { RecordedResource, ResourceRecorder, SECRET_SIG, SECRET_SIG_KEY } from "./record";
import { fakeCommandStdout } from "./command-outputs";

/** The project root, where the `Pulumi.<stack>.yaml` files are. */
export const PROJECT_ROOT = path.resolve(__dirname, "..");

/** What one offline run of a stack produced. */
export interface StackRun {
  readonly stack: string;
  readonly topology: Topology;
  readonly resources: readonly RecordedResource[];
  readonly outputs: Record<string, unknown>;
}

export interface RunOptions {
  /** Config to use instead of `Pulumi.<stack>.yaml`'s (flat `pi-cluster:key` → value map). */
  readonly config?: Record<string, unknown>;
  /** Directory holding `Pulumi.<stack>.yaml` when `config` is not given. @default PROJECT_ROOT */
  readonly configDir?: string;
  /** Answers for command outputs. @default fakeCommandStdout */
  readonly commandStdout?: CommandStdout;
}

/**
 * Reads the `config:` block of `Pulumi.<stack>.yaml`; keys without a namespace are ours.
 * @throws ConfigError naming `Pulumi.<stack>.yaml:<line>:<col>` when the file is missing, is not
 *   valid YAML, repeats a key in one map (the yaml package refuses duplicates by default: the
 *   second value would silently win) or has no `config:` map
 */
export function readStackConfigFile(stack: string, root = PROJECT_ROOT): Record<string, unknown> {
  const name = `Pulumi.${stack}.yaml`;
  const file = path.join(root, name);
  if (!fs.existsSync(file)) {
    throw new ConfigError(stack, [
      { key: name, message: `${name}: no such file in ${root}; create it or pick a known stack` },
    ]);
  }
  const text = fs.readFileSync(file, "utf8");
  const doc = YAML.parseDocument(text);
  if (doc.errors.length > 0) {
    throw new ConfigError(
      stack,
      doc.errors.map((error) => yamlProblem(name, text, error)),
    );
  }
  const parsed: unknown = doc.toJS();
  const block =
    parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>).config
      : undefined;
  if (
    block !== undefined &&
    (block === null || typeof block !== "object" || Array.isArray(block))
  ) {
    throw new ConfigError(stack, [
      {
        key: `${name}:config`,
        message: `${name}: "config:" is not a map of config keys to values`,
      },
    ]);
  }
  const config: Record<string, unknown> = {};
  for (const [key, value] of Object.entries((block ?? {}) as Record<string, unknown>)) {
    config[key.includes(":") ? key : `${CONFIG_NAMESPACE}:${key}`] = value;
  }
  return config;
}

/**
 * One YAML error as a config problem: file, line and column, and what is wrong, never the
 * line's text (it may hold a pasted secret). A duplicated key is named.
 */
export function yamlProblem(name: string, text: string, error: YAML.YAMLError): ConfigProblem {
  const pos = error.linePos?.[0];
  const where = pos ? `${name}:${pos.line}:${pos.col}` : name;
  // The yaml package appends " at line L, column C:" and a code frame: keep the description.
  let what = error.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
  if (error.code === "DUPLICATE_KEY" && pos) {
    const line = text.split(/\r?\n/)[pos.line - 1] ?? "";
    const key = /^\s*(?:-\s+)?([^\s#][^#]*?)\s*:(\s|$)/.exec(line)?.[1];
    what = key
      ? `the key "${key}" is given twice in the same map; keep one (the second would silently win)`
      : `${what}; keep one (the second would silently win)`;
  }
  return { key: where, message: `${where}: ${what}` };
}

/** Pulumi keeps structured config values as JSON strings; so does the offline run. */
function toPulumiConfig(config: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
  );
}

/** Custom 1Password field labels the config refers to, per `vault/item`, for the getItem mock. */
function referencedFields(config: Record<string, unknown>): Map<string, string[]> {
  const fields = new Map<string, string[]>();
  const text = JSON.stringify(config);
  for (const match of text.matchAll(/op:\/\/([^/"]+)\/([^/"]+)\/([^/"]+)/g)) {
    const key = `${match[1]}/${match[2]}`;
    fields.set(key, [...new Set([...(fields.get(key) ?? []), match[3]])]);
  }
  return fields;
}

// The SDK's own "wait until every registration has been answered" (sdk/nodejs/runtime/settings.ts);
// marked internal, so not in the .d.ts.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { waitForRPCs } = require("@pulumi/pulumi/runtime/settings") as {
  waitForRPCs: () => Promise<void>;
};

/** What an offline run of any program produced. */
export interface ProgramRun<T> {
  readonly result: T;
  readonly resources: readonly RecordedResource[];
}

/**
 * Runs `program` under the mock runtime with `config` and records what it declares: the core
 * of a stack run, and on its own a way to test one component.
 */
export async function runProgram<T>(
  stack: string,
  config: Record<string, unknown>,
  program: () => T,
  commandStdout: CommandStdout = fakeCommandStdout,
): Promise<ProgramRun<T>> {
  const recorder = new ResourceRecorder();
  const mocks = new PlanMocks(recorder, referencedFields(config), commandStdout);
  await pulumi.runtime.setMocks(mocks, CONFIG_NAMESPACE, stack, false);
  pulumi.runtime.setAllConfig(toPulumiConfig(config));
  let result: T | undefined;
  // The program's own error (a ConfigError, say) is caught inside the stack and re-thrown here:
  // thrown through the SDK it would surface as an unhandled rejection and end the process.
  let failure: unknown;
  await pulumi.runtime.runInPulumiStack(async () => {
    try {
      recorder.attach();
      result = program();
    } catch (error) {
      failure = error;
    }
    return {};
  });
  await waitForRPCs();
  if (failure !== undefined) throw failure;
  return { result: result as T, resources: recorder.all() };
}

/** Runs the stack under mocks. Throws what the program throws (a ConfigError for bad config). */
export async function runStackOffline(stack: string, options: RunOptions = {}): Promise<StackRun> {
  const config = options.config ?? readStackConfigFile(stack, options.configDir);
  const { runStack } = await import("../stacks");
  const run = await runProgram(stack, config, () => runStack(stack), options.commandStdout);
  const outputs = await resolveOutputs(run.result.outputs);
  return { stack, topology: run.result.topology, resources: run.resources, outputs };
}

/** Stack outputs with Outputs resolved (secret ones stay wrapped as the recorder shows them). */
async function resolveOutputs(outputs: Record<string, unknown>): Promise<Record<string, unknown>> {
  const entries = await Promise.all(
    Object.entries(outputs).map(async ([key, value]) => {
      if (!pulumi.Output.isInstance(value)) return [key, value] as const;
      const secret = await pulumi.isSecret(value);
      const plain = await new Promise<unknown>((resolve) => value.apply((v) => resolve(v)));
      return [key, secret ? { [SECRET_SIG_KEY]: SECRET_SIG, value: plain } : plain] as const;
    }),
  );
  return Object.fromEntries(entries);
}
