/**
 * Generates the chart reference data the tests check Helm values and custom resources against
 * (`tests/reference/charts/<chart>/<version>/`), from the upstream chart files of each pinned
 * version (`../shared/charts/<chart>/<version>/`, or `--from <dir>`).
 *
 * The output is data only: default values, their key paths and types, the names of keys that
 * values.yaml documents as commented-out examples, the values schema and the CRD schemas, all
 * without upstream prose (descriptions, titles, examples, comments). Each file records the
 * upstream file it came from (repository, tag, path, git blob hash), and the JSON is written
 * with sorted keys so that regenerating from the same input is byte-identical.
 *
 *   npm run charts:reference                    # from ../shared/charts
 *   npm run charts:reference -- --from <dir>    # from another copy of the upstream files
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";

/** The repository root (this file lives in `scripts/`). */
export const REPO_ROOT = path.resolve(__dirname, "..");
/** Where the generated data is committed; the tests read only this. */
export const REFERENCE_DIR = path.join(REPO_ROOT, "tests", "reference", "charts");
/** The upstream chart files the data is generated from (`PI_CLUSTER_CHARTS_DIR` overrides). */
export const DEFAULT_INPUT =
  process.env.PI_CLUSTER_CHARTS_DIR ?? path.resolve(REPO_ROOT, "..", "shared", "charts");
/** The command that regenerates the data, named in every message that asks for it. */
export const REGENERATE = "npm run charts:reference";

/** Where one chart version's files come from upstream. */
export interface UpstreamSource {
  /** Git repository URL. */
  readonly repository: string;
  /** Release tag the files were taken at. */
  readonly tag: string;
  /** Commit of that tag (abbreviated, as listed in shared/charts/README.md). */
  readonly commit: string;
  /** Folder of the chart (values.yaml, values.schema.json) in the repository. */
  readonly chartPath: string;
  /** Folder of the CRD files in the repository, for charts that ship CRDs. */
  readonly crdsPath?: string;
}

/**
 * Upstream origin of every chart version the input holds, from shared/charts/README.md. A new
 * chart version needs its entry here: the generated files name their source, so a version with
 * unknown provenance is refused rather than recorded without one.
 */
export const UPSTREAM: Readonly<Record<string, UpstreamSource>> = {
  "external-secrets/1.2.0": {
    repository: "https://github.com/external-secrets/external-secrets",
    // The chart's release commit is tagged helm-chart-1.2.0 (v1.2.0 still carries chart 1.1.1).
    tag: "helm-chart-1.2.0",
    commit: "7ea537b66d10",
    chartPath: "deploy/charts/external-secrets",
    crdsPath: "config/crds/bases",
  },
  "cert-manager/v1.21.1": {
    repository: "https://github.com/cert-manager/cert-manager",
    tag: "v1.21.1",
    commit: "24e33194fb39",
    chartPath: "deploy/charts/cert-manager",
  },
  "ingress-nginx/4.15.1": {
    repository: "https://github.com/kubernetes/ingress-nginx",
    tag: "helm-chart-4.15.1",
    commit: "0a5901f3c64f",
    chartPath: "charts/ingress-nginx",
  },
  "kube-prometheus-stack/88.5.3": {
    repository: "https://github.com/prometheus-community/helm-charts",
    tag: "kube-prometheus-stack-88.5.3",
    commit: "ea930baeebeb",
    chartPath: "charts/kube-prometheus-stack",
    crdsPath: "charts/kube-prometheus-stack/charts/crds/crds",
  },
  "immich/0.10.3": {
    repository: "https://github.com/immich-app/immich-charts",
    tag: "immich-0.10.3",
    commit: "3b60d5f703fb",
    chartPath: "charts/immich",
  },
  "metallb/0.15.3": {
    repository: "https://github.com/metallb/metallb",
    tag: "v0.15.3",
    commit: "85bfb4f0e0d3",
    chartPath: "charts/metallb",
    // The chart's own CRD template is Helm-templated; the plain CRDs live here.
    crdsPath: "config/crd/bases",
  },
  "traefik/41.3.0": {
    repository: "https://github.com/traefik/traefik-helm-chart",
    tag: "v41.3.0",
    commit: "a8a66d009870",
    chartPath: "traefik",
    crdsPath: "traefik/crds",
  },
};

/** The upstream file a generated file was made from. */
export interface SourceRecord {
  readonly repository: string;
  readonly tag: string;
  readonly commit: string;
  readonly path: string;
  /** Git blob hash of the upstream file (`git hash-object`), so it can be matched exactly. */
  readonly blob: string;
}

/**
 * Type of one default value. `map` is an empty map (`{}`): like `null`, the chart leaves it
 * free-form (resources, nodeSelector, annotations...). `object` is a map with keys of its own.
 */
export type ValueType = "object" | "map" | "array" | "string" | "number" | "boolean" | "null";

/** `values.json`: the chart's default values and what the key check needs from values.yaml. */
export interface ValuesReference {
  readonly source: SourceRecord;
  readonly chart: string;
  readonly version: string;
  /** Every key path of the defaults as a JSON pointer (`/controller/service/type`), to its type. */
  readonly keys: Readonly<Record<string, ValueType>>;
  /** Names that values.yaml shows as commented-out keys (`# key: ...`), the names only. */
  readonly commentedKeys: readonly string[];
  /** values.yaml parsed, without its comments. */
  readonly defaults: Record<string, unknown>;
}

/** `values-schema.json`: the chart's values.schema.json without its prose. */
export interface ValuesSchemaReference {
  readonly source: SourceRecord;
  readonly chart: string;
  readonly version: string;
  readonly schema: Record<string, unknown>;
}

/** One served or unserved version of a CRD and its validation schema, without prose. */
export interface CrdVersion {
  readonly name: string;
  readonly served: boolean;
  readonly storage: boolean;
  readonly schema: Record<string, unknown>;
}

/** `crds/<file>.json`: one CustomResourceDefinition's identity and schemas. */
export interface CrdReference {
  readonly source: SourceRecord;
  readonly chart: string;
  readonly version: string;
  readonly group: string;
  readonly kind: string;
  readonly plural: string;
  readonly scope: string;
  readonly versions: readonly CrdVersion[];
}

/** The hash git gives the file's content: sha1 of `blob <byte length>\0<content>`. */
export function gitBlobHash(content: Buffer): string {
  return createHash("sha1")
    .update(Buffer.concat([Buffer.from(`blob ${content.length}\0`), content]))
    .digest("hex");
}

function isMap(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** A copy with every map's keys sorted, so the output does not depend on upstream key order. */
export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!isMap(value)) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, sortKeys(value[k])]),
  );
}

/** `/`-joined key path with `~` and `/` escaped as in RFC 6901 (keys such as `helm.sh/hook`). */
export function pointer(keys: readonly string[]): string {
  return keys.map((k) => `/${k.replace(/~/g, "~0").replace(/\//g, "~1")}`).join("");
}

function typeOf(value: unknown): ValueType {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (isMap(value)) return Object.keys(value).length > 0 ? "object" : "map";
  const type = typeof value;
  if (type === "string" || type === "number" || type === "boolean") return type;
  throw new Error(`a default value of type ${type} has no JSON form`);
}

/** Every key path of the defaults down to leaves, arrays and empty maps, with its type. */
export function keyTypes(defaults: Record<string, unknown>): Record<string, ValueType> {
  const out: Record<string, ValueType> = {};
  const walk = (node: Record<string, unknown>, at: string[]) => {
    for (const [key, value] of Object.entries(node)) {
      const here = [...at, key];
      out[pointer(here)] = typeOf(value);
      if (isMap(value)) walk(value, here);
    }
  };
  walk(defaults, []);
  return out;
}

/**
 * Names that appear as commented-out keys in values.yaml (`# key:`, `## key: value`), which is
 * how charts document optional keys they do not set. Only names made of the characters keys use
 * (letters, digits, `_ . - / $`) are kept: the rest of each comment is prose and is dropped.
 */
export function commentedKeys(valuesYaml: string): string[] {
  const names = new Set<string>();
  for (const line of valuesYaml.split(/\r?\n/)) {
    const match = /^\s*#+\s*([A-Za-z0-9_$][A-Za-z0-9_.\-/$]*):/.exec(line);
    if (match) names.add(match[1]);
  }
  return [...names].sort();
}

/** Schema keywords that are prose for readers, not constraints. */
const PROSE_KEYWORDS = new Set(["description", "title", "example", "examples", "$comment"]);
/** CEL rules are not evaluated by the tests, and their messages are upstream prose. */
const DROPPED_KEYWORDS = new Set(["x-kubernetes-validations"]);
/** Keywords whose value maps names to subschemas (the names are data, not keywords). */
const SCHEMA_MAPS = ["properties", "patternProperties", "definitions", "$defs", "dependentSchemas"];
/** Keywords whose value is one subschema (or, for `items`, possibly a list of them). */
const SCHEMA_ONE = [
  "items",
  "additionalProperties",
  "additionalItems",
  "not",
  "if",
  "then",
  "else",
  "contains",
  "propertyNames",
  "unevaluatedProperties",
  "unevaluatedItems",
];
const SCHEMA_LISTS = ["allOf", "anyOf", "oneOf", "prefixItems"];

/**
 * A JSON schema without its prose keywords. It walks schema positions only, so a property that
 * happens to be named `description` (a field of the resource) is kept.
 */
export function stripSchema(schema: unknown): unknown {
  if (!isMap(schema)) return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (PROSE_KEYWORDS.has(key) || DROPPED_KEYWORDS.has(key)) continue;
    if (SCHEMA_MAPS.includes(key) && isMap(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, stripSchema(v)]));
    } else if (SCHEMA_ONE.includes(key)) {
      out[key] = Array.isArray(value) ? value.map(stripSchema) : stripSchema(value);
    } else if (SCHEMA_LISTS.includes(key) && Array.isArray(value)) {
      out[key] = value.map(stripSchema);
    } else {
      out[key] = value;
    }
  }
  return out;
}

/** Pretty-printed JSON with a trailing newline, keys sorted below the top level. */
function json(value: Record<string, unknown>): string {
  const top = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, sortKeys(v)]));
  return `${JSON.stringify(top, null, 2)}\n`;
}

/** Fails unless parsing produced plain JSON data (no dates, infinities or undefined). */
function assertJson(value: unknown, file: string): void {
  const roundTrip = JSON.stringify(JSON.parse(JSON.stringify(sortKeys(value))));
  if (roundTrip !== JSON.stringify(sortKeys(value))) {
    throw new Error(`${file} holds values with no exact JSON form`);
  }
}

type Crd = {
  spec: {
    group: string;
    scope: string;
    names: { kind: string; plural: string };
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      schema?: { openAPIV3Schema?: unknown };
    }[];
  };
};

/**
 * Every generated file, by path relative to the reference folder, for the chart versions in
 * `from` (`<chart>/<version>/{values.yaml, values.schema.json?, crds/*.yaml?}`).
 * @throws Error when a chart version has no entry in {@link UPSTREAM} or a file cannot be read
 */
export function generateReference(from: string): Map<string, string> {
  if (!fs.existsSync(from)) throw new Error(`no chart folder at ${from} (use --from <dir>)`);
  const files = new Map<string, string>();
  const dirs = (dir: string) =>
    fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  for (const chart of dirs(from)) {
    for (const version of dirs(path.join(from, chart))) {
      const id = `${chart}/${version}`;
      const upstream = UPSTREAM[id];
      if (!upstream) {
        throw new Error(
          `no upstream source recorded for ${id}: add its repository, tag, commit and paths to ` +
            `UPSTREAM in scripts/chart-reference.ts (see shared/charts/README.md)`,
        );
      }
      const dir = path.join(from, chart, version);
      const source = (upstreamPath: string, content: Buffer): SourceRecord => ({
        repository: upstream.repository,
        tag: upstream.tag,
        commit: upstream.commit,
        path: upstreamPath,
        blob: gitBlobHash(content),
      });

      const valuesFile = path.join(dir, "values.yaml");
      if (fs.existsSync(valuesFile)) {
        const raw = fs.readFileSync(valuesFile);
        const text = raw.toString("utf8");
        const defaults = (YAML.parse(text) ?? {}) as Record<string, unknown>;
        assertJson(defaults, valuesFile);
        const reference: ValuesReference = {
          source: source(`${upstream.chartPath}/values.yaml`, raw),
          chart,
          version,
          keys: keyTypes(defaults),
          commentedKeys: commentedKeys(text),
          defaults,
        };
        files.set(`${id}/values.json`, json({ ...reference }));
      }

      const schemaFile = path.join(dir, "values.schema.json");
      if (fs.existsSync(schemaFile)) {
        const raw = fs.readFileSync(schemaFile);
        const reference: ValuesSchemaReference = {
          source: source(`${upstream.chartPath}/values.schema.json`, raw),
          chart,
          version,
          schema: stripSchema(JSON.parse(raw.toString("utf8"))) as Record<string, unknown>,
        };
        files.set(`${id}/values-schema.json`, json({ ...reference }));
      }

      const crdDir = path.join(dir, "crds");
      if (!fs.existsSync(crdDir)) continue;
      if (!upstream.crdsPath) throw new Error(`${id} has CRDs but UPSTREAM has no crdsPath`);
      for (const name of fs
        .readdirSync(crdDir)
        .filter((f) => /\.ya?ml$/.test(f))
        .sort()) {
        const raw = fs.readFileSync(path.join(crdDir, name));
        const docs = YAML.parseAllDocuments(raw.toString("utf8"))
          .map((d) => d.toJSON() as Crd | null)
          .filter((d): d is Crd => d !== null);
        if (docs.length !== 1) {
          throw new Error(`${path.join(crdDir, name)}: expected one CRD, found ${docs.length}`);
        }
        const { spec } = docs[0];
        const reference: CrdReference = {
          source: source(`${upstream.crdsPath}/${name}`, raw),
          chart,
          version,
          group: spec.group,
          kind: spec.names.kind,
          plural: spec.names.plural,
          scope: spec.scope,
          versions: spec.versions.map((v) => ({
            name: v.name,
            served: v.served,
            storage: v.storage,
            schema: stripSchema(v.schema?.openAPIV3Schema ?? {}) as Record<string, unknown>,
          })),
        };
        files.set(`${id}/crds/${name.replace(/\.ya?ml$/, ".json")}`, json({ ...reference }));
      }
    }
  }
  return files;
}

/** Replaces everything in `outDir` with `files`, so data of charts no longer in the input goes. */
export function writeReference(files: Map<string, string>, outDir: string): void {
  fs.rmSync(outDir, { recursive: true, force: true });
  for (const [relative, content] of files) {
    const file = path.join(outDir, relative);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
  }
}

/** Every file under `dir`, relative to it with `/` separators, in sorted order. */
export function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const walk = (at: string): string[] =>
    fs
      .readdirSync(path.join(dir, at), { withFileTypes: true })
      .flatMap((e) => (e.isDirectory() ? walk(`${at}${e.name}/`) : [`${at}${e.name}`]));
  return walk("").sort();
}

function main(argv: string[]): void {
  let from = DEFAULT_INPUT;
  let out = REFERENCE_DIR;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--from" && argv[i + 1]) from = path.resolve(argv[++i]);
    else if (argv[i] === "--out" && argv[i + 1]) out = path.resolve(argv[++i]);
    else throw new Error(`unknown argument ${argv[i]}; usage: ${REGENERATE} -- [--from <dir>]`);
  }
  const files = generateReference(from);
  writeReference(files, out);
  console.log(`${files.size} reference files from ${from} → ${path.relative(process.cwd(), out)}`);
}

if (require.main === module) {
  try {
    main(process.argv.slice(2));
  } catch (error) {
    console.error(`chart-reference: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
