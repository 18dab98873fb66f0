import { k3sConfigYaml, rewriteKubeconfigServer, usesTokenFile } from "../../provisioning";
import type { PlannedNode } from "../../topology/types";
import { haK3s, pi3Worker, pi4Init, pi5Join, piK3s, singleK3s } from "./fixtures";

describe("k3sConfigYaml", () => {
  it("single first server: no server, no token file (it generates the token)", () => {
    expect(k3sConfigYaml(piK3s, singleK3s)).toBe(
      [
        'write-kubeconfig-mode: "0600"',
        "tls-san:",
        "  - 192.168.1.55",
        "disable:",
        "  - traefik",
        "node-ip: 192.168.1.55",
        "node-label:",
        "  - hardware=pi5",
        "  - memory-class=high",
        "",
      ].join("\n"),
    );
  });

  it("agent joining https://192.168.1.55:6443: agent keys only", () => {
    expect(k3sConfigYaml(pi3Worker, singleK3s)).toBe(
      [
        "server: https://192.168.1.55:6443",
        "token-file: /etc/rancher/k3s/cluster-token",
        "node-ip: 192.168.1.53",
        "node-label:",
        "  - hardware=pi3",
        "  - memory-class=low",
        "",
      ].join("\n"),
    );
  });

  it("HA first server: cluster-init, and the 1Password token through the token file", () => {
    expect(k3sConfigYaml(pi4Init, haK3s)).toBe(
      [
        'write-kubeconfig-mode: "0600"',
        "tls-san:",
        "  - 192.168.1.50",
        "  - k3s.lab.mtgibbs.dev",
        "disable:",
        "  - traefik",
        "  - servicelb",
        "cluster-init: true",
        "token-file: /etc/rancher/k3s/cluster-token",
        "node-ip: 192.168.1.56",
        "node-label:",
        "  - hardware=pi4",
        "  - memory-class=medium",
        "",
      ].join("\n"),
    );
  });

  it("HA joining server: the same server settings plus server and token file", () => {
    expect(k3sConfigYaml(pi5Join, haK3s)).toBe(
      [
        'write-kubeconfig-mode: "0600"',
        "tls-san:",
        "  - 192.168.1.50",
        "  - k3s.lab.mtgibbs.dev",
        "disable:",
        "  - traefik",
        "  - servicelb",
        "server: https://192.168.1.50:6443",
        "token-file: /etc/rancher/k3s/cluster-token",
        "node-ip: 192.168.1.54",
        "node-label:",
        "  - hardware=pi5",
        "  - memory-class=high",
        "",
      ].join("\n"),
    );
  });

  it("joinUrl overrides the server URL (e.g. before the API address exists)", () => {
    expect(k3sConfigYaml(pi5Join, haK3s, "https://192.168.1.56:6443")).toContain(
      "\nserver: https://192.168.1.56:6443\n",
    );
  });

  it("a first server with a 1Password token in a single-server cluster uses the token file", () => {
    const yaml = k3sConfigYaml(piK3s, { ...singleK3s, token: haK3s.token });
    expect(yaml).toContain("\ntoken-file: /etc/rancher/k3s/cluster-token\n");
    expect(yaml).not.toContain("server:");
  });

  it("leaves out empty lists and never writes a token value", () => {
    const bare: PlannedNode = { ...pi3Worker, registrationLabels: {} };
    const yaml = k3sConfigYaml(bare, { ...singleK3s, disable: [], tlsSans: [] });
    expect(yaml).toBe(
      "server: https://192.168.1.55:6443\ntoken-file: /etc/rancher/k3s/cluster-token\nnode-ip: 192.168.1.53\n",
    );
    for (const n of [piK3s, pi3Worker, pi4Init, pi5Join]) {
      expect(k3sConfigYaml(n, n === pi4Init || n === pi5Join ? haK3s : singleK3s)).not.toMatch(
        /^token:/m,
      );
    }
  });

  it.each<[string, PlannedNode, typeof singleK3s, RegExp]>([
    ["agent as first server", { ...pi3Worker, isFirstServer: true }, singleK3s, /an agent cannot/],
    ["cluster-init on a joining server", { ...pi5Join, clusterInit: true }, haK3s, /isFirstServer/],
    ["cluster-init without etcd", pi4Init, singleK3s, /embeddedEtcd is false/],
    ["etcd without cluster-init", piK3s, haK3s, /lacks clusterInit/],
    ["second server on SQLite", pi5Join, singleK3s, /only with embedded etcd/],
    ["bad server URL", pi3Worker, { ...singleK3s, serverUrl: "192.168.1.55" }, /https:\/\//],
    ["bad kubeconfig mode", piK3s, { ...singleK3s, kubeconfigMode: "rw" }, /octal/],
  ])("rejects %s", (_name, n, k3s, message) => {
    expect(() => k3sConfigYaml(n, k3s)).toThrow(message);
  });
});

describe("usesTokenFile", () => {
  it.each([
    ["first server, generated token", piK3s, singleK3s, false],
    ["agent", pi3Worker, singleK3s, true],
    ["HA first server, 1Password token", pi4Init, haK3s, true],
    ["HA joining server", pi5Join, haK3s, true],
  ] as const)("%s: %s", (_name, node, k3s, expected) => {
    expect(usesTokenFile(node, k3s)).toBe(expected);
    expect(k3sConfigYaml(node, k3s).includes("token-file:")).toBe(expected);
  });
});

describe("rewriteKubeconfigServer", () => {
  const k3sYaml = `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: LS0tLS1CRUdJTi
    server: https://127.0.0.1:6443
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
kind: Config
`;

  it("points the cluster at the API address and changes nothing else", () => {
    const out = rewriteKubeconfigServer(k3sYaml, "https://192.168.1.55:6443");
    expect(out).toBe(
      k3sYaml.replace("server: https://127.0.0.1:6443", "server: https://192.168.1.55:6443"),
    );
  });

  it("returns text without a loopback server unchanged", () => {
    const already = rewriteKubeconfigServer(k3sYaml, "https://192.168.1.55:6443");
    expect(rewriteKubeconfigServer(already, "https://192.168.1.50:6443")).toBe(already);
  });
});
