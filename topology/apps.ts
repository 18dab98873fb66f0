/**
 * Apps as data: what an app asks of the plan before any resource exists. Each app module under
 * `components/apps/` exports one `AppDefinition` (its config section, the secrets it reads, its
 * workloads, catalog entries and non-web monitors) beside the component that deploys it; the
 * stack file lists the apps it runs and nothing else has to change to add one.
 */
import { z } from "zod";
import { CatalogEntry, NonWebMonitor } from "./catalog";
import { CONFIG_NAMESPACE, StackConfig, zodProblems } from "./config";
import { ConfigProblem, showValue } from "./errors";
import { RETAIN_STORAGE_CLASS } from "./hardware";
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
  /**
   * A claim a chart creates (named by the chart, e.g. Prometheus' volumeClaimTemplate): only its
   * storage class can be set per stack, not its name.
   */
  readonly chart?: boolean;
}

/**
 * A stateful volume as the stack deploys it: the declared volume with what
 * `pi-cluster:volumes.<namespace>/<claim>` says for this stack (the live cluster's claim name and
 * storage class, so a takeover adopts the claim in place).
 */
export interface PlannedVolume extends StatefulVolume {
  /** `<namespace>/<declared claim>`: the key in `pi-cluster:volumes` and in reports. */
  readonly key: string;
  /** The claim name the program declared (`claim` may be the live cluster's name instead). */
  readonly declaredClaim: string;
  /** The StorageClass of a local volume (`local-path-retain`, or the live claim's class). */
  readonly storageClass: string;
}

/** A stack's planned volume by namespace and declared claim name. */
export function volumeOf(
  topology: { readonly volumes: readonly PlannedVolume[] },
  namespace: string,
  declaredClaim: string,
): PlannedVolume {
  const found = topology.volumes.find((v) => v.key === `${namespace}/${declaredClaim}`);
  if (!found) {
    throw new Error(
      `volume ${namespace}/${declaredClaim} is not in the plan; declare it in the app's volumes() ` +
        `(planned: ${topology.volumes.map((v) => v.key).join(", ")})`,
    );
  }
  return found;
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

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/**
 * The stack's volumes with `pi-cluster:volumes` applied. Problems: a key no volume has, a live
 * name for a claim a chart names, a name Kubernetes would refuse, two volumes on one claim.
 */
export function planVolumes(
  declared: readonly StatefulVolume[],
  overrides: StackConfig["volumes"],
): { volumes: PlannedVolume[]; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const add = (key: string, message: string) =>
    problems.push({ key, message: `${key}: ${message}` });
  const keys = declared.map((v) => `${v.namespace}/${v.claim}`);
  for (const key of Object.keys(overrides ?? {})) {
    if (!keys.includes(key)) {
      add(
        `${CONFIG_NAMESPACE}:volumes.${key}`,
        `no stateful volume is declared as ${showValue(key, `${CONFIG_NAMESPACE}:volumes`)}; allowed: ${keys.join(", ")}`,
      );
    }
  }
  const volumes = declared.map((volume): PlannedVolume => {
    const key = `${volume.namespace}/${volume.claim}`;
    const override = overrides?.[key] ?? {};
    const configKey = `${CONFIG_NAMESPACE}:volumes.${key}`;
    if (override.liveName !== undefined) {
      if (volume.chart) {
        add(
          `${configKey}.liveName`,
          `is not allowed: the chart names this claim; only storageClass can be set for it`,
        );
      } else if (!DNS_SUBDOMAIN.test(override.liveName)) {
        add(
          `${configKey}.liveName`,
          `${showValue(override.liveName, `${configKey}.liveName`)} is not a valid claim name (lowercase letters, digits, '-', '.')`,
        );
      }
    }
    if (override.storageClass !== undefined && volume.storage === "nfs") {
      add(`${configKey}.storageClass`, `is not allowed on an NFS volume (it has no StorageClass)`);
    }
    return {
      ...volume,
      key,
      declaredClaim: volume.claim,
      claim: override.liveName ?? volume.claim,
      storageClass: override.storageClass ?? RETAIN_STORAGE_CLASS,
    };
  });
  const byClaim = new Map<string, string>();
  for (const v of volumes) {
    const claim = `${v.namespace}/${v.claim}`;
    const other = byClaim.get(claim);
    if (other) {
      add(
        `${CONFIG_NAMESPACE}:volumes.${v.key}`,
        `claim ${claim} is used by both ${other} and ${v.key}; each volume needs its own claim`,
      );
    } else byClaim.set(claim, v.key);
  }
  return { volumes, problems };
}

/**
 * An NFS export an app mounts from the NAS (`pi-cluster:network.nas`): an absolute path without
 * `..` segments, as the NAS names its shares, and a NAS to serve it. One rule for every app that
 * mounts one, so the wording is the same wherever it is broken.
 */
export function nfsExportProblems(
  key: string,
  exportPath: string,
  nas: string | undefined,
  example: string,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (!exportPath.startsWith("/") || exportPath.split("/").includes("..")) {
    problems.push({
      key,
      message:
        `${key}: ${showValue(exportPath, key)} is not an absolute export path; allowed: a path ` +
        `from / without "..", e.g. ${example}`,
    });
  }
  if (!nas) {
    problems.push({
      key: `${CONFIG_NAMESPACE}:network.nas`,
      message:
        `${CONFIG_NAMESPACE}:network.nas is required by ${key} (the NFS server of ${exportPath}, ` +
        `e.g. 192.168.1.60)`,
    });
  }
  return problems;
}
