/**
 * The site's image policy, as Flux's numerical ImagePolicy applied it (seed 003): of the tags
 * matching the pattern, the numerically largest runs. The in-cluster updater's script
 * (updater.ts) implements this same rule in awk; the tests run both over the same tag lists.
 * @see https://fluxcd.io/flux/components/image/imagepolicies/#numerical
 */

/** The site's CI tags every build `YYYYMMDDHHmmss` (seed 003, decision 2). */
export const SITE_TAG_PATTERN = "^[0-9]{14}$";

/** A tag's digits without leading zeros (`"007"` → `"7"`), so that length orders numbers. */
function digits(tag: string): string {
  return tag.replace(/^0+/, "") || "0";
}

/**
 * Numeric order of two all-digit tags, exact at any length (no float rounding): negative when
 * `a` is older, positive when newer, 0 when equal as numbers (`"007"` and `"7"`).
 */
export function compareNumericTags(a: string, b: string): number {
  const x = digits(a);
  const y = digits(b);
  if (x.length !== y.length) return x.length - y.length;
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * The newest tag by numeric order among those matching `pattern` and made only of digits (git
 * SHAs, `latest` and 13- or 15-digit numbers are ignored); of tags equal as numbers the first
 * listed wins. Undefined when none qualifies.
 * @param pattern an extended regular expression, read the same way by `grep -E` in the updater
 * @default pattern SITE_TAG_PATTERN
 */
export function newestTag(
  tags: readonly string[],
  pattern: string = SITE_TAG_PATTERN,
): string | undefined {
  const matches = new RegExp(pattern);
  let newest: string | undefined;
  for (const tag of tags) {
    if (!matches.test(tag) || !/^[0-9]+$/.test(tag)) continue;
    if (newest === undefined || compareNumericTags(tag, newest) > 0) newest = tag;
  }
  return newest;
}

/**
 * What the updater does with the registry's tags and the running tag: patch only to a newer tag,
 * never backwards; leave alone a running tag outside the pattern (someone pinned it by hand).
 */
export function updateDecision(
  tags: readonly string[],
  running: string,
  pattern: string = SITE_TAG_PATTERN,
): { readonly action: "patch" | "keep"; readonly tag: string } {
  const newest = newestTag(tags, pattern);
  if (newest === undefined) throw new Error(`no tag matches ${pattern}`);
  if (newestTag([running], pattern) === undefined) return { action: "keep", tag: running };
  return compareNumericTags(newest, running) > 0
    ? { action: "patch", tag: newest }
    : { action: "keep", tag: running };
}
