/** The topology plan each stack's config produces: roles, join order, endpoint, labels, budgets. */
import { planTopology } from "../../topology/plan";
import { appsOf, platformWorkloadsOf } from "../../stacks";
import { planned, rawConfig } from "../support/stack";

const plan = (stack: string) => planned(stack);

describe("pi-k3s", () => {
  const topology = plan("pi-k3s");

  test("one SQLite server the two Pi 3 agents join", () => {
    expect(
      topology.nodes.map((n) => [n.hostname, n.ip, n.role, n.joinOrder, n.clusterInit]),
    ).toEqual([
      ["pi-k3s", "192.168.1.55", "server", 0, false],
      ["pi3-worker-1", "192.168.1.53", "agent", 1, false],
      ["pi3-worker-2", "192.168.1.51", "agent", 2, false],
    ]);
    expect(topology.firstServer.hostname).toBe("pi-k3s");
    expect(topology.k3s).toEqual({
      version: "v1.33.6+k3s1",
      disable: ["traefik"],
      apiEndpoint: "192.168.1.55",
      serverUrl: "https://192.168.1.55:6443",
      tlsSans: ["192.168.1.55"],
      embeddedEtcd: false,
      token: { kind: "first-server" },
      kubeconfigMode: "0600",
    });
  });

  test("memory budgets: Pi 3 910Mi allocatable less 200Mi for the k3s agent", () => {
    expect(topology.nodes.map((n) => [n.hostname, n.allocatableMi, n.k3sOverheadMi])).toEqual([
      ["pi-k3s", 7760, 500],
      ["pi3-worker-1", 910, 200],
      ["pi3-worker-2", 910, 200],
    ]);
  });

  test("SSH: the configured user and per-node keys, never root", () => {
    expect(topology.nodes.map((n) => [n.ssh.user, n.ssh.port, n.ssh.privateKey.uri])).toEqual([
      ["mtgibbs", 22, "op://pi-cluster/pi-cluster-ssh/private key"],
      ["mtgibbs", 22, "op://pi-cluster/pi3-worker-1-ssh/private key"],
      ["mtgibbs", 22, "op://pi-cluster/pi3-worker-2-ssh/private key"],
    ]);
  });

  test("nodes resolve through public DNS, not the Pi-hole they host", () => {
    expect(topology.network).toEqual({
      subnet: "192.168.1.0/24",
      gateway: "192.168.1.1",
      nodeDns: ["1.1.1.1", "8.8.8.8"],
      nas: "192.168.1.60",
    });
  });
});

describe("pi5-expansion", () => {
  const topology = plan("pi5-expansion");

  test("adds pi5-worker-1 at 192.168.1.54 as an agent", () => {
    expect(topology.nodes.map((n) => n.hostname)).toEqual([
      "pi-k3s",
      "pi5-worker-1",
      "pi3-worker-1",
      "pi3-worker-2",
    ]);
    expect(topology.nodes[1]).toMatchObject({
      ip: "192.168.1.54",
      role: "agent",
      model: "pi5",
      memoryGb: 8,
    });
  });

  test("labels every node; node-role labels only through the NodePatch", () => {
    const worker = topology.nodes[1];
    expect(worker.labels).toEqual({
      "node-role.kubernetes.io/worker": "worker",
      hardware: "pi5",
      "memory-class": "high",
    });
    expect(worker.registrationLabels).toEqual({ hardware: "pi5", "memory-class": "high" });
    expect(topology.nodes.map((n) => n.labels.hardware)).toEqual(["pi5", "pi5", "pi3", "pi3"]);
  });
});

describe("homelab-ha", () => {
  const topology = plan("homelab-ha");

  test("three etcd servers: pi4-cp-1 runs cluster-init, the others join in order", () => {
    expect(topology.nodes.map((n) => [n.hostname, n.role, n.clusterInit, n.joinOrder])).toEqual([
      ["pi4-cp-1", "server", true, 0],
      ["pi4-cp-2", "server", false, 1],
      ["pi5-storage", "server", false, 2],
    ]);
    expect(topology.k3s.embeddedEtcd).toBe(true);
    expect(topology.k3s.disable).toEqual(["traefik", "servicelb"]);
    expect(topology.k3s.tlsSans).toEqual(["10.0.0.11", "10.0.0.12", "10.0.0.13"]);
  });

  test("etcd servers budget 700Mi for k3s", () => {
    expect(topology.nodes.map((n) => n.k3sOverheadMi)).toEqual([700, 700, 700]);
  });

  test("zigbee and storage labels from seed 004, MetalLB addresses on 10.0.0.x", () => {
    expect(topology.nodes[1].labels).toEqual({ zigbee: "true" });
    expect(topology.nodes[2].labels).toEqual({ storage: "true", "storage-type": "hdd" });
    expect(topology.metallb?.services).toMatchObject({
      pihole: "10.0.0.53",
      "home-assistant": "10.0.0.102",
    });
  });

  test("cluster-init defaults to the first server listed", () => {
    const raw = rawConfig("homelab-ha");
    delete raw.nodes[0].clusterInit;
    raw.nodes.reverse();
    const reordered = planTopology("homelab-ha", raw, platformWorkloadsOf, appsOf("homelab-ha"));
    expect(reordered.firstServer.hostname).toBe("pi5-storage");
    expect(reordered.nodes.filter((n) => n.clusterInit).map((n) => n.hostname)).toEqual([
      "pi5-storage",
    ]);
  });
});
