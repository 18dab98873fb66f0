/**
 * `adopt.md`: the adoption plan as the person doing the handover reads it — the four lists, every
 * live volume's fate, the volumes to patch to Retain, and anything that stops the handover.
 */
import { Adoption } from "./adopt";

const bullet = (lines: readonly string[], empty: string) =>
  lines.length > 0 ? lines.map((l) => `- ${l}`) : [`- (${empty})`];

/** The report's Markdown. */
export function adoptReport(adoption: Adoption): string {
  const asIs = adoption.adopted.filter(
    (a) => a.differences.length === 0 && a.replaces.length === 0,
  );
  const changed = adoption.adopted.filter((a) => a.differences.length > 0 || a.replaces.length > 0);
  const id = (type: string, name: string) => `\`${type}\` **${name}**`;
  const lines = [
    `# Adoption plan: ${adoption.stack}`,
    "",
    adoption.problems.length > 0
      ? `**The handover must not go ahead: ${adoption.problems.length} problem(s).**`
      : "Nothing blocks the handover. Follow the runbook in the README, in order.",
    "",
    ...(adoption.problems.length > 0
      ? ["## Problems (fix these first)", "", ...bullet(adoption.problems, "none"), ""]
      : []),
    `## Adopted as is (${asIs.length})`,
    "",
    ...bullet(
      asIs.map((a) => `${id(a.resource.type, a.resource.name)} ← ${a.live}`),
      "none",
    ),
    "",
    `## Adopted with a difference \`pulumi up\` will apply (${changed.length})`,
    "",
    ...bullet(
      changed.map(
        (a) =>
          `${id(a.resource.type, a.resource.name)} ← ${a.live}: ${[...a.differences, ...a.replaces.map((r) => `**replaced**: ${r}`)].join("; ")}`,
      ),
      "none",
    ),
    "",
    `## Planned but absent: \`pulumi up\` creates them (${adoption.absent.length})`,
    "",
    ...bullet(
      adoption.absent.map((r) => id(r.type, r.name)),
      "none",
    ),
    "",
    `## Live but not planned (${adoption.unplanned.length})`,
    "",
    ...bullet(
      adoption.unplanned.map((u) => `${u.object}: **${u.action}** (${u.why})`),
      "none",
    ),
    "",
    "## Every live volume",
    "",
    ...bullet(
      adoption.volumes.map((v) => `${v.object}: ${v.fate}`),
      "no claims or volumes in the dump",
    ),
    "",
    "## Volumes to switch to Retain before the handover",
    "",
    "Their claims are adopted, but their reclaim policy (`Delete`, k3s's `local-path` default) would",
    "delete the data if a claim were ever removed. Run once, before `pulumi import`:",
    "",
    ...(adoption.patchToRetain.length > 0
      ? [
          "```sh",
          ...adoption.patchToRetain.map(
            (pv) =>
              `kubectl patch pv ${pv} -p '{"spec":{"persistentVolumeReclaimPolicy":"Retain"}}'`,
          ),
          "```",
        ]
      : ["- (none)"]),
    "",
  ];
  return lines.join("\n");
}
