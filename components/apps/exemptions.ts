/**
 * The one place where a workload is allowed to break a workload rule, each with the reason. The
 * workload-rules test (tests/apps/workload-rules.test.ts) checks every workload of every stack
 * against every rule and fails naming the workload and the rule unless it is listed here.
 */

/** The rules the test enforces; an exemption names one of them. */
export type WorkloadRule =
  | "runAsNonRoot"
  | "dropAllCapabilities"
  | "readOnlyRootFilesystem"
  | "probes"
  | "noPrivilegeEscalation";

/**
 * `<namespace>/<workload>` → rule → why the workload cannot follow it. A key ending in `*`
 * covers every workload whose name starts with what precedes it (names derived per node).
 */
export const WORKLOAD_EXEMPTIONS: Readonly<
  Record<string, Partial<Readonly<Record<WorkloadRule, string>>>>
> = {
  "backup-jobs/volume-backup-*": {
    runAsNonRoot:
      "reads every app's local-path volume through a read-only hostPath, files owned by many " +
      "users (Postgres keeps its data 0700): root with DAC_READ_SEARCH only",
    dropAllCapabilities:
      "drops ALL and adds back only DAC_READ_SEARCH, to read files it does not own",
  },
};

/** The reason a workload may break a rule, or undefined when it must follow it. */
export function exemption(
  namespace: string,
  workload: string,
  rule: WorkloadRule,
): string | undefined {
  const key = `${namespace}/${workload}`;
  const exact = WORKLOAD_EXEMPTIONS[key]?.[rule];
  if (exact !== undefined) return exact;
  const pattern = Object.keys(WORKLOAD_EXEMPTIONS).find(
    (k) => k.endsWith("*") && key.startsWith(k.slice(0, -1)),
  );
  return pattern ? WORKLOAD_EXEMPTIONS[pattern][rule] : undefined;
}
