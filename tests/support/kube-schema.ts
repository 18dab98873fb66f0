/**
 * Schema checks for every Kubernetes object the program renders:
 *  1. kubernetes-models (the upstream OpenAPI schemas, compiled) for types and required fields;
 *  2. a strict walk over @kubernetes/client-node's typed model that rejects unknown fields, which
 *     kubernetes-models lets through (the API server would silently prune them);
 *  3. object names checked against Kubernetes' own naming rules;
 *  4. custom resources against the CRD schemas of the charts we pin (see crd-schema.ts).
 */
import * as k8s from "@kubernetes/client-node";
import { validateCustomResource, hasCrdSchema } from "./crd-schema";

type Model = { validate(): void };
type ModelClass = new (data: Record<string, unknown>) => Model;
type TypeMapEntry = { name: string; baseName: string; type: string };
type Typed = { getAttributeTypeMap(): TypeMapEntry[] };

/** kubernetes-models module for an apiVersion: `v1` → kubernetes-models/v1, `apps/v1` → .../apps/v1. */
function modelsModule(apiVersion: string): Record<string, unknown> | undefined {
  // cert-manager's kinds come from its own models package (schemas of its CRDs).
  const pkg = apiVersion.startsWith("cert-manager.io/")
    ? "@kubernetes-models/cert-manager"
    : "kubernetes-models";
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(`${pkg}/${apiVersion}`) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** client-node class name for an apiVersion/kind: apps/v1 Deployment → V1Deployment. */
function typedClassName(apiVersion: string, kind: string): string {
  const version = apiVersion.split("/").pop()!;
  return `${version[0].toUpperCase()}${version.slice(1)}${kind}`;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN =
  /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** Kinds whose names must be a DNS-1123 label (they become DNS names or label values). */
const LABEL_NAMED_KINDS = new Set(["Namespace", "Service"]);

/** Unknown fields in an object, walking the typed model from `typeName`. */
export function unknownFields(value: unknown, typeName: string, at = ""): string[] {
  if (value === null || value === undefined) return [];
  const arrayOf = /^Array<(.+)>$/.exec(typeName);
  if (arrayOf) {
    return Array.isArray(value)
      ? value.flatMap((v, i) => unknownFields(v, arrayOf[1], `${at}[${i}]`))
      : [];
  }
  const mapOf = /^\{ \[key: string\]: (.+); \}$/.exec(typeName);
  if (mapOf) {
    return typeof value === "object"
      ? Object.entries(value as Record<string, unknown>).flatMap(([k, v]) =>
          unknownFields(v, mapOf[1], `${at}.${k}`),
        )
      : [];
  }
  const model = (k8s as unknown as Record<string, Typed | undefined>)[typeName];
  if (!model || typeof model.getAttributeTypeMap !== "function" || typeof value !== "object")
    return [];
  const fields = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  return Object.entries(value as Record<string, unknown>).flatMap(([key, v]) =>
    fields.has(key)
      ? unknownFields(v, fields.get(key)!, `${at}.${key}`)
      : [`${at}.${key}`.replace(/^\./, "")],
  );
}

/** Every problem with one rendered object; empty when it is valid. */
export function validateObject(object: Record<string, unknown>): string[] {
  const apiVersion = String(object.apiVersion ?? "");
  const kind = String(object.kind ?? "");
  const meta = (object.metadata ?? {}) as { name?: unknown; namespace?: unknown };
  const problems: string[] = [];
  const id = `${apiVersion} ${kind} ${String(meta.name)}`;

  if (typeof meta.name !== "string" || meta.name === "") {
    problems.push(
      `${id}: metadata.name is missing (the provider would invent one with a random suffix)`,
    );
  } else if (!(LABEL_NAMED_KINDS.has(kind) ? DNS_LABEL : DNS_SUBDOMAIN).test(meta.name)) {
    problems.push(
      `${id}: metadata.name "${meta.name}" is not a valid ${LABEL_NAMED_KINDS.has(kind) ? "DNS-1123 label" : "DNS-1123 subdomain"}`,
    );
  }
  if (typeof meta.namespace === "string" && !DNS_LABEL.test(meta.namespace)) {
    problems.push(`${id}: metadata.namespace "${meta.namespace}" is not a valid namespace name`);
  }

  if (hasCrdSchema(apiVersion, kind)) {
    return [...problems, ...validateCustomResource(object).map((p) => `${id}: ${p}`)];
  }

  const Model = modelsModule(apiVersion)?.[kind] as ModelClass | undefined;
  if (!Model) return [...problems, `${id}: no schema known for ${apiVersion} ${kind}`];
  try {
    new Model(object).validate();
  } catch (error) {
    problems.push(`${id}: ${error instanceof Error ? error.message : String(error)}`);
  }
  problems.push(
    ...unknownFields(object, typedClassName(apiVersion, kind)).map(
      (f) => `${id}: unknown field ${f}`,
    ),
  );
  return problems;
}
