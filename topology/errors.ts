/** One rejected config value: where it is, what it was, and what is allowed instead. */
export interface ConfigProblem {
  /** Full config key and path, e.g. `pi-cluster:nodes[1].ip`. */
  readonly key: string;
  /** The sentence shown to the user; always names the bad value and what is allowed. */
  readonly message: string;
}

/**
 * Thrown before any resource is declared when the stack config is invalid. It lists every
 * problem at once, so one `pulumi preview` shows everything to fix.
 */
export class ConfigError extends Error {
  constructor(
    readonly stack: string,
    readonly problems: readonly ConfigProblem[],
  ) {
    super(
      `invalid config for stack "${stack}" (Pulumi.${stack}.yaml), ${problems.length} problem(s):\n` +
        problems.map((p) => `  - ${p.message}`).join("\n"),
    );
    this.name = "ConfigError";
  }
}

/** Renders a config value for an error message: strings quoted, objects as JSON. */
export function showValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "string") return JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}

/** Joins a config key and a path: `pi-cluster:nodes` + [1, "ip"] → `pi-cluster:nodes[1].ip`. */
export function keyPath(root: string, path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (acc, part) => (typeof part === "number" ? `${acc}[${part}]` : `${acc}.${String(part)}`),
    root,
  );
}
