/** The capacity check: placement of pods and the overcommit and host-port rules. */
import { ConfigError } from "../../topology/errors";
import { planTopology } from "../../topology/plan";
import { memoryMi } from "../../topology/quantity";
import { resources, WorkloadSpec } from "../../topology/workloads";
import { platformOnlyConfig } from "../support/stack";

const workload = (
  name: string,
  memory: string,
  extra: Partial<WorkloadSpec> = {},
): WorkloadSpec => ({
  name,
  namespace: name,
  kind: "Deployment",
  containers: { main: resources("50m", memory, "500m", memory) },
  ...extra,
});

function plan(stack: string, workloads: WorkloadSpec[], placement?: Record<string, unknown>) {
  // Only the test's own workloads and k3s's: the stack's placement rules name platform pods.
  const raw = platformOnlyConfig(stack);
  raw.placement = placement ?? {};
  // ...and no apps: their sections would be unknown keys without the apps' modules.
  delete raw.apps;
  return planTopology(stack, raw, workloads);
}

function problems(
  stack: string,
  workloads: WorkloadSpec[],
  placement?: Record<string, unknown>,
): string[] {
  try {
    plan(stack, workloads, placement);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => p.message);
    throw error;
  }
}

const podsOn = (topology: ReturnType<typeof plan>, host: string) =>
  topology.capacity.find((n) => n.hostname === host)!.pods.map((p) => `${p.workload}:${p.how}`);

test("quantities: Mi, Gi, M and millicores", () => {
  expect(memoryMi("512Mi")).toBe(512);
  expect(memoryMi("1Gi")).toBe(1024);
  expect(memoryMi("1048576Ki")).toBe(1024);
  expect(() => memoryMi("128MB")).toThrow('"128MB" is not a memory quantity');
});

test("k3s's own workloads are counted unless disabled", () => {
  const topology = plan("pi-k3s", []);
  const all = topology.capacity.flatMap((n) => n.pods.map((p) => p.workload)).sort();
  expect(all).toEqual(["coredns", "local-path-provisioner", "metrics-server"]);
  const raw = platformOnlyConfig("pi-k3s");
  raw.cluster.k3s.disable = ["traefik", "metrics-server"];
  delete raw.placement;
  delete raw.apps;
  const without = planTopology("pi-k3s", raw, []);
  expect(without.capacity.flatMap((n) => n.pods.map((p) => p.workload))).not.toContain(
    "metrics-server",
  );
});

test("a pinned workload lands on its node; floating ones go where there is most room", () => {
  const topology = plan("pi-k3s", [workload("unbound", "64Mi"), workload("homepage", "256Mi")], {
    unbound: { node: "pi3-worker-1" },
  });
  expect(podsOn(topology, "pi3-worker-1")).toContain("unbound:pinned");
  expect(podsOn(topology, "pi-k3s")).toContain("homepage:expected");
});

test("preferred nodes win while they have room", () => {
  const topology = plan("pi-k3s", [workload("site", "128Mi")], {
    site: { preferNodes: ["pi3-worker-2"] },
  });
  expect(podsOn(topology, "pi3-worker-2")).toEqual(["site:expected"]);
});

test("a DaemonSet counts on every eligible node", () => {
  const topology = plan("pi5-expansion", [workload("exporter", "32Mi", { kind: "DaemonSet" })], {
    exporter: { nodeSelector: { "memory-class": "low" } },
  });
  expect(topology.capacity.map((n) => n.pods.some((p) => p.workload === "exporter"))).toEqual([
    false,
    false,
    true,
    true,
  ]);
});

test("replicas spread over distinct nodes", () => {
  const topology = plan("homelab-ha", [workload("dns", "128Mi", { replicas: 2 })], {
    dns: { nodeSelector: { "node-role.kubernetes.io/control-plane": "true" } },
  });
  const hosts = topology.capacity
    .filter((n) => n.pods.some((p) => p.workload === "dns"))
    .map((n) => n.hostname);
  expect(hosts).toHaveLength(2);
});

test("a node whose pods request more than it has fails the plan, naming what is there", () => {
  expect(
    problems("pi-k3s", [workload("unbound", "512Mi"), workload("homepage", "256Mi")], {
      unbound: { node: "pi3-worker-1" },
      homepage: { node: "pi3-worker-1" },
    }),
  ).toEqual([
    "node pi3-worker-1 is overcommitted: pods request 768Mi of memory but only 710Mi is free for pods " +
      "(910Mi allocatable minus 200Mi for k3s); move a workload with pi-cluster:placement or lower its requests. " +
      "On this node: unbound 512Mi (pinned; pi-cluster:placement.unbound), homepage 256Mi (pinned; pi-cluster:placement.homepage)",
  ]);
});

test("a floating workload too big for every node fails on the roomiest one", () => {
  expect(problems("pi-k3s", [workload("immich-ml", "8Gi")])[0]).toMatch(
    /^node pi-k3s is overcommitted: pods request 8\.0Gi of memory but only 7\.1Gi is free/,
  );
});

test("two workloads claiming one host port on one node fail", () => {
  const hostPorts = [{ port: 80, protocol: "TCP" as const }];
  expect(
    problems(
      "pi-k3s",
      [workload("pihole", "128Mi", { hostPorts }), workload("ingress", "128Mi", { hostPorts })],
      {
        pihole: { node: "pi-k3s" },
        ingress: { node: "pi-k3s" },
      },
    ),
  ).toEqual([
    "pi-cluster:placement.ingress: host port 80/TCP on node pi-k3s is used by both pihole and ingress; place one of them on another node or change its port",
  ]);
});

test("a default placement in code naming a missing label is reported like config", () => {
  expect(
    problems("pi-k3s", [
      workload("home-assistant", "512Mi", {
        defaultPlacement: { nodeSelector: { zigbee: "true" } },
      }),
    ]),
  ).toEqual([
    "pi-cluster:placement.home-assistant (default).nodeSelector: no node has the label zigbee=true; labels in use: node-role.kubernetes.io/control-plane=true, node-role.kubernetes.io/master=true",
  ]);
});
