/**
 * The shape of a stack's config (`pi-cluster:*` keys in `Pulumi.<stack>.yaml`), checked with zod:
 * unknown keys, wrong types and values outside an enum are rejected here with the key, the value
 * and what is allowed. Rules across fields live in `validate.ts`.
 */
import { z } from "zod";
import { ConfigProblem, keyPath, showValue } from "./errors";

/** The Pulumi project name, which is also the config namespace (`pi-cluster:nodes`). */
export const CONFIG_NAMESPACE = "pi-cluster";

const labels = z.record(z.string(), z.string());

const k3sSchema = z.strictObject({
  /** Pinned k3s release, e.g. `v1.33.6+k3s1`. */
  version: z.string(),
  /** Packaged components k3s must not deploy. @default ["traefik"] */
  disable: z.array(z.string()).optional(),
  /** Address for the API server. @default the first server's IP */
  apiEndpoint: z.string().optional(),
  /** Extra API certificate names. The endpoint and every server IP are always included. */
  tlsSans: z.array(z.string()).optional(),
  /** Use embedded etcd even with one server. @default true when there is more than one server */
  embeddedEtcd: z.boolean().optional(),
  /** `first-server` (read it from the first server) or an `op://` reference. @default "first-server" */
  token: z.string().optional(),
  /** Mode of /etc/rancher/k3s/k3s.yaml on servers. @default "0600" */
  kubeconfigMode: z.string().optional(),
});

const clusterSchema = z.strictObject({
  /** Domain every web app lives under (`<app>.<domain>`). */
  domain: z.string(),
  /** The 1Password vault holding this cluster's secrets. */
  onepasswordVault: z.string(),
  /** IANA time zone for schedules (backups) and app logs. @default "UTC" */
  timezone: z.string().optional(),
  k3s: k3sSchema,
});

const networkSchema = z.strictObject({
  /** The LAN the nodes are on, as a CIDR. */
  subnet: z.string(),
  gateway: z.string(),
  /** Resolvers the nodes use for themselves. @default ["1.1.1.1", "8.8.8.8"] */
  nodeDns: z.array(z.string()).optional(),
  /** The NAS serving NFS volumes, if any. */
  nas: z.string().optional(),
});

const sshSchema = z.strictObject({
  user: z.string(),
  /** `op://` reference to the private key. */
  privateKey: z.string(),
  /** @default 22 */
  port: z.number().optional(),
});

const nodeSshSchema = z.strictObject({
  user: z.string().optional(),
  privateKey: z.string().optional(),
  port: z.number().optional(),
  /** Pinned SSH host key, e.g. `ssh-ed25519 AAAA...`. */
  hostKey: z.string().optional(),
});

const nodeSchema = z.strictObject({
  hostname: z.string(),
  ip: z.string(),
  model: z.enum(["pi3", "pi4", "pi5"]),
  /** Installed RAM in GB. */
  memoryGb: z.number(),
  role: z.enum(["server", "agent"]),
  /** Start the embedded etcd cluster on this server. @default the first server listed, with etcd */
  clusterInit: z.boolean().optional(),
  labels: labels.optional(),
  /** Override the allocatable memory the kubelet reports, e.g. `910Mi`. @default by RAM size */
  allocatableMemory: z.string().optional(),
  /** Override the memory k3s itself uses outside pods. @default by role (see capacity.ts) */
  k3sMemory: z.string().optional(),
  /** LAN interface. @default "eth0" */
  interface: z.string().optional(),
  ssh: nodeSshSchema.optional(),
});

const placementSchema = z.strictObject({
  /** Pin to one node (nodeSelector on kubernetes.io/hostname). */
  node: z.string().optional(),
  /** Require these node labels. */
  nodeSelector: labels.optional(),
  /** Prefer nodes with these labels. */
  prefer: labels.optional(),
  /** Prefer these nodes, by hostname. */
  preferNodes: z.array(z.string()).optional(),
});

const metallbSchema = z.strictObject({
  /** Address ranges MetalLB may hand out: `10.0.0.100-10.0.0.104` or `10.0.0.53/32`. */
  addresses: z.array(z.string()),
  /** Fixed addresses per service, e.g. `pihole: 10.0.0.53`. */
  services: z.record(z.string(), z.string()).optional(),
});

const platformSchema = z.strictObject({
  ingress: z
    .strictObject({
      /** Which ingress controller serves the catalog's routes. @default "ingress-nginx" */
      controller: z.enum(["ingress-nginx", "traefik"]).optional(),
      /**
       * `hostPort`: port 443 on the nodes (port 80 belongs to Pi-hole's hostNetwork);
       * `loadBalancer`: a MetalLB address (`pi-cluster:metallb.services.ingress`). @default "hostPort"
       */
      exposure: z.enum(["hostPort", "loadBalancer"]).optional(),
      /** Where the wildcard DNS record points. @default the first server's IP, or the MetalLB address */
      address: z.string().optional(),
    })
    .optional(),
  certificates: z.strictObject({
    /**
     * Contact on the Let's Encrypt account. Optional: Let's Encrypt stopped sending expiry mail
     * on 4 June 2025 and accepts accounts without one. @default none
     */
    acmeEmail: z.string().optional(),
    /**
     * Let's Encrypt environment the routes' certificates come from: `staging` (untrusted
     * certificates, for trying a stack out) or `production`. @default "production"
     */
    issuer: z.enum(["staging", "production"]).optional(),
    /** Cloudflare zone holding the domain. @default the domain's last two labels */
    dnsZone: z.string().optional(),
    /**
     * Cloudflare token cert-manager uses for DNS-01: `create` (an API token scoped to DNS edit on
     * the zone, made by the program) or an `op://` reference synced in by External Secrets.
     * @default "create"
     */
    cloudflareToken: z.string().optional(),
  }),
  monitoring: z
    .strictObject({
      /** Prometheus retention. @default "10d" */
      retention: z.string().optional(),
      /** Prometheus volume size. @default "10Gi" */
      storage: z.string().optional(),
    })
    .optional(),
});

/** The platform's own secrets; apps add the keys they declare (checked against the stack's apps). */
export const PLATFORM_SECRET_KEYS = [
  "externalSecretsToken",
  "cloudflareApiToken",
  "grafanaAdminPassword",
  "discordWebhook",
] as const;

const secretsSchema = z
  .object({
    /** Deploy time: the 1Password service-account token External Secrets uses (the one bootstrap secret). */
    externalSecretsToken: z.string(),
    /** Deploy time: the token the Cloudflare provider uses (DNS edit + API token creation). */
    cloudflareApiToken: z.string(),
    /** In cluster (External Secrets): Grafana's admin password. */
    grafanaAdminPassword: z.string(),
    /** In cluster (External Secrets): the Discord webhook Alertmanager posts to. */
    discordWebhook: z.string(),
  })
  // Apps' keys (each an op:// reference); which ones are allowed depends on the stack's apps.
  .catchall(z.string());

/**
 * Per stateful volume (`<namespace>/<claim>` as the program declares it): what differs on the
 * live cluster this stack takes over, so its claim is adopted in place instead of replaced.
 */
const volumesSchema = z.record(
  z.string(),
  z.strictObject({
    /** The claim's name on the live cluster, when it differs from the program's. */
    liveName: z.string().optional(),
    /**
     * The live claim's StorageClass (a claim's class cannot change): e.g. `local-path` for
     * claims k3s's default class made. @default "local-path-retain"
     */
    storageClass: z.string().optional(),
  }),
);

/** The running cluster a stack takes over (only a stack describing one has this). */
const takeoverSchema = z.strictObject({
  /** What runs it today: the seeds' Flux repository (seed 001). */
  from: z.enum(["flux"]),
  /**
   * `cluster`: declare only the nodes, k3s and the Kubernetes provider (the handover's first
   * `pulumi up`, so `pulumi import` has a provider in state); `all`: everything. @default "all"
   */
  stage: z.enum(["cluster", "all"]).optional(),
  /** Live objects the runbook deletes after the handover: `<Kind> <namespace>/<name>` → why. */
  leftovers: z.record(z.string(), z.string()).optional(),
});

/** An app's own keys under `pi-cluster:apps.<app>`, checked by the app's schema (see apps.ts). */
const appsSchema = z.record(z.string(), z.unknown());

/** Every `pi-cluster:*` key a stack may set, and its schema. */
export const stackConfigSchema = z.strictObject({
  cluster: clusterSchema,
  network: networkSchema,
  ssh: sshSchema,
  nodes: z.array(nodeSchema),
  placement: z.record(z.string(), placementSchema).optional(),
  metallb: metallbSchema.optional(),
  platform: platformSchema,
  secrets: secretsSchema,
  apps: appsSchema.optional(),
  volumes: volumesSchema.optional(),
  takeover: takeoverSchema.optional(),
});

export type StackConfig = z.infer<typeof stackConfigSchema>;
export type NodeConfig = z.infer<typeof nodeSchema>;
export type PlacementConfig = z.infer<typeof placementSchema>;

/** Result of reading config: the typed config, or every problem found. */
export type ParseResult =
  | { readonly ok: true; readonly config: StackConfig }
  | { readonly ok: false; readonly problems: ConfigProblem[] };

/** Levenshtein distance, for spotting a misspelt namespace. */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length];
}

/**
 * Whether a config namespace looks like a misspelling of ours (`picluster`, `pi_cluster`,
 * `pi-clster`): within two edits, or the same letters once punctuation and case are ignored.
 * Providers' namespaces (`onepassword`, `cloudflare`, `kubernetes`, `pulumi`) are far from it.
 */
export function isNearNamespace(namespace: string): boolean {
  if (namespace === CONFIG_NAMESPACE) return false;
  const letters = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, "");
  return (
    editDistance(namespace.toLowerCase(), CONFIG_NAMESPACE) <= 2 ||
    letters(namespace) === letters(CONFIG_NAMESPACE)
  );
}

/**
 * Checks the raw `pi-cluster:*` values (already decoded from YAML/JSON, without the namespace
 * prefix) against the schema. Keys outside the namespace (providers' own config) are not ours,
 * except those in a namespace near ours (see rawStackConfig, which keeps them with their full
 * key, e.g. `picluster:nodes`): each is reported as a misspelt namespace INSTEAD of the
 * "pi-cluster:nodes is required" it would otherwise cause.
 */
export function parseStackConfig(raw: Record<string, unknown>): ParseResult {
  const own: Record<string, unknown> = {};
  const problems: ConfigProblem[] = [];
  const explained = new Set<string>();
  for (const [key, value] of Object.entries(raw)) {
    const colon = key.indexOf(":");
    if (colon < 0) {
      own[key] = value;
      continue;
    }
    const namespace = key.slice(0, colon);
    const rest = key.slice(colon + 1);
    if (!isNearNamespace(namespace)) continue;
    const root = rest.split(/[.[]/)[0];
    explained.add(root);
    problems.push({
      key,
      message: `unknown config namespace ${namespace} (in ${key}): did you mean ${CONFIG_NAMESPACE}:${rest}?`,
    });
  }
  const result = stackConfigSchema.safeParse(own);
  if (result.success && problems.length === 0) return { ok: true, config: result.data };
  const issues = result.success ? [] : result.error.issues;
  for (const issue of issues) {
    // "pi-cluster:nodes is required" only follows from the misspelt namespace: say that once.
    const root = issue.path[0];
    const missing = valueAt(own, issue.path) === undefined;
    if (root !== undefined && explained.has(String(root)) && missing) continue;
    problems.push(describeIssue(issue, own, stackConfigSchema, undefined));
  }
  return { ok: false, problems };
}

/**
 * The problems of a failed parse of one config section (an app's `pi-cluster:apps.<app>`),
 * worded like the stack config's own: the full key, the value, what is allowed.
 */
export function zodProblems(
  schema: z.ZodType,
  error: z.ZodError,
  raw: unknown,
  sectionKey: string,
): ConfigProblem[] {
  return error.issues.map((issue) => describeIssue(issue, raw, schema, sectionKey));
}

type Issue = z.core.$ZodIssue;

/**
 * One issue as a problem. `sectionKey` is the full key of the value `schema` parsed; without it
 * the value is the whole `pi-cluster:*` namespace (top-level keys read `pi-cluster:<key>`).
 */
function describeIssue(
  issue: Issue,
  raw: unknown,
  schema: z.ZodType,
  sectionKey: string | undefined,
): ConfigProblem {
  const [root, ...rest] = issue.path;
  const topLevel = sectionKey === undefined;
  const base = topLevel
    ? root === undefined
      ? CONFIG_NAMESPACE
      : `${CONFIG_NAMESPACE}:${String(root)}`
    : root === undefined
      ? sectionKey
      : keyPath(sectionKey, [root]);
  const key = keyPath(base, rest);
  const value = valueAt(raw, issue.path);
  switch (issue.code) {
    case "unrecognized_keys": {
      const allowed = allowedKeysAt(schema, issue.path);
      const atNamespace = topLevel && root === undefined;
      const where = atNamespace ? "" : ` in ${key}`;
      const known = atNamespace ? allowed.map((k) => `${CONFIG_NAMESPACE}:${k}`) : allowed;
      return {
        key: atNamespace ? `${CONFIG_NAMESPACE}:${issue.keys[0]}` : `${key}.${issue.keys[0]}`,
        message:
          `${issue.keys.map((k) => `unknown key "${atNamespace ? `${CONFIG_NAMESPACE}:${k}` : k}"`).join(", ")}${where}; ` +
          `allowed: ${known.join(", ")}`,
      };
    }
    case "too_big":
    case "too_small": {
      const bound = issue.code === "too_big" ? issue.maximum : issue.minimum;
      const what = issue.origin === "string" || issue.origin === "array" ? "length " : "";
      return {
        key,
        message: `${key}: ${showValue(value, key)} is out of range; allowed: ${what}${issue.code === "too_big" ? "at most" : "at least"} ${String(bound)}`,
      };
    }
    case "invalid_value":
      return {
        key,
        message: `${key}: ${showValue(value, key)} is not allowed; allowed: ${issue.values.map(String).join(", ")}`,
      };
    case "invalid_type":
      return value === undefined
        ? { key, message: `${key} is required (${describeExpected(issue.expected)})` }
        : {
            key,
            message: `${key}: ${showValue(value, key)} is not ${describeExpected(issue.expected)}`,
          };
    default:
      return { key, message: `${key}: ${showValue(value, key)} is invalid: ${issue.message}` };
  }
}

function describeExpected(expected: string): string {
  switch (expected) {
    case "string":
      return "a string";
    case "number":
      return "a number";
    case "boolean":
      return "true or false";
    case "array":
      return "a list";
    case "object":
    case "record":
      return "a map of keys to values";
    default:
      return `a value of type ${expected}`;
  }
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = raw;
  for (const part of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[part];
  }
  return current;
}

/** The keys the schema allows at a path, for "allowed: ..." in unknown-key messages. */
function allowedKeysAt(root: z.ZodType, path: readonly PropertyKey[]): string[] {
  let schema: z.ZodType = root;
  for (const part of path) {
    schema = unwrap(schema);
    if (schema instanceof z.ZodObject) schema = schema.shape[String(part)] as z.ZodType;
    else if (schema instanceof z.ZodArray) schema = schema.element as z.ZodType;
    else if (schema instanceof z.ZodRecord) schema = schema.valueType as z.ZodType;
  }
  schema = unwrap(schema);
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

function unwrap(schema: z.ZodType): z.ZodType {
  if (schema instanceof z.ZodOptional || schema instanceof z.ZodDefault)
    return unwrap(schema.unwrap() as z.ZodType);
  return schema;
}
