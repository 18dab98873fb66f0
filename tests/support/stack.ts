/** Test helpers: a stack's config as data, offline runs, and lookups over recorded resources. */
import { CONFIG_NAMESPACE, PLATFORM_SECRET_KEYS } from "../../topology/config";
import { readStackConfigFile, runStackOffline, RunOptions, StackRun } from "../../plan/run";
import { RecordedResource } from "../../plan/record";
import { appsOf, platformVolumes, platformWorkloadsOf } from "../../stacks";
import { ConfigError } from "../../topology/errors";
import { planTopology } from "../../topology/plan";
import { Topology } from "../../topology/types";
import { WorkloadSpec } from "../../topology/workloads";

/** The three stacks this project ships. */
export const STACKS = ["pi-k3s", "pi5-expansion", "homelab-ha"] as const;

/** A stack's `pi-cluster:*` config without the namespace (`{ nodes: [...], ... }`), deep-copied. */
// Tests mutate config freely, so it is typed loosely on purpose.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function rawConfig(stack: string): Record<string, any> {
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(readStackConfigFile(stack))) {
    if (key.startsWith(`${CONFIG_NAMESPACE}:`))
      raw[key.slice(CONFIG_NAMESPACE.length + 1)] = structuredClone(value);
  }
  return raw;
}

/**
 * A stack's config without its apps (their sections and the secrets only they read), for plans
 * of the platform and k3s alone.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests mutate config freely
export function platformOnlyConfig(stack: string): Record<string, any> {
  const raw = rawConfig(stack);
  delete raw.apps;
  // Volume settings name the apps' and the platform's volumes, which such a plan does not have.
  delete raw.volumes;
  for (const key of Object.keys(raw.secrets))
    if (!(PLATFORM_SECRET_KEYS as readonly string[]).includes(key)) delete raw.secrets[key];
  return raw;
}

/** The same config, namespaced again, for an offline run. */
export function asStackConfig(raw: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [`${CONFIG_NAMESPACE}:${k}`, v]));
}

/** Runs a stack offline, optionally with changed config. */
export function planStack(
  stack: string,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests mutate config freely
  mutate?: (raw: Record<string, any>) => void,
  options: Omit<RunOptions, "config"> = {},
): Promise<StackRun> {
  if (!mutate) return runStackOffline(stack, options);
  const raw = rawConfig(stack);
  mutate(raw);
  return runStackOffline(stack, { ...options, config: asStackConfig(raw) });
}

/** Every recorded resource of a type. */
export function ofType(run: StackRun, type: string): RecordedResource[] {
  return run.resources.filter((r) => r.type === type);
}

/** The one resource of a type and name; fails the test with the names that do exist. */
export function named(run: StackRun, type: string, name: string): RecordedResource {
  const found = run.resources.find((r) => r.type === type && r.name === name);
  if (!found) {
    throw new Error(
      `no ${type} named ${name}; have: ${
        ofType(run, type)
          .map((r) => r.name)
          .join(", ") || "none"
      }`,
    );
  }
  return found;
}

/**
 * Plans a stack's topology the way its composition does (platform and app workloads), with its
 * config optionally changed and extra workloads added. No Pulumi run: pure and fast.
 */
export function planned(
  stack: string,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests mutate config freely
  mutate?: (raw: Record<string, any>) => void,
  extra: readonly WorkloadSpec[] = [],
): Topology {
  const raw = rawConfig(stack);
  mutate?.(raw);
  return planTopology(
    stack,
    raw,
    (platform, hasMetallb) => [...platformWorkloadsOf(platform, hasMetallb), ...extra],
    appsOf(stack),
    platformVolumes,
  );
}

/**
 * The config problems a changed stack file produces, as the user reads them (empty when it
 * plans): what the table-driven bad-input tests assert on.
 */
export function configProblems(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests mutate config freely
  mutate: (raw: Record<string, any>) => void,
  stack = "pi-k3s",
): string[] {
  try {
    planned(stack, mutate);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => p.message);
    throw error;
  }
  return [];
}
