/**
 * Fixture topology for the provisioning tests: the user's nodes (seed 002) in the shapes the
 * builders meet: a single first server, an agent, an HA first server with cluster-init and an HA
 * joining server.
 */
import type { K3sSettings, NetworkSettings, PlannedNode, SecretRef } from "../../topology/types";

function ref(item: string, field: string): SecretRef {
  return { vault: "pi-cluster", item, field, uri: `op://pi-cluster/${item}/${field}` };
}

function node(fields: Partial<PlannedNode> & Pick<PlannedNode, "hostname" | "ip">): PlannedNode {
  return {
    model: "pi5",
    memoryGb: 8,
    role: "agent",
    isFirstServer: false,
    clusterInit: false,
    joinOrder: 1,
    labels: {},
    registrationLabels: {},
    allocatableMi: 7000,
    k3sOverheadMi: 500,
    interface: "eth0",
    ssh: { user: "mtgibbs", port: 22, privateKey: ref(fields.hostname, "private key") },
    ...fields,
  };
}

/** Pi 5 8GB, the only server of the single-server cluster (no cluster-init). */
export const piK3s = node({
  hostname: "pi-k3s",
  ip: "192.168.1.55",
  role: "server",
  isFirstServer: true,
  joinOrder: 0,
  labels: { hardware: "pi5", "memory-class": "high", "node-role.kubernetes.io/master": "true" },
  registrationLabels: { hardware: "pi5", "memory-class": "high" },
});

/** Pi 3 1GB agent joining pi-k3s. */
export const pi3Worker = node({
  hostname: "pi3-worker-1",
  ip: "192.168.1.53",
  model: "pi3",
  memoryGb: 1,
  allocatableMi: 700,
  k3sOverheadMi: 150,
  joinOrder: 2,
  labels: { hardware: "pi3", "memory-class": "low", "node-role.kubernetes.io/worker": "worker" },
  registrationLabels: { "memory-class": "low", hardware: "pi3" },
});

/** Pi 4 4GB, first server of the HA cluster: runs cluster-init (embedded etcd). */
export const pi4Init = node({
  hostname: "pi4-server-1",
  ip: "192.168.1.56",
  model: "pi4",
  memoryGb: 4,
  role: "server",
  isFirstServer: true,
  clusterInit: true,
  joinOrder: 0,
  allocatableMi: 3300,
  labels: { hardware: "pi4", "memory-class": "medium" },
  registrationLabels: { hardware: "pi4", "memory-class": "medium" },
});

/** Pi 5 8GB server joining the HA cluster. */
export const pi5Join = node({
  hostname: "pi5-worker-1",
  ip: "192.168.1.54",
  role: "server",
  joinOrder: 1,
  interface: "end0",
  labels: { hardware: "pi5", "memory-class": "high" },
  registrationLabels: { hardware: "pi5", "memory-class": "high" },
});

/** Every fixture node, for table-driven tests. */
export const ALL_NODES: readonly PlannedNode[] = [piK3s, pi3Worker, pi4Init, pi5Join];

/** The single-server cluster today: pi-k3s plus agents. */
export const singleK3s: K3sSettings = {
  version: "v1.33.6+k3s1",
  disable: ["traefik"],
  apiEndpoint: "192.168.1.55",
  serverUrl: "https://192.168.1.55:6443",
  tlsSans: ["192.168.1.55"],
  embeddedEtcd: false,
  token: { kind: "first-server" },
  kubeconfigMode: "0600",
};

/** The HA cluster: embedded etcd, a token from 1Password, an API address in front of the servers. */
export const haK3s: K3sSettings = {
  version: "v1.33.6+k3s1",
  disable: ["traefik", "servicelb"],
  apiEndpoint: "192.168.1.50",
  serverUrl: "https://192.168.1.50:6443",
  tlsSans: ["192.168.1.50", "k3s.lab.mtgibbs.dev"],
  embeddedEtcd: true,
  token: { kind: "onepassword", ref: ref("k3s", "token") },
  kubeconfigMode: "0600",
};

/** The LAN, with the static resolvers of seed 001 ("DNS Resilience"). */
export const network: NetworkSettings = {
  subnet: "192.168.1.0/24",
  gateway: "192.168.1.1",
  nodeDns: ["1.1.1.1", "8.8.8.8"],
};

/** The k3s settings a fixture node belongs to. */
export function k3sFor(n: PlannedNode): K3sSettings {
  return n === pi4Init || n === pi5Join ? haK3s : singleK3s;
}
