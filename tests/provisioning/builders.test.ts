/** Table-driven checks of the script text every builder renders for every fixture node. */
import { STEPS, type StepId } from "../../provisioning";
import { allScripts } from "./all-scripts";
import { ALL_NODES, pi3Worker, pi4Init, pi5Join, piK3s } from "./fixtures";

const cases = ALL_NODES.flatMap((node) =>
  Object.entries(allScripts(node)).map(([step, text]) => [node.hostname, step, text] as const),
);

describe.each(cases)("%s %s", (hostname, step, text) => {
  it("has the prelude, names node and step, and never calls sudo or traces", () => {
    expect(text.startsWith(`#!/usr/bin/env bash\n# pi-cluster ${step} on ${hostname}: `)).toBe(
      true,
    );
    expect(text).toContain("\nset -euo pipefail\n");
    expect(text).toContain(`\nPI_NODE='${hostname}'\nPI_STEP='${step}'\n`);
    expect(text).not.toMatch(/\bsudo\b|set -x|xtrace/);
  });

  it("touches files only under $ROOT", () => {
    const code = text
      .split("\n")
      .filter((l) => !l.trimStart().startsWith("#"))
      .join("\n");
    // A file command (or redirection) whose path starts at / instead of "$ROOT/".
    const bare =
      /(?:\b(?:cat|touch|mkdir|rm|cp|mv|grep|awk|sed|chmod|cmp|stat)\b[^\n|;]*?\s"?|[<>]\s*"?)\/(?:etc|boot|run|proc|sys|var|usr)\//;
    expect(code).not.toMatch(bare);
  });
});

describe("step-specific text", () => {
  const scripts = (node = piK3s): Record<StepId, string> => allScripts(node);

  it("covers every step in STEPS", () => {
    expect(Object.keys(scripts()).sort()).toEqual(STEPS.map((s) => s.id).sort());
  });

  it.each([
    [piK3s, "eth0"],
    [pi5Join, "end0"],
  ] as const)("static-dns looks the connection up on the node's interface", (node, iface) => {
    const text = scripts(node)["static-dns"];
    expect(text).toContain(`\niface='${iface}'\nwant_dns='1.1.1.1 8.8.8.8'\n`);
    expect(text).toContain('nmcli -g GENERAL.CONNECTION device show "$iface"');
    expect(text).not.toContain("Wired connection 1");
  });

  it.each([
    [piK3s, "server", "k3s"],
    [pi3Worker, "agent", "k3s-agent"],
    [pi4Init, "server", "k3s"],
  ] as const)("k3s-install passes only version and role (%#)", (node, exec, service) => {
    const text = scripts(node)["k3s-install"];
    expect(text).toContain(`\nwant='v1.33.6+k3s1'\nservice='${service}'\nexec_cmd='${exec}'\n`);
    expect(text).toContain('INSTALL_K3S_VERSION="$want" INSTALL_K3S_EXEC="$exec_cmd" sh "$PI_TMP"');
    expect(text).toContain('curl -sfL https://get.k3s.io -o "$PI_TMP"');
    expect(text).not.toMatch(/K3S_TOKEN|K3S_URL|\| *sh\b/);
  });

  it("k3s-ready waits on /readyz on servers and on the unit on agents", () => {
    expect(scripts(piK3s)["k3s-ready"]).toContain("k3s kubectl get --raw /readyz");
    expect(scripts(pi3Worker)["k3s-ready"]).toContain('systemctl is-active --quiet "$service"');
    expect(scripts(pi3Worker)["k3s-ready"]).not.toContain("/readyz");
  });

  it("cgroups prefers /boot/firmware and falls back to /boot", () => {
    const text = scripts()["cgroups"];
    expect(text.indexOf('"$ROOT/boot/firmware/cmdline.txt"')).toBeLessThan(
      text.indexOf('"$ROOT/boot/cmdline.txt"'),
    );
    expect(text).toContain("cgroup_memory=1 is ignored by newer kernels");
  });

  it("read scripts print no report line", () => {
    expect(scripts()["read-token"]).toContain("\nPI_REPORT=0\n");
    expect(scripts()["read-kubeconfig"]).toContain("\nPI_REPORT=0\n");
    expect(scripts()["k3s-token"]).toContain("\nPI_REPORT=1\n");
  });

  it("uninstall tries the role's own uninstaller first", () => {
    expect(scripts(piK3s).uninstall).toContain(
      "for name in k3s-uninstall.sh k3s-agent-uninstall.sh; do",
    );
    expect(scripts(pi3Worker).uninstall).toContain(
      "for name in k3s-agent-uninstall.sh k3s-uninstall.sh; do",
    );
  });

  it("refuses a hostname that is not a DNS label", () => {
    expect(() => allScripts({ ...piK3s, hostname: "pi k3s'; reboot" })).toThrow(
      /not a valid host name/,
    );
  });
});
