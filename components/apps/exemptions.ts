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

/** `<namespace>/<workload>` → rule → why the workload cannot follow it. */
export const WORKLOAD_EXEMPTIONS: Readonly<
  Record<string, Partial<Readonly<Record<WorkloadRule, string>>>>
> = {};

/** The reason a workload may break a rule, or undefined when it must follow it. */
export function exemption(
  namespace: string,
  workload: string,
  rule: WorkloadRule,
): string | undefined {
  return WORKLOAD_EXEMPTIONS[`${namespace}/${workload}`]?.[rule];
}
