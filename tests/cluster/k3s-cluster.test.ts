/**
 * The cluster components under recording mocks, per stack: what a user would check in
 * `pulumi preview` — each node's steps, the join order, secrets kept secret, SSH users.
 */
import { canariesIn } from "../../plan/mocks";
import { isSecretInput, RecordedResource, resourceKey } from "../../plan/record";
import { StackRun } from "../../plan/run";
import { scriptOfRootCommand } from "../../plan/scripts";
import { STEPS } from "../../provisioning";
import { named, ofType, planStack, STACKS } from "../support/stack";

const COMMAND = "command:remote:Command";
const runs = new Map<string, StackRun>();

beforeAll(async () => {
  for (const stack of STACKS) runs.set(stack, await planStack(stack));
});

const BOOT_STEPS = STEPS.filter((s) => s.phase === "create").map((s) => s.id);
const commandKey = (name: string) => resourceKey(COMMAND, name);

/** Walks `dependsOn` edges (and parents' children) to tell whether `a` waits for `b`. */
function waitsFor(run: StackRun, a: string, b: string): boolean {
  const byKey = new Map(run.resources.map((r) => [resourceKey(r.type, r.name), r]));
  const seen = new Set<string>();
  const stack = [commandKey(a)];
  while (stack.length > 0) {
    const key = stack.pop()!;
    if (key === commandKey(b)) return true;
    if (seen.has(key)) continue;
    seen.add(key);
    stack.push(...(byKey.get(key)?.dependsOn ?? []));
  }
  return false;
}

/** A value with its secret wrappers removed, as text. */
function plain(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (isSecretInput(v) ? v.value : v)) ?? "";
}

describe.each(STACKS)("%s", (stack) => {
  const run = () => runs.get(stack)!;
  const nodes = () => run().topology.nodes;

  test("every node runs the whole boot sequence, in order", () => {
    for (const node of nodes()) {
      const names = ofType(run(), COMMAND)
        .map((c) => c.name)
        .filter((n) => n.startsWith(`${node.hostname}/`))
        .map((n) => n.split("/")[1]);
      const expected = BOOT_STEPS.filter(
        (s) =>
          s !== "k3s-token" ||
          !(node.isFirstServer && run().topology.k3s.token.kind === "first-server"),
      );
      expect(names.filter((n) => (BOOT_STEPS as readonly string[]).includes(n))).toEqual(expected);
      for (let i = 1; i < expected.length; i++) {
        expect(
          waitsFor(run(), `${node.hostname}/${expected[i]}`, `${node.hostname}/${expected[i - 1]}`),
        ).toBe(true);
      }
    }
  });

  test("joining nodes wait for the first server (HA servers for the one before them)", () => {
    const first = run().topology.firstServer.hostname;
    const joiners = [...nodes()]
      .filter((n) => !n.isFirstServer)
      .sort((a, b) => a.joinOrder - b.joinOrder);
    let previousServer = first;
    for (const node of joiners) {
      const waitOn = node.role === "server" ? previousServer : first;
      expect(waitsFor(run(), `${node.hostname}/k3s-config`, `${waitOn}/k3s-ready`)).toBe(true);
      if (node.role === "server") previousServer = node.hostname;
    }
  });

  test("connections use the configured user and key, never root", () => {
    for (const cmd of ofType(run(), COMMAND)) {
      const connection = JSON.parse(plain(cmd.inputs.connection)) as Record<string, unknown>;
      expect(connection.user).not.toBe("root");
      expect(connection.user).toBe(nodes()[0].ssh.user);
      expect(canariesIn(String(connection.privateKey))[0]).toMatch(
        /^op:\/\/pi-cluster\/.+\/private key$/,
      );
      expect(isSecretInput(cmd.inputs.connection)).toBe(true);
    }
  });

  test("no secret value appears in any command string", () => {
    for (const cmd of ofType(run(), COMMAND)) {
      for (const field of ["create", "delete", "update"]) {
        expect(canariesIn(plain(cmd.inputs[field]))).toEqual([]);
      }
    }
  });

  test("the token reaches joining nodes on stdin only, as a secret", () => {
    const tokenSteps = ofType(run(), COMMAND).filter((c) => c.name.endsWith("/k3s-token"));
    expect(tokenSteps.map((c) => c.name.split("/")[0]).sort()).toEqual(
      nodes()
        .filter((n) => !n.isFirstServer)
        .map((n) => n.hostname)
        .sort(),
    );
    for (const step of tokenSteps) {
      expect(isSecretInput(step.inputs.stdin)).toBe(true);
      expect(canariesIn(plain(step.inputs.stdin))).toEqual([
        `k3s-token:${run().topology.firstServer.hostname}`,
      ]);
    }
  });

  test("token and kubeconfig are read with logging off, marked secret, and exported secret", () => {
    const first = run().topology.firstServer.hostname;
    for (const step of ["read-token", "read-kubeconfig"]) {
      const read = named(run(), COMMAND, `${first}/${step}`);
      expect(read.inputs.logging).toBe("none");
      expect(read.options.additionalSecretOutputs).toContain("stdout");
    }
    expect(isSecretInput(run().outputs.kubeconfig)).toBe(true);
    expect(plain(run().outputs.kubeconfig)).toContain(`server: ${run().topology.k3s.serverUrl}`);
  });

  test("the provider has a stable cluster identity and a secret kubeconfig", () => {
    const provider = named(run(), "pulumi:providers:kubernetes", `${stack}-k3s`);
    expect(provider.inputs.clusterIdentifier).toBe(`pi-cluster-${stack}`);
    expect(isSecretInput(provider.inputs.kubeconfig)).toBe(true);
  });

  test("install and readiness re-run on a new version or config only", () => {
    for (const node of nodes()) {
      for (const step of ["k3s-install", "k3s-ready"]) {
        const triggers = named(run(), COMMAND, `${node.hostname}/${step}`).inputs
          .triggers as unknown[];
        expect(triggers[0]).toBe("v1.33.6+k3s1");
        expect(triggers[1]).toMatch(/^[0-9a-f]{16}$/);
      }
    }
  });

  test("removal: drain from the first server, then uninstall, from resources never replaced", () => {
    const first = run().topology.firstServer;
    for (const node of nodes()) {
      const uninstall = named(run(), COMMAND, `${node.hostname}/uninstall`);
      expect(uninstall.inputs.triggers).toBeUndefined();
      expect(scriptOfRootCommand(String(uninstall.inputs.delete))).toContain("k3s");
      if (node.isFirstServer) continue;
      const drain = named(run(), COMMAND, `${node.hostname}/drain`);
      expect(JSON.parse(plain(drain.inputs.connection)).host).toBe(first.ip);
      expect(scriptOfRootCommand(String(drain.inputs.delete))).toContain(`drain`);
      // Deleted before the uninstall of either node, so k3s is still there to drain with.
      expect(drain.dependsOn).toEqual(
        expect.arrayContaining([
          commandKey(`${node.hostname}/uninstall`),
          commandKey(`${first.hostname}/uninstall`),
        ]),
      );
    }
  });

  test("no command hands its previous output back in the environment", () => {
    for (const cmd of ofType(run(), COMMAND)) expect(cmd.inputs.addPreviousOutputInEnv).toBe(false);
  });
});

test("pi5-expansion labels every node through NodePatch, node-role included", () => {
  const patches = ofType(runs.get("pi5-expansion")!, "kubernetes:core/v1:NodePatch");
  const labels = Object.fromEntries(
    patches.map((p: RecordedResource) => {
      const meta = p.inputs.metadata as { name: string; labels: Record<string, string> };
      return [meta.name, meta.labels];
    }),
  );
  expect(labels["pi5-worker-1"]).toEqual({
    "node-role.kubernetes.io/worker": "worker",
    hardware: "pi5",
    "memory-class": "high",
  });
  expect(labels["pi3-worker-2"]).toEqual({ hardware: "pi3", "memory-class": "low" });
});

test("a token from 1Password goes to every node, the first server included", async () => {
  const run = await planStack(
    "pi-k3s",
    (raw) => (raw.cluster.k3s.token = "op://pi-cluster/k3s-node-token/password"),
  );
  const tokenSteps = ofType(run, COMMAND).filter((c) => c.name.endsWith("/k3s-token"));
  expect(tokenSteps.map((c) => c.name)).toEqual([
    "pi-k3s/k3s-token",
    "pi3-worker-1/k3s-token",
    "pi3-worker-2/k3s-token",
  ]);
  for (const step of tokenSteps)
    expect(canariesIn(plain(step.inputs.stdin))).toEqual([
      "op://pi-cluster/k3s-node-token/password",
    ]);
  expect(ofType(run, COMMAND).map((c) => c.name)).not.toContain("pi-k3s/read-token");
});

test("a reboot reported by the node is awaited with its boot id", async () => {
  const run = await planStack("pi-k3s", undefined, {
    commandStdout: (name) =>
      name === "pi-k3s/reboot" ? "boot-id=abc-123\nreboot=scheduled\n" : undefined,
  });
  const wait = named(run, COMMAND, "pi-k3s/wait-for-boot");
  const script = scriptOfRootCommand(String(wait.inputs.create))!;
  expect(script).toContain("PREVIOUS_BOOT_ID='abc-123'\nREBOOT='scheduled'");
  expect(JSON.parse(plain(wait.inputs.connection)).dialErrorLimit).toBe(60);
});
