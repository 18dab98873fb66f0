/**
 * Every chart the program pins, found by loading each module under `components/` and keeping the
 * exports shaped like a `ChartRef`. Scanning (instead of a hand-kept list) means a chart added
 * later, in any component, is checked against the reference data without anyone remembering to.
 */
import * as fs from "fs";
import * as path from "path";
import { ChartRef } from "../../components/platform/helm";
import { REGENERATE, REPO_ROOT } from "../../scripts/chart-reference";

/** A pinned chart and the export that pins it. */
export interface PinnedChart {
  /** Module path relative to the repository root, e.g. `components/platform/metallb.ts`. */
  readonly module: string;
  /** Export name, e.g. `METALLB`. */
  readonly name: string;
  readonly ref: ChartRef;
}

/** True for a value with a ChartRef's fields: `chart`, `version` and `repo`, all strings. */
export function isChartRef(value: unknown): value is ChartRef {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  return typeof v.chart === "string" && typeof v.version === "string" && typeof v.repo === "string";
}

function modules(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory()
        ? modules(path.join(dir, e.name))
        : /\.ts$/.test(e.name) && !/\.d\.ts$/.test(e.name)
          ? [path.join(dir, e.name)]
          : [],
    )
    .sort();
}

/** The chart's name in the reference data: an OCI reference's last segment (`oci://…/immich`). */
export function chartName(ref: ChartRef): string {
  return ref.chart.split("/").pop()!;
}

/**
 * The ChartRefs exported by the modules under `components/`, in module then export order; a pin
 * re-exported by a second module counts once, where it is declared first.
 */
export function pinnedCharts(root = path.join(REPO_ROOT, "components")): PinnedChart[] {
  const seen = new Set<unknown>();
  return modules(root).flatMap((file) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const exports = require(file) as Record<string, unknown>;
    return Object.entries(exports)
      .filter(([, value]) => isChartRef(value) && !seen.has(value))
      .map(([name, value]) => (seen.add(value), [name, value] as const))
      .map(([name, value]) => ({
        module: path.relative(REPO_ROOT, file).split(path.sep).join("/"),
        name,
        ref: value as ChartRef,
      }));
  });
}

/**
 * One message per pinned chart version without reference data, naming the pin and the command
 * that generates the data: a chart bumped without regenerating fails here, not in a values check.
 */
export function missingReference(pinned: readonly PinnedChart[], referenceDir: string): string[] {
  return pinned
    .filter(
      ({ ref }) =>
        !fs.existsSync(path.join(referenceDir, chartName(ref), ref.version, "values.json")),
    )
    .map(
      ({ module, name, ref }) =>
        `${module} ${name} pins ${ref.chart} ${ref.version}, which has no reference data in ` +
        `tests/reference/charts/${chartName(ref)}/${ref.version}: put the chart's upstream files in ` +
        `../shared/charts/${chartName(ref)}/${ref.version} and run \`${REGENERATE}\``,
    );
}
