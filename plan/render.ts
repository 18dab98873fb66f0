/**
 * Writes an offline run to `out/<stack>/`: resources.json, Kubernetes manifests, Helm releases,
 * node scripts, DNS records and the capacity report. Secret inputs are written as references
 * (`<secret op://vault/item/field>`); a canary found anywhere else fails the plan.
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { NodeLoad } from "../topology/capacity";
import { formatMi } from "../topology/quantity";
import { Topology } from "../topology/types";
import { canariesIn } from "./mocks";
import { isSecretInput, RecordedResource } from "./record";
import { StackRun } from "./run";
import { nodeScripts } from "./scripts";

/**
 * Replaces every secret input by a reference to where its value comes from. Inside a secret
 * object (Pulumi marks a whole SSH connection secret for its key) only the values that hold a
 * secret are masked, so the plan still shows the host and user.
 */
export function maskSecrets(value: unknown, insideSecretObject = false): unknown {
  if (isSecretInput(value)) {
    const inner = value.value;
    if (inner !== null && typeof inner === "object") return maskSecrets(inner, true);
    const sources = [...new Set(canariesIn(String(inner)))];
    // A secret with no known source (derived in the program) is hidden all the same.
    return sources.length > 0 ? sources.map((s) => `<secret ${s}>`).join(" ") : "<secret>";
  }
  if (Array.isArray(value)) return value.map((v) => maskSecrets(v, insideSecretObject));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, maskSecrets(v, insideSecretObject)]),
    );
  }
  if (insideSecretObject && typeof value === "string") {
    const sources = [...new Set(canariesIn(value))];
    if (sources.length > 0) return sources.map((s) => `<secret ${s}>`).join(" ");
  }
  return value;
}

/** A Kubernetes object declared directly (not a Helm release, not a provider). */
export function isKubernetesObject(resource: RecordedResource): boolean {
  return (
    resource.type.startsWith("kubernetes:") &&
    !resource.type.startsWith("kubernetes:helm.sh/") &&
    typeof resource.inputs.kind === "string"
  );
}

/** The object as `kubectl apply` would get it, secrets masked. */
export function manifestOf(resource: RecordedResource): Record<string, unknown> {
  return maskSecrets(resource.inputs) as Record<string, unknown>;
}

interface Metadata {
  name?: string;
  namespace?: string;
}

/** `manifests/<namespace or _cluster>/<Kind>-<name>.yaml`. */
export function manifestPath(manifest: Record<string, unknown>): string {
  const meta = (manifest.metadata ?? {}) as Metadata;
  return path.join(
    "manifests",
    meta.namespace ?? "_cluster",
    `${String(manifest.kind)}-${meta.name ?? "unnamed"}.yaml`,
  );
}

/** The Helm releases, as the chart, repository, version, namespace and values they install. */
export function helmReleases(resources: readonly RecordedResource[]): Record<string, unknown>[] {
  return resources
    .filter((r) => r.type === "kubernetes:helm.sh/v3:Release")
    .map((r) => {
      const inputs = maskSecrets(r.inputs) as Record<string, unknown>;
      const repo = (inputs.repositoryOpts as { repo?: string } | undefined)?.repo;
      return {
        release: inputs.name ?? r.name,
        chart: inputs.chart,
        repository: repo,
        version: inputs.version,
        namespace: inputs.namespace,
        values: inputs.values ?? {},
      };
    });
}

function bar(fraction: number, width = 20): string {
  const filled = Math.min(width, Math.round(fraction * width));
  return "█".repeat(filled) + "░".repeat(width - filled);
}

const cpu = (millis: number) => (millis >= 1000 ? `${(millis / 1000).toFixed(2)}` : `${millis}m`);

/** The capacity report: per node, the memory budget and what is expected to run there. */
export function capacityReport(topology: Topology): string {
  const lines = [
    `# Capacity: ${topology.stack}`,
    "",
    "Memory per node: what the kubelet offers (allocatable), what k3s itself uses, what is left for",
    "pods, and the summed requests and limits of the pods expected there. The plan fails when",
    "requests exceed what is left (see topology/capacity.ts for how pods are placed).",
    "",
    "| node | model | allocatable | k3s | free for pods | requests | limits | cpu requests | requests / free |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
  ];
  const byName = new Map(topology.nodes.map((n) => [n.hostname, n]));
  for (const load of topology.capacity) {
    const node = byName.get(load.hostname)!;
    const share = load.memoryRequestMi / load.budgetMi;
    lines.push(
      `| ${load.hostname} | ${node.model} ${node.memoryGb}GB ${node.role} | ${formatMi(load.allocatableMi)} | ` +
        `${formatMi(load.k3sOverheadMi)} | ${formatMi(load.budgetMi)} | ${formatMi(load.memoryRequestMi)} | ` +
        `${formatMi(load.memoryLimitMi)} | ${cpu(load.cpuRequestMillis)} | \`${bar(share)}\` ${Math.round(share * 100)}% |`,
    );
  }
  for (const load of topology.capacity) lines.push("", ...nodeSection(load));
  return lines.join("\n") + "\n";
}

function nodeSection(load: NodeLoad): string[] {
  const lines = [
    `## ${load.hostname}`,
    "",
    "| workload | namespace | placed | memory request | memory limit | cpu request | cpu limit |",
    "| --- | --- | --- | ---: | ---: | ---: | ---: |",
  ];
  for (const pod of [...load.pods].sort((a, b) => b.memoryRequestMi - a.memoryRequestMi)) {
    lines.push(
      `| ${pod.workload} | ${pod.namespace} | ${pod.how} | ${formatMi(pod.memoryRequestMi)} | ` +
        `${formatMi(pod.memoryLimitMi)} | ${cpu(pod.cpuRequestMillis)} | ${cpu(pod.cpuLimitMillis)} |`,
    );
  }
  if (load.pods.length === 0) lines.push("| (nothing placed here yet) | | | | | | |");
  return lines;
}

/** Cloudflare DNS records the stack manages. */
export function dnsRecords(resources: readonly RecordedResource[]): Record<string, unknown>[] {
  return resources
    .filter((r) => r.type === "cloudflare:index/dnsRecord:DnsRecord")
    .map((r) => maskSecrets(r.inputs) as Record<string, unknown>);
}

/** Writes the plan files; returns their paths relative to the stack's folder. */
export function writePlan(run: StackRun, outRoot: string): string[] {
  const dir = path.join(outRoot, run.stack);
  fs.rmSync(dir, { recursive: true, force: true });
  const written: string[] = [];
  const write = (relative: string, text: string) => {
    const file = path.join(dir, relative);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    written.push(relative);
  };
  const yaml = (value: unknown) => YAML.stringify(value, { lineWidth: 0 });

  write(
    "resources.json",
    JSON.stringify(
      run.resources.map((r) => ({
        type: r.type,
        name: r.name,
        parent: r.parent ?? null,
        dependsOn: r.dependsOn,
        options: r.options,
        inputs: maskSecrets(r.inputs),
      })),
      null,
      2,
    ) + "\n",
  );
  for (const resource of run.resources.filter(isKubernetesObject)) {
    const manifest = manifestOf(resource);
    write(manifestPath(manifest), yaml(manifest));
  }
  for (const release of helmReleases(run.resources))
    write(path.join("helm", `${String(release.release)}.yaml`), yaml(release));
  for (const script of nodeScripts(run.topology, run.resources))
    write(path.join("nodes", script.hostname, script.file), script.text);
  const records = dnsRecords(run.resources);
  if (records.length > 0) write("dns-records.yaml", yaml(records));
  write("capacity.md", capacityReport(run.topology));

  const leaks = written.flatMap((relative) =>
    canariesIn(fs.readFileSync(path.join(dir, relative), "utf8")).map(
      (source) => `${relative} holds the value of ${source}`,
    ),
  );
  if (leaks.length > 0) {
    throw new Error(
      `a secret reached the plan output unmarked (it would be stored or logged in clear):\n  ${[...new Set(leaks)].join("\n  ")}`,
    );
  }
  return written;
}
