/**
 * Node preparation scripts run with real bash against a fake Pi root: each must make its change
 * once, report it, and do nothing on the second run; bad inputs fail with a clear message and
 * leave files untouched.
 */
import { existsSync } from "fs";
import {
  cgroupScript,
  hostnameScript,
  packagesScript,
  reachableScript,
  rebootScript,
  staticDnsScript,
  swapScript,
  verifyCgroupsScript,
  waitForBootScript,
  withEnv,
} from "../../provisioning";
import { ALL_NODES, network, pi3Worker, pi5Join, piK3s } from "./fixtures";
import { BOOKWORM_CMDLINE, FRESH_HOSTS, type FakePiOptions } from "./fake-pi";
import { expectFailure, expectReport, lastLine, mutatingCalls, useFakePis } from "./helpers";

const fakePi = useFakePis();

describe("reachableScript", () => {
  it("prints the OS and boot id and changes nothing", () => {
    const fake = fakePi({ bootId: "1b2c3d4e-0000-4000-8000-000000000001" });
    const r = fake.run(reachableScript(piK3s));
    expectReport(r, "pi-k3s", "reachable", 0);
    expect(r.stdout).toContain("\nboot-id=1b2c3d4e-0000-4000-8000-000000000001\n");
    expect(r.stdout).toContain("os=Debian GNU/Linux 12 (bookworm)\n");
    expect(mutatingCalls(fake.calls())).toEqual([]);
  });

  it.each<[string, FakePiOptions, RegExp]>([
    ["a 32-bit kernel", { arch: "armv7l" }, /runs a armv7l kernel, not aarch64\. Flash .*64-bit/],
    [
      "32-bit Raspberry Pi OS",
      { osRelease: 'PRETTY_NAME="Raspbian GNU/Linux 12 (bookworm)"\nID=raspbian\n' },
      /runs 32-bit Raspberry Pi OS/,
    ],
    [
      "Ubuntu",
      { osRelease: 'PRETTY_NAME="Ubuntu 24.04.1 LTS"\nID=ubuntu\nID_LIKE=debian\n' },
      /runs Ubuntu 24\.04\.1 LTS \(ID=ubuntu\), not Raspberry Pi OS/,
    ],
  ])("fails clearly on %s", (_name, opts, message) => {
    const r = fakePi(opts).run(reachableScript(pi3Worker));
    expectFailure(r, "pi3-worker-1", "reachable", message);
  });
});

describe("hostnameScript", () => {
  it.each(ALL_NODES.map((n) => [n.hostname, n] as const))(
    "%s: sets the hostname and the 127.0.1.1 line once",
    (hostname, node) => {
      const fake = fakePi();
      const first = fake.run(hostnameScript(node));
      expectReport(first, hostname, "hostname", 2);
      expect(first.stdout).toContain(`hostname set to ${hostname} (was raspberrypi)`);
      expect(fake.calls()).toEqual(["hostname", `hostnamectl set-hostname ${hostname}`]);
      expect(fake.read("etc/hostname")).toBe(`${hostname}\n`);
      expect(fake.read("etc/hosts")).toBe(
        FRESH_HOSTS.replace("127.0.1.1\t\traspberrypi", `127.0.1.1\t${hostname}`),
      );
      expect(fake.mode("etc/hosts")).toBe(0o644);

      fake.clearCalls();
      expectReport(fake.run(hostnameScript(node)), hostname, "hostname", 0);
      expect(fake.calls()).toEqual(["hostname"]);
    },
  );

  it("adds a missing 127.0.1.1 line and keeps a correct one as written", () => {
    const fake = fakePi({ hostname: "pi-k3s", hosts: "127.0.0.1 localhost\n" });
    expectReport(fake.run(hostnameScript(piK3s)), "pi-k3s", "hostname", 1);
    expect(fake.read("etc/hosts")).toBe("127.0.0.1 localhost\n127.0.1.1\tpi-k3s\n");

    const spaced = fakePi({
      hostname: "pi-k3s",
      hosts: "127.0.0.1 localhost\n127.0.1.1   pi-k3s\n",
    });
    expectReport(spaced.run(hostnameScript(piK3s)), "pi-k3s", "hostname", 0);
    expect(spaced.read("etc/hosts")).toBe("127.0.0.1 localhost\n127.0.1.1   pi-k3s\n");
  });
});

describe("cgroupScript", () => {
  const flagged = `${BOOKWORM_CMDLINE} cgroup_memory=1 cgroup_enable=memory\n`;

  it.each([
    ["bookworm", "boot/firmware/cmdline.txt"],
    ["legacy", "boot/cmdline.txt"],
  ] as const)("%s layout (%s): adds both flags once, keeps mode and one line", (layout, file) => {
    const fake = fakePi({ bootLayout: layout, cmdlineMode: 0o755 });
    const first = fake.run(cgroupScript(pi3Worker));
    expectReport(first, "pi3-worker-1", "cgroups", 1);
    expect(first.stdout).toContain("added cgroup_memory=1 cgroup_enable=memory to");
    expect(fake.read(file)).toBe(flagged);
    expect(fake.mode(file)).toBe(0o755);
    expect(fake.read(`${file}.pi-cluster.bak`)).toBe(`${BOOKWORM_CMDLINE}\n`);
    expect(fake.exists("run/pi-cluster/reboot-required")).toBe(true);

    fake.run('rm "$PI_ROOT/run/pi-cluster/reboot-required"'); // as the reboot would
    const second = fake.run(cgroupScript(pi3Worker));
    expectReport(second, "pi3-worker-1", "cgroups", 0);
    expect(fake.read(file)).toBe(flagged);
    expect(fake.read(`${file}.pi-cluster.bak`)).toBe(`${BOOKWORM_CMDLINE}\n`);
    expect(fake.exists("run/pi-cluster/reboot-required")).toBe(false);
  });

  it("adds only the missing flag, as a whole word, to a line without a trailing newline", () => {
    const line = `${BOOKWORM_CMDLINE} xcgroup_memory=1 cgroup_enable=memory`;
    const fake = fakePi({ cmdline: `${line}   ` });
    expectReport(fake.run(cgroupScript(piK3s)), "pi-k3s", "cgroups", 1);
    expect(fake.read("boot/firmware/cmdline.txt")).toBe(`${line} cgroup_memory=1\n`);
  });

  it("keeps the first backup when run after a later hand edit", () => {
    const fake = fakePi({ cmdline: `${BOOKWORM_CMDLINE} cgroup_enable=memory\n` });
    fake.write("boot/firmware/cmdline.txt.pi-cluster.bak", "original\n");
    expectReport(fake.run(cgroupScript(piK3s)), "pi-k3s", "cgroups", 1);
    expect(fake.read("boot/firmware/cmdline.txt.pi-cluster.bak")).toBe("original\n");
  });

  it("fails when there is no cmdline.txt", () => {
    const fake = fakePi({ bootLayout: "none" });
    expectFailure(fake.run(cgroupScript(piK3s)), "pi-k3s", "cgroups", /no kernel command line/);
    expect(fake.exists("run/pi-cluster/reboot-required")).toBe(false);
  });

  it("fails when /boot/firmware exists without cmdline.txt (partition not mounted)", () => {
    const fake = fakePi({ bootLayout: "legacy" });
    fake.run('mkdir "$PI_ROOT/boot/firmware"');
    expectFailure(
      fake.run(cgroupScript(piK3s)),
      "pi-k3s",
      "cgroups",
      /boot\/firmware\/cmdline\.txt is missing\. Is the boot partition mounted/,
    );
    expect(fake.read("boot/cmdline.txt")).toBe(`${BOOKWORM_CMDLINE}\n`);
  });

  it.each([
    [
      "two lines",
      `${BOOKWORM_CMDLINE}\ncgroup_enable=memory\n`,
      /has 2 lines; .* exactly one line/,
    ],
    ["an empty file", "", /has 0 lines/],
    ["no root=", "quiet splash\n", /no root= parameter/],
  ])("fails on %s and leaves the file untouched", (_name, content, message) => {
    const fake = fakePi({ cmdline: content });
    expectFailure(fake.run(cgroupScript(pi5Join)), "pi5-worker-1", "cgroups", message);
    expect(fake.read("boot/firmware/cmdline.txt")).toBe(content);
    expect(fake.exists("boot/firmware/cmdline.txt.pi-cluster.bak")).toBe(false);
    expect(fake.exists("run/pi-cluster/reboot-required")).toBe(false);
  });
});

describe("swapScript", () => {
  it("masks zram, disables dphys-swapfile and turns swap off, once", () => {
    const fake = fakePi();
    const first = fake.run(swapScript(pi3Worker));
    expectReport(first, "pi3-worker-1", "swap", 3);
    expect(first.stdout).toContain("masked systemd-zram-setup@zram0.service (was not installed)");
    expect(first.stdout).toContain("swapoff -a (was using: /var/swap)");
    expect(mutatingCalls(fake.calls())).toEqual([
      "systemctl mask systemd-zram-setup@zram0.service",
      "systemctl disable --now dphys-swapfile.service",
      "swapoff -a",
    ]);
    expect(
      fake
        .read("proc/swaps")
        .split("\n")
        .filter((l) => l !== ""),
    ).toHaveLength(1);

    fake.clearCalls();
    expectReport(fake.run(swapScript(pi3Worker)), "pi3-worker-1", "swap", 0);
    expect(mutatingCalls(fake.calls())).toEqual([]);
  });

  it("leaves a missing dphys-swapfile alone and skips swapoff without swap", () => {
    const fake = fakePi({
      units: { "systemd-zram-setup@zram0.service": { enabled: "generated", active: "active" } },
      swaps: ["/dev/zram0"],
    });
    const r = fake.run(swapScript(piK3s));
    expectReport(r, "pi-k3s", "swap", 2);
    expect(mutatingCalls(fake.calls())).toEqual([
      "systemctl mask systemd-zram-setup@zram0.service",
      "swapoff -a",
    ]);

    const none = fakePi({ units: {}, swaps: [] });
    none.run("systemctl mask systemd-zram-setup@zram0.service");
    none.clearCalls();
    expectReport(none.run(swapScript(piK3s)), "pi-k3s", "swap", 0);
    expect(mutatingCalls(none.calls())).toEqual([]);
  });
});

describe("staticDnsScript", () => {
  it("sets the DNS of the connection active on the interface, once", () => {
    const fake = fakePi({
      nm: {
        devices: { eth0: "netplan-eth0", wlan0: "" },
        connections: { "netplan-eth0": { dns: "192.168.1.55", ignoreAutoDns: "no" } },
      },
    });
    const first = fake.run(staticDnsScript(piK3s, network));
    expectReport(first, "pi-k3s", "static-dns", 1);
    expect(mutatingCalls(fake.calls())).toEqual([
      "nmcli connection modify netplan-eth0 ipv4.dns 1.1.1.1 8.8.8.8 ipv4.ignore-auto-dns yes",
      "nmcli device reapply eth0",
    ]);
    // Re-activating would take the link (and this SSH session) down: never up/down.
    expect(fake.calls().filter((c) => /^nmcli connection (up|down)\b/.test(c))).toEqual([]);
    expect(first.stdout).toContain("applied to the running device eth0 without re-activating it");
    expect(fake.read("state/nm/connections/netplan-eth0/ipv4.dns")).toBe("1.1.1.1,8.8.8.8\n");
    expect(fake.read("state/nm/connections/netplan-eth0/ipv4.ignore-auto-dns")).toBe("yes\n");

    fake.clearCalls();
    const second = fake.run(staticDnsScript(piK3s, network));
    expectReport(second, "pi-k3s", "static-dns", 0);
    expect(mutatingCalls(fake.calls())).toEqual([]);
  });

  it("handles a connection name with spaces and fixes ignore-auto-dns alone", () => {
    const fake = fakePi({
      nm: {
        devices: { end0: "Wired connection 1" },
        connections: { "Wired connection 1": { dns: "1.1.1.1,8.8.8.8", ignoreAutoDns: "no" } },
      },
    });
    expectReport(fake.run(staticDnsScript(pi5Join, network)), "pi5-worker-1", "static-dns", 1);
    expect(fake.read("state/nm/connections/Wired connection 1/ipv4.ignore-auto-dns")).toBe("yes\n");
    fake.clearCalls();
    expectReport(fake.run(staticDnsScript(pi5Join, network)), "pi5-worker-1", "static-dns", 0);
    expect(mutatingCalls(fake.calls())).toEqual([]);
  });

  it("keeps the link up when reapply is refused, and says when the DNS takes effect", () => {
    const fake = fakePi({
      nm: {
        devices: { eth0: "netplan-eth0" },
        connections: { "netplan-eth0": { dns: "", ignoreAutoDns: "no" } },
      },
    });
    fake.write("state/nm/reapply-fails", "");
    const run = fake.run(staticDnsScript(piK3s, network));
    expectReport(run, "pi-k3s", "static-dns", 1);
    expect(mutatingCalls(fake.calls())).toEqual([
      "nmcli connection modify netplan-eth0 ipv4.dns 1.1.1.1 8.8.8.8 ipv4.ignore-auto-dns yes",
      "nmcli device reapply eth0",
    ]);
    expect(run.stdout).toMatch(
      /nmcli device reapply eth0 failed \(Error: Reapplying connection to device 'eth0' failed: Can't reapply changes\.\): the DNS settings are saved and take effect at the next boot/,
    );
  });

  it("fails when no connection is active on the interface", () => {
    const fake = fakePi({ nm: { devices: { eth0: "" }, connections: {} } });
    expectFailure(
      fake.run(staticDnsScript(piK3s, network)),
      "pi-k3s",
      "static-dns",
      /no active NetworkManager connection on eth0\. Check 'nmcli device status'/,
    );
    expect(mutatingCalls(fake.calls())).toEqual([]);
  });

  it("fails when the interface does not exist", () => {
    const fake = fakePi();
    expectFailure(
      fake.run(staticDnsScript(pi5Join, network)),
      "pi5-worker-1",
      "static-dns",
      /nmcli cannot show device end0: Error: Device 'end0' not found\./,
    );
  });

  // PATH keeps /usr/bin and /bin for coreutils, so a host nmcli would shadow the missing stub.
  const hostHasNmcli = ["/usr/bin/nmcli", "/bin/nmcli"].some((p) => existsSync(p));
  (hostHasNmcli ? it.skip : it)("fails when nmcli is missing", () => {
    const fake = fakePi({ nm: false });
    expectFailure(
      fake.run(staticDnsScript(piK3s, network)),
      "pi-k3s",
      "static-dns",
      /nmcli not found.*install it/,
    );
  });

  it("rejects bad settings before rendering", () => {
    expect(() => staticDnsScript(piK3s, { ...network, nodeDns: [] })).toThrow(/nodeDns is empty/);
    expect(() => staticDnsScript(piK3s, { ...network, nodeDns: ["1.1.1.1; reboot"] })).toThrow(
      /not an IPv4 address/,
    );
    expect(() => staticDnsScript({ ...piK3s, interface: "eth0 x" }, network)).toThrow(
      /not a valid network interface/,
    );
  });
});

describe("rebootScript and waitForBootScript", () => {
  const before = "8d1f0f5e-4c7a-4f0e-9a55-2b1f6b3c0a11";
  const after = "f00dfeed-1111-4222-8333-444455556666";

  function output(stdout: string, key: string): string {
    const line = stdout.split("\n").find((l) => l.startsWith(`${key}=`));
    return line === undefined ? "" : line.slice(key.length + 1);
  }

  it("reboots only when asked, detached, and the wait step sees the new boot", () => {
    const fake = fakePi({ bootId: before });
    fake.write("run/pi-cluster/reboot-required", "");
    const first = fake.run(rebootScript(piK3s));
    expectReport(first, "pi-k3s", "reboot", 1);
    expect(output(first.stdout, "boot-id")).toBe(before);
    expect(output(first.stdout, "reboot")).toBe("scheduled");
    expect(fake.exists("run/nologin")).toBe(true);
    expect(mutatingCalls(fake.calls())).toEqual([
      "systemd-run --unit=pi-cluster-reboot --on-active=5 --timer-property=AccuracySec=1s systemctl reboot",
    ]);

    // A re-run before the timer fires does not schedule a second reboot.
    fake.clearCalls();
    const again = fake.run(rebootScript(piK3s));
    expectReport(again, "pi-k3s", "reboot", 0);
    expect(output(again.stdout, "reboot")).toBe("scheduled");
    expect(mutatingCalls(fake.calls())).toEqual([]);

    // The reboot: /run is emptied, the boot id changes.
    fake.run('rm -rf "$PI_ROOT/run"/* "$PI_ROOT/state/units/pi-cluster-reboot.timer.active"');
    fake.write("proc/sys/kernel/random/boot_id", `${after}\n`);
    const wait = fake.run(
      withEnv(waitForBootScript(piK3s), {
        PREVIOUS_BOOT_ID: output(first.stdout, "boot-id"),
        REBOOT: output(first.stdout, "reboot"),
      }),
    );
    expectReport(wait, "pi-k3s", "wait-for-boot", 0);
    expect(output(wait.stdout, "boot-id")).toBe(after);

    fake.clearCalls();
    const second = fake.run(rebootScript(piK3s));
    expectReport(second, "pi-k3s", "reboot", 0);
    expect(output(second.stdout, "reboot")).toBe("not-needed");
    expect(mutatingCalls(fake.calls())).toEqual([]);
    expect(fake.exists("run/nologin")).toBe(false);
  });

  it("wait-for-boot fails when a scheduled reboot did not happen", () => {
    const fake = fakePi({ bootId: before });
    const r = fake.run(
      withEnv(waitForBootScript(pi3Worker), { PREVIOUS_BOOT_ID: before, REBOOT: "scheduled" }),
    );
    expectFailure(
      r,
      "pi3-worker-1",
      "wait-for-boot",
      /pi3-worker-1 did not reboot \(boot id .* is unchanged\)\. Check the console and the power supply/,
    );
  });

  it("wait-for-boot passes without a reboot and refuses a missing REBOOT value", () => {
    const fake = fakePi({ bootId: before });
    const ok = fake.run(withEnv(waitForBootScript(piK3s), { REBOOT: "not-needed" }));
    expectReport(ok, "pi-k3s", "wait-for-boot", 0);
    expectFailure(fake.run(waitForBootScript(piK3s)), "pi-k3s", "wait-for-boot", /REBOOT is ''/);
  });
});

describe("verifyCgroupsScript", () => {
  it("passes when the memory controller is listed", () => {
    const r = fakePi().run(verifyCgroupsScript(piK3s));
    expectReport(r, "pi-k3s", "verify-cgroups", 0);
  });

  it("fails with the remedy when it is not", () => {
    const fake = fakePi({ cgroupControllers: "cpuset cpu io hugetlb pids rdma misc\n" });
    const r = fake.run(verifyCgroupsScript(pi3Worker));
    expectFailure(
      r,
      "pi3-worker-1",
      "verify-cgroups",
      /memory cgroup controller is not enabled .*cgroup_enable=memory.*then reboot/,
    );
    expect(lastLine(r.stdout)).toBe("");
  });
});

describe("packagesScript", () => {
  it("installs nfs-common once; a second run asks apt nothing", () => {
    const fake = fakePi();
    const first = fake.run(packagesScript(pi3Worker));
    expectReport(first, "pi3-worker-1", "packages", 1);
    expect(first.stdout).toContain("installed nfs-common");
    expect(mutatingCalls(fake.calls())).toEqual([
      "apt-get update -qq",
      "apt-get install -y -qq --no-install-recommends nfs-common",
    ]);
    fake.clearCalls();
    expectReport(fake.run(packagesScript(pi3Worker)), "pi3-worker-1", "packages", 0);
    expect(mutatingCalls(fake.calls())).toEqual([]);
  });

  it("installs only what is missing", () => {
    const fake = fakePi({ packages: ["nfs-common"] });
    expectReport(
      fake.run(packagesScript(piK3s, ["nfs-common", "open-iscsi"])),
      "pi-k3s",
      "packages",
      1,
    );
    expect(mutatingCalls(fake.calls())).toContain(
      "apt-get install -y -qq --no-install-recommends open-iscsi",
    );
  });

  it("fails with the remedy when apt cannot reach a mirror", () => {
    const fake = fakePi({ aptFails: true });
    expectFailure(
      fake.run(packagesScript(pi5Join)),
      "pi5-worker-1",
      "packages",
      /apt-get update failed\. Check the node reaches/,
    );
    expect(fake.exists("state/packages/nfs-common")).toBe(false);
  });

  it("refuses a package name that is not one", () => {
    expect(() => packagesScript(piK3s, ["nfs-common; rm -rf /"])).toThrow(
      '"nfs-common; rm -rf /" is not a Debian package name',
    );
  });
});
