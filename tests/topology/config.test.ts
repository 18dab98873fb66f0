/**
 * Every config rule, table-driven: each invalid fixture is a real stack config with one thing
 * broken, and the test asserts the exact message the user would see.
 */
import { ConfigError } from "../../topology/errors";
import { isNearNamespace } from "../../topology/config";
import { planTopology, rawStackConfig } from "../../topology/plan";
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

/** Realistic pasted secrets (made up): none of them may appear in any message. */
const SECRETS = {
  opsToken:
    "ops_eyJzaWduSW5BZGRyZXNzIjoiaHR0cHM6Ly9teS4xcGFzc3dvcmQuY29tIiwidXNlckF1dGgiOnsibWV0aG9kIjoiU1JQZy00MDk2In19",
  k3sToken:
    "K107f3c9a2b1e8d4c6f0a5b9e2d7c1f4a8b3e6d9c2f5a8b1e4d7c0f3a6b9e2d5c8f1a4::server:9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b",
  apiToken: "Zq3vX9kLm2Np8Rt5Wy7Bc4Df6Gh1Jk0LsQaEe9Tu",
  webhook:
    "https://discord.com/api/webhooks/1190357924681357913/Xk2Lm9Qp4Rs7Tv1Wy8Za3Bc6De0Fg5Hj2Kl9Mn4Pq7Rs1Tu8Vw3Xy6Za0Bc5De",
  password: "Tr0ub4dor&3-xK9qW2",
  privateKey:
    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\nQyNTUxOQAAACBq7ZK0mKcJ3dXy9F2Lr8VwQe1TnHs4bGp6uYa0Xc3JkQAAAJgQwErtEMBK\n-----END OPENSSH PRIVATE KEY-----\n",
} as const;

describe("valid configs", () => {
  test.each(STACKS)("%s plans without problems", (stack) => {
    expect(problemsOf(stack, () => {})).toEqual([]);
  });

  test("a real ACME address plans with the production issuer", () => {
    expect(
      problemsOf("pi-k3s", (r) => {
        r.platform.certificates.acmeEmail = "me@mtgibbs.dev";
        r.platform.certificates.issuer = "production";
      }),
    ).toEqual([]);
  });

  test("providers' own namespaces are not mistaken for a misspelt pi-cluster", () => {
    const flat = {
      "pi-cluster:domain": '"x"',
      "onepassword:serviceAccountToken": "ops_x",
      "cloudflare:apiToken": "t",
      "kubernetes:context": "c",
      "pulumi:tags": "{}",
      "picluster:nodes": "[]",
    };
    expect(Object.keys(rawStackConfig(flat))).toEqual(["domain", "picluster:nodes"]);
    for (const ns of ["onepassword", "cloudflare", "kubernetes", "pulumi", "command"]) {
      expect([ns, isNearNamespace(ns)]).toEqual([ns, false]);
    }
    for (const ns of [
      "picluster",
      "pi_cluster",
      "pi-clster",
      "Pi-Cluster",
      "pi.cluster",
      "pi-clusters",
    ]) {
      expect([ns, isNearNamespace(ns)]).toEqual([ns, true]);
    }
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
    rule: "well-known label the kubelet or k3s owns",
    mutate: (r) => (r.nodes[1].labels = { "node.kubernetes.io/instance-type": "pi3" }),
    message:
      "pi-cluster:nodes[1].labels.node.kubernetes.io/instance-type: is a well-known label owned by k3s (instance type k3s); remove it from config (use a label of your own, e.g. hardware: pi5)",
  },
  {
    rule: "k3s's own label prefix",
    mutate: (r) => (r.nodes[1].labels = { "node.k3s.io/role": "worker" }),
    message:
      "pi-cluster:nodes[1].labels.node.k3s.io/role: is a well-known label owned by k3s; remove it from config (use a label of your own, e.g. hardware: pi5)",
  },
  {
    rule: "server role label on an agent",
    mutate: (r) => (r.nodes[2].labels = { "node-role.kubernetes.io/control-plane": "true" }),
    message:
      "pi-cluster:nodes[2].labels.node-role.kubernetes.io/control-plane: is a well-known label owned by k3s (on servers); remove it from config (use a label of your own, e.g. hardware: pi5)",
  },
  {
    rule: "topology label",
    mutate: (r) => (r.nodes[0].labels = { "topology.kubernetes.io/zone": "shelf" }),
    message:
      "pi-cluster:nodes[0].labels.topology.kubernetes.io/zone: is a well-known label owned by the cloud provider (the node's zone); remove it from config (use a label of your own, e.g. hardware: pi5)",
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
    // Not also "nodes[0].clusterInit: true needs embedded etcd": that only follows from it.
  },
  // --- volumes ---
  {
    rule: "a volume override for a volume the stack does not have",
    mutate: (r) => (r.volumes = { "pihole/pihole-dnsmasq": { storageClass: "local-path" } }),
    message:
      'pi-cluster:volumes.pihole/pihole-dnsmasq: no stateful volume is declared as "pihole/pihole-dnsmasq"; allowed: monitoring/prometheus-kube-prometheus-stack-prometheus-db-prometheus-kube-prometheus-stack-prometheus-0, monitoring/kube-prometheus-stack-grafana, pihole/pihole-etc, uptime-kuma/uptime-kuma-data, uptime-kuma/autokuma-data, immich/data-immich-postgresql-0, immich/immich-library, jellyfin/jellyfin-config, jellyfin/jellyfin-media',
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
      'pi-cluster:cluster.k3s.token: a k3s join token (value hidden) is not allowed; use "first-server" (read it from the first server) or a 1Password reference op://<vault>/<item>/<field>, never the token itself',
  },
  {
    rule: "private key value instead of a reference",
    mutate: (r) => (r.ssh.privateKey = "-----BEGIN OPENSSH PRIVATE KEY-----\nabc"),
    message:
      "pi-cluster:ssh.privateKey: a private key (value hidden) is not a 1Password reference; use op://<vault>/<item>/<field> (e.g. op://pi-cluster/pi-ssh/private key), never the key itself",
  },
  {
    rule: "malformed reference",
    mutate: (r) => (r.nodes[1].ssh.privateKey = "op://pi-cluster/pi3-worker-1-ssh"),
    message:
      'pi-cluster:nodes[1].ssh.privateKey: "op://pi-cluster/pi3-worker-1-ssh" is not a 1Password reference; use op://<vault>/<item>/<field> (e.g. op://pi-cluster/pi-ssh/private key), never the key itself',
  },
  {
    rule: "1Password service-account token pasted",
    mutate: (r) => (r.secrets.externalSecretsToken = SECRETS.opsToken),
    message:
      "pi-cluster:secrets.externalSecretsToken: a 1Password service-account token (value hidden) is not a 1Password reference; use op://<vault>/<item>/<field>, never the value",
  },
  {
    rule: "API token pasted",
    mutate: (r) => (r.secrets.cloudflareApiToken = SECRETS.apiToken),
    message:
      "pi-cluster:secrets.cloudflareApiToken: a value of 40 characters (value hidden) is not a 1Password reference; use op://<vault>/<item>/<field>, never the value",
  },
  {
    rule: "Discord webhook pasted",
    mutate: (r) => (r.secrets.discordWebhook = SECRETS.webhook),
    message:
      "pi-cluster:secrets.discordWebhook: a Discord webhook URL (value hidden) is not a 1Password reference; use op://<vault>/<item>/<field>",
  },
  {
    rule: "password pasted",
    mutate: (r) => (r.secrets.grafanaAdminPassword = SECRETS.password),
    message:
      "pi-cluster:secrets.grafanaAdminPassword: a value of 18 characters (value hidden) is not a 1Password reference; use op://<vault>/<item>/<field>",
  },
  {
    rule: "secret of the wrong type (the schema's message)",
    mutate: (r) => (r.secrets.grafanaAdminPassword = 904417230518),
    message: "pi-cluster:secrets.grafanaAdminPassword: a number (value hidden) is not a string",
  },
  {
    rule: "Cloudflare token pasted for cert-manager",
    mutate: (r) => (r.platform.certificates.cloudflareToken = SECRETS.apiToken),
    message:
      'pi-cluster:platform.certificates.cloudflareToken: a value of 40 characters (value hidden) is not allowed; use "create" or an op://<vault>/<item>/<field> reference',
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
  // --- addresses that cannot be a host, or that the cluster itself serves ---
  {
    rule: "node at the LAN's network address",
    mutate: (r) => (r.nodes[1].ip = "192.168.1.0"),
    message:
      'pi-cluster:nodes[1].ip: "192.168.1.0" is the network address of the LAN 192.168.1.0/24, not a host; every node needs a host address (192.168.1.1-192.168.1.254)',
  },
  {
    rule: "node at the LAN's broadcast address",
    mutate: (r) => (r.nodes[2].ip = "192.168.1.255"),
    message:
      'pi-cluster:nodes[2].ip: "192.168.1.255" is the broadcast address of the LAN 192.168.1.0/24, not a host; every node needs a host address (192.168.1.1-192.168.1.254)',
  },
  {
    rule: "gateway at the broadcast address",
    mutate: (r) => (r.network.gateway = "192.168.1.255"),
    message:
      'pi-cluster:network.gateway: "192.168.1.255" is the broadcast address of the LAN 192.168.1.0/24, not a host; the gateway needs a host address (192.168.1.1-192.168.1.254)',
  },
  {
    rule: "NAS at the network address",
    mutate: (r) => (r.network.nas = "192.168.1.0"),
    message:
      'pi-cluster:network.nas: "192.168.1.0" is the network address of the LAN 192.168.1.0/24, not a host; the NAS needs a host address (192.168.1.1-192.168.1.254)',
  },
  {
    rule: "NAS at a node's address",
    mutate: (r) => (r.network.nas = "192.168.1.53"),
    message:
      'pi-cluster:network.nas: "192.168.1.53" is node pi3-worker-1\'s address; the NAS is the machine serving NFS to the cluster, give its own address',
  },
  {
    rule: "node DNS on a node (Pi-hole on the host network)",
    mutate: (r) => (r.network.nodeDns = ["192.168.1.55", "1.1.1.1"]),
    message:
      'pi-cluster:network.nodeDns[0]: "192.168.1.55" is node pi-k3s\'s address, an address the cluster serves; nodes that resolve through the cluster lose DNS whenever it is down (and cannot pull the images to bring it back); use resolvers outside the cluster, e.g. 1.1.1.1 and 8.8.8.8',
  },
  {
    rule: "node DNS on Pi-hole's MetalLB address",
    stack: "homelab-ha",
    mutate: (r) => (r.network.nodeDns = ["10.0.0.53"]),
    message:
      'pi-cluster:network.nodeDns[0]: "10.0.0.53" is MetalLB\'s address for pihole (pi-cluster:metallb.services.pihole), an address the cluster serves; nodes that resolve through the cluster lose DNS whenever it is down (and cannot pull the images to bring it back); use resolvers outside the cluster, e.g. 1.1.1.1 and 8.8.8.8',
  },
  {
    rule: "node DNS inside the MetalLB pool",
    stack: "homelab-ha",
    mutate: (r) => {
      r.metallb.addresses.push("10.0.0.110-10.0.0.119");
      r.network.nodeDns = ["1.1.1.1", "10.0.0.115"];
    },
    message:
      'pi-cluster:network.nodeDns[1]: "10.0.0.115" is in the MetalLB pool 10.0.0.110-10.0.0.119 (pi-cluster:metallb.addresses[2]), an address the cluster serves; nodes that resolve through the cluster lose DNS whenever it is down (and cannot pull the images to bring it back); use resolvers outside the cluster, e.g. 1.1.1.1 and 8.8.8.8',
  },
  {
    rule: "MetalLB pool holding the broadcast address",
    stack: "homelab-ha",
    mutate: (r) => r.metallb.addresses.push("10.0.0.250-10.0.0.255"),
    message:
      'pi-cluster:metallb.addresses[2]: "10.0.0.250-10.0.0.255" contains 10.0.0.255, which is the LAN\'s broadcast address; keep the pool clear of it',
  },
  {
    rule: "MetalLB service at the network address",
    stack: "homelab-ha",
    mutate: (r) => (r.metallb.services.beszel = "10.0.0.0"),
    message:
      'pi-cluster:metallb.services.beszel: "10.0.0.0" is the network address of the LAN 10.0.0.0/24, not a host; MetalLB\'s address for beszel needs a host address (10.0.0.1-10.0.0.254)',
    alsoReported: [
      'pi-cluster:metallb.services.beszel: "10.0.0.0" is outside the MetalLB pool (10.0.0.53/32, 10.0.0.100-10.0.0.105)',
    ],
  },
  {
    rule: "API endpoint at the network address",
    mutate: (r) => (r.cluster.k3s.apiEndpoint = "192.168.1.0"),
    message:
      'pi-cluster:cluster.k3s.apiEndpoint: "192.168.1.0" is the network address of the LAN 192.168.1.0/24, not a host; the API endpoint needs a host address (192.168.1.1-192.168.1.254)',
  },
  {
    rule: "ingress address at the broadcast address",
    mutate: (r) => (r.platform.ingress.address = "192.168.1.255"),
    message:
      'pi-cluster:platform.ingress.address: "192.168.1.255" is the broadcast address of the LAN 192.168.1.0/24, not a host; the ingress needs a host address (192.168.1.1-192.168.1.254)',
  },
  // --- messages that name the key, and nothing that only follows from another problem ---
  {
    rule: "overcommitted node names the config entry behind each pod",
    mutate: (r) => (r.placement.prometheus = { node: "pi3-worker-1" }),
    message:
      "node pi3-worker-1 is overcommitted: pods request 1002Mi of memory but only 710Mi is free for pods (910Mi allocatable minus 200Mi for k3s); move a workload with pi-cluster:placement or lower its requests. On this node: prometheus 792Mi (pinned; pi-cluster:placement.prometheus), ingress-controller 90Mi (daemonset; default placement in code), unbound 64Mi (pinned; pi-cluster:placement.unbound), volume-backup-pi3-worker-1 32Mi (pinned; default placement in code), node-exporter 24Mi (daemonset; default placement in code)",
  },
  {
    rule: "misspelt namespace (no hyphen), instead of 'pi-cluster:nodes is required'",
    mutate: (r) => {
      r["picluster:nodes"] = r.nodes;
      delete r.nodes;
    },
    message:
      "unknown config namespace picluster (in picluster:nodes): did you mean pi-cluster:nodes?",
  },
  {
    rule: "misspelt namespace (underscore)",
    mutate: (r) => {
      r["pi_cluster:secrets"] = r.secrets;
      delete r.secrets;
    },
    message:
      "unknown config namespace pi_cluster (in pi_cluster:secrets): did you mean pi-cluster:secrets?",
  },
  {
    rule: "misspelt namespace (a letter missing), on a nested key",
    mutate: (r) => (r["pi-clster:network.nas"] = "192.168.1.60"),
    message:
      "unknown config namespace pi-clster (in pi-clster:network.nas): did you mean pi-cluster:network.nas?",
  },
  {
    rule: "empty node list: the cause only, no follow-on ending in ()",
    mutate: (r) => (r.nodes = []),
    message: "pi-cluster:nodes: the list is empty; give at least one node with role: server",
  },
  {
    rule: "empty MetalLB pool: the cause only, not every service 'outside the pool ()'",
    stack: "homelab-ha",
    mutate: (r) => (r.metallb.addresses = []),
    message:
      "pi-cluster:metallb.addresses: the list is empty; give at least one range on the LAN 10.0.0.0/24 for MetalLB to hand out (e.g. 10.0.0.100-10.0.0.104)",
  },
  {
    rule: "malformed MetalLB range: not also 'outside the pool' for the services in it",
    stack: "homelab-ha",
    mutate: (r) => (r.metallb.addresses[1] = "10.0.0.100-10.0.0"),
    message:
      'pi-cluster:metallb.addresses[1]: "10.0.0.100-10.0.0" is not an address range; use 10.0.0.100-10.0.0.104 or 10.0.0.53/32',
  },
  {
    rule: "empty node DNS list (the static-DNS step would fail at deploy time)",
    mutate: (r) => (r.network.nodeDns = []),
    message:
      "pi-cluster:network.nodeDns: the list is empty; give at least one resolver outside the cluster (e.g. 1.1.1.1, 8.8.8.8), or leave the key out for those two",
  },
  {
    rule: "malformed vault: not also 'reference in another vault' for every secret",
    mutate: (r) => (r.cluster.onepasswordVault = "pi-cluster/"),
    message:
      'pi-cluster:cluster.onepasswordVault: "pi-cluster/" is not a vault name; give the vault\'s name or UUID without slashes',
  },
  // --- Let's Encrypt ---
  {
    rule: "ACME e-mail at example.com",
    mutate: (r) => (r.platform.certificates.acmeEmail = "admin@example.com"),
    message:
      'pi-cluster:platform.certificates.acmeEmail: "admin@example.com" is at example.com, a domain reserved for examples (RFC 2606); Let\'s Encrypt refuses it as an account contact, staging included: give an address you read',
  },
  {
    rule: "ACME e-mail at a subdomain of example.org, even on staging",
    mutate: (r) => (r.platform.certificates.acmeEmail = "ops@mail.example.org"),
    message:
      'pi-cluster:platform.certificates.acmeEmail: "ops@mail.example.org" is at example.org, a domain reserved for examples (RFC 2606); Let\'s Encrypt refuses it as an account contact, staging included: give an address you read',
  },
  {
    rule: "the stack files' old placeholder e-mail with the production issuer",
    mutate: (r) => (r.platform.certificates.acmeEmail = "admin@mtgibbs.dev"),
    message:
      "pi-cluster:platform.certificates.acmeEmail: \"admin@mtgibbs.dev\" is the stack files' old placeholder, not your address; give your address, or remove the key (Let's Encrypt needs none), or try the stack with pi-cluster:platform.certificates.issuer: staging (untrusted certificates) first",
  },
  {
    rule: "the placeholder with the issuer left to its default (production)",
    stack: "homelab-ha",
    mutate: (r) => {
      r.platform.certificates.acmeEmail = "admin@mtgibbs.dev";
      delete r.platform.certificates.issuer;
    },
    message:
      "pi-cluster:platform.certificates.acmeEmail: \"admin@mtgibbs.dev\" is the stack files' old placeholder, not your address; give your address, or remove the key (Let's Encrypt needs none), or try the stack with pi-cluster:platform.certificates.issuer: staging (untrusted certificates) first",
  },
  {
    rule: "issuer that is neither staging nor production",
    mutate: (r) => (r.platform.certificates.issuer = "letsencrypt-prod"),
    message:
      'pi-cluster:platform.certificates.issuer: "letsencrypt-prod" is not allowed; allowed: staging, production',
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
      'pi-cluster:placement.plex: "plex" is not a workload of this stack; allowed: alertmanager, autokuma, cert-manager, cert-manager-cainjector, cert-manager-webhook, coredns, deploy-notify, external-secrets, external-secrets-cert-controller, external-secrets-webhook, grafana, homepage, immich-machine-learning, immich-postgresql, immich-server, immich-valkey, ingress-controller, jellyfin, kube-state-metrics, local-path-provisioner, metrics-server, mtgibbs-site, mtgibbs-site-updater, node-exporter, pihole, pihole-adlists, pihole-exporter, postgres-backup, prometheus, prometheus-operator, unbound, uptime-kuma, volume-backup-pi-k3s, volume-backup-pi3-worker-1, volume-backup-pi3-worker-2, web',
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

  test("no message repeats a pasted secret or any 6+ character piece of it", () => {
    const SECRET_KEYS: [string, (r: Raw, v: unknown) => void][] = [
      ["secrets.externalSecretsToken", (r, v) => (r.secrets.externalSecretsToken = v)],
      ["secrets.cloudflareApiToken", (r, v) => (r.secrets.cloudflareApiToken = v)],
      ["secrets.grafanaAdminPassword", (r, v) => (r.secrets.grafanaAdminPassword = v)],
      ["secrets.discordWebhook", (r, v) => (r.secrets.discordWebhook = v)],
      // A key the schema does not know yet: the rule covers everything under secrets.
      ["secrets.newAppToken", (r, v) => (r.secrets.newAppToken = v)],
      ["ssh.privateKey", (r, v) => (r.ssh.privateKey = v)],
      ["nodes[1].ssh.privateKey", (r, v) => (r.nodes[1].ssh.privateKey = v)],
      ["cluster.k3s.token", (r, v) => (r.cluster.k3s.token = v)],
      [
        "platform.certificates.cloudflareToken",
        (r, v) => (r.platform.certificates.cloudflareToken = v),
      ],
    ];
    // Each secret as a string, inside a list and inside a map (the schema's wrong-type path).
    const shapes = (secret: string): unknown[] => [secret, [secret], { value: secret }];
    for (const [key, set] of SECRET_KEYS) {
      for (const secret of Object.values(SECRETS)) {
        for (const value of shapes(secret)) {
          const messages = problemsOf("pi-k3s", (r) => set(r, value)).join("\n");
          expect(messages).not.toBe("");
          expect(messages).not.toContain(secret);
          // Every 6-character window of the secret, except plain lowercase words that are part
          // of a format (a k3s token's "::server:") and appear in messages on their own.
          for (let i = 0; i + 6 <= secret.length; i++) {
            const piece = secret.slice(i, i + 6);
            if (/^[a-z:/.-]+$/.test(piece)) continue;
            if (messages.includes(piece)) {
              throw new Error(`${key}: message repeats "${piece}" of a secret:\n${messages}`);
            }
          }
        }
      }
    }
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
