/** Assertions shared by the provisioning tests. */
import { createFakePi, type FakePi, type FakePiOptions, type RunResult } from "./fake-pi";

/** Calls that change state on a node; a second run must log none of them. */
const MUTATING = [
  /^hostnamectl set-hostname /,
  /^systemctl (mask|unmask|enable|disable|start|stop|restart|reboot)\b/,
  /^swapoff\b/,
  /^apt-get\b/,
  /^nmcli connection (modify|up|down)\b/,
  /^nmcli device (reapply|disconnect|connect)\b/,
  /^systemd-run\b/,
  /^reboot\b/,
  /^curl\b/,
  /^installer\b/,
  /^k3s kubectl (drain|delete|cordon)\b/,
  /uninstall\.sh$/,
];

/** The calls in `calls` that change state. */
export function mutatingCalls(calls: readonly string[]): string[] {
  return calls.filter((c) => MUTATING.some((re) => re.test(c)));
}

/** Last non-empty stdout line. */
export function lastLine(text: string): string {
  const lines = text.split("\n").filter((l) => l !== "");
  return lines[lines.length - 1] ?? "";
}

/** Asserts a run succeeded and reported `changed (n change(s))`, or `no change` when n is 0. */
export function expectReport(r: RunResult, node: string, step: string, changes: number): void {
  if (r.status !== 0) {
    throw new Error(
      `expected success, got ${String(r.status)}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`,
    );
  }
  const want =
    changes === 0
      ? `pi-cluster: [${node}] ${step}: no change`
      : `pi-cluster: [${node}] ${step}: changed (${changes} change(s))`;
  expect(lastLine(r.stdout)).toBe(want);
}

/** Asserts a run failed with exactly one stderr line from `fail`, naming node and step. */
export function expectFailure(r: RunResult, node: string, step: string, what: RegExp): void {
  expect(r.status).toBe(1);
  const lines = r.stderr.split("\n").filter((l) => l !== "");
  const last = lines[lines.length - 1] ?? "";
  expect(last.startsWith(`pi-cluster: [${node}] ${step}: `)).toBe(true);
  expect(last).toMatch(what);
  expect(r.stdout).not.toMatch(/changed \(|no change/);
}

/**
 * A `fakePi(opts)` factory for one test file: every fake it makes is removed after each test.
 * Call at the top level of the file.
 */
export function useFakePis(): (opts?: FakePiOptions) => FakePi {
  let fakes: FakePi[] = [];
  afterEach(() => {
    fakes.forEach((f) => f.cleanup());
    fakes = [];
  });
  return (opts: FakePiOptions = {}) => {
    const fake = createFakePi(opts);
    fakes.push(fake);
    return fake;
  };
}
