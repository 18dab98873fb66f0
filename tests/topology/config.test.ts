/**
 * Every config rule, table-driven: each invalid fixture is a real stack config with one thing
 * broken, and the test asserts the exact message the user would see.
 */
import { ConfigError } from "../../topology/errors";
import { planTopology } from "../../topology/plan";
import { resources, WorkloadSpec } from "../../topology/workloads";
import { appsOf, platformVolumes, platformWorkloadsOf } from "../../stacks";
import { rawConfig, STACKS } from "../support/stack";

/** A workload to place, so placement rules have something to refer to. */
const web: WorkloadSpec = {
  name: "web",
  namespace: "web",
  kind: "Deployment",
  containers: { web: resources("50m", "128Mi", "500m", "256Mi") },
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- fixtures are mutated freely
type Raw = Record<string, any>;

function problemsOf(
  stack: string,
  mutate: (raw: Raw) => void,
  workloads: WorkloadSpec[] = [web],
): string[] {
  const raw = rawConfig(stack);
  mutate(raw);
  try {
    planTopology(
      stack,
      raw,
      (platform, hasMetallb) => [...platformWorkloadsOf(platform, hasMetallb), ...workloads],
      appsOf(stack),
      platformVolumes,
    );
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => p.message);
    throw error;
  }
  return [];
}

describe("valid configs", () => {
  test.each(STACKS)("%s plans without problems", (stack) => {
    expect(problemsOf(stack, () => {})).toEqual([]);
  });
});

interface Case {
  readonly rule: string;
  readonly stack?: string;
  readonly mutate: (raw: Raw) => void;
  readonly message: string;
  /** Further problems the same change causes, when one mistake breaks two rules. */
  readonly alsoReported?: readonly string[];
}

const cases: Case[] = [
  // --- shape ---
  {
    rule: "unknown top-level key",
    mutate: (r) => (r.nodez = []),
    message:
      'unknown key "pi-cluster:nodez"; allowed: pi-cluster:cluster, pi-cluster:network, pi-cluster:ssh, pi-cluster:nodes, pi-cluster:placement, pi-cluster:metallb, pi-cluster:platform, pi-cluster:secrets, pi-cluster:apps, pi-cluster:volumes, pi-cluster:takeover',
  },
  {
    rule: "unknown nested key",
    mutate: (r) => (r.nodes[1].memry = 1),
    message:
      'unknown key "memry" in pi-cluster:nodes[1]; allowed: hostname, ip, model, memoryGb, role, clusterInit, labels, allocatableMemory, k3sMemory, interface, ssh',
  },
  {
    rule: "missing required key",
    mutate: (r) => delete r.nodes[0].ip,
    message: "pi-cluster:nodes[0].ip is required (a string)",
  },
  {
    rule: "wrong type",
    mutate: (r) => (r.nodes[0].memoryGb = "8GB"),
    message: 'pi-cluster:nodes[0].memoryGb: "8GB" is not a number',
  },
  {
    rule: "value outside an enum",
    mutate: (r) => (r.nodes[2].model = "pi6"),
    message: 'pi-cluster:nodes[2].model: "pi6" is not allowed; allowed: pi3, pi4, pi5',
  },
  // --- nodes ---
  {
    rule: "duplicate hostname",
    mutate: (r) => (r.nodes[2].hostname = "pi3-worker-1"),
    message:
      'pi-cluster:nodes[2].hostname: "pi3-worker-1" is already used by pi-cluster:nodes[1]; hostnames must be unique',
  },
  {
    rule: "duplicate IP",
    mutate: (r) => (r.nodes[2].ip = "192.168.1.53"),
    message:
      'pi-cluster:nodes[2].ip: "192.168.1.53" is used by both pi3-worker-1 and pi3-worker-2; node IPs must be unique',
  },
  {
    rule: "malformed IP",
    mutate: (r) => (r.nodes[1].ip = "192.168.1.553"),
    message:
      'pi-cluster:nodes[1].ip: "192.168.1.553" is not a valid IPv4 address (four numbers 0-255, e.g. 192.168.1.55)',
  },
  {
    rule: "IP outside the LAN",
    mutate: (r) => (r.nodes[1].ip = "10.0.0.53"),
    message:
      'pi-cluster:nodes[1].ip: "10.0.0.53" is outside the LAN 192.168.1.0/24; every node must be on it',
  },
  {
    rule: "malformed hostname",
    mutate: (r) => (r.nodes[1].hostname = "Pi3_Worker"),
    message:
      "pi-cluster:nodes[1].hostname: \"Pi3_Worker\" is not a valid hostname; use lowercase letters, digits and '-' (at most 63, e.g. pi5-worker-1)",
  },
  {
    rule: "malformed domain",
    mutate: (r) => (r.cluster.domain = "lab"),
    message:
      'pi-cluster:cluster.domain: "lab" is not a lowercase DNS name; use one like lab.mtgibbs.dev',
  },
  {
    rule: "RAM size the board never had",
    mutate: (r) => (r.nodes[1].memoryGb = 4),
    message: "pi-cluster:nodes[1].memoryGb: 4 is not a RAM size of a pi3; allowed: 1",
  },
  {
    rule: "no server",
    mutate: (r) => (r.nodes[0].role = "agent"),
    message:
      'pi-cluster:nodes: no node has role "server" (roles: pi-k3s=agent, pi3-worker-1=agent, pi3-worker-2=agent); a cluster needs one server, or an odd number (3, 5) for HA',
  },
  {
    rule: "even number of servers",
    stack: "homelab-ha",
    mutate: (r) => r.nodes.pop(),
    message:
      "pi-cluster:nodes: 2 servers (pi4-cp-1, pi4-cp-2) is an even number; embedded etcd needs an odd number of servers (1, 3 or 5) to keep quorum",
  },
  {
    rule: "more than one cluster-init",
    stack: "homelab-ha",
    mutate: (r) => (r.nodes[2].clusterInit = true),
    message:
      "pi-cluster:nodes: clusterInit is set on pi4-cp-1 and pi5-storage; only one server may start the cluster (the others join it)",
  },
  {
    rule: "cluster-init on an agent",
    stack: "pi5-expansion",
    mutate: (r) => {
      r.cluster.k3s.embeddedEtcd = true;
      r.nodes[1].clusterInit = true;
    },
    message:
      "pi-cluster:nodes[1].clusterInit: true is not allowed on an agent (pi5-worker-1); only a server can start the cluster",
  },
  {
    rule: "cluster-init without etcd",
    mutate: (r) => (r.nodes[0].clusterInit = true),
    message:
      "pi-cluster:nodes[0].clusterInit: true needs embedded etcd; set pi-cluster:cluster.k3s.embeddedEtcd: true or remove clusterInit",
  },
  {
    rule: "server on a 1 GB Pi",
    mutate: (r) => (r.nodes[1].role = "server"),
    message:
      'pi-cluster:nodes[1].role: "server" is not allowed on pi3-worker-1 (pi3, 1 GB); a k3s server needs at least 2 GB, make it an agent',
    alsoReported: [
      "pi-cluster:nodes: 2 servers (pi-k3s, pi3-worker-1) is an even number; embedded etcd needs an odd number of servers (1, 3 or 5) to keep quorum",
    ],
  },
  {
    rule: "label set by k3s itself",
    stack: "homelab-ha",
    mutate: (r) => (r.nodes[0].labels = { "node-role.kubernetes.io/control-plane": "true" }),
    message:
      "pi-cluster:nodes[0].labels.node-role.kubernetes.io/control-plane: is set by k3s itself (node-role.kubernetes.io/control-plane=true); remove it from config",
  },
  {
    rule: "invalid label value",
    stack: "pi5-expansion",
    mutate: (r) => (r.nodes[0].labels.hardware = "pi 5"),
    message:
      "pi-cluster:nodes[0].labels.hardware: \"pi 5\" is not a valid label value (at most 63 letters, digits, '-', '_', '.')",
  },
  {
    rule: "allocatable memory above the RAM",
    mutate: (r) => (r.nodes[1].allocatableMemory = "2Gi"),
    message: 'pi-cluster:nodes[1].allocatableMemory: "2Gi" is more than the 1 GB installed',
  },
  // --- k3s ---
  {
    rule: "k3s version not pinned",
    mutate: (r) => (r.cluster.k3s.version = "stable"),
    message:
      'pi-cluster:cluster.k3s.version: "stable" is not a pinned k3s release; use an exact release such as v1.33.6+k3s1 (channels like "stable" or "latest" change under you)',
  },
  {
    rule: "k3s version without the k3s suffix",
    mutate: (r) => (r.cluster.k3s.version = "v1.33.6"),
    message:
      'pi-cluster:cluster.k3s.version: "v1.33.6" is not a pinned k3s release; use an exact release such as v1.33.6+k3s1 (channels like "stable" or "latest" change under you)',
  },
  {
    rule: "unknown packaged component",
    mutate: (r) => (r.cluster.k3s.disable = ["traefik", "flannel"]),
    message:
      'pi-cluster:cluster.k3s.disable[1]: "flannel" is not a k3s packaged component; allowed: coredns, servicelb, traefik, local-storage, metrics-server, runtimes',
  },
  {
    rule: "API endpoint on an agent",
    mutate: (r) => (r.cluster.k3s.apiEndpoint = "192.168.1.53"),
    message:
      'pi-cluster:cluster.k3s.apiEndpoint: "192.168.1.53" is pi3-worker-1\'s address, an agent; point it at a server',
  },
  {
    rule: "etcd switched off with several servers",
    stack: "homelab-ha",
    mutate: (r) => (r.cluster.k3s.embeddedEtcd = false),
    message:
      "pi-cluster:cluster.k3s.embeddedEtcd: false is not allowed with 3 servers; more than one server needs embedded etcd",
    alsoReported: [
      "pi-cluster:nodes[0].clusterInit: true needs embedded etcd; set pi-cluster:cluster.k3s.embeddedEtcd: true or remove clusterInit",
    ],
  },
  // --- volumes ---
  {
    rule: "a volume override for a volume the stack does not have",
    mutate: (r) => (r.volumes = { "pihole/pihole-dnsmasq": { storageClass: "local-path" } }),
    message:
      'pi-cluster:volumes.pihole/pihole-dnsmasq: no stateful volume is declared as "pihole/pihole-dnsmasq"; allowed: monitoring/prometheus-kube-prometheus-stack-prometheus-db-prometheus-kube-prometheus-stack-prometheus-0, monitoring/kube-prometheus-stack-grafana, pihole/pihole-etc, uptime-kuma/uptime-kuma-data, uptime-kuma/autokuma-data',
  },
  {
    rule: "a live name for a claim a chart names",
    mutate: (r) =>
      (r.volumes = { "monitoring/kube-prometheus-stack-grafana": { liveName: "grafana" } }),
    message:
      "pi-cluster:volumes.monitoring/kube-prometheus-stack-grafana.liveName: is not allowed: the chart names this claim; only storageClass can be set for it",
  },
  {
    rule: "a live name that is no claim name",
    mutate: (r) => (r.volumes = { "uptime-kuma/uptime-kuma-data": { liveName: "Uptime_Kuma" } }),
    message:
      "pi-cluster:volumes.uptime-kuma/uptime-kuma-data.liveName: \"Uptime_Kuma\" is not a valid claim name (lowercase letters, digits, '-', '.')",
  },
  {
    rule: "two volumes on one claim",
    mutate: (r) => (r.volumes = { "uptime-kuma/autokuma-data": { liveName: "uptime-kuma-data" } }),
    message:
      "pi-cluster:volumes.uptime-kuma/autokuma-data: claim uptime-kuma/uptime-kuma-data is used by both uptime-kuma/uptime-kuma-data and uptime-kuma/autokuma-data; each volume needs its own claim",
  },
  // --- secrets ---
  {
    rule: "token value instead of a reference",
    mutate: (r) => (r.cluster.k3s.token = "K10abc::server:def"),
    message:
      'pi-cluster:cluster.k3s.token: "K10abc::server:def" is not allowed; use "first-server" (read it from the first server) or a 1Password reference op://<vault>/<item>/<field>, never the token itself',
  },
  {
    rule: "private key value instead of a reference",
    mutate: (r) => (r.ssh.privateKey = "-----BEGIN OPENSSH PRIVATE KEY-----\nabc"),
    message:
      "pi-cluster:ssh.privateKey: a private key value is not a 1Password reference; use op://<vault>/<item>/<field> (e.g. op://pi-cluster/pi-ssh/private key), never the key itself",
  },
  {
    rule: "malformed reference",
    mutate: (r) => (r.nodes[1].ssh.privateKey = "op://pi-cluster/pi3-worker-1-ssh"),
    message:
      'pi-cluster:nodes[1].ssh.privateKey: "op://pi-cluster/pi3-worker-1-ssh" is not a 1Password reference; use op://<vault>/<item>/<field> (e.g. op://pi-cluster/pi-ssh/private key), never the key itself',
  },
  {
    rule: "SSH port out of range",
    mutate: (r) => (r.ssh.port = 70000),
    message: "pi-cluster:ssh.port: 70000 is not a TCP port; use a whole number from 1 to 65535",
  },
  // --- network ---
  {
    rule: "malformed subnet",
    mutate: (r) => (r.network.subnet = "192.168.1.0/33"),
    message:
      'pi-cluster:network.subnet: "192.168.1.0/33" is not an IPv4 CIDR; use one like 192.168.1.0/24',
  },
  {
    rule: "NAS outside the LAN",
    mutate: (r) => (r.network.nas = "10.1.1.60"),
    message:
      'pi-cluster:network.nas: "10.1.1.60" is outside the LAN 192.168.1.0/24; the NAS must be on it',
  },
  // --- placement ---
  {
    rule: "placement on a node that does not exist",
    mutate: (r) => (r.placement = { web: { node: "pi5-worker-1" } }),
    message:
      'pi-cluster:placement.web.node: "pi5-worker-1" is not a node of this stack; allowed: pi-k3s, pi3-worker-1, pi3-worker-2',
  },
  {
    rule: "placement on a label no node has",
    stack: "pi5-expansion",
    mutate: (r) => (r.placement = { web: { nodeSelector: { hardware: "pi4" } } }),
    message:
      "pi-cluster:placement.web.nodeSelector: no node has the label hardware=pi4; labels in use: hardware=pi3, hardware=pi5, memory-class=high, memory-class=low, node-role.kubernetes.io/control-plane=true, node-role.kubernetes.io/master=true, node-role.kubernetes.io/worker=worker",
  },
  {
    rule: "placement of a workload the stack does not deploy",
    mutate: (r) => (r.placement = { plex: { node: "pi-k3s" } }),
    message:
      'pi-cluster:placement.plex: "plex" is not a workload of this stack; allowed: alertmanager, autokuma, cert-manager, cert-manager-cainjector, cert-manager-webhook, coredns, external-secrets, external-secrets-cert-controller, external-secrets-webhook, grafana, homepage, ingress-controller, kube-state-metrics, local-path-provisioner, metrics-server, mtgibbs-site, mtgibbs-site-updater, node-exporter, pihole, pihole-adlists, pihole-exporter, prometheus, prometheus-operator, unbound, uptime-kuma, web',
  },
  {
    rule: "preferred node that does not exist",
    mutate: (r) => (r.placement = { web: { preferNodes: ["pi3-worker-3"] } }),
    message:
      'pi-cluster:placement.web.preferNodes[0]: "pi3-worker-3" is not a node of this stack; allowed: pi-k3s, pi3-worker-1, pi3-worker-2',
  },
  // --- metallb ---
  {
    rule: "MetalLB pool holding a node's address",
    stack: "homelab-ha",
    mutate: (r) => r.metallb.addresses.push("10.0.0.10-10.0.0.11"),
    message:
      'pi-cluster:metallb.addresses[2]: "10.0.0.10-10.0.0.11" contains 10.0.0.11, which is node pi4-cp-1; keep the pool clear of it',
  },
  {
    rule: "two services on one address",
    stack: "homelab-ha",
    mutate: (r) => (r.metallb.services.beszel = "10.0.0.103"),
    message:
      "pi-cluster:metallb.services.beszel: address 10.0.0.103 is used by both filebrowser and beszel",
  },
  {
    rule: "service address outside the pool",
    stack: "homelab-ha",
    mutate: (r) => (r.metallb.services.beszel = "10.0.0.150"),
    message:
      'pi-cluster:metallb.services.beszel: "10.0.0.150" is outside the MetalLB pool (10.0.0.53/32, 10.0.0.100-10.0.0.105)',
  },
  {
    rule: "MetalLB with ServiceLB still on",
    stack: "homelab-ha",
    mutate: (r) => (r.cluster.k3s.disable = ["traefik"]),
    message:
      'pi-cluster:cluster.k3s.disable: must include "servicelb" when pi-cluster:metallb is set; k3s\'s ServiceLB and MetalLB would both answer for LoadBalancer services',
  },
];

describe("invalid configs", () => {
  test.each(cases.map((c) => [c.rule, c] as const))("%s", (_rule, c) => {
    const problems = problemsOf(c.stack ?? "pi-k3s", c.mutate);
    expect(problems).toContain(c.message);
    expect([...problems].sort()).toEqual([c.message, ...(c.alsoReported ?? [])].sort());
  });

  test("every problem is reported at once, in one error naming the stack file", () => {
    const raw = rawConfig("pi-k3s");
    raw.nodes[1].ip = "192.168.1.553";
    raw.cluster.k3s.version = "latest";
    expect(() => planTopology("pi-k3s", raw, [], appsOf("pi-k3s"))).toThrow(
      /^invalid config for stack "pi-k3s" \(Pulumi\.pi-k3s\.yaml\), 2 problem\(s\):\n  - pi-cluster:cluster\.k3s\.version: "latest"/,
    );
  });
});
