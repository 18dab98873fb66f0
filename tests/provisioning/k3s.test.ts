/**
 * k3s scripts run with real bash against a fake Pi root: config and token files written once,
 * the installer run once with only the version and role, restarts only after a change, the
 * token never in any output, and clear failures.
 */
import {
  drainScript,
  k3sConfigScript,
  k3sConfigYaml,
  k3sInstallScript,
  k3sReadyScript,
  k3sTokenScript,
  readKubeconfigScript,
  readTokenScript,
  uninstallScript,
} from "../../provisioning";
import { haK3s, pi3Worker, pi4Init, pi5Join, piK3s, singleK3s } from "./fixtures";

import { expectFailure, expectReport, mutatingCalls, useFakePis } from "./helpers";

const fakePi = useFakePis();

const TOKEN = "K10c0ffee1234567890abcdef::server:s3cr3t-t0ken-value";
const RESTART_MARKER = "run/pi-cluster/k3s-restart-required";

describe("k3sConfigScript", () => {
  it.each([
    ["pi-k3s", piK3s, singleK3s],
    ["pi3-worker-1", pi3Worker, singleK3s],
    ["pi4-server-1", pi4Init, haK3s],
    ["pi5-worker-1", pi5Join, haK3s],
  ] as const)("%s: writes config.yaml (0600 in a 0755 dir) once", (_name, node, k3s) => {
    const fake = fakePi();
    const yaml = k3sConfigYaml(node, k3s);
    const first = fake.run(k3sConfigScript(node, yaml));
    expectReport(first, node.hostname, "k3s-config", 1);
    expect(fake.read("etc/rancher/k3s/config.yaml")).toBe(yaml);
    expect(fake.mode("etc/rancher/k3s/config.yaml")).toBe(0o600);
    expect(fake.mode("etc/rancher/k3s")).toBe(0o755);
    expect(fake.exists(RESTART_MARKER)).toBe(false); // k3s not installed yet

    fake.clearCalls();
    expectReport(fake.run(k3sConfigScript(node, yaml)), node.hostname, "k3s-config", 0);
    expect(mutatingCalls(fake.calls())).toEqual([]);
  });

  it("keeps shell syntax in the YAML literal", () => {
    const fake = fakePi();
    const yaml = 'node-label:\n  - note=$(reboot) `x` "$HOME"\n';
    expectReport(fake.run(k3sConfigScript(piK3s, yaml)), "pi-k3s", "k3s-config", 1);
    expect(fake.read("etc/rancher/k3s/config.yaml")).toBe(yaml);
  });

  it("a change under an installed k3s asks for a restart; a wrong mode is fixed", () => {
    const fake = fakePi({ k3sInstalled: { version: "v1.33.6+k3s1", role: "server" } });
    fake.write("etc/rancher/k3s/config.yaml", "old: true\n", 0o644);
    const yaml = k3sConfigYaml(piK3s, singleK3s);
    const r = fake.run(k3sConfigScript(piK3s, yaml));
    expectReport(r, "pi-k3s", "k3s-config", 1);
    expect(r.stdout).toContain("the k3s-install step will restart it");
    expect(fake.exists(RESTART_MARKER)).toBe(true);
    expect(fake.mode("etc/rancher/k3s/config.yaml")).toBe(0o600);

    fake.run(`chmod 0644 "$PI_ROOT/etc/rancher/k3s/config.yaml"`);
    expectReport(fake.run(k3sConfigScript(piK3s, yaml)), "pi-k3s", "k3s-config", 1);
    expect(fake.mode("etc/rancher/k3s/config.yaml")).toBe(0o600);
  });

  it("refuses YAML containing the heredoc delimiter", () => {
    expect(() => k3sConfigScript(piK3s, "a: 1\nPI_CLUSTER_K3S_CONFIG_EOF\n")).toThrow(/contains/);
  });
});

describe("k3sTokenScript", () => {
  it("writes the token from stdin once (0600), never printing or logging it", () => {
    const fake = fakePi();
    const script = k3sTokenScript(pi3Worker);
    expect(script).not.toContain(TOKEN);
    expect(script).not.toMatch(/set -x|set -o xtrace/);

    const first = fake.run(script, { stdin: `${TOKEN}\n` });
    expectReport(first, "pi3-worker-1", "k3s-token", 1);
    expect(fake.read("etc/rancher/k3s/cluster-token")).toBe(`${TOKEN}\n`);
    expect(fake.mode("etc/rancher/k3s/cluster-token")).toBe(0o600);

    const second = fake.run(script, { stdin: TOKEN }); // no trailing newline: same token
    expectReport(second, "pi3-worker-1", "k3s-token", 0);

    const changedToken = fake.run(script, { stdin: `${TOKEN}-rotated\n` });
    expectReport(changedToken, "pi3-worker-1", "k3s-token", 1);

    for (const r of [first, second, changedToken]) {
      expect(r.stdout + r.stderr).not.toContain("s3cr3t");
    }
    expect(fake.read("calls.log")).not.toContain("s3cr3t");
    expect(fake.exists(RESTART_MARKER)).toBe(false);
  });

  it("asks for a restart when the token changes under an installed k3s", () => {
    const fake = fakePi({ k3sInstalled: { version: "v1.33.6+k3s1", role: "agent" } });
    expectReport(
      fake.run(k3sTokenScript(pi3Worker), { stdin: TOKEN }),
      "pi3-worker-1",
      "k3s-token",
      1,
    );
    expect(fake.exists(RESTART_MARKER)).toBe(true);
  });

  it.each([
    ["empty", "", /no token on stdin/],
    ["blank", " \n\n", /no token on stdin/],
    ["two lines", `${TOKEN}\nsecond-line\n`, /whitespace or several lines/],
  ])("fails on %s stdin and leaves the old token", (_name, stdin, message) => {
    const fake = fakePi();
    fake.write("etc/rancher/k3s/cluster-token", "old-token\n", 0o600);
    const r = fake.run(k3sTokenScript(pi5Join), { stdin });
    expectFailure(r, "pi5-worker-1", "k3s-token", message);
    expect(fake.read("etc/rancher/k3s/cluster-token")).toBe("old-token\n");
    expect(r.stderr).not.toContain("second-line");
  });
});

describe("k3sInstallScript", () => {
  it.each([
    ["pi-k3s", piK3s, singleK3s, "server", "k3s"],
    ["pi3-worker-1", pi3Worker, singleK3s, "agent", "k3s-agent"],
    ["pi5-worker-1", pi5Join, haK3s, "server", "k3s"],
  ] as const)("%s: installs once", (_name, node, k3s, exec, service) => {
    const fake = fakePi();
    const first = fake.run(k3sInstallScript(node, k3s));
    expectReport(first, node.hostname, "k3s-install", 1);
    expect(first.stdout).toContain(`installed k3s v1.33.6+k3s1 (${service})`);
    expect(mutatingCalls(fake.calls())).toEqual([
      expect.stringMatching(/^curl -sfL https:\/\/get\.k3s\.io -o \S+$/),
      `installer INSTALL_K3S_VERSION=v1.33.6+k3s1 INSTALL_K3S_EXEC=${exec}`,
    ]);

    fake.clearCalls();
    const second = fake.run(k3sInstallScript(node, k3s));
    expectReport(second, node.hostname, "k3s-install", 0);
    expect(second.stdout).toContain("k3s v1.33.6+k3s1 is already installed");
    expect(mutatingCalls(fake.calls())).toEqual([]);
  });

  it("upgrades a different installed version and says so", () => {
    const fake = fakePi({ k3sInstalled: { version: "v1.32.9+k3s1", role: "server" } });
    const r = fake.run(k3sInstallScript(piK3s, singleK3s));
    expectReport(r, "pi-k3s", "k3s-install", 1);
    expect(r.stdout).toContain("upgrading k3s from v1.32.9+k3s1 to v1.33.6+k3s1");
    expect(r.stdout).toContain("upgraded k3s from v1.32.9+k3s1 to v1.33.6+k3s1");
    expect(fake.read("state/k3s-version")).toBe("v1.33.6+k3s1\n");
  });

  it("restarts the service once when the config or token changed", () => {
    const fake = fakePi({ k3sInstalled: { version: "v1.33.6+k3s1", role: "agent" } });
    fake.write(RESTART_MARKER, "");
    const first = fake.run(k3sInstallScript(pi3Worker, singleK3s));
    expectReport(first, "pi3-worker-1", "k3s-install", 1);
    expect(mutatingCalls(fake.calls())).toEqual(["systemctl restart k3s-agent"]);
    expect(fake.exists(RESTART_MARKER)).toBe(false);

    fake.clearCalls();
    expectReport(
      fake.run(k3sInstallScript(pi3Worker, singleK3s)),
      "pi3-worker-1",
      "k3s-install",
      0,
    );
    expect(mutatingCalls(fake.calls())).toEqual([]);
  });

  it("fails clearly when the installer cannot be downloaded", () => {
    const fake = fakePi({ curlFails: true });
    const r = fake.run(k3sInstallScript(pi3Worker, singleK3s));
    expectFailure(
      r,
      "pi3-worker-1",
      "k3s-install",
      /could not download the k3s installer from https:\/\/get\.k3s\.io\. Check the node's internet access and DNS/,
    );
    expect(fake.calls().filter((c) => c.startsWith("installer"))).toEqual([]);
    expect(fake.exists("state/k3s-version")).toBe(false);
  });

  it("rejects a version that is not a k3s release tag", () => {
    expect(() => k3sInstallScript(piK3s, { ...singleK3s, version: "latest" })).toThrow(
      /not a k3s release tag/,
    );
  });
});

describe("k3sReadyScript", () => {
  const quick = { attempts: 3, intervalSeconds: 0 };

  it("server: ready when /readyz answers ok", () => {
    const fake = fakePi({ k3sInstalled: { version: "v1.33.6+k3s1", role: "server" } });
    fake.write("state/readyz", "ok");
    const r = fake.run(k3sReadyScript(piK3s, quick));
    expectReport(r, "pi-k3s", "k3s-ready", 0);
    expect(fake.calls()).toEqual(["k3s kubectl get --raw /readyz"]);
  });

  it("server: fails after the bounded wait with the journal and the journalctl hint", () => {
    const fake = fakePi({ k3sInstalled: { version: "v1.33.6+k3s1", role: "server" } });
    const r = fake.run(k3sReadyScript(pi4Init, quick));
    expectFailure(
      r,
      "pi4-server-1",
      "k3s-ready",
      /the k3s API server is not ready after 0 s\. Look at journalctl -u k3s -n 200/,
    );
    expect(r.stderr).toContain("fake journal line");
    expect(fake.calls().filter((c) => c.startsWith("k3s kubectl"))).toHaveLength(3);
  });

  it("agent: waits for k3s-agent to be active", () => {
    const ready = fakePi({ k3sInstalled: { version: "v1.33.6+k3s1", role: "agent" } });
    expectReport(ready.run(k3sReadyScript(pi3Worker, quick)), "pi3-worker-1", "k3s-ready", 0);

    const down = fakePi();
    expectFailure(
      down.run(k3sReadyScript(pi3Worker, quick)),
      "pi3-worker-1",
      "k3s-ready",
      /k3s-agent is not active .*journalctl -u k3s-agent/,
    );
  });

  it("defaults to 60 attempts 5 s apart", () => {
    const text = k3sReadyScript(piK3s);
    expect(text).toContain("\nattempts=60\ninterval=5\n");
  });
});

describe("readTokenScript / readKubeconfigScript", () => {
  it("print only the file content", () => {
    const fake = fakePi();
    fake.write("var/lib/rancher/k3s/server/token", `${TOKEN}\n`, 0o600);
    fake.write("etc/rancher/k3s/k3s.yaml", "apiVersion: v1\nkind: Config\n", 0o600);
    expect(fake.run(readTokenScript(piK3s))).toEqual({
      status: 0,
      stdout: `${TOKEN}\n`,
      stderr: "",
    });
    expect(fake.run(readKubeconfigScript(piK3s))).toEqual({
      status: 0,
      stdout: "apiVersion: v1\nkind: Config\n",
      stderr: "",
    });
  });

  it("fail clearly when k3s has not written them", () => {
    const fake = fakePi();
    expectFailure(fake.run(readTokenScript(piK3s)), "pi-k3s", "read-token", /token is missing/);
    expectFailure(
      fake.run(readKubeconfigScript()),
      "k3s-server",
      "read-kubeconfig",
      /k3s\.yaml is missing or empty/,
    );
  });
});

describe("drainScript / uninstallScript", () => {
  it("drains and deletes a node once; an absent node is fine", () => {
    const fake = fakePi({ k3sInstalled: { version: "v1.33.6+k3s1", role: "server" } });
    fake.write("state/nodes/pi3-worker-1", "");
    const first = fake.run(drainScript("pi3-worker-1"));
    expectReport(first, "pi3-worker-1", "drain", 2);
    expect(mutatingCalls(fake.calls())).toEqual([
      "k3s kubectl drain pi3-worker-1 --ignore-daemonsets --delete-emptydir-data --timeout=300s",
      "k3s kubectl delete node pi3-worker-1 --ignore-not-found",
    ]);

    fake.clearCalls();
    const second = fake.run(drainScript("pi3-worker-1"));
    expectReport(second, "pi3-worker-1", "drain", 0);
    expect(second.stdout).toContain("not in the cluster");
    expect(mutatingCalls(fake.calls())).toEqual([]);
  });

  it("drain fails when the API server cannot be asked", () => {
    const fake = fakePi(); // k3s not installed: the lookup fails without NotFound
    expectFailure(fake.run(drainScript("pi3-worker-1")), "pi3-worker-1", "drain", /cannot look up/);
  });

  it.each([
    ["k3s-uninstall.sh", piK3s, singleK3s],
    ["k3s-agent-uninstall.sh", pi3Worker, singleK3s],
  ] as const)("runs %s once, then is a no-op", (uninstaller, node, k3s) => {
    const fake = fakePi();
    fake.run(k3sInstallScript(node, k3s));
    fake.run(k3sTokenScript(node), { stdin: TOKEN });
    fake.clearCalls();

    const first = fake.run(uninstallScript(node));
    expectReport(first, node.hostname, "uninstall", 1);
    expect(mutatingCalls(fake.calls())).toEqual([uninstaller]);
    expect(fake.exists("etc/rancher/k3s/cluster-token")).toBe(false);

    fake.clearCalls();
    const second = fake.run(uninstallScript(node));
    expectReport(second, node.hostname, "uninstall", 0);
    expect(second.stdout).toContain("k3s is not installed");
    expect(mutatingCalls(fake.calls())).toEqual([]);
  });

  it("removes a token file left without k3s", () => {
    const fake = fakePi();
    fake.write("etc/rancher/k3s/cluster-token", `${TOKEN}\n`, 0o600);
    const r = fake.run(uninstallScript(pi5Join));
    expectReport(r, "pi5-worker-1", "uninstall", 1);
    expect(fake.exists("etc/rancher/k3s/cluster-token")).toBe(false);
    expect(r.stdout).not.toContain("s3cr3t");
  });
});
