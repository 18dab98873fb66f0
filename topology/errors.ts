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

/**
 * Whether a config key holds a secret, by rule: everything under `pi-cluster:secrets`, and any
 * key whose last name says it is a key, token, password, webhook or credential
 * (`ssh.privateKey`, `nodes[2].ssh.privateKey`, `cluster.k3s.token`,
 * `platform.certificates.cloudflareToken`, and whatever later keys follow the same naming).
 * Such keys must hold an `op://` reference; a pasted value must never be printed back.
 */
export function isSecretKey(key: string): boolean {
  const path = key.replace(/^[^:]*:/, "");
  if (/^secrets($|[.[])/.test(path)) return true;
  const leaf =
    path
      .split(/[.[\]]/)
      .filter((p) => p !== "")
      .pop() ?? "";
  // Only a field name counts: free-form map keys (`ExternalSecret cert-manager/cloudflare-api-token`
  // in takeover.leftovers) name objects, and their values are prose.
  return (
    /^[A-Za-z][A-Za-z0-9]*$/.test(leaf) &&
    /(privateKey|token|password|passwd|secret|webhook|credential|apiKey)$/i.test(leaf)
  );
}

/**
 * Values a secret-bearing key may hold that are choices, not secrets: `first-server`
 * (cluster.k3s.token) and `create` (platform.certificates.cloudflareToken).
 */
const SECRET_KEY_KEYWORDS: readonly string[] = ["first-server", "create"];

/** A 1Password reference (names where a secret is) or a keyword: safe to print. */
function isReferenceText(value: string): boolean {
  if (SECRET_KEY_KEYWORDS.includes(value)) return true;
  return value.startsWith("op://") && !/[\r\n]/.test(value) && value.length <= 256;
}

/**
 * What kind of value a secret looks like, for a message that must not show it: "a private key",
 * "a k3s join token", ... never any of its characters.
 */
export function describeSecret(value: unknown): string {
  if (typeof value !== "string") {
    if (Array.isArray(value)) return "a list (value hidden)";
    if (value !== null && typeof value === "object") return "a map (value hidden)";
    return `a ${typeof value} (value hidden)`;
  }
  const kind = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(value)
    ? "a private key"
    : /^ops_/.test(value)
      ? "a 1Password service-account token"
      : /^K10[0-9a-f]*::/.test(value) || /^K10/.test(value)
        ? "a k3s join token"
        : /^https:\/\/(discord|discordapp)\.com\/api\/webhooks\//.test(value)
          ? "a Discord webhook URL"
          : /^[a-z][a-z0-9+.-]*:\/\//i.test(value)
            ? "a URL"
            : value === ""
              ? "an empty value"
              : `a value of ${[...value].length} characters`;
  return `${kind} (value hidden)`;
}

/**
 * Renders a config value for an error message: strings quoted, objects as JSON. The one place
 * values become text: `key` is required so that a secret-bearing key (see isSecretKey) shows
 * only what kind of value it holds, unless the value is an `op://` reference.
 */
export function showValue(value: unknown, key: string): string {
  if (value === undefined) return "nothing";
  if (isSecretKey(key) && !(typeof value === "string" && isReferenceText(value))) {
    return describeSecret(value);
  }
  if (typeof value === "string") return JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}

/**
 * Every secret value pasted into the raw config (strings under secret-bearing keys that are not
 * `op://` references), for a last check that no message repeats one.
 */
export function pastedSecrets(raw: unknown, root = "pi-cluster"): string[] {
  const found: string[] = [];
  const walk = (value: unknown, key: string, secret: boolean) => {
    const isSecret = secret || isSecretKey(key);
    if (typeof value === "string") {
      if (isSecret && !isReferenceText(value) && value !== "") found.push(value);
    } else if (Array.isArray(value)) {
      value.forEach((v, i) => walk(v, `${key}[${i}]`, isSecret));
    } else if (value !== null && typeof value === "object") {
      for (const [k, v] of Object.entries(value)) {
        walk(v, key.endsWith(":") ? `${key}${k}` : `${key}.${k}`, isSecret);
      }
    }
  };
  walk(raw, `${root}:`, false);
  return found;
}

/**
 * Replaces any pasted secret, or any line or word of 8+ characters of it (a private key's lines),
 * in the problems' messages: a safety net under showValue for a rule that interpolates a value
 * some other way. (Shorter pieces are left: they would be ordinary words such as "server".)
 */
export function redactSecrets(
  problems: readonly ConfigProblem[],
  secrets: readonly string[],
): ConfigProblem[] {
  const pieces = [
    ...new Set(secrets.flatMap((s) => [s.trim(), ...s.split(/\s+/)]).filter((p) => p.length >= 8)),
  ].sort((a, b) => b.length - a.length);
  if (pieces.length === 0) return [...problems];
  const clean = (text: string) => pieces.reduce((out, piece) => out.split(piece).join("***"), text);
  return problems.map((p) => ({ key: p.key, message: clean(p.message) }));
}

/** Joins a config key and a path: `pi-cluster:nodes` + [1, "ip"] → `pi-cluster:nodes[1].ip`. */
export function keyPath(root: string, path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (acc, part) => (typeof part === "number" ? `${acc}[${part}]` : `${acc}.${String(part)}`),
    root,
  );
}
