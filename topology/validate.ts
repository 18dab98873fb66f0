/**
 * Rules across fields of a schema-valid stack config. Each rule adds a problem that names the
 * config key, the bad value and what is allowed; all problems are reported together.
 */
import { ConfigProblem, showValue } from "./errors";
import { StackConfig } from "./config";
import {
  DEFAULT_K3S_DISABLE,
  K3S_PACKAGED_COMPONENTS,
  MEMORY_SIZES_GB,
  MIN_SERVER_MEMORY_GB,
} from "./hardware";
import {
  formatIpv4,
  inRange,
  Ipv4Range,
  isDomain,
  isHostname,
  isIpv4,
  parseAddressRange,
  parseCidr,
  parseIpv4,
  rangesOverlap,
} from "./net";
import { isMemoryQuantity, memoryMi } from "./quantity";
import { parseSecretRef } from "./secret-ref";

/**
 * Domains reserved for documentation (RFC 2606 / RFC 6761): Let's Encrypt's ACME server refuses
 * account contacts there ("contact email has forbidden domain"), on staging as on production.
 */
export const RESERVED_EMAIL_DOMAINS: readonly string[] = [
  "example.com",
  "example.org",
  "example.net",
  "example",
  "invalid",
  "test",
  "localhost",
];

/**
 * The ACME e-mail the shipped stack files carry as a placeholder (their comment says "change to
 * yours"): accepted only with the staging issuer, so production never registers with it.
 */
export const PLACEHOLDER_ACME_EMAILS: readonly string[] = ["admin@mtgibbs.dev"];

const K3S_RELEASE = /^v[0-9]+\.[0-9]+\.[0-9]+\+k3s[0-9]+$/;
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const UNIX_USER = /^[a-z_][a-z0-9_-]{0,31}$/;

/** True for a time zone name the tz database knows (what CronJob `timeZone` accepts). */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: name });
    return name.includes("/") || name === "UTC";
  } catch {
    return false;
  }
}

/** Labels k3s and the kubelet set on every node themselves; config may not set them. */
export function implicitLabels(
  hostname: string,
  role: "server" | "agent",
  embeddedEtcd: boolean,
): Record<string, string> {
  const labels: Record<string, string> = {
    "kubernetes.io/hostname": hostname,
    "kubernetes.io/arch": "arm64",
    "kubernetes.io/os": "linux",
  };
  if (role === "server") {
    labels["node-role.kubernetes.io/control-plane"] = "true";
    labels["node-role.kubernetes.io/master"] = "true";
    if (embeddedEtcd) labels["node-role.kubernetes.io/etcd"] = "true";
  }
  return labels;
}

/**
 * Node labels that something other than this config owns: the kubelet, Kubernetes' controllers
 * or k3s set them (or read them with a meaning of their own), so a value from config is either
 * overwritten or changes behaviour nobody asked for. `key` matches one label; `prefix` every
 * label under a DNS prefix (`k3s.io` matches `k3s.io/x`, not `svccontroller.k3s.io/x`).
 *
 * Sources: Kubernetes "Well-Known Labels, Annotations and Taints"
 * (https://kubernetes.io/docs/reference/labels-annotations-taints/) and the labels k3s puts on
 * its nodes (https://docs.k3s.io/cli/server, `node-role.*` and `node.kubernetes.io/instance-type=k3s`).
 * `node-role.kubernetes.io/worker` is not here: neither sets it, and the NodePatch applies it.
 */
export const RESERVED_NODE_LABELS: readonly (
  | { readonly key: string; readonly prefix?: undefined; readonly owner: string }
  | { readonly prefix: string; readonly key?: undefined; readonly owner: string }
)[] = [
  { key: "kubernetes.io/hostname", owner: "the kubelet (the node's name)" },
  { key: "kubernetes.io/os", owner: "the kubelet (the node's OS)" },
  { key: "kubernetes.io/arch", owner: "the kubelet (the node's CPU architecture)" },
  { prefix: "beta.kubernetes.io", owner: "the kubelet (deprecated beta labels)" },
  { key: "node.kubernetes.io/instance-type", owner: "k3s (instance type k3s)" },
  { key: "node.kubernetes.io/windows-build", owner: "the kubelet on Windows" },
  {
    key: "node.kubernetes.io/exclude-from-external-load-balancers",
    owner: "the service controller and MetalLB (it takes the node out of load-balancer answers)",
  },
  { key: "topology.kubernetes.io/region", owner: "the cloud provider (the node's region)" },
  { key: "topology.kubernetes.io/zone", owner: "the cloud provider (the node's zone)" },
  { key: "failure-domain.beta.kubernetes.io/region", owner: "the cloud provider (deprecated)" },
  { key: "failure-domain.beta.kubernetes.io/zone", owner: "the cloud provider (deprecated)" },
  { key: "node-role.kubernetes.io/control-plane", owner: "k3s (on servers)" },
  { key: "node-role.kubernetes.io/master", owner: "k3s (on servers)" },
  { key: "node-role.kubernetes.io/etcd", owner: "k3s (on etcd servers)" },
  { prefix: "k3s.io", owner: "k3s" },
  { prefix: "node.k3s.io", owner: "k3s" },
];

/** Who owns a node label, when config may not set it (see RESERVED_NODE_LABELS). */
export function reservedLabelOwner(label: string): string | undefined {
  const slash = label.lastIndexOf("/");
  const prefix = slash >= 0 ? label.slice(0, slash) : "";
  return RESERVED_NODE_LABELS.find((r) =>
    r.key !== undefined ? r.key === label : r.prefix === prefix,
  )?.owner;
}

/** True when the string is a valid Kubernetes label key (optional DNS prefix + name). */
export function isLabelKey(key: string): boolean {
  const slash = key.lastIndexOf("/");
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  if (prefix !== undefined && !(prefix.length <= 253 && prefix.split(".").every(isHostname))) {
    return false;
  }
  return LABEL_NAME.test(name);
}

/** True when the string is a valid Kubernetes label value (may be empty). */
export function isLabelValue(value: string): boolean {
  return value === "" || LABEL_NAME.test(value);
}

/** Whether the stack uses embedded etcd: asked for, or implied by more than one server. */
export function usesEmbeddedEtcd(config: StackConfig): boolean {
  const servers = config.nodes.filter((n) => n.role === "server").length;
  return config.cluster.k3s.embeddedEtcd ?? servers > 1;
}

/** Runs every cross-field rule except placement (see validatePlacements). */
export function validateStackConfig(config: StackConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const add = (key: string, message: string) =>
    problems.push({ key, message: `${key}: ${message}` });
  const { cluster, network, nodes } = config;
  const k3s = cluster.k3s;

  // --- cluster ---
  if (!isDomain(cluster.domain)) {
    add(
      "pi-cluster:cluster.domain",
      `${showValue(cluster.domain, "pi-cluster:cluster.domain")} is not a lowercase DNS name; use one like lab.mtgibbs.dev`,
    );
  }
  const vaultOk =
    /^[^/\s][^/]*$/.test(cluster.onepasswordVault) && cluster.onepasswordVault.trim() !== "";
  if (!vaultOk) {
    add(
      "pi-cluster:cluster.onepasswordVault",
      `${showValue(cluster.onepasswordVault, "pi-cluster:cluster.onepasswordVault")} is not a vault name; give the vault's name or UUID without slashes`,
    );
  }
  if (cluster.timezone !== undefined && !isTimeZone(cluster.timezone)) {
    add(
      "pi-cluster:cluster.timezone",
      `${showValue(cluster.timezone, "pi-cluster:cluster.timezone")} is not an IANA time zone; use one like America/New_York or UTC`,
    );
  }
  if (!K3S_RELEASE.test(k3s.version)) {
    add(
      "pi-cluster:cluster.k3s.version",
      `${showValue(k3s.version, "pi-cluster:cluster.k3s.version")} is not a pinned k3s release; use an exact release such as v1.33.6+k3s1 ` +
        `(channels like "stable" or "latest" change under you)`,
    );
  }
  (k3s.disable ?? []).forEach((component, i) => {
    if (!(K3S_PACKAGED_COMPONENTS as readonly string[]).includes(component)) {
      add(
        `pi-cluster:cluster.k3s.disable[${i}]`,
        `${showValue(component, `pi-cluster:cluster.k3s.disable[${i}]`)} is not a k3s packaged component; allowed: ${K3S_PACKAGED_COMPONENTS.join(", ")}`,
      );
    }
  });
  if (k3s.apiEndpoint !== undefined && !isIpv4(k3s.apiEndpoint) && !isDomain(k3s.apiEndpoint)) {
    add(
      "pi-cluster:cluster.k3s.apiEndpoint",
      `${showValue(k3s.apiEndpoint, "pi-cluster:cluster.k3s.apiEndpoint")} is neither an IPv4 address nor a DNS name`,
    );
  }
  (k3s.tlsSans ?? []).forEach((san, i) => {
    if (!isIpv4(san) && !isDomain(san) && !isHostname(san)) {
      add(
        `pi-cluster:cluster.k3s.tlsSans[${i}]`,
        `${showValue(san, `pi-cluster:cluster.k3s.tlsSans[${i}]`)} is neither an IPv4 address nor a DNS name`,
      );
    }
  });
  if (k3s.token !== undefined && k3s.token !== "first-server" && !parseSecretRef(k3s.token)) {
    add(
      "pi-cluster:cluster.k3s.token",
      `${showValue(k3s.token, "pi-cluster:cluster.k3s.token")} is not allowed; use "first-server" (read it from the first server) or a ` +
        `1Password reference op://<vault>/<item>/<field>, never the token itself`,
    );
  }
  if (k3s.kubeconfigMode !== undefined && !/^0?[0-7]{3}$/.test(k3s.kubeconfigMode)) {
    add(
      "pi-cluster:cluster.k3s.kubeconfigMode",
      `${showValue(k3s.kubeconfigMode, "pi-cluster:cluster.k3s.kubeconfigMode")} is not a file mode; use octal such as "0600"`,
    );
  }

  // --- network ---
  const subnet = parseCidr(network.subnet);
  if (!subnet) {
    add(
      "pi-cluster:network.subnet",
      `${showValue(network.subnet, "pi-cluster:network.subnet")} is not an IPv4 CIDR; use one like 192.168.1.0/24`,
    );
  }
  // A LAN's first and last addresses name the network and its broadcast: no machine answers
  // there, so anything that must be a host (node, gateway, NAS, service address) cannot use them.
  const checkHost = (key: string, ip: string, what: string) => {
    const reserved = subnet ? reservedAddress(ip, subnet) : undefined;
    if (reserved) {
      add(
        key,
        `${showValue(ip, key)} is the ${reserved} of the LAN ${network.subnet}, not a host; ${what} needs ` +
          `a host address (${hostRange(subnet!)})`,
      );
    }
  };
  const checkIp = (key: string, ip: string, what: string, mustBeInSubnet: boolean) => {
    if (!isIpv4(ip)) {
      add(
        key,
        `${showValue(ip, key)} is not a valid IPv4 address (four numbers 0-255, e.g. 192.168.1.55)`,
      );
    } else if (mustBeInSubnet && subnet && !inRange(ip, subnet)) {
      add(key, `${showValue(ip, key)} is outside the LAN ${network.subnet}; ${what} must be on it`);
    } else {
      checkHost(key, ip, what);
    }
  };
  checkIp("pi-cluster:network.gateway", network.gateway, "the gateway", true);
  if (network.nodeDns !== undefined && network.nodeDns.length === 0) {
    add(
      "pi-cluster:network.nodeDns",
      `the list is empty; give at least one resolver outside the cluster (e.g. 1.1.1.1, 8.8.8.8), or ` +
        `leave the key out for those two`,
    );
  }
  (network.nodeDns ?? []).forEach((ip, i) =>
    checkIp(`pi-cluster:network.nodeDns[${i}]`, ip, "a resolver", false),
  );
  if (network.nas !== undefined) checkIp("pi-cluster:network.nas", network.nas, "the NAS", true);

  // --- ssh ---
  const checkUser = (key: string, user: string) => {
    if (!UNIX_USER.test(user)) add(key, `${showValue(user, key)} is not a valid Linux user name`);
  };
  const checkKeyRef = (key: string, ref: string) => {
    if (!parseSecretRef(ref)) {
      add(
        key,
        `${showValue(ref, key)} is not a 1Password ` +
          `reference; use op://<vault>/<item>/<field> (e.g. op://pi-cluster/pi-ssh/private key), never the key itself`,
      );
    }
  };
  const checkPort = (key: string, port: number) => {
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      add(key, `${showValue(port, key)} is not a TCP port; use a whole number from 1 to 65535`);
    }
  };
  checkUser("pi-cluster:ssh.user", config.ssh.user);
  checkKeyRef("pi-cluster:ssh.privateKey", config.ssh.privateKey);
  if (config.ssh.port !== undefined) checkPort("pi-cluster:ssh.port", config.ssh.port);

  // --- nodes ---
  const embeddedEtcd = usesEmbeddedEtcd(config);
  const servers = nodes.filter((n) => n.role === "server");
  if (nodes.length === 0) {
    add("pi-cluster:nodes", "the list is empty; give at least one node with role: server");
  } else if (servers.length === 0) {
    add(
      "pi-cluster:nodes",
      `no node has role "server" (roles: ${nodes.map((n) => `${n.hostname}=${n.role}`).join(", ")}); ` +
        `a cluster needs one server, or an odd number (3, 5) for HA`,
    );
  } else if (servers.length > 1 && servers.length % 2 === 0) {
    add(
      "pi-cluster:nodes",
      `${servers.length} servers (${servers.map((s) => s.hostname).join(", ")}) is an even number; ` +
        `embedded etcd needs an odd number of servers (1, 3 or 5) to keep quorum`,
    );
  }
  if (servers.length > 1 && cluster.k3s.embeddedEtcd === false) {
    add(
      "pi-cluster:cluster.k3s.embeddedEtcd",
      `false is not allowed with ${servers.length} servers; more than one server needs embedded etcd`,
    );
  }
  const clusterInits = nodes.filter((n) => n.clusterInit);
  if (clusterInits.length > 1) {
    add(
      "pi-cluster:nodes",
      `clusterInit is set on ${clusterInits.map((n) => n.hostname).join(" and ")}; only one server may ` +
        `start the cluster (the others join it)`,
    );
  }

  const seenHost = new Map<string, number>();
  const seenIp = new Map<string, string>();
  nodes.forEach((node, i) => {
    const key = `pi-cluster:nodes[${i}]`;
    if (!isHostname(node.hostname)) {
      add(
        `${key}.hostname`,
        `${showValue(node.hostname, `${key}.hostname`)} is not a valid hostname; use lowercase letters, digits and '-' ` +
          `(at most 63, e.g. pi5-worker-1)`,
      );
    }
    const firstHost = seenHost.get(node.hostname);
    if (firstHost !== undefined) {
      add(
        `${key}.hostname`,
        `${showValue(node.hostname, `${key}.hostname`)} is already used by pi-cluster:nodes[${firstHost}]; hostnames must be unique`,
      );
    } else {
      seenHost.set(node.hostname, i);
    }
    checkIp(`${key}.ip`, node.ip, "every node", true);
    const ipOwner = seenIp.get(node.ip);
    if (ipOwner !== undefined) {
      add(
        `${key}.ip`,
        `${showValue(node.ip, `${key}.ip`)} is used by both ${ipOwner} and ${node.hostname}; node IPs must be unique`,
      );
    } else {
      seenIp.set(node.ip, node.hostname);
    }
    if (node.ip === network.gateway) {
      add(`${key}.ip`, `${showValue(node.ip, `${key}.ip`)} is the gateway's address`);
    }
    const sizes = MEMORY_SIZES_GB[node.model];
    if (!sizes.includes(node.memoryGb)) {
      add(
        `${key}.memoryGb`,
        `${showValue(node.memoryGb, `${key}.memoryGb`)} is not a RAM size of a ${node.model}; allowed: ${sizes.join(", ")}`,
      );
    }
    if (node.role === "server" && node.memoryGb < MIN_SERVER_MEMORY_GB) {
      add(
        `${key}.role`,
        `"server" is not allowed on ${node.hostname} (${node.model}, ${node.memoryGb} GB); a k3s server needs ` +
          `at least ${MIN_SERVER_MEMORY_GB} GB, make it an agent`,
      );
    }
    if (node.clusterInit && node.role !== "server") {
      add(
        `${key}.clusterInit`,
        `true is not allowed on an agent (${node.hostname}); only a server can start the cluster`,
      );
    }
    // With several servers, embeddedEtcd: false is already the problem reported: not this too.
    if (node.clusterInit && !embeddedEtcd && servers.length <= 1) {
      add(
        `${key}.clusterInit`,
        `true needs embedded etcd; set pi-cluster:cluster.k3s.embeddedEtcd: true or remove clusterInit`,
      );
    }
    const implicit = implicitLabels(node.hostname, node.role, embeddedEtcd);
    Object.entries(node.labels ?? {}).forEach(([label, value]) => {
      if (!isLabelKey(label)) {
        add(
          `${key}.labels`,
          `${showValue(label, `${key}.labels`)} is not a valid label key (optional DNS prefix, then a name of at most 63 characters)`,
        );
      } else if (!isLabelValue(value)) {
        add(
          `${key}.labels.${label}`,
          `${showValue(value, `${key}.labels.${label}`)} is not a valid label value (at most 63 letters, digits, '-', '_', '.')`,
        );
      } else if (label in implicit) {
        add(
          `${key}.labels.${label}`,
          `is set by k3s itself (${label}=${implicit[label]}); remove it from config`,
        );
      } else if (reservedLabelOwner(label) !== undefined) {
        add(
          `${key}.labels.${label}`,
          `is a well-known label owned by ${reservedLabelOwner(label)}; remove it from config ` +
            `(use a label of your own, e.g. hardware: pi5)`,
        );
      }
    });
    if (node.allocatableMemory !== undefined) {
      if (!isMemoryQuantity(node.allocatableMemory)) {
        add(
          `${key}.allocatableMemory`,
          `${showValue(node.allocatableMemory, `${key}.allocatableMemory`)} is not a memory quantity; use e.g. 910Mi or 7.5Gi`,
        );
      } else if (memoryMi(node.allocatableMemory) > node.memoryGb * 1024) {
        add(
          `${key}.allocatableMemory`,
          `${showValue(node.allocatableMemory, `${key}.allocatableMemory`)} is more than the ${node.memoryGb} GB installed`,
        );
      }
    }
    if (node.k3sMemory !== undefined && !isMemoryQuantity(node.k3sMemory)) {
      add(
        `${key}.k3sMemory`,
        `${showValue(node.k3sMemory, `${key}.k3sMemory`)} is not a memory quantity; use e.g. 200Mi`,
      );
    }
    if (node.interface !== undefined && !/^[a-zA-Z0-9_.-]{1,15}$/.test(node.interface)) {
      add(
        `${key}.interface`,
        `${showValue(node.interface, `${key}.interface`)} is not a network interface name (e.g. eth0)`,
      );
    }
    if (node.ssh?.user !== undefined) checkUser(`${key}.ssh.user`, node.ssh.user);
    if (node.ssh?.privateKey !== undefined)
      checkKeyRef(`${key}.ssh.privateKey`, node.ssh.privateKey);
    if (node.ssh?.port !== undefined) checkPort(`${key}.ssh.port`, node.ssh.port);
    if (
      node.ssh?.hostKey !== undefined &&
      !/^(ssh-ed25519|ecdsa-sha2-nistp256|ssh-rsa) [A-Za-z0-9+/=]+$/.test(node.ssh.hostKey)
    ) {
      add(
        `${key}.ssh.hostKey`,
        `${showValue(node.ssh.hostKey, `${key}.ssh.hostKey`)} is not an SSH public host key; use "ssh-ed25519 AAAA..." from ssh-keyscan`,
      );
    }
  });

  if (k3s.apiEndpoint !== undefined && isIpv4(k3s.apiEndpoint)) {
    checkHost("pi-cluster:cluster.k3s.apiEndpoint", k3s.apiEndpoint, "the API endpoint");
    const owner = nodes.find((n) => n.ip === k3s.apiEndpoint);
    if (owner && owner.role !== "server") {
      add(
        "pi-cluster:cluster.k3s.apiEndpoint",
        `${showValue(k3s.apiEndpoint, "pi-cluster:cluster.k3s.apiEndpoint")} is ${owner.hostname}'s address, an agent; point it at a server`,
      );
    }
  }

  // --- addresses the cluster itself serves ---
  if (network.nas !== undefined) {
    const owner = nodes.find((n) => n.ip === network.nas);
    if (owner) {
      add(
        "pi-cluster:network.nas",
        `${showValue(network.nas, "pi-cluster:network.nas")} is node ${owner.hostname}'s address; the NAS ` +
          `is the machine serving NFS to the cluster, give its own address`,
      );
    }
  }
  const served = clusterServedAddresses(config);
  (network.nodeDns ?? []).forEach((ip, i) => {
    const key = `pi-cluster:network.nodeDns[${i}]`;
    const by = isIpv4(ip) ? served.find((s) => s.contains(ip)) : undefined;
    if (by) {
      add(
        key,
        `${showValue(ip, key)} is ${by.what}, an address the cluster serves; nodes that resolve through ` +
          `the cluster lose DNS whenever it is down (and cannot pull the images to bring it back); use ` +
          `resolvers outside the cluster, e.g. 1.1.1.1 and 8.8.8.8`,
      );
    }
  });

  // --- metallb ---
  if (config.metallb) {
    const key = "pi-cluster:metallb";
    if (!(k3s.disable ?? []).includes("servicelb")) {
      add(
        "pi-cluster:cluster.k3s.disable",
        `must include "servicelb" when pi-cluster:metallb is set; k3s's ServiceLB and MetalLB would both ` +
          `answer for LoadBalancer services`,
      );
    }
    if (config.metallb.addresses.length === 0) {
      add(
        `${key}.addresses`,
        `the list is empty; give at least one range on the LAN ${network.subnet} for MetalLB to hand out ` +
          `(e.g. 10.0.0.100-10.0.0.104)`,
      );
    }
    const ranges = config.metallb.addresses.map((entry, i) => {
      const range = parseAddressRange(entry);
      if (!range) {
        add(
          `${key}.addresses[${i}]`,
          `${showValue(entry, `${key}.addresses[${i}]`)} is not an address range; use 10.0.0.100-10.0.0.104 or 10.0.0.53/32`,
        );
      } else if (subnet && !(range.first >= subnet.first && range.last <= subnet.last)) {
        add(
          `${key}.addresses[${i}]`,
          `${showValue(entry, `${key}.addresses[${i}]`)} is outside the LAN ${network.subnet}; MetalLB L2 answers only on the nodes' LAN`,
        );
      } else {
        const taken = [
          ...nodes.map((n) => ({ ip: n.ip, by: `node ${n.hostname}` })),
          { ip: network.gateway, by: "the gateway" },
          ...(network.nas ? [{ ip: network.nas, by: "the NAS" }] : []),
          ...(k3s.apiEndpoint ? [{ ip: k3s.apiEndpoint, by: "the k3s API endpoint" }] : []),
          ...(subnet
            ? [
                { ip: formatIpv4(subnet.first), by: "the LAN's network address" },
                { ip: formatIpv4(subnet.last), by: "the LAN's broadcast address" },
              ]
            : []),
        ];
        for (const t of taken) {
          if (inRange(t.ip, range)) {
            add(
              `${key}.addresses[${i}]`,
              `${showValue(entry, `${key}.addresses[${i}]`)} contains ${t.ip}, which is ${t.by}; keep the pool clear of it`,
            );
          }
        }
      }
      return range;
    });
    ranges.forEach((a, i) =>
      ranges.slice(i + 1).forEach((b, j) => {
        if (a && b && rangesOverlap(a, b)) {
          add(
            `${key}.addresses[${i + j + 1}]`,
            `${showValue(config.metallb!.addresses[i + j + 1], `${key}.addresses[${i + j + 1}]`)} overlaps ${showValue(config.metallb!.addresses[i], `${key}.addresses[${i}]`)}`,
          );
        }
      }),
    );
    const usedBy = new Map<string, string>();
    Object.entries(config.metallb.services ?? {}).forEach(([service, ip]) => {
      const serviceKey = `${key}.services.${service}`;
      if (!isIpv4(ip)) {
        add(serviceKey, `${showValue(ip, serviceKey)} is not a valid IPv4 address`);
        return;
      }
      checkHost(serviceKey, ip, `MetalLB's address for ${service}`);
      // Only against a pool that is all there: an empty or malformed one is reported already.
      const poolComplete = ranges.length > 0 && ranges.every((r) => r !== undefined);
      if (poolComplete && !ranges.some((r) => r && inRange(ip, r))) {
        add(
          serviceKey,
          `${showValue(ip, serviceKey)} is outside the MetalLB pool (${config.metallb!.addresses.join(", ")})`,
        );
      }
      const other = usedBy.get(ip);
      if (other) add(serviceKey, `address ${ip} is used by both ${other} and ${service}`);
      else usedBy.set(ip, service);
    });
  }
  // --- platform ---
  const platform = config.platform;
  const ingress = platform.ingress ?? {};
  if (!(k3s.disable ?? DEFAULT_K3S_DISABLE).includes("traefik")) {
    add(
      "pi-cluster:cluster.k3s.disable",
      `must include "traefik": the program deploys its own ingress controller ` +
        `(${ingress.controller ?? "ingress-nginx"}), and k3s's bundled Traefik would take port 443 too`,
    );
  }
  const exposure = ingress.exposure ?? "hostPort";
  const lbAddress = config.metallb?.services?.ingress;
  if (exposure === "loadBalancer" && lbAddress === undefined) {
    add(
      "pi-cluster:platform.ingress.exposure",
      `"loadBalancer" needs a MetalLB address for the controller: set pi-cluster:metallb.services.ingress`,
    );
  }
  if (ingress.address !== undefined) {
    const key = "pi-cluster:platform.ingress.address";
    if (!isIpv4(ingress.address)) {
      add(key, `${showValue(ingress.address, key)} is not a valid IPv4 address`);
    } else if (subnet && reservedAddress(ingress.address, subnet)) {
      checkHost(key, ingress.address, "the ingress");
    } else if (
      exposure === "hostPort" &&
      nodes.length > 0 &&
      !nodes.some((n) => n.ip === ingress.address)
    ) {
      add(
        key,
        `${showValue(ingress.address, key)} is no node's address; with hostPort exposure the wildcard record must ` +
          `point at a node (${nodes.map((n) => n.ip).join(", ")})`,
      );
    } else if (
      exposure === "loadBalancer" &&
      lbAddress !== undefined &&
      ingress.address !== lbAddress
    ) {
      add(
        key,
        `${showValue(ingress.address, key)} differs from pi-cluster:metallb.services.ingress (${lbAddress})`,
      );
    }
  }
  const certs = platform.certificates;
  const acmeKey = "pi-cluster:platform.certificates.acmeEmail";
  if (certs.acmeEmail === undefined) {
    // No contact on the ACME account: Let's Encrypt no longer mails anyone (June 2025).
  } else if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(certs.acmeEmail)) {
    add(acmeKey, `${showValue(certs.acmeEmail, acmeKey)} is not an email address`);
  } else {
    const domain = certs.acmeEmail.split("@")[1].toLowerCase();
    const reserved = RESERVED_EMAIL_DOMAINS.find((d) => domain === d || domain.endsWith(`.${d}`));
    if (reserved) {
      add(
        acmeKey,
        `${showValue(certs.acmeEmail, acmeKey)} is at ${reserved}, a domain reserved for examples ` +
          `(RFC 2606); Let's Encrypt refuses it as an account contact, staging included: give an address you read`,
      );
    } else if (
      PLACEHOLDER_ACME_EMAILS.includes(certs.acmeEmail.toLowerCase()) &&
      (certs.issuer ?? "production") === "production"
    ) {
      add(
        acmeKey,
        `${showValue(certs.acmeEmail, acmeKey)} is the stack files' old placeholder, not your address; ` +
          `give your address, or remove the key (Let's Encrypt needs none), or try the stack with ` +
          `pi-cluster:platform.certificates.issuer: staging (untrusted certificates) first`,
      );
    }
  }
  if (certs.dnsZone !== undefined) {
    if (!isDomain(certs.dnsZone)) {
      add(
        "pi-cluster:platform.certificates.dnsZone",
        `${showValue(certs.dnsZone, "pi-cluster:platform.certificates.dnsZone")} is not a DNS zone name`,
      );
    } else if (
      isDomain(cluster.domain) &&
      !cluster.domain.endsWith(`.${certs.dnsZone}`) &&
      cluster.domain !== certs.dnsZone
    ) {
      add(
        "pi-cluster:platform.certificates.dnsZone",
        `${showValue(certs.dnsZone, "pi-cluster:platform.certificates.dnsZone")} does not contain the domain ${cluster.domain}`,
      );
    }
  }
  // In-cluster secrets sync through the one ClusterSecretStore, which reads the stack's vault.
  const inClusterRef = (key: string, value: string) => {
    const ref = parseSecretRef(value);
    if (!ref) {
      add(
        key,
        `${showValue(value, key)} is not a 1Password reference; use op://<vault>/<item>/<field>`,
      );
    } else if (vaultOk && ref.vault !== cluster.onepasswordVault) {
      add(
        key,
        `${showValue(value, key)} is in vault "${ref.vault}", but External Secrets reads only the stack's vault ` +
          `"${cluster.onepasswordVault}" (pi-cluster:cluster.onepasswordVault)`,
      );
    }
  };
  if (certs.cloudflareToken !== undefined && certs.cloudflareToken !== "create") {
    if (!certs.cloudflareToken.startsWith("op://")) {
      add(
        "pi-cluster:platform.certificates.cloudflareToken",
        `${showValue(certs.cloudflareToken, "pi-cluster:platform.certificates.cloudflareToken")} is not allowed; use "create" or an op://<vault>/<item>/<field> reference`,
      );
    } else {
      inClusterRef("pi-cluster:platform.certificates.cloudflareToken", certs.cloudflareToken);
    }
  }
  const monitoring = platform.monitoring ?? {};
  if (
    monitoring.retention !== undefined &&
    !/^[0-9]+(ms|s|m|h|d|w|y)$/.test(monitoring.retention)
  ) {
    add(
      "pi-cluster:platform.monitoring.retention",
      `${showValue(monitoring.retention, "pi-cluster:platform.monitoring.retention")} is not a Prometheus duration; use e.g. 10d or 72h`,
    );
  }
  if (monitoring.storage !== undefined && !isMemoryQuantity(monitoring.storage)) {
    add(
      "pi-cluster:platform.monitoring.storage",
      `${showValue(monitoring.storage, "pi-cluster:platform.monitoring.storage")} is not a size; use e.g. 10Gi`,
    );
  }
  const secrets = config.secrets;
  for (const key of ["externalSecretsToken", "cloudflareApiToken"] as const) {
    if (!parseSecretRef(secrets[key])) {
      add(
        `pi-cluster:secrets.${key}`,
        `${showValue(secrets[key], `pi-cluster:secrets.${key}`)} is not a 1Password reference; use op://<vault>/<item>/<field>, never the value`,
      );
    }
  }
  // Every other key (the platform's and the apps') is synced into the cluster by External Secrets.
  for (const [key, value] of Object.entries(secrets)) {
    if (key !== "externalSecretsToken" && key !== "cloudflareApiToken")
      inClusterRef(`pi-cluster:secrets.${key}`, value);
  }
  return problems;
}

/** "network address" or "broadcast address" when `ip` is one of the LAN's, else undefined. */
export function reservedAddress(ip: string, subnet: Ipv4Range): string | undefined {
  // A /31 or /32 has no network or broadcast address (RFC 3021): every address is a host.
  if (subnet.last - subnet.first < 3) return undefined;
  const value = parseIpv4(ip);
  if (value === subnet.first) return "network address";
  if (value === subnet.last) return "broadcast address";
  return undefined;
}

/** The LAN's host addresses, e.g. `192.168.1.1-192.168.1.254`. */
export function hostRange(subnet: Ipv4Range): string {
  return subnet.last - subnet.first < 3
    ? `${formatIpv4(subnet.first)}-${formatIpv4(subnet.last)}`
    : `${formatIpv4(subnet.first + 1)}-${formatIpv4(subnet.last - 1)}`;
}

/**
 * Every address the cluster itself answers on, with what it is: the nodes (Pi-hole runs on the
 * host network of a node), the MetalLB pool and its fixed service addresses, the ingress address.
 * The nodes' own resolvers must be none of these (seed 001, "DNS Resilience").
 */
export function clusterServedAddresses(
  config: StackConfig,
): { readonly what: string; readonly contains: (ip: string) => boolean }[] {
  const served: { what: string; contains: (ip: string) => boolean }[] = [];
  for (const node of config.nodes) {
    served.push({ what: `node ${node.hostname}'s address`, contains: (ip) => ip === node.ip });
  }
  for (const [service, address] of Object.entries(config.metallb?.services ?? {})) {
    served.push({
      what: `MetalLB's address for ${service} (pi-cluster:metallb.services.${service})`,
      contains: (ip) => ip === address,
    });
  }
  (config.metallb?.addresses ?? []).forEach((entry, i) => {
    const range = parseAddressRange(entry);
    if (range) {
      served.push({
        what: `in the MetalLB pool ${entry} (pi-cluster:metallb.addresses[${i}])`,
        contains: (ip) => inRange(ip, range),
      });
    }
  });
  const ingress = config.platform.ingress?.address;
  if (ingress !== undefined) {
    served.push({
      what: "the ingress address (pi-cluster:platform.ingress.address)",
      contains: (ip) => ip === ingress,
    });
  }
  return served;
}

/**
 * Checks `pi-cluster:placement` against the nodes and the workloads the stack deploys (known only
 * once the rest of the config is valid: which workloads exist can depend on it).
 */
export function validatePlacements(
  config: StackConfig,
  workloads: readonly string[],
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const add = (key: string, message: string) =>
    problems.push({ key, message: `${key}: ${message}` });
  const nodes = config.nodes;
  const embeddedEtcd = usesEmbeddedEtcd(config);
  const effectiveLabels = nodes.map((n) => ({
    hostname: n.hostname,
    labels: { ...(n.labels ?? {}), ...implicitLabels(n.hostname, n.role, embeddedEtcd) },
  }));
  const hostnames = nodes.map((n) => n.hostname);
  Object.entries(config.placement ?? {}).forEach(([workload, rule]) => {
    const key = `pi-cluster:placement.${workload}`;
    if (!workloads.includes(workload)) {
      add(
        key,
        `${showValue(workload, key)} is not a workload of this stack; allowed: ${[...workloads].sort().join(", ")}`,
      );
      return;
    }
    problems.push(...checkPlacementRule(key, rule, hostnames, effectiveLabels));
  });

  return problems;
}

/** Checks one placement rule against the nodes; shared by config rules and code defaults. */
export function checkPlacementRule(
  key: string,
  rule: {
    node?: string;
    nodeSelector?: Readonly<Record<string, string>>;
    prefer?: Readonly<Record<string, string>>;
    preferNodes?: readonly string[];
  },
  hostnames: readonly string[],
  nodes: readonly { hostname: string; labels: Readonly<Record<string, string>> }[],
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const add = (k: string, message: string) =>
    problems.push({ key: k, message: `${k}: ${message}` });
  const labelsInUse = () =>
    [...new Set(nodes.flatMap((n) => Object.entries(n.labels).map(([k, v]) => `${k}=${v}`)))]
      .filter((l) => !l.startsWith("kubernetes.io/"))
      .sort()
      .join(", ");
  if (rule.node !== undefined && !hostnames.includes(rule.node)) {
    add(
      `${key}.node`,
      `${showValue(rule.node, `${key}.node`)} is not a node of this stack; allowed: ${hostnames.join(", ")}`,
    );
  }
  for (const [label, value] of Object.entries(rule.nodeSelector ?? {})) {
    if (!nodes.some((n) => n.labels[label] === value)) {
      add(
        `${key}.nodeSelector`,
        `no node has the label ${label}=${value}; labels in use: ${labelsInUse()}`,
      );
    }
  }
  for (const [label, value] of Object.entries(rule.prefer ?? {})) {
    if (!nodes.some((n) => n.labels[label] === value)) {
      add(
        `${key}.prefer`,
        `no node has the label ${label}=${value}; labels in use: ${labelsInUse()}`,
      );
    }
  }
  (rule.preferNodes ?? []).forEach((h, i) => {
    if (!hostnames.includes(h)) {
      add(
        `${key}.preferNodes[${i}]`,
        `${showValue(h, `${key}.preferNodes[${i}]`)} is not a node of this stack; allowed: ${hostnames.join(", ")}`,
      );
    }
  });
  if (problems.length === 0 && eligibleNodes(rule, nodes).length === 0) {
    add(
      key,
      `no node satisfies both node ${rule.node} and nodeSelector ${JSON.stringify(rule.nodeSelector)}`,
    );
  }
  return problems;
}

/** Nodes that satisfy a rule's hard constraints (`node`, `nodeSelector`), in node order. */
export function eligibleNodes(
  rule: { node?: string; nodeSelector?: Readonly<Record<string, string>> },
  nodes: readonly { hostname: string; labels: Readonly<Record<string, string>> }[],
): string[] {
  return nodes
    .filter((n) => rule.node === undefined || n.hostname === rule.node)
    .filter((n) => Object.entries(rule.nodeSelector ?? {}).every(([k, v]) => n.labels[k] === v))
    .map((n) => n.hostname);
}
