/**
 * A fake Raspberry Pi root for running the generated scripts with real bash: a temp dir laid out
 * like a bookworm node (`boot/firmware/cmdline.txt`, `etc/hosts`, `proc/swaps`, ...) plus a `bin/`
 * of stub commands. Every stub appends its argv to `calls.log` and keeps its state in files under
 * `state/`, so a second run sees what the first one did (e.g. `systemctl mask` changes what
 * `systemctl is-enabled` prints; the installer fetched by the curl stub makes `k3s --version`
 * report the installed release).
 */
import { spawnSync } from "child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "fs";
import { tmpdir } from "os";
import { dirname, join } from "path";

/** A realistic bookworm kernel line (one line, as the firmware wants it). */
export const BOOKWORM_CMDLINE =
  "console=serial0,115200 console=tty1 root=PARTUUID=4e639091-02 rootfstype=ext4 " +
  "fsck.repair=yes rootwait quiet splash plymouth.ignore-serial-consoles " +
  "cfg80211.ieee80211_regdom=US";

/** Raspberry Pi OS (64-bit) bookworm's /etc/os-release. */
export const BOOKWORM_OS_RELEASE = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
SUPPORT_URL="https://www.debian.org/support"
BUG_REPORT_URL="https://bugs.debian.org/"
`;

/** /etc/hosts as Raspberry Pi OS writes it for a fresh image. */
export const FRESH_HOSTS = `127.0.0.1\tlocalhost
::1\t\tlocalhost ip6-localhost ip6-loopback
ff02::1\t\tip6-allnodes
ff02::2\t\tip6-allrouters

127.0.1.1\t\traspberrypi
`;

const SWAPS_HEADER = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n";

/** State of one systemd unit in the fake. */
export interface FakeUnit {
  /** What `systemctl is-enabled` prints (`enabled`, `disabled`, `masked`, ...). */
  readonly enabled: string;
  /** `active` or `inactive`. */
  readonly active: string;
}

/** How to lay out the fake node. Every field has a fresh-bookworm default. */
export interface FakePiOptions {
  /** Hostname before provisioning. @default "raspberrypi" */
  readonly hostname?: string;
  /** `bookworm`: boot/firmware/cmdline.txt; `legacy`: boot/cmdline.txt; `none`: neither. */
  readonly bootLayout?: "bookworm" | "legacy" | "none";
  /** Content of cmdline.txt. @default BOOKWORM_CMDLINE + "\n" */
  readonly cmdline?: string;
  /** Mode of cmdline.txt (the FAT partition shows 0755). @default 0o755 */
  readonly cmdlineMode?: number;
  /** @default FRESH_HOSTS */
  readonly hosts?: string;
  /** @default BOOKWORM_OS_RELEASE */
  readonly osRelease?: string;
  /** What `uname -m` prints. @default "aarch64" */
  readonly arch?: string;
  /** Active swap areas listed in /proc/swaps. @default ["/var/swap"] */
  readonly swaps?: readonly string[];
  /** @default "8d1f0f5e-4c7a-4f0e-9a55-2b1f6b3c0a11" */
  readonly bootId?: string;
  /** Content of sys/fs/cgroup/cgroup.controllers. @default with memory */
  readonly cgroupControllers?: string;
  /** Known systemd units. @default dphys-swapfile enabled and active */
  readonly units?: Readonly<Record<string, FakeUnit>>;
  /** NetworkManager: `false` leaves out the nmcli stub. */
  readonly nm?:
    | false
    | {
        /** Device → name of its active connection ("" when none). */
        readonly devices: Readonly<Record<string, string>>;
        /** Connection name → current ipv4.dns (nmcli's comma form) and ignore-auto-dns. */
        readonly connections: Readonly<Record<string, { dns: string; ignoreAutoDns: string }>>;
      };
  /** k3s release already installed (e.g. "v1.32.9+k3s1"), or none. */
  readonly k3sInstalled?: { readonly version: string; readonly role: "server" | "agent" };
  /** Debian packages already installed. @default none */
  readonly packages?: readonly string[];
  /** Make apt-get fail like a node without a mirror. @default false */
  readonly aptFails?: boolean;
  /** Make the curl stub fail like a node without DNS. @default false */
  readonly curlFails?: boolean;
}

/** Result of running a script in the fake. */
export interface RunResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A fake Pi root directory with helpers to run scripts and inspect files and calls. */
export interface FakePi {
  readonly root: string;
  /** Runs `bash --norc -c <script>` with PI_ROOT=root, PATH=root/bin:/usr/bin:/bin, HOME=root. */
  run(script: string, opts?: { stdin?: string; env?: Readonly<Record<string, string>> }): RunResult;
  /** Reads a file under the root (path relative to it). */
  read(path: string): string;
  write(path: string, content: string, mode?: number): void;
  exists(path: string): boolean;
  /** Permission bits of a file under the root, e.g. 0o600. */
  mode(path: string): number;
  /** Lines of calls.log. */
  calls(): string[];
  clearCalls(): void;
  /** Removes the root. */
  cleanup(): void;
}

// Each stub logs its argv, then acts on state files under $PI_ROOT/state.
const STUB_HEAD = `#!/bin/bash
set -u
S="$PI_ROOT/state"
printf '%s\\n' "$(basename "$0")\${*:+ $*}" >>"$PI_ROOT/calls.log"
`;

const STUBS: Record<string, string> = {
  uname: `case "\${1:-}" in
  -m) cat "$S/arch" ;;
  *) echo Linux ;;
esac`,

  hostname: `cat "$PI_ROOT/etc/hostname"`,

  hostnamectl: `if [ "\${1:-}" = set-hostname ]; then printf '%s\\n' "$2" >"$PI_ROOT/etc/hostname"; fi`,

  systemctl: `unit() { case "$1" in *.*) printf '%s' "$1" ;; *) printf '%s.service' "$1" ;; esac; }
cmd="$1"; shift
quiet=0; now=0; args=()
for a in "$@"; do
  case "$a" in
    --quiet) quiet=1 ;;
    --now) now=1 ;;
    -*) ;;
    *) args+=("$(unit "$a")") ;;
  esac
done
case "$cmd" in
  is-enabled)
    f="$S/units/\${args[0]}.enabled"
    if [ ! -f "$f" ]; then
      echo "Failed to get unit file state for \${args[0]}: No such file or directory" >&2
      exit 1
    fi
    st="$(cat "$f")"
    [ "$quiet" = 1 ] || echo "$st"
    case "$st" in enabled|static|generated|alias|indirect) exit 0 ;; *) exit 1 ;; esac
    ;;
  is-active)
    st="$(cat "$S/units/\${args[0]}.active" 2>/dev/null || echo inactive)"
    [ "$quiet" = 1 ] || echo "$st"
    [ "$st" = active ]
    ;;
  mask) for u in "\${args[@]}"; do echo masked >"$S/units/$u.enabled"; done ;;
  disable)
    for u in "\${args[@]}"; do
      echo disabled >"$S/units/$u.enabled"
      if [ "$now" = 1 ]; then echo inactive >"$S/units/$u.active"; fi
    done
    ;;
  start|restart) for u in "\${args[@]}"; do echo active >"$S/units/$u.active"; done ;;
  stop) for u in "\${args[@]}"; do echo inactive >"$S/units/$u.active"; done ;;
  *) ;;
esac`,

  swapoff: `printf '%s' "$(head -n 1 "$PI_ROOT/proc/swaps")" >"$PI_ROOT/proc/swaps.new"
echo >>"$PI_ROOT/proc/swaps.new"
mv "$PI_ROOT/proc/swaps.new" "$PI_ROOT/proc/swaps"`,

  "systemd-run": `for a in "$@"; do
  case "$a" in --unit=*) echo active >"$S/units/\${a#--unit=}.timer.active" ;; esac
done
echo "Running timer as unit: pi-cluster-reboot.timer"`,

  reboot: `echo "reboot stub: not rebooting" >&2`,

  // Installed packages are files under state/packages.
  "dpkg-query": `pkg="\${*: -1}"
if [ -f "$S/packages/$pkg" ]; then printf 'install ok installed'; else echo "dpkg-query: no packages found matching $pkg" >&2; exit 1; fi`,

  "apt-get": `if [ -f "$S/apt-fails" ]; then echo "E: Could not resolve 'deb.debian.org'" >&2; exit 100; fi
if [ "\${*#*install}" != "$*" ]; then
  for a in "$@"; do
    case "$a" in -*|install) ;; *) mkdir -p "$S/packages"; : >"$S/packages/$a" ;; esac
  done
fi`,

  journalctl: `echo "Nov 23 15:42:00 node k3s[1234]: level=error msg=\\"fake journal line\\""`,

  nmcli: `get=''
if [ "\${1:-}" = -g ]; then get="$2"; shift 2; fi
obj="$1"; action="$2"; name="\${3:-}"
case "$obj $action" in
  "device show")
    if [ ! -f "$S/nm/devices/$name" ]; then echo "Error: Device '$name' not found." >&2; exit 10; fi
    cat "$S/nm/devices/$name"
    ;;
  "connection show")
    c="$S/nm/connections/$name"
    if [ ! -d "$c" ]; then echo "Error: $name - no such connection profile." >&2; exit 10; fi
    IFS=, read -r -a fields <<<"$get"
    for f in "\${fields[@]}"; do cat "$c/$f"; done
    ;;
  "connection modify")
    c="$S/nm/connections/$name"
    shift 3
    while [ $# -ge 2 ]; do
      case "$1" in
        ipv4.dns) printf '%s\\n' "$(printf '%s' "$2" | tr ' ' ',')" >"$c/ipv4.dns" ;;
        *) printf '%s\\n' "$2" >"$c/$1" ;;
      esac
      shift 2
    done
    ;;
  "connection up"|"connection down")
    echo "Connection successfully $action (D-Bus active path: /org/freedesktop/NetworkManager/ActiveConnection/7)"
    ;;
  "device reapply")
    if [ ! -f "$S/nm/devices/$name" ]; then echo "Error: Device '$name' not found." >&2; exit 10; fi
    if [ -f "$S/nm/reapply-fails" ]; then echo "Error: Reapplying connection to device '$name' failed: Can't reapply changes." >&2; exit 1; fi
    ;;
esac`,

  // Downloads the "installer": a script that records its environment and installs the k3s stub.
  curl: `out=''
while [ $# -gt 0 ]; do
  case "$1" in -o) out="$2"; shift ;; esac
  shift
done
if [ -f "$S/curl-fails" ]; then echo "curl: (6) Could not resolve host: get.k3s.io" >&2; exit 6; fi
cat >"$out" <<'INSTALLER'
#!/bin/sh
set -e
S="$PI_ROOT/state"
echo "installer INSTALL_K3S_VERSION=$INSTALL_K3S_VERSION INSTALL_K3S_EXEC=$INSTALL_K3S_EXEC" >>"$PI_ROOT/calls.log"
echo "[INFO]  Using $INSTALL_K3S_VERSION as release"
printf '%s\\n' "$INSTALL_K3S_VERSION" >"$S/k3s-version"
if [ "$INSTALL_K3S_EXEC" = server ]; then svc=k3s; else svc=k3s-agent; fi
echo enabled >"$S/units/$svc.service.enabled"
echo active >"$S/units/$svc.service.active"
mkdir -p "$PI_ROOT/usr/local/bin"
cat >"$PI_ROOT/usr/local/bin/$svc-uninstall.sh" <<EOF
#!/bin/sh
echo "$svc-uninstall.sh" >>"\\$PI_ROOT/calls.log"
rm -f "\\$PI_ROOT/state/k3s-version" "\\$0"
rm -rf "\\$PI_ROOT/etc/rancher/k3s"
EOF
chmod +x "$PI_ROOT/usr/local/bin/$svc-uninstall.sh"
INSTALLER`,

  k3s: `if [ ! -f "$S/k3s-version" ]; then echo "bash: k3s: command not found" >&2; exit 127; fi
case "$1" in
  --version)
    echo "k3s version $(cat "$S/k3s-version") (8d0cd2a1)"
    echo "go version go1.24.9"
    ;;
  kubectl)
    shift
    case "$1 $2" in
      "get --raw")
        if [ -f "$S/readyz" ]; then cat "$S/readyz"; else
          echo "The connection to the server 127.0.0.1:6443 was refused" >&2; exit 1; fi
        ;;
      "get node")
        if [ -f "$S/nodes/$3" ]; then echo "node/$3"; else
          echo "Error from server (NotFound): nodes \\"$3\\" not found" >&2; exit 1; fi
        ;;
      "drain "*) echo "node/$2 drained" ;;
      "delete node") rm -f "$S/nodes/$3"; echo "node \\"$3\\" deleted" ;;
    esac
    ;;
esac`,
};

/** Creates a fake Pi root laid out by `opts`. Call `cleanup()` when done. */
export function createFakePi(opts: FakePiOptions = {}): FakePi {
  const root = mkdtempSync(join(tmpdir(), "fake-pi-"));
  const path = (p: string): string => join(root, p);
  const write = (p: string, content: string, mode = 0o644): void => {
    mkdirSync(dirname(path(p)), { recursive: true });
    writeFileSync(path(p), content);
    chmodSync(path(p), mode);
  };

  const layout = opts.bootLayout ?? "bookworm";
  const cmdline = opts.cmdline ?? `${BOOKWORM_CMDLINE}\n`;
  if (layout === "bookworm") write("boot/firmware/cmdline.txt", cmdline, opts.cmdlineMode ?? 0o755);
  if (layout === "legacy") write("boot/cmdline.txt", cmdline, opts.cmdlineMode ?? 0o755);
  write("etc/hostname", `${opts.hostname ?? "raspberrypi"}\n`);
  write("etc/hosts", opts.hosts ?? FRESH_HOSTS);
  write("etc/os-release", opts.osRelease ?? BOOKWORM_OS_RELEASE);
  const swaps = opts.swaps ?? ["/var/swap"];
  write(
    "proc/swaps",
    SWAPS_HEADER + swaps.map((s) => `${s}\t\t\t\tfile\t\t102396\t\t0\t\t-2\n`).join(""),
  );
  write(
    "proc/sys/kernel/random/boot_id",
    `${opts.bootId ?? "8d1f0f5e-4c7a-4f0e-9a55-2b1f6b3c0a11"}\n`,
  );
  write(
    "sys/fs/cgroup/cgroup.controllers",
    opts.cgroupControllers ?? "cpuset cpu io memory hugetlb pids rdma misc\n",
  );
  mkdirSync(path("run"), { recursive: true });
  write("calls.log", "");

  write("state/arch", `${opts.arch ?? "aarch64"}\n`);
  mkdirSync(path("state/units"), { recursive: true });
  mkdirSync(path("state/nodes"), { recursive: true });
  const units = opts.units ?? {
    "dphys-swapfile.service": { enabled: "enabled", active: "active" },
  };
  for (const [unit, st] of Object.entries(units)) {
    write(`state/units/${unit}.enabled`, `${st.enabled}\n`);
    write(`state/units/${unit}.active`, `${st.active}\n`);
  }
  const nm = opts.nm ?? {
    devices: { eth0: "Wired connection 1" },
    connections: { "Wired connection 1": { dns: "", ignoreAutoDns: "no" } },
  };
  if (nm !== false) {
    for (const [dev, conn] of Object.entries(nm.devices))
      write(`state/nm/devices/${dev}`, `${conn}\n`);
    for (const [name, c] of Object.entries(nm.connections)) {
      write(`state/nm/connections/${name}/ipv4.dns`, `${c.dns}\n`);
      write(`state/nm/connections/${name}/ipv4.ignore-auto-dns`, `${c.ignoreAutoDns}\n`);
    }
  }
  if (opts.k3sInstalled) {
    write("state/k3s-version", `${opts.k3sInstalled.version}\n`);
    const svc = opts.k3sInstalled.role === "server" ? "k3s" : "k3s-agent";
    write(`state/units/${svc}.service.enabled`, "enabled\n");
    write(`state/units/${svc}.service.active`, "active\n");
  }
  if (opts.curlFails) write("state/curl-fails", "");
  for (const pkg of opts.packages ?? []) write(`state/packages/${pkg}`, "");
  if (opts.aptFails) write("state/apt-fails", "");

  for (const [name, body] of Object.entries(STUBS)) {
    if (name === "nmcli" && nm === false) continue;
    write(`bin/${name}`, `${STUB_HEAD}${body}\n`, 0o755);
  }

  return {
    root,
    run(script, runOpts = {}) {
      // --norc, HOME: node's stdio pipes are sockets, which makes bash read ~/.bashrc as if run
      // by sshd; the fake must not depend on the host's.
      const r = spawnSync("bash", ["--norc", "-c", script], {
        env: {
          PI_ROOT: root,
          PATH: `${root}/bin:/usr/bin:/bin`,
          HOME: root,
          LANG: "C",
          ...runOpts.env,
        },
        input: runOpts.stdin ?? "",
        encoding: "utf8",
        timeout: 30_000,
      });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    },
    read: (p) => readFileSync(path(p), "utf8"),
    write,
    exists: (p) => existsSync(path(p)),
    mode: (p) => statSync(path(p)).mode & 0o7777,
    calls: () =>
      readFileSync(path("calls.log"), "utf8")
        .split("\n")
        .filter((l) => l !== ""),
    clearCalls: () => writeFileSync(path("calls.log"), ""),
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}
