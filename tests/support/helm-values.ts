/**
 * Checks the Helm values the program passes against the pinned chart's own files in
 * shared/charts: every key path must exist in the chart's values.yaml, sit under a map the chart
 * leaves free-form (`{}` or null by default), be documented there as a commented-out key, or lie
 * under a subtree the caller names as free-form (remote subcharts, config passthrough). Charts
 * with a values.schema.json are also validated against it.
 */
import * as fs from "fs";
import * as path from "path";
import Ajv from "ajv";
import Ajv2020 from "ajv/dist/2020";
import * as YAML from "yaml";
import { CHARTS_DIR } from "./crd-schema";

type Json = unknown;

function isMap(value: Json): value is Record<string, Json> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** The chart's default values and raw text; fails clearly when the reference data is missing. */
export function chartDefaults(
  chart: string,
  version: string,
): { values: Record<string, Json>; text: string; dir: string } {
  const dir = path.join(CHARTS_DIR, chart, version);
  const file = path.join(dir, "values.yaml");
  if (!fs.existsSync(file)) {
    throw new Error(
      `no reference values for ${chart} ${version}: ${file} is missing (shared/charts, or PI_CLUSTER_CHARTS_DIR)`,
    );
  }
  const text = fs.readFileSync(file, "utf8");
  return { values: (YAML.parse(text) ?? {}) as Record<string, Json>, text, dir };
}

/**
 * Key paths in `values` the chart does not have. `freeForm` lists dotted prefixes to accept
 * whole (e.g. `grafana` for a remote subchart).
 */
export function unknownValuePaths(
  values: Record<string, Json>,
  chart: string,
  version: string,
  freeForm: readonly string[] = [],
): string[] {
  const { values: defaults, text } = chartDefaults(chart, version);
  const documented = (key: string) =>
    new RegExp(`^\\s*#+\\s*${key.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:`, "m").test(text);
  const unknown: string[] = [];
  const walk = (given: Record<string, Json>, chartLevel: Json, at: string) => {
    for (const [key, value] of Object.entries(given)) {
      const here = at ? `${at}.${key}` : key;
      if (freeForm.some((p) => here === p || here.startsWith(`${p}.`))) continue;
      if (!isMap(chartLevel)) continue;
      if (!(key in chartLevel)) {
        if (!documented(key)) unknown.push(here);
        continue;
      }
      const def = chartLevel[key];
      // A default of {} or null is a free-form map (resources, nodeSelector, annotations...).
      if (isMap(value) && isMap(def) && Object.keys(def).length > 0) walk(value, def, here);
    }
  };
  walk(values, defaults, "");
  return unknown;
}

/** Helm's merge of user values over chart defaults: maps merge, lists replace, null deletes. */
export function mergeValues(defaults: Json, given: Json): Json {
  if (!isMap(defaults) || !isMap(given)) return given;
  const merged: Record<string, Json> = { ...defaults };
  for (const [key, value] of Object.entries(given)) {
    if (value === null) delete merged[key];
    else merged[key] = mergeValues(defaults[key], value);
  }
  return merged;
}

/**
 * Problems from the chart's values.schema.json, or [] when the chart ships none. Like Helm, it
 * validates the defaults merged with the given values.
 */
export function schemaProblems(
  values: Record<string, Json>,
  chart: string,
  version: string,
): string[] {
  const { dir, values: defaults } = chartDefaults(chart, version);
  const file = path.join(dir, "values.schema.json");
  if (!fs.existsSync(file)) return [];
  const schema = JSON.parse(fs.readFileSync(file, "utf8")) as { $schema?: string };
  // Charts declare draft-07 or 2020-12 (sometimes with an https URL ajv does not know by name).
  const ajv = String(schema.$schema).includes("2020-12")
    ? new Ajv2020({ allErrors: true, strict: false })
    : new Ajv({ allErrors: true, strict: false });
  delete schema.$schema;
  const validate = ajv.compile(schema);
  if (validate(mergeValues(defaults, values))) return [];
  return (validate.errors ?? []).map(
    (e) =>
      `${e.instancePath || "/"} ${e.message}${e.params && "additionalProperty" in e.params ? ` (${String(e.params.additionalProperty)})` : ""}`,
  );
}

/** One container a chart renders and the values key (dotted) holding its resources. */
export interface RenderedContainer {
  /** `<pod or Job>/<container>` as the chart names them. */
  readonly container: string;
  readonly key: string;
  /**
   * Set when the key belongs to a remote subchart whose values.yaml is not in shared/charts: the
   * key's existence is then taken from the subchart's docs, not checked here.
   */
  readonly subchart?: string;
}

/** The value at a dotted key path (`a.b.c`), or undefined. */
export function valueAtKey(values: Json, key: string): Json {
  return key.split(".").reduce<Json>((at, part) => (isMap(at) ? at[part] : undefined), values);
}

/** Table keys that do not exist in the chart's values.yaml (subchart keys are skipped). */
export function missingChartKeys(
  table: readonly RenderedContainer[],
  chart: string,
  version: string,
): string[] {
  const { values } = chartDefaults(chart, version);
  return table
    .filter((c) => c.subchart === undefined && valueAtKey(values, c.key) === undefined)
    .map((c) => c.key);
}

/**
 * Containers that would run without a memory request or limit: Helm's merge of `values` over the
 * chart's defaults, read at each container's key.
 */
export function unsizedContainers(
  values: Record<string, Json>,
  table: readonly RenderedContainer[],
  chart: string,
  version: string,
): string[] {
  const merged = mergeValues(chartDefaults(chart, version).values, values);
  return table
    .filter((c) => {
      const r = valueAtKey(merged, c.key);
      return !(valueAtKey(r, "requests.memory") && valueAtKey(r, "limits.memory"));
    })
    .map((c) => `${c.container} (${c.key})`);
}
