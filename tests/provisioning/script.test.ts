import {
  STEPS,
  asRootCommand,
  asUserCommand,
  commandName,
  parseCommandName,
  planFileName,
  renderScript,
  sh,
  shellQuote,
  stepOrder,
  withEnv,
} from "../../provisioning";
import { createFakePi, type FakePi } from "./fake-pi";

describe("STEPS", () => {
  it("numbers the boot steps, then the read and delete scripts", () => {
    expect(STEPS.map((s) => `${planFileName(s.id)} ${s.phase}`)).toEqual([
      "00-reachable.sh create",
      "10-hostname.sh create",
      "20-cgroups.sh create",
      "30-swap.sh create",
      "40-static-dns.sh create",
      "45-packages.sh create",
      "50-reboot.sh create",
      "55-wait-for-boot.sh create",
      "60-verify-cgroups.sh create",
      "65-k3s-token.sh create",
      "70-k3s-config.sh create",
      "75-k3s-install.sh create",
      "80-k3s-ready.sh create",
      "85-read-token.sh read",
      "90-read-kubeconfig.sh read",
      "95-drain.sh delete",
      "99-uninstall.sh delete",
    ]);
  });

  it("has unique, increasing order numbers", () => {
    const orders = STEPS.map((s) => s.order);
    expect([...orders].sort((a, b) => a - b)).toEqual(orders);
    expect(new Set(orders).size).toBe(orders.length);
    expect(stepOrder("k3s-install")).toBe(75);
  });
});

describe("shellQuote", () => {
  it.each([
    ["plain", "'plain'"],
    ["Wired connection 1", "'Wired connection 1'"],
    ["it's", `'it'\\''s'`],
    ['$(rm -rf /) `x` "y"', `'$(rm -rf /) \`x\` "y"'`],
    ["", "''"],
  ])("quotes %j", (input, quoted) => {
    expect(shellQuote(input)).toBe(quoted);
  });

  it("round-trips through bash", () => {
    const nasty = `a'b "c" $HOME \`d\` \\ e\nf`;
    const fake = createFakePi();
    try {
      const r = fake.run(`printf '%s' ${shellQuote(nasty)}`);
      expect(r.stdout).toBe(nasty);
    } finally {
      fake.cleanup();
    }
  });
});

describe("sh template tag", () => {
  it("keeps backslashes and turns \\${ into a bash ${", () => {
    const v = "x";
    expect(sh`a\n\${b:-} ${v} \` sed 's/\./-/'`).toBe("a\\n${b:-} x ` sed 's/\\./-/'");
  });
});

describe("asRootCommand / withEnv", () => {
  it("wraps the script for sudo without a prompt", () => {
    expect(asRootCommand("echo 'hi'")).toBe(`sudo -n bash -c 'echo '\\''hi'\\'''`);
  });

  it("runs a user script with bash", () => {
    expect(asUserCommand("echo hi")).toBe("bash -c 'echo hi'");
  });

  it("puts quoted assignments right after the shebang", () => {
    const script = "#!/usr/bin/env bash\necho hi\n";
    expect(withEnv(script, { PREVIOUS_BOOT_ID: "a'b", REBOOT: "scheduled" })).toBe(
      "#!/usr/bin/env bash\nPREVIOUS_BOOT_ID='a'\\''b'\nREBOOT='scheduled'\necho hi\n",
    );
  });

  it("refuses a bad variable name", () => {
    expect(() => withEnv("#!/bin/bash\n", { "A;rm": "x" })).toThrow(/not a valid variable name/);
  });
});

describe("renderScript prelude", () => {
  let fake: FakePi;
  beforeEach(() => {
    fake = createFakePi();
  });
  afterEach(() => fake.cleanup());

  const render = (body: string, report?: boolean): string =>
    renderScript({ node: "pi-k3s", step: "swap", summary: "test", report }, body);

  it("starts with the shebang, strict mode and ROOT", () => {
    const text = render("true");
    expect(text.startsWith("#!/usr/bin/env bash\n# pi-cluster swap on pi-k3s: test\n")).toBe(true);
    expect(text).toContain("\nset -euo pipefail\n");
    expect(text).toContain('\nROOT="${PI_ROOT:-}"\n');
    expect(text).not.toMatch(/\bsudo\b|set -x/);
  });

  it("reports no change", () => {
    const r = fake.run(render("true"));
    expect(r).toEqual({ status: 0, stdout: "pi-cluster: [pi-k3s] swap: no change\n", stderr: "" });
  });

  it("counts changes", () => {
    const r = fake.run(render('changed "one"\nnote "info"\nchanged "two"'));
    expect(r.stdout).toBe(
      [
        "pi-cluster: [pi-k3s] swap: one",
        "pi-cluster: [pi-k3s] swap: info",
        "pi-cluster: [pi-k3s] swap: two",
        "pi-cluster: [pi-k3s] swap: changed (2 change(s))",
        "",
      ].join("\n"),
    );
  });

  it("fail prints one line naming node and step, and no report", () => {
    const r = fake.run(render('changed "one"\nfail "it broke" "Fix it."\nchanged "never"'));
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("pi-cluster: [pi-k3s] swap: one\n");
    expect(r.stderr).toBe("pi-cluster: [pi-k3s] swap: it broke. Fix it.\n");
  });

  it("an unexpected error is reported once", () => {
    const r = fake.run(render("false\nchanged never"));
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      "pi-cluster: [pi-k3s] swap: failed with exit code 1 after 0 change(s). See the error above.\n",
    );
  });

  it("report: false prints only what the body prints", () => {
    const r = fake.run(render("echo payload", false));
    expect(r).toEqual({ status: 0, stdout: "payload\n", stderr: "" });
  });

  it("commit_file replaces a file only when it differs, keeping its mode", () => {
    fake.write("etc/thing", "old\n", 0o640);
    const body = `
begin_file "$ROOT/etc/thing"
printf 'new\\n' >"$PI_TMP"
commit_file "$ROOT/etc/thing"
if [ "$PI_UPDATED" -eq 1 ]; then changed "updated"; fi`;
    expect(fake.run(render(body)).stdout).toContain("changed (1 change(s))");
    expect(fake.read("etc/thing")).toBe("new\n");
    expect(fake.mode("etc/thing")).toBe(0o640);
    expect(fake.run(render(body)).stdout).toContain("no change");
    const r = fake.run(`ls -A ${shellQuote(`${fake.root}/etc`)}`);
    expect(r.stdout.split("\n").filter((f) => f.includes("pi-cluster"))).toEqual([]);
  });
});

describe("commandName", () => {
  it("names a step's command after its node and reads it back", () => {
    expect(commandName("pi3-worker-1", "k3s-token")).toBe("pi3-worker-1/k3s-token");
    expect(parseCommandName("pi3-worker-1/k3s-token")).toEqual({
      hostname: "pi3-worker-1",
      step: "k3s-token",
    });
  });

  it("refuses names that are not step commands", () => {
    expect(parseCommandName("pi-k3s/not-a-step")).toBeUndefined();
    expect(parseCommandName("pi-k3s-labels")).toBeUndefined();
    expect(parseCommandName("pi-k3s/k3s-ready/extra")).toBeUndefined();
  });
});
