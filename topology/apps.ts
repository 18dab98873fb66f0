/**
 * Apps as data: what an app asks of the plan before any resource exists. Each app module under
 * `components/apps/` exports one `AppDefinition` (its config section, the secrets it reads, its
 * workloads, catalog entries and non-web monitors) beside the component that deploys it; the
 * stack file lists the apps it runs and nothing else has to change to add one.
 */
import { z } from "zod";
import { CatalogEntry, NonWebMonitor } from "./catalog";
import { CONFIG_NAMESPACE, zodProblems } from "./config";
import { ConfigProblem } from "./errors";
import {
  MetallbSettings,
  NetworkSettings,
  PlannedNode,
  PlatformSettings,
  SecretRef,
} from "./types";
import { WorkloadSpec } from "./workloads";

/** What an app's planning functions may read: the plan of the cluster around it. */
export interface AppPlanContext {
  readonly stack: string;
  readonly domain: string;
  readonly nodes: readonly PlannedNode[];
  readonly network: NetworkSettings & { readonly nas?: string };
  readonly platform: PlatformSettings;
  readonly metallb?: MetallbSettings;
  /** IANA time zone for schedules and logs (`pi-cluster:cluster.timezone`). */
  readonly timezone: string;
  /** Every `pi-cluster:secrets` reference, by key. */
  readonly secrets: Readonly<Record<string, SecretRef>>;
}

/**
 * A volume whose data must outlive any refactor, declared as data by its app: the backups copy
 * it, the takeover adopts it by name, a phase switch plans its move.
 */
export interface StatefulVolume {
  /** The claim's name (matches the live cluster where the seeds name it, e.g. `pihole-etc`). */
  readonly claim: string;
  readonly namespace: string;
  /** The app it belongs to, for reports. */
  readonly app: string;
  /** The workload that mounts it (its node is where a local volume lives). */
  readonly workload: string;
  readonly size: string;
  /** `local`: a `local-path-retain` volume on one node's disk; `nfs`: on the NAS. */
  readonly storage: "local" | "nfs";
  /** Copied to the NAS by the weekly volume backup. */
  readonly backup: boolean;
  /** What is in it, in a few words. */
  readonly holds: string;
}

/** A database an app runs, declared as data so the backups can dump it by its documented method. */
export interface DatabaseSpec {
  /** The app it belongs to, e.g. `immich`. */
  readonly app: string;
  readonly namespace: string;
  /** In-cluster Service name, e.g. `immich-postgresql`. */
  readonly service: string;
  readonly port: number;
  readonly engine: "postgres";
  readonly database: string;
  readonly user: string;
  /** `pi-cluster:secrets` key holding the user's password (synced wherever it is needed). */
  readonly passwordSecret: string;
  /** The workload running it (its node is where its local volume lives). */
  readonly workload: string;
}

/** One app, as the plan sees it. `C` is the type of its `pi-cluster:apps.<name>` section. */
export interface AppDefinition<C> {
  /** Key under `pi-cluster:apps`, e.g. `pihole`; also the app's component name. */
  readonly name: string;
  /** Schema of the app's config section; an absent section is parsed as `{}`. */
  readonly schema: z.ZodType<C>;
  /** Keys of `pi-cluster:secrets` the app reads (required when the app runs). */
  readonly secrets?: readonly string[];
  /** Rules across the app's config and the rest of the plan; keys are full config keys. */
  validate?(config: C, context: AppPlanContext): ConfigProblem[];
  /** Every pod the app runs, for the capacity check and the app's own pod specs. */
  workloads(config: C, context: AppPlanContext): WorkloadSpec[];
  /** The app's catalog entries: routes, dashboard tiles, uptime monitors. */
  endpoints?(config: C, context: AppPlanContext): CatalogEntry[];
  /** Checks that are not web pages (DNS, a TCP port, an in-cluster URL). */
  monitors?(config: C, context: AppPlanContext): NonWebMonitor[];
  /** Volumes holding data that must survive (backed up, adopted by name, moved with care). */
  volumes?(config: C, context: AppPlanContext): StatefulVolume[];
  /** Databases to dump (by the engine's own tool) beside the volume copies. */
  databases?(config: C, context: AppPlanContext): DatabaseSpec[];
}

/**
 * An app of any config type. The stack holds a heterogeneous list; each app reads back only its
 * own section, parsed by its own schema, so the loose type never reaches app code.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above
export type AnyApp = AppDefinition<any>;

/** Declares an app with its config type inferred from the schema. */
export function defineApp<C>(app: AppDefinition<C>): AppDefinition<C> {
  return app;
}

/** The config key of an app's section, for messages. */
export function appKey(app: string, path = ""): string {
  return `${CONFIG_NAMESPACE}:apps.${app}${path}`;
}

/** Each app's parsed section, or every problem found in `pi-cluster:apps`. */
export function parseAppSections(
  apps: readonly AnyApp[],
  raw: Readonly<Record<string, unknown>> | undefined,
): { configs: Record<string, unknown>; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const configs: Record<string, unknown> = {};
  const known = apps.map((a) => a.name);
  for (const name of Object.keys(raw ?? {})) {
    if (!known.includes(name)) {
      const key = `${CONFIG_NAMESPACE}:apps.${name}`;
      problems.push({
        key,
        message:
          `unknown key "${name}" in ${CONFIG_NAMESPACE}:apps; this stack runs ` +
          `${known.length > 0 ? known.join(", ") : "no apps"} (listed in stacks/<stack>.ts)`,
      });
    }
  }
  for (const app of apps) {
    const section = raw?.[app.name] ?? {};
    const parsed = app.schema.safeParse(section);
    if (parsed.success) configs[app.name] = parsed.data;
    else problems.push(...zodProblems(app.schema, parsed.error, section, appKey(app.name)));
  }
  return { configs, problems };
}

/** Secrets the apps need that the stack does not give, and keys no platform part or app reads. */
export function checkAppSecrets(
  apps: readonly AnyApp[],
  given: Readonly<Record<string, unknown>>,
  platformKeys: readonly string[],
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const needed = new Map<string, string[]>();
  for (const app of apps) {
    for (const key of app.secrets ?? []) needed.set(key, [...(needed.get(key) ?? []), app.name]);
  }
  for (const [key, users] of needed) {
    if (given[key] === undefined) {
      const full = `${CONFIG_NAMESPACE}:secrets.${key}`;
      problems.push({
        key: full,
        message:
          `${full} is required by ${users.join(" and ")} (a 1Password reference ` +
          `op://<vault>/<item>/<field>)`,
      });
    }
  }
  const allowed = [...platformKeys, ...needed.keys()];
  for (const key of Object.keys(given)) {
    if (!allowed.includes(key)) {
      problems.push({
        key: `${CONFIG_NAMESPACE}:secrets.${key}`,
        message: `unknown key "${key}" in ${CONFIG_NAMESPACE}:secrets; allowed: ${allowed.join(", ")}`,
      });
    }
  }
  return problems;
}
