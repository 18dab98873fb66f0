/**
 * Checks the Helm values the program passes against the pinned chart's reference data in
 * `tests/reference/charts` (generated from the upstream chart by `npm run charts:reference`):
 * every key path must exist in the chart's values.yaml, sit under a map the chart leaves
 * free-form (`{}` or null by default), be documented there as a commented-out key, or lie under
 * a subtree the caller names as free-form (remote subcharts, config passthrough). Charts with a
 * values.schema.json are also validated against it.
 */
import * as fs from "fs";
import * as path from "path";
import Ajv, { ValidateFunction } from "ajv";
import Ajv2020 from "ajv/dist/2020";
import {
  REFERENCE_DIR,
  REGENERATE,
  ValueType,
  ValuesReference,
  ValuesSchemaReference,
  pointer,
} from "../../scripts/chart-reference";

type Json = unknown;

function isMap(value: Json): value is Record<string, Json> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

const references = new Map<string, ValuesReference>();

/**
 * The chart's default values, their key paths and types, and the keys its values.yaml documents
 * in comments; fails naming the command to run when the reference data is missing.
 */
export function chartDefaults(
  chart: string,
  version: string,
): {
  values: Record<string, Json>;
  keys: Readonly<Record<string, ValueType>>;
  commentedKeys: ReadonlySet<string>;
  dir: string;
} {
  const dir = path.join(REFERENCE_DIR, chart, version);
  let reference = references.get(dir);
  if (!reference) {
    const file = path.join(dir, "values.json");
    if (!fs.existsSync(file)) {
      throw new Error(
        `no reference values for ${chart} ${version}: ${path.relative(process.cwd(), file)} is ` +
          `missing. Put the chart's files in ../shared/charts/${chart}/${version} and run ` +
          `\`${REGENERATE}\``,
      );
    }
    reference = JSON.parse(fs.readFileSync(file, "utf8")) as ValuesReference;
    references.set(dir, reference);
  }
  return {
    // A copy: callers may change what they get without changing the next caller's defaults.
    values: structuredClone(reference.defaults),
    keys: reference.keys,
    commentedKeys: new Set(reference.commentedKeys),
    dir,
  };
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
  const { keys, commentedKeys } = chartDefaults(chart, version);
  const unknown: string[] = [];
  const walk = (given: Record<string, Json>, at: string[]) => {
    for (const [key, value] of Object.entries(given)) {
      const here = [...at, key];
      const dotted = here.join(".");
      if (freeForm.some((p) => dotted === p || dotted.startsWith(`${p}.`))) continue;
      const type = keys[pointer(here)];
      if (type === undefined) {
        if (!commentedKeys.has(key)) unknown.push(dotted);
        continue;
      }
      // Only maps with keys of their own are walked: a default of {} or null is a free-form map
      // (resources, nodeSelector, annotations...), and a scalar default takes what Helm gets.
      if (isMap(value) && type === "object") walk(value, here);
    }
  };
  walk(values, []);
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

const schemaValidators = new Map<string, ValidateFunction | null>();

/** The compiled values schema of a chart version, or null when the chart ships none. */
function valuesSchema(dir: string): ValidateFunction | null {
  if (schemaValidators.has(dir)) return schemaValidators.get(dir)!;
  const file = path.join(dir, "values-schema.json");
  let validate: ValidateFunction | null = null;
  if (fs.existsSync(file)) {
    const { schema } = JSON.parse(fs.readFileSync(file, "utf8")) as ValuesSchemaReference;
    // Charts declare draft-07 or 2020-12 (sometimes with an https URL ajv does not know by name).
    const ajv = String(schema.$schema).includes("2020-12")
      ? new Ajv2020({ allErrors: true, strict: false })
      : new Ajv({ allErrors: true, strict: false });
    const body: Record<string, unknown> = { ...schema };
    delete body.$schema;
    validate = ajv.compile(body);
  }
  schemaValidators.set(dir, validate);
  return validate;
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
  const validate = valuesSchema(dir);
  if (!validate || validate(mergeValues(defaults, values))) return [];
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
