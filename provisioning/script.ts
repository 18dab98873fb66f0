/**
 * The shared frame of every node script: shebang, strict mode, the `$ROOT` path prefix, the
 * `fail` / `changed` / `note` helpers, atomic file replacement and the final report line.
 *
 * Scripts run as root: the caller wraps them in `sudo -n bash -c '<script>'` (see
 * {@link asRootCommand}); a script never calls sudo itself. Every file path is written as
 * `"$ROOT/..."` and every command is found on `PATH`, so tests run the same text against a fake
 * root with stub commands.
 */

import { assertHostname } from "./checks";

/** Order and phase of one provisioning step. */
export interface StepInfo {
  readonly id: string;
  /** Two-digit order used to name plan files (`NN-<step>.sh`); gaps leave room for new steps. */
  readonly order: number;
  /**
   * `create`: the boot sequence, run in order on every node. `read`: read-only scripts whose
   * stdout is a secret payload (no report line). `delete`: run when a node leaves the cluster.
   */
  readonly phase: "create" | "read" | "delete";
}

/**
 * Every step a node script can be, in order. The read and delete scripts are not boot steps; they
 * are numbered after the boot steps (85-99) only so plan files of every kind sort and name alike.
 */
export const STEPS = [
  { id: "reachable", order: 0, phase: "create" },
  { id: "hostname", order: 10, phase: "create" },
  { id: "cgroups", order: 20, phase: "create" },
  { id: "swap", order: 30, phase: "create" },
  { id: "static-dns", order: 40, phase: "create" },
  { id: "packages", order: 45, phase: "create" },
  { id: "reboot", order: 50, phase: "create" },
  { id: "wait-for-boot", order: 55, phase: "create" },
  { id: "verify-cgroups", order: 60, phase: "create" },
  { id: "k3s-token", order: 65, phase: "create" },
  { id: "k3s-config", order: 70, phase: "create" },
  { id: "k3s-install", order: 75, phase: "create" },
  { id: "k3s-ready", order: 80, phase: "create" },
  { id: "read-token", order: 85, phase: "read" },
  { id: "read-kubeconfig", order: 90, phase: "read" },
  { id: "drain", order: 95, phase: "delete" },
  { id: "uninstall", order: 99, phase: "delete" },
] as const satisfies readonly StepInfo[];

/** The id of a step in {@link STEPS}. */
export type StepId = (typeof STEPS)[number]["id"];

/** Order number of a step, e.g. `stepOrder("cgroups") === 20`. */
export function stepOrder(step: StepId): number {
  const found = STEPS.find((s) => s.id === step);
  if (found === undefined) throw new Error(`unknown provisioning step "${step}"`);
  return found.order;
}

/**
 * Name of the remote command that runs `step` for `hostname`: `<hostname>/<step>`. The plan and
 * its mocks read both parts back with {@link parseCommandName}. A step may run on another node
 * (drain runs on the first server) and still carries the node it is about.
 */
export function commandName(hostname: string, step: StepId): string {
  return `${hostname}/${step}`;
}

/** Inverse of {@link commandName}; undefined for a name that is not a step command. */
export function parseCommandName(name: string): { hostname: string; step: StepId } | undefined {
  const [hostname, step, extra] = name.split("/");
  const known = STEPS.find((s) => s.id === step);
  return known && extra === undefined ? { hostname, step: known.id } : undefined;
}

/** Plan file name of a step, e.g. `planFileName("cgroups") === "20-cgroups.sh"`. */
export function planFileName(step: StepId): string {
  return `${String(stepOrder(step)).padStart(2, "0")}-${step}.sh`;
}

/**
 * Wraps a string in single quotes for bash, so it reaches the command as one literal word
 * (`it's` becomes `'it'\''s'`).
 */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Template tag for bash text: like `String.raw` (backslashes reach bash unchanged), except that
 * `\${` and `` \` `` give a literal `${` and backtick, so bash's `${var:-}` can be written in a
 * template. Interpolated values are inserted as they are: quote them with {@link shellQuote}.
 */
export function sh(strings: TemplateStringsArray, ...values: readonly (string | number)[]): string {
  return strings.raw
    .map(
      (raw, i) => raw.replace(/\\(\$\{|`)/g, "$1") + (i < values.length ? String(values[i]) : ""),
    )
    .join("");
}

/** The command line that runs a script as root on the node: `sudo -n bash -c '<script>'`. */
export function asRootCommand(script: string): string {
  // -n: never prompt; a missing NOPASSWD rule fails at once instead of hanging the SSH session.
  return `sudo -n bash -c ${shellQuote(script)}`;
}

/**
 * The command line that runs a script as the SSH user, with bash whatever the login shell is
 * (for the `reachable` check, which needs no root).
 */
export function asUserCommand(script: string): string {
  return `bash -c ${shellQuote(script)}`;
}

/**
 * Sets shell variables at the top of a script (right after the shebang), e.g. the boot id the
 * wait-for-boot step compares. Values are quoted; never pass secrets this way (the command line
 * shows up in process lists and in Pulumi's error output): secrets go on stdin.
 */
export function withEnv(script: string, vars: Readonly<Record<string, string>>): string {
  const lines = Object.entries(vars).map(([name, value]) => {
    if (!/^[A-Z_][A-Z0-9_]*$/.test(name)) {
      throw new Error(`withEnv: "${name}" is not a valid variable name (use A-Z, 0-9 and _)`);
    }
    return `${name}=${shellQuote(value)}`;
  });
  const newline = script.indexOf("\n");
  if (!script.startsWith("#!") || newline < 0) return [...lines, script].join("\n");
  return [script.slice(0, newline), ...lines, script.slice(newline + 1)].join("\n");
}

/** What a script is about; shown in its header and in every message it prints. */
export interface ScriptHeader {
  /** Hostname the messages name (`pi-cluster: [<node>] <step>: ...`). */
  readonly node: string;
  readonly step: StepId;
  /** One line saying what the script does (the header comment). */
  readonly summary: string;
  /**
   * Print the final `changed (...)` / `no change` line on success. Read-only scripts whose stdout
   * is the payload (a token, a kubeconfig) turn it off.
   * @default true
   */
  readonly report?: boolean;
}

/**
 * Full text of a node script: the prelude below, then `body`.
 *
 * Helpers the body can use:
 * - `fail <what> <remedy>`: prints `pi-cluster: [<node>] <step>: <what>. <remedy>` to stderr and
 *   exits 1. Call it from the main shell only (not inside `$(...)`).
 * - `changed <msg>`: prints the message and counts one change.
 * - `note <msg>`: prints an informational message.
 * - `begin_file <target>`, then write `"$PI_TMP"`, then `commit_file <target> [mode]`: replaces
 *   the target atomically only if the content (or the given mode) differs; sets `PI_UPDATED`.
 *
 * On exit the script prints `pi-cluster: [<node>] <step>: changed (<n> change(s))` or
 * `... : no change`. An unexpected error (set -e) prints one line saying so; after `fail`
 * nothing more is printed, so its message stays the last line.
 */
export function renderScript(header: ScriptHeader, body: string): string {
  const report = header.report ?? true;
  const summary = header.summary.replace(/\s*\n\s*/g, " ");
  return `#!/usr/bin/env bash
# pi-cluster ${header.step} on ${header.node.replace(/\s+/g, " ")}: ${summary}
# Generated by pi-cluster (provisioning/). Runs as root; safe to run again: it changes only what
# differs from the wanted state and ends with a report line.
set -euo pipefail

# Every path is "$ROOT/...": empty on a node, a fake root in tests.
# shellcheck disable=SC2034 # a few steps touch no file
ROOT="\${PI_ROOT:-}"
PI_NODE=${shellQuote(header.node)}
PI_STEP=${shellQuote(header.step)}
PI_REPORT=${report ? 1 : 0}
PI_CHANGES=0
PI_FAILED=0
PI_TMP=''
PI_UPDATED=0

fail() {
  PI_FAILED=1
  printf 'pi-cluster: [%s] %s: %s. %s\\n' "$PI_NODE" "$PI_STEP" "$1" "$2" >&2
  exit 1
}

changed() {
  PI_CHANGES=$((PI_CHANGES + 1))
  printf 'pi-cluster: [%s] %s: %s\\n' "$PI_NODE" "$PI_STEP" "$1"
}

note() {
  printf 'pi-cluster: [%s] %s: %s\\n' "$PI_NODE" "$PI_STEP" "$1"
}

# A new version of $1 starts in a 0600 temp file beside it (same filesystem, so the final mv is an
# atomic rename: a power cut leaves the old file or the new one, never half of either).
begin_file() {
  PI_TMP="$(mktemp "$1.pi-cluster.XXXXXX")"
}

# Moves "$PI_TMP" over $1 only if the content differs. Mode: $2 if given, else the old file's mode
# and owner (compared first: the FAT boot partition refuses chmod/chown it cannot represent).
# shellcheck disable=SC2034 # PI_UPDATED is read by the steps that write files
commit_file() {
  local target="$1" mode="\${2:-}"
  PI_UPDATED=0
  if [ -f "$target" ] && cmp -s "$PI_TMP" "$target"; then
    rm -f "$PI_TMP"
    PI_TMP=''
    if [ -n "$mode" ] && [ "$(stat -c %a "$target")" != "\${mode#0}" ]; then
      chmod "$mode" "$target"
      PI_UPDATED=1
    fi
    return 0
  fi
  if [ -n "$mode" ]; then
    chmod "$mode" "$PI_TMP"
  elif [ -e "$target" ]; then
    if [ "$(stat -c %a "$PI_TMP")" != "$(stat -c %a "$target")" ]; then
      chmod "$(stat -c %a "$target")" "$PI_TMP"
    fi
    if [ "$(stat -c %u:%g "$PI_TMP")" != "$(stat -c %u:%g "$target")" ]; then
      chown "$(stat -c %u:%g "$target")" "$PI_TMP"
    fi
  fi
  mv -f "$PI_TMP" "$target"
  PI_TMP=''
  PI_UPDATED=1
}

pi_on_exit() {
  local rc=$?
  if [ -n "$PI_TMP" ]; then rm -f "$PI_TMP"; fi
  if [ "$rc" -ne 0 ]; then
    if [ "$PI_FAILED" -eq 0 ]; then
      printf 'pi-cluster: [%s] %s: failed with exit code %d after %d change(s). See the error above.\\n' \\
        "$PI_NODE" "$PI_STEP" "$rc" "$PI_CHANGES" >&2
    fi
  elif [ "$PI_REPORT" -eq 1 ]; then
    if [ "$PI_CHANGES" -gt 0 ]; then
      printf 'pi-cluster: [%s] %s: changed (%d change(s))\\n' "$PI_NODE" "$PI_STEP" "$PI_CHANGES"
    else
      printf 'pi-cluster: [%s] %s: no change\\n' "$PI_NODE" "$PI_STEP"
    fi
  fi
}
trap pi_on_exit EXIT

${body.trim()}
`;
}

/**
 * Prints one root-only file of a server and nothing else on stdout, so the caller can capture it
 * as a secret (the cluster token, the admin kubeconfig). No report line; fails if the file is
 * missing or empty, which means k3s has not started on that server.
 *
 * @param node The server it runs on; only names it in messages. @default "k3s-server"
 */
export function readSecretFileScript(
  node: { readonly hostname: string } | undefined,
  step: "read-token" | "read-kubeconfig",
  path: string,
  what: string,
): string {
  const label = node?.hostname ?? "k3s-server";
  assertHostname(label);
  return renderScript(
    { node: label, step, summary: `print ${what} (secret output)`, report: false },
    sh`
file="$ROOT${path}"
if [ ! -s "$file" ]; then
  fail "$file is missing or empty" "Run this on a server once k3s has started (systemctl status k3s)."
fi
cat "$file"
`,
  );
}
