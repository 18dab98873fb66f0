/**
 * The takeover of a running cluster, planned offline: the stack's offline plan compared with a
 * dump of the live cluster (`kubectl get … -o json`, `helm list -o json`). It decides which
 * planned resources adopt a live object (the `pulumi import` file), what `pulumi up` will then
 * change, what will be created, and what runs live that the program does not declare — and it
 * refuses a handover that would leave a volume's data behind a fresh, empty claim.
 */
import * as fs from "fs";
import * as path from "path";
import { Topology } from "../topology/types";
import { RecordedResource, resourceKey } from "./record";
import { isKubernetesObject } from "./render";
import { StackRun } from "./run";

/** A live Kubernetes object as `kubectl get -o json` prints it (the fields this reads). */
export interface LiveObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
    readonly ownerReferences?: readonly { readonly kind: string; readonly name: string }[];
  };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- compared field by field
  readonly spec?: any;
}

/** One release as `helm list -A -o json` prints it. */
export interface LiveRelease {
  readonly name: string;
  readonly namespace: string;
  /** `<chart>-<version>`, e.g. `kube-prometheus-stack-88.5.3`. */
  readonly chart: string;
  readonly status: string;
}

/** Everything captured from the live cluster. */
export interface LiveCluster {
  readonly objects: readonly LiveObject[];
  readonly releases: readonly LiveRelease[];
}

/** A dump that cannot be used, with what to do about it. */
export class DumpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DumpError";
  }
}

/** The commands the README gives to capture a dump (read-only). */
export const CAPTURE_HINT =
  "capture it with the read-only commands in the README (section 'Taking over the running cluster')";

/**
 * Reads a dump folder: each `*.json` is a `kubectl get … -o json` List (or one object) or a
 * `helm list -o json` array. Secrets may be listed by name only: a dump holding secret values is
 * refused without reading further.
 * @throws DumpError naming the file and what is wrong
 */
export function readLiveDump(dir: string): LiveCluster {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new DumpError(`${dir} is not a folder of JSON files; ${CAPTURE_HINT}`);
  }
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort();
  if (files.length === 0) throw new DumpError(`${dir} holds no .json files; ${CAPTURE_HINT}`);
  const objects: LiveObject[] = [];
  const releases: LiveRelease[] = [];
  for (const file of files) {
    const where = path.join(dir, file);
    let data: unknown;
    try {
      data = JSON.parse(fs.readFileSync(where, "utf8"));
    } catch (error) {
      throw new DumpError(`${where} is not JSON (${(error as Error).message}); ${CAPTURE_HINT}`);
    }
    if (Array.isArray(data)) {
      if (!data.every(isRelease)) {
        throw new DumpError(
          `${where} is a list but not \`helm list -A -o json\` output (each entry needs name, namespace, chart, status)`,
        );
      }
      releases.push(...data);
      continue;
    }
    const items =
      isObject(data) && data.kind === "List" && Array.isArray(data.items)
        ? data.items
        : isObject(data) && typeof data.kind === "string"
          ? [data]
          : undefined;
    if (!items || !items.every(isLiveObject)) {
      throw new DumpError(
        `${where} is not \`kubectl get … -o json\` output (a List of objects with apiVersion, kind and metadata.name) nor \`helm list -o json\` output; ${CAPTURE_HINT}`,
      );
    }
    for (const item of items) {
      const record = item as unknown as Record<string, unknown>;
      if (
        item.kind === "Secret" &&
        (record.data !== undefined || record.stringData !== undefined)
      ) {
        throw new DumpError(
          `${where} holds the values of Secret ${item.metadata.namespace}/${item.metadata.name}: delete the file and capture Secrets by name only (README); nothing in it was used`,
        );
      }
    }
    objects.push(...items);
  }
  return { objects, releases };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isLiveObject(value: unknown): value is LiveObject {
  return (
    isObject(value) &&
    typeof value.apiVersion === "string" &&
    typeof value.kind === "string" &&
    isObject(value.metadata) &&
    typeof value.metadata.name === "string"
  );
}

function isRelease(value: unknown): value is LiveRelease {
  return (
    isObject(value) &&
    ["name", "namespace", "chart", "status"].every((k) => typeof value[k] === "string")
  );
}

/** `group/Kind namespace/name` (core group empty), the identity objects are matched by. */
export function objectKey(
  apiVersion: string,
  kind: string,
  namespace: string | undefined,
  name: string,
): string {
  const group = apiVersion.includes("/") ? apiVersion.split("/")[0] : "";
  return `${group}/${kind} ${namespace ? `${namespace}/` : ""}${name}`;
}

/** The chart version inside helm list's `chart` (`kube-prometheus-stack-88.5.3` → `88.5.3`). */
export function chartVersion(chart: string): string {
  const match = /-(v?[0-9][0-9A-Za-z.+-]*)$/.exec(chart);
  return match ? match[1] : "";
}

/** The Pulumi URN of a recorded resource: its ancestors' types, then its own. */
export function urnOf(
  stack: string,
  project: string,
  resource: RecordedResource,
  byKey: ReadonlyMap<string, RecordedResource>,
): string {
  const types: string[] = [resource.type];
  let parent = resource.parent ? byKey.get(resource.parent) : undefined;
  while (parent) {
    types.unshift(parent.type);
    parent = parent.parent ? byKey.get(parent.parent) : undefined;
  }
  return `urn:pulumi:${stack}::${project}::${types.join("$")}::${resource.name}`;
}

/** What happens to one planned resource that exists live. */
export interface Adopted {
  readonly resource: RecordedResource;
  readonly live: string;
  /** What `pulumi up` changes after the import (empty: adopted as is). */
  readonly differences: readonly string[];
  /** Immutable fields that differ: `pulumi up` would replace the object. */
  readonly replaces: readonly string[];
}

/** What to do about a live object the program does not declare. */
export interface Unplanned {
  readonly object: string;
  readonly action: "left alone" | "deleted by the runbook" | "gap in the program";
  readonly why: string;
}

/** The whole adoption plan. */
export interface Adoption {
  readonly stack: string;
  readonly adopted: readonly Adopted[];
  readonly absent: readonly RecordedResource[];
  readonly unplanned: readonly Unplanned[];
  /** Every live claim and volume, and whether its data is kept. */
  readonly volumes: readonly { readonly object: string; readonly fate: string }[];
  /** Volumes whose live reclaim policy would delete their data with the claim. */
  readonly patchToRetain: readonly string[];
  /** Why the handover must not go ahead (non-empty: adoption fails). */
  readonly problems: readonly string[];
  readonly importFile: ImportFile;
}

/** `pulumi import --file` input. */
export interface ImportFile {
  readonly nameTable: Record<string, string>;
  readonly resources: readonly {
    readonly type: string;
    readonly name: string;
    readonly id: string;
    readonly parent?: string;
    readonly provider?: string;
  }[];
}

/** Settings of the takeover from the stack file. */
export interface TakeoverSettings {
  /** Live objects the runbook deletes after the handover (`Kind namespace/name` → why). */
  readonly leftovers: Readonly<Record<string, string>>;
}

const SYSTEM_NAMESPACES = ["kube-system", "kube-public", "kube-node-lease", "default"];
const FLUX_GROUP = /(^|\.)toolkit\.fluxcd\.io$/;
/** Objects Kubernetes makes in every namespace by itself. */
function generatedByKubernetes(o: LiveObject): boolean {
  return (
    (o.kind === "ConfigMap" && o.metadata.name === "kube-root-ca.crt") ||
    (o.kind === "ServiceAccount" && o.metadata.name === "default") ||
    (o.kind === "Service" && o.metadata.name === "kubernetes") ||
    o.kind === "Node"
  );
}

/** The live key of a planned Kubernetes object. */
function plannedKey(resource: RecordedResource): string {
  const inputs = resource.inputs as {
    apiVersion: string;
    kind: string;
    metadata: { name: string; namespace?: string };
  };
  return objectKey(inputs.apiVersion, inputs.kind, inputs.metadata.namespace, inputs.metadata.name);
}

/** What `pulumi up` would change on an adopted object, where the dump shows it. */
export function differencesOf(
  planned: Record<string, unknown>,
  live: LiveObject,
): { differences: string[]; replaces: string[] } {
  const differences: string[] = [];
  const replaces: string[] = [];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- compared field by field
  const spec = (planned.spec ?? {}) as any;
  const liveSpec = live.spec ?? {};
  if (["Deployment", "StatefulSet", "DaemonSet"].includes(live.kind)) {
    if (
      spec.replicas !== undefined &&
      liveSpec.replicas !== undefined &&
      spec.replicas !== liveSpec.replicas
    ) {
      differences.push(`replicas ${liveSpec.replicas} → ${spec.replicas}`);
    }
    const liveImages = new Map<string, string>(
      (liveSpec.template?.spec?.containers ?? []).map((c: { name: string; image: string }) => [
        c.name,
        c.image,
      ]),
    );
    for (const c of spec.template?.spec?.containers ?? []) {
      const was = liveImages.get(c.name);
      if (was === undefined) differences.push(`container ${c.name} added (${c.image})`);
      else if (was !== c.image) differences.push(`image ${c.name}: ${was} → ${c.image}`);
    }
    const selector = JSON.stringify(spec.selector?.matchLabels ?? {});
    const liveSelector = JSON.stringify(liveSpec.selector?.matchLabels ?? {});
    if (spec.selector && selector !== liveSelector) {
      replaces.push(
        `selector ${liveSelector} → ${selector} (immutable: the ${live.kind} is replaced, its pods restart)`,
      );
    }
  }
  if (live.kind === "PersistentVolumeClaim") {
    const size = spec.resources?.requests?.storage;
    const liveSize = liveSpec.resources?.requests?.storage;
    if (size && liveSize && size !== liveSize) differences.push(`storage ${liveSize} → ${size}`);
    const cls = spec.storageClassName;
    const liveCls = liveSpec.storageClassName;
    if (cls !== undefined && liveCls !== undefined && cls !== liveCls) {
      replaces.push(`storageClassName ${liveCls} → ${cls} (immutable)`);
    }
  }
  return { differences, replaces };
}

/**
 * Compares the stack's plan with the live cluster.
 * @throws DumpError when the dump is of another cluster (no node of the stack in it)
 */
export function planAdoption(
  run: StackRun,
  live: LiveCluster,
  takeover: TakeoverSettings,
  project = "pi-cluster",
): Adoption {
  const topology = run.topology;
  const liveNodes = live.objects.filter((o) => o.kind === "Node").map((o) => o.metadata.name);
  if (liveNodes.length === 0) {
    throw new DumpError(
      `the dump has no Node objects: capture \`kubectl get nodes -o json\` with the rest; ${CAPTURE_HINT}`,
    );
  }
  if (!topology.nodes.some((n) => liveNodes.includes(n.hostname))) {
    throw new DumpError(
      `the dump is of another cluster: its nodes (${liveNodes.join(", ")}) are none of stack ${topology.stack}'s (${topology.nodes.map((n) => n.hostname).join(", ")})`,
    );
  }

  const byKey = new Map(run.resources.map((r) => [resourceKey(r.type, r.name), r]));
  const liveByKey = new Map(
    live.objects.map((o) => [
      objectKey(o.apiVersion, o.kind, o.metadata.namespace, o.metadata.name),
      o,
    ]),
  );
  const releases = run.resources.filter((r) => r.type === "kubernetes:helm.sh/v3:Release");
  const objects = run.resources.filter(isKubernetesObject);
  const adopted: Adopted[] = [];
  const absent: RecordedResource[] = [];
  const problems: string[] = [];
  const plannedKeys = new Set<string>();

  for (const release of releases) {
    const name = String(release.inputs.name);
    const namespace = String(release.inputs.namespace);
    const found = live.releases.find((r) => r.name === name && r.namespace === namespace);
    if (!found) {
      const chart = String(release.inputs.chart);
      const other = live.releases.find(
        (r) => r.chart.startsWith(`${chart}-`) && r.namespace === namespace,
      );
      if (other) {
        problems.push(
          `Helm release ${namespace}/${name} is planned, but the live cluster runs chart ${chart} as ${namespace}/${other.name}: a second install would fight it for every object; rename the live release or the program's before the handover`,
        );
      }
      absent.push(release);
      continue;
    }
    const version = String(release.inputs.version);
    const liveVersion = chartVersion(found.chart);
    adopted.push({
      resource: release,
      live: `release ${namespace}/${name} (${found.chart}, ${found.status})`,
      differences: liveVersion === version ? [] : [`chart ${liveVersion} → ${version}`],
      replaces: [],
    });
  }

  for (const resource of objects) {
    const key = plannedKey(resource);
    plannedKeys.add(key);
    const found = liveByKey.get(key);
    if (!found) {
      absent.push(resource);
      continue;
    }
    const { differences, replaces } = differencesOf(resource.inputs, found);
    adopted.push({ resource, live: key, differences, replaces });
  }

  // Claims a chart makes (Prometheus' volumeClaimTemplate, Grafana's) are adopted with the release.
  const volumeByClaim = new Map(topology.volumes.map((v) => [`${v.namespace}/${v.claim}`, v]));
  const claimFates: { object: string; fate: string }[] = [];
  const adoptedClaims = new Set<string>();
  const liveClaims = live.objects.filter((o) => o.kind === "PersistentVolumeClaim");
  for (const claim of liveClaims) {
    const id = `${claim.metadata.namespace}/${claim.metadata.name}`;
    const size = claim.spec?.resources?.requests?.storage ?? "?";
    const volume = volumeByClaim.get(id);
    const direct = adopted.find(
      (a) =>
        a.live ===
        objectKey("v1", "PersistentVolumeClaim", claim.metadata.namespace, claim.metadata.name),
    );
    if (direct) {
      adoptedClaims.add(id);
      if (direct.replaces.length > 0) {
        problems.push(
          `claim ${id} (${size}) would be replaced, and a new claim starts empty: ${direct.replaces.join("; ")}; keep the live value with pi-cluster:volumes.${volume?.key ?? id}.storageClass: ${String(claim.spec?.storageClassName)}`,
        );
      }
      claimFates.push({
        object: `PersistentVolumeClaim ${id} (${size})`,
        fate: `adopted (${volume?.app ?? "?"}: ${volume?.holds ?? ""})`,
      });
    } else if (volume?.chart) {
      adoptedClaims.add(id);
      const liveClass = claim.spec?.storageClassName;
      if (liveClass !== undefined && liveClass !== volume.storageClass) {
        problems.push(
          `claim ${id} (${size}) is made by a chart with storageClassName ${liveClass}, the program says ${volume.storageClass}: the chart's upgrade would fail or replace it; set pi-cluster:volumes.${volume.key}.storageClass: ${liveClass}`,
        );
      }
      claimFates.push({
        object: `PersistentVolumeClaim ${id} (${size})`,
        fate: `adopted with its Helm release (${volume.app}: ${volume.holds})`,
      });
    } else {
      claimFates.push({
        object: `PersistentVolumeClaim ${id} (${size})`,
        fate: "not adopted: its data would be left behind",
      });
    }
  }
  // The guard: a planned claim created fresh while the same app's live claim holds the data.
  // "The same app": the live workload of the volume's name mounts it, else the same namespace.
  const leftover = (claim: LiveObject) =>
    takeover.leftovers[`PersistentVolumeClaim ${claim.metadata.namespace}/${claim.metadata.name}`];
  const mountedBy = (workload: string, namespace: string): string[] => {
    const o = live.objects.find(
      (x) =>
        ["Deployment", "StatefulSet"].includes(x.kind) &&
        x.metadata.namespace === namespace &&
        x.metadata.name === workload,
    );
    return (o?.spec?.template?.spec?.volumes ?? []).flatMap(
      (v: { persistentVolumeClaim?: { claimName: string } }) =>
        v.persistentVolumeClaim ? [v.persistentVolumeClaim.claimName] : [],
    );
  };
  for (const volume of topology.volumes) {
    const id = `${volume.namespace}/${volume.claim}`;
    if (adoptedClaims.has(id) || volume.storage === "nfs") continue;
    const unadopted = liveClaims.filter(
      (c) =>
        c.metadata.namespace === volume.namespace &&
        !adoptedClaims.has(`${c.metadata.namespace}/${c.metadata.name}`) &&
        !leftover(c),
    );
    const mounted = mountedBy(volume.workload, volume.namespace);
    const sameApp =
      mounted.length > 0 ? unadopted.filter((c) => mounted.includes(c.metadata.name)) : unadopted;
    for (const orphan of sameApp) {
      problems.push(
        `planned claim ${id} would be created empty while the live claim ${volume.namespace}/${orphan.metadata.name} ` +
          `(${orphan.spec?.resources?.requests?.storage ?? "?"}) of the same app (${volume.app}) holds its data: keep the live name with ` +
          `pi-cluster:volumes.${volume.key}.liveName: ${orphan.metadata.name}, or list it in pi-cluster:takeover.leftovers if its data is not needed`,
      );
    }
  }
  for (const fate of claimFates) {
    const why = takeover.leftovers[fate.object.replace(/ \(.*\)$/, "")];
    if (why && fate.fate.startsWith("not adopted"))
      fate.fate = `not adopted, deleted by the runbook after the backups: ${why}`;
  }

  const patchToRetain: string[] = [];
  for (const pv of live.objects.filter((o) => o.kind === "PersistentVolume")) {
    const ref = pv.spec?.claimRef;
    const claimId = ref ? `${ref.namespace}/${ref.name}` : undefined;
    const size = pv.spec?.capacity?.storage ?? "?";
    if (plannedKeys.has(objectKey("v1", "PersistentVolume", undefined, pv.metadata.name))) {
      // A volume the program declares itself (an NFS export): adopted as an object of its own.
      claimFates.push({
        object: `PersistentVolume ${pv.metadata.name} (${size})`,
        fate: "adopted",
      });
    } else if (claimId && adoptedClaims.has(claimId)) {
      if (pv.spec?.persistentVolumeReclaimPolicy === "Delete") patchToRetain.push(pv.metadata.name);
      claimFates.push({
        object: `PersistentVolume ${pv.metadata.name} (${size})`,
        fate: `kept with claim ${claimId}`,
      });
    } else if (claimId && takeover.leftovers[`PersistentVolumeClaim ${claimId}`]) {
      claimFates.push({
        object: `PersistentVolume ${pv.metadata.name} (${size})`,
        fate: `not adopted: goes with its claim ${claimId}, deleted by the runbook after the backups`,
      });
    } else {
      claimFates.push({
        object: `PersistentVolume ${pv.metadata.name} (${size})`,
        fate: `not adopted: its data would be left behind${claimId ? ` (claim ${claimId})` : ""}`,
      });
    }
  }

  const helmOwned = (o: LiveObject) =>
    o.metadata.labels?.["app.kubernetes.io/managed-by"] === "Helm" &&
    live.releases.some(
      (r) =>
        r.name === o.metadata.annotations?.["meta.helm.sh/release-name"] &&
        r.namespace ===
          (o.metadata.annotations?.["meta.helm.sh/release-namespace"] ?? o.metadata.namespace),
    );
  const unplanned: Unplanned[] = [];
  for (const o of live.objects) {
    const key = objectKey(o.apiVersion, o.kind, o.metadata.namespace, o.metadata.name);
    if (plannedKeys.has(key) || generatedByKubernetes(o)) continue;
    if (["PersistentVolumeClaim", "PersistentVolume"].includes(o.kind)) continue; // see volumes
    if ((o.metadata.ownerReferences ?? []).length > 0 || helmOwned(o)) continue;
    const label = `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata.name}`;
    const group = o.apiVersion.includes("/") ? o.apiVersion.split("/")[0] : "";
    if (takeover.leftovers[label]) {
      unplanned.push({
        object: label,
        action: "deleted by the runbook",
        why: takeover.leftovers[label],
      });
    } else if (
      FLUX_GROUP.test(group) ||
      o.metadata.namespace === "flux-system" ||
      (o.kind === "Namespace" && o.metadata.name === "flux-system")
    ) {
      unplanned.push({
        object: label,
        action: "deleted by the runbook",
        why: "Flux: `flux uninstall --keep-namespace` removes its controllers and custom resources",
      });
    } else if (o.kind === "Namespace" && SYSTEM_NAMESPACES.includes(o.metadata.name)) {
      continue;
    } else if (o.metadata.namespace && SYSTEM_NAMESPACES.includes(o.metadata.namespace)) {
      unplanned.push({
        object: label,
        action: "left alone",
        why: "k3s's own (kube-system) or Kubernetes' default namespace",
      });
    } else {
      unplanned.push({
        object: label,
        action: "gap in the program",
        why: "runs live, declared nowhere in the program: add it, or list it in pi-cluster:takeover.leftovers",
      });
    }
  }
  for (const r of live.releases) {
    if (!releases.some((p) => p.inputs.name === r.name && p.inputs.namespace === r.namespace)) {
      unplanned.push({
        object: `Helm release ${r.namespace}/${r.name} (${r.chart})`,
        action: takeover.leftovers[`Release ${r.namespace}/${r.name}`]
          ? "deleted by the runbook"
          : "gap in the program",
        why:
          takeover.leftovers[`Release ${r.namespace}/${r.name}`] ??
          "installed live, not by the program",
      });
    }
  }

  return {
    stack: topology.stack,
    adopted,
    absent,
    unplanned,
    volumes: claimFates,
    patchToRetain,
    problems,
    importFile: importFileOf(topology, run, adopted, byKey, project),
  };
}

/** The `pulumi import --file` document for the adopted resources. */
function importFileOf(
  topology: Topology,
  run: StackRun,
  adopted: readonly Adopted[],
  byKey: ReadonlyMap<string, RecordedResource>,
  project: string,
): ImportFile {
  const nameTable: Record<string, string> = {};
  const alias = (resource: RecordedResource) => {
    const a = resourceKey(resource.type, resource.name);
    nameTable[a] = urnOf(topology.stack, project, resource, byKey);
    return a;
  };
  const provider = run.resources.find(
    (r) => r.type === "pulumi:providers:kubernetes" && r.parent !== undefined,
  );
  const providerAlias = provider ? alias(provider) : undefined;
  const resources = adopted.map((a) => {
    const r = a.resource;
    const inputs = r.inputs as {
      name?: string;
      namespace?: string;
      metadata?: { name: string; namespace?: string };
    };
    const id =
      r.type === "kubernetes:helm.sh/v3:Release"
        ? `${inputs.namespace}/${inputs.name}`
        : inputs.metadata?.namespace
          ? `${inputs.metadata.namespace}/${inputs.metadata.name}`
          : String(inputs.metadata?.name);
    const parent = r.parent ? byKey.get(r.parent) : undefined;
    return {
      type: r.type,
      name: r.name,
      id,
      ...(parent ? { parent: alias(parent) } : {}),
      ...(providerAlias ? { provider: providerAlias } : {}),
    };
  });
  return { nameTable, resources };
}
