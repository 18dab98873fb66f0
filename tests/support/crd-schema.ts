/**
 * Custom resources validated against the real CRDs of the charts we pin, read from the shared
 * chart reference data (`../shared/charts`, or `PI_CLUSTER_CHARTS_DIR`). Objects with declared
 * properties are closed (unknown fields rejected), as the API server's pruning would drop them.
 */
import * as fs from "fs";
import * as path from "path";
import Ajv, { ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import * as YAML from "yaml";

/** Where the upstream chart data lives; CI has `shared/` beside the clone. */
export const CHARTS_DIR =
  process.env.PI_CLUSTER_CHARTS_DIR ?? path.resolve(__dirname, "../../../shared/charts");

/** CRD files per group, relative to CHARTS_DIR. */
const CRD_FILES = [
  "external-secrets/1.2.0/crds/external-secrets.io_clustersecretstores.yaml",
  "external-secrets/1.2.0/crds/external-secrets.io_externalsecrets.yaml",
  "metallb/0.15.3/crds/metallb.io_ipaddresspools.yaml",
  "metallb/0.15.3/crds/metallb.io_l2advertisements.yaml",
  "kube-prometheus-stack/88.5.3/crds/crd-servicemonitors.yaml",
];

type Schema = Record<string, unknown>;

/** Makes every object schema with properties reject unknown keys, unless it preserves them. */
function closeSchema(schema: Schema): Schema {
  const out: Schema = { ...schema };
  for (const key of Object.keys(out)) if (key.startsWith("x-kubernetes-")) delete out[key];
  if (
    schema.properties &&
    !("additionalProperties" in schema) &&
    !schema["x-kubernetes-preserve-unknown-fields"]
  ) {
    out.additionalProperties = false;
  }
  if (schema.properties) {
    out.properties = Object.fromEntries(
      Object.entries(schema.properties as Record<string, Schema>).map(([k, v]) => [
        k,
        closeSchema(v),
      ]),
    );
  }
  if (schema.items && typeof schema.items === "object")
    out.items = closeSchema(schema.items as Schema);
  if (schema.additionalProperties && typeof schema.additionalProperties === "object") {
    out.additionalProperties = closeSchema(schema.additionalProperties as Schema);
  }
  for (const combo of ["allOf", "anyOf", "oneOf"]) {
    // Combinators in CRDs only restate required fields; validating them closed would reject
    // valid objects, so they keep their original (open) form.
    if (Array.isArray(schema[combo])) out[combo] = schema[combo];
  }
  return out;
}

let validators: Map<string, ValidateFunction> | undefined;

function load(): Map<string, ValidateFunction> {
  if (validators) return validators;
  validators = new Map();
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  for (const relative of CRD_FILES) {
    const file = path.join(CHARTS_DIR, relative);
    if (!fs.existsSync(file)) {
      throw new Error(
        `CRD schema ${file} is missing: the tests read the pinned charts' CRDs from shared/charts ` +
          `(set PI_CLUSTER_CHARTS_DIR to their folder)`,
      );
    }
    const crd = YAML.parse(fs.readFileSync(file, "utf8")) as {
      spec: {
        group: string;
        names: { kind: string };
        versions: { name: string; served: boolean; schema: { openAPIV3Schema: Schema } }[];
      };
    };
    for (const version of crd.spec.versions.filter((v) => v.served)) {
      const schema = closeSchema(version.schema.openAPIV3Schema);
      // apiVersion/kind/metadata are checked elsewhere; the CRD leaves metadata open.
      schema.properties = { ...(schema.properties as object), metadata: { type: "object" } };
      validators.set(
        `${crd.spec.group}/${version.name} ${crd.spec.names.kind}`,
        ajv.compile(schema),
      );
    }
  }
  return validators;
}

const CRD_GROUPS = ["external-secrets.io", "metallb.io", "monitoring.coreos.com"];

/** True when the kind belongs to a CRD group this module validates. */
export function hasCrdSchema(apiVersion: string, _kind: string): boolean {
  return CRD_GROUPS.includes(apiVersion.split("/")[0]);
}

/** Problems with a custom resource; an apiVersion the CRD does not serve is one too. */
export function validateCustomResource(object: Record<string, unknown>): string[] {
  const key = `${String(object.apiVersion)} ${String(object.kind)}`;
  const validate = load().get(key);
  if (!validate) return [`the CRDs serve no ${key} (served: ${[...load().keys()].join(", ")})`];
  if (validate(object)) return [];
  return (validate.errors ?? []).map(
    (e) =>
      `${e.instancePath || "/"} ${e.message}${e.params && "additionalProperty" in e.params ? ` (${String(e.params.additionalProperty)})` : ""}`,
  );
}
