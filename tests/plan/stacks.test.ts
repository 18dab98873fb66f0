/** Every stack plans offline, writes a complete plan, and keeps its secrets out of it. */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { canary } from "../../plan/mocks";
import { writePlan, isKubernetesObject, manifestOf } from "../../plan/render";
import { DEFAULT_OPTIONS, isSecretInput } from "../../plan/record";
import { StackRun } from "../../plan/run";
import { ConfigError } from "../../topology/errors";
import { runStack, KNOWN_STACKS } from "../../stacks";
import { validateObject } from "../support/kube-schema";
import { planStack, STACKS } from "../support/stack";

const runs = new Map<string, StackRun>();
const outRoot = fs.mkdtempSync(path.join(os.tmpdir(), "pi-cluster-plan-"));

beforeAll(async () => {
  // One stack at a time: the Pulumi runtime is process-global.
  for (const stack of STACKS) runs.set(stack, await planStack(stack));
});

afterAll(() => fs.rmSync(outRoot, { recursive: true, force: true }));

test("the program knows exactly the three stacks with a Pulumi.<stack>.yaml", () => {
  expect(KNOWN_STACKS).toEqual([...STACKS]);
  for (const stack of STACKS)
    expect(fs.existsSync(path.join(__dirname, "../..", `Pulumi.${stack}.yaml`))).toBe(true);
});

test("an unknown stack fails with the list of known ones", () => {
  expect(() => runStack("pi-k4s")).toThrow(
    'unknown stack "pi-k4s": known stacks are pi-k3s, pi5-expansion, homelab-ha (each has a Pulumi.<stack>.yaml; create one with `pulumi stack init <name>`)',
  );
});

describe.each(STACKS)("%s", (stack) => {
  const run = () => runs.get(stack)!;

  test("writes resources.json, capacity.md and every manifest, with no secret value", () => {
    const files = writePlan(run(), outRoot);
    expect(files).toEqual(expect.arrayContaining(["resources.json", "capacity.md"]));
    const all = files.map((f) => fs.readFileSync(path.join(outRoot, stack, f), "utf8")).join("\n");
    expect(all).not.toContain("SECRET-CANARY");
    const recorded = JSON.parse(
      fs.readFileSync(path.join(outRoot, stack, "resources.json"), "utf8"),
    ) as unknown[];
    expect(recorded).toHaveLength(run().resources.length);
  });

  test("capacity.md lists every node with its budget", () => {
    const report = fs.readFileSync(path.join(outRoot, stack, "capacity.md"), "utf8");
    for (const node of run().topology.nodes) expect(report).toContain(`## ${node.hostname}`);
    if (stack !== "homelab-ha") {
      // A Pi 3: 910Mi allocatable, 200Mi for the k3s agent, 710Mi left for pods.
      expect(report).toMatch(
        /\| pi3-worker-1 \| pi3 1GB agent \| 910Mi \| 200Mi \| 710Mi \| \d+Mi \|/,
      );
    }
  });

  test("every Kubernetes object is schema-valid", () => {
    const problems = run()
      .resources.filter(isKubernetesObject)
      .flatMap((r) => validateObject(manifestOf(r)));
    expect(problems).toEqual([]);
  });
});

test("a broken config fails the run with the key, the value and what is allowed", async () => {
  await expect(planStack("pi-k3s", (raw) => (raw.nodes[0].model = "pi6"))).rejects.toThrow(
    ConfigError,
  );
  await expect(planStack("pi-k3s", (raw) => (raw.nodes[0].model = "pi6"))).rejects.toThrow(
    'pi-cluster:nodes[0].model: "pi6" is not allowed; allowed: pi3, pi4, pi5',
  );
});

test("a secret that reaches an unmarked input fails the plan", () => {
  const base = runs.get("pi-k3s")!;
  const leaky: StackRun = {
    ...base,
    resources: [
      ...base.resources,
      {
        type: "kubernetes:core/v1:ConfigMap",
        name: "leaky",
        dependsOn: [],
        custom: true,
        inputs: {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name: "leaky", namespace: "default" },
          data: { token: canary("op://pi-cluster/k3s/token") },
        },
        options: DEFAULT_OPTIONS,
      },
    ],
  };
  expect(() => writePlan(leaky, outRoot)).toThrow(
    "a secret reached the plan output unmarked (it would be stored or logged in clear):\n  resources.json holds the value of op://pi-cluster/k3s/token",
  );
});

test("stack outputs: API server, nodes, a secret kubeconfig and the web URLs", () => {
  const outputs = runs.get("pi-k3s")!.outputs;
  expect(outputs.apiServer).toBe("https://192.168.1.55:6443");
  expect(outputs.nodes).toEqual([
    { hostname: "pi-k3s", ip: "192.168.1.55", role: "server" },
    { hostname: "pi3-worker-1", ip: "192.168.1.53", role: "agent" },
    { hostname: "pi3-worker-2", ip: "192.168.1.51", role: "agent" },
  ]);
  expect(isSecretInput(outputs.kubeconfig)).toBe(true);
  expect(outputs.urls).toEqual({
    grafana: "https://grafana.lab.mtgibbs.dev",
    pihole: "https://pihole.lab.mtgibbs.dev",
    "uptime-kuma": "https://status.lab.mtgibbs.dev",
    homepage: "https://home.lab.mtgibbs.dev",
    immich: "https://immich.lab.mtgibbs.dev",
    jellyfin: "https://jellyfin.lab.mtgibbs.dev",
    unifi: "https://unifi.lab.mtgibbs.dev",
    synology: "https://nas.lab.mtgibbs.dev",
    "mtgibbs-xyz": "https://mtgibbs.xyz",
    cloudflare: "https://dash.cloudflare.com",
    site: "https://site.lab.mtgibbs.dev",
  });
});
