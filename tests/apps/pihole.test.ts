/**
 * The DNS stack: Unbound's config checked by the real unbound-checkconf, the adlist sync run for
 * real against a stand-in for Pi-hole's v6 API, and what `pulumi preview` shows for Pi-hole.
 */
import { execFile, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import {
  adlistRevision,
  adlistSyncScript,
  MANAGED_COMMENT,
} from "../../components/apps/pihole/adlists";
import { unboundConf } from "../../components/apps/pihole/unbound";
import { image } from "../../components/apps/images";
import { fakeClusterIp } from "../../plan/mocks";
import { StackRun } from "../../plan/run";
import { configProblems, named, ofType, planStack } from "../support/stack";
import { startPiholeStandIn } from "./pihole-api-stand-in";

const run = promisify(execFile);

describe("unbound.conf", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "unbound-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** The generated config, with the image's paths moved into a temp dir Debian's files fill. */
  function checkconf(extra = ""): { status: number | null; output: string } {
    fs.mkdirSync(path.join(dir, "iana.d"), { recursive: true });
    // Debian's dns-root-data (a dependency of unbound) has the root anchor and hints.
    fs.copyFileSync("/usr/share/dns/root.key", path.join(dir, "iana.d/root.key"));
    fs.copyFileSync("/usr/share/dns/root.hints", path.join(dir, "iana.d/root.hints"));
    const conf = unboundConf(
      { lanCidr: "192.168.1.0/24", privateDomains: ["lab.mtgibbs.dev"] },
      {
        directory: dir,
        trustAnchor: path.join(dir, "iana.d/root.key"),
        rootHints: path.join(dir, "iana.d/root.hints"),
        // Debian's package user; the image's is _unbound.
        user: "unbound",
      },
    );
    const file = path.join(dir, "unbound.conf");
    fs.writeFileSync(file, conf + extra);
    const result = spawnSync("unbound-checkconf", [file], { encoding: "utf8" });
    if (result.error) {
      throw new Error(
        `unbound-checkconf not found: install the Debian package unbound (${result.error.message})`,
      );
    }
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
  }

  test("passes the real unbound-checkconf", () => {
    const result = checkconf();
    expect(result.output).toContain("no errors");
    expect(result.status).toBe(0);
  });

  test("the check is real: a bad option fails it", () => {
    expect(checkconf("    prefetch-everything: yes\n").status).not.toBe(0);
  });

  test("Pi-hole's guide settings, a Service's listen address, the pod network and the LAN only", () => {
    const conf = unboundConf({ lanCidr: "192.168.1.0/24", privateDomains: ["lab.mtgibbs.dev"] });
    for (const line of [
      "interface: 0.0.0.0",
      "port: 5335",
      "do-ip6: no",
      "harden-glue: yes",
      "harden-dnssec-stripped: yes",
      "use-caps-for-id: no",
      "edns-buffer-size: 1232",
      "prefetch: yes",
      "num-threads: 1",
      "so-rcvbuf: 1m",
      "access-control: 0.0.0.0/0 refuse",
      "access-control: 10.42.0.0/16 allow",
      "access-control: 192.168.1.0/24 allow",
      // *.lab.mtgibbs.dev resolves to 192.168.1.55 on public DNS: rebinding protection would drop it.
      'private-domain: "lab.mtgibbs.dev"',
      'auto-trust-anchor-file: "/usr/local/unbound/iana.d/root.key"',
    ]) {
      expect(conf).toContain(`    ${line}\n`);
    }
  });
});

describe("adlist sync against a stand-in for the v6 API", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "adlists-"));
  const script = path.join(dir, "sync.sh");
  fs.writeFileSync(script, adlistSyncScript());
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const LISTS = ["https://adaway.org/hosts.txt", "https://v.firebog.net/hosts/Easylist.txt"];

  async function sync(
    url: string,
    lists: readonly string[],
    password = "correct horse",
    wait = 10,
  ) {
    const file = path.join(dir, "adlists.txt");
    fs.writeFileSync(file, lists.join("\n") + "\n");
    return run("bash", [script], {
      env: {
        PATH: process.env.PATH,
        PIHOLE_URL: url,
        PIHOLE_PASSWORD: password,
        ADLISTS_FILE: file,
        WAIT_SECONDS: String(wait),
        POLL_SECONDS: "1",
      },
    });
  }

  test("adds what is missing once, then a second run posts nothing and skips gravity", async () => {
    const api = await startPiholeStandIn({ password: "correct horse" });
    try {
      const first = await sync(api.url, LISTS);
      expect(first.stdout).toContain("added 2, removed 0, gravity updated");
      const posts = api.calls.filter((c) => c.method === "POST" && c.path.startsWith("/api/lists"));
      expect(posts).toEqual([
        {
          method: "POST",
          path: "/api/lists?type=block",
          sid: "sid-1",
          body: { address: LISTS, comment: MANAGED_COMMENT, groups: [0], enabled: true },
        },
      ]);
      expect(api.calls.filter((c) => c.path === "/api/action/gravity")).toHaveLength(1);

      api.calls.length = 0;
      const second = await sync(api.url, LISTS);
      expect(second.stdout).toContain("no change (2 lists already present)");
      expect(api.calls.map((c) => `${c.method} ${c.path}`)).toEqual([
        "GET /api/info/login",
        "POST /api/auth",
        "GET /api/lists?type=block",
        "DELETE /api/auth",
      ]);
      // Logged out both times: Pi-hole allows only 16 sessions.
      expect(api.openSessions()).toBe(0);
    } finally {
      await api.close();
    }
  });

  test("removes only the lists it added that were dropped, never one added by hand", async () => {
    const api = await startPiholeStandIn({
      password: "correct horse",
      lists: [
        { address: LISTS[0], comment: MANAGED_COMMENT },
        { address: LISTS[1], comment: MANAGED_COMMENT },
        { address: "https://example.org/by-hand.txt", comment: "added in the web UI" },
      ],
    });
    try {
      const result = await sync(api.url, [LISTS[0]]);
      expect(result.stdout).toContain("added 0, removed 1, gravity updated");
      expect(
        api.calls.filter((c) => c.method === "DELETE" && c.path.startsWith("/api/lists")),
      ).toEqual([
        {
          method: "DELETE",
          path: `/api/lists/${encodeURIComponent(LISTS[1])}?type=block`,
          sid: "sid-1",
          body: undefined,
        },
      ]);
      expect(api.lists.map((l) => l.address)).toEqual([
        LISTS[0],
        "https://example.org/by-hand.txt",
      ]);
    } finally {
      await api.close();
    }
  });

  test("waits through a slow first start (gravity before DNS) instead of failing", async () => {
    const api = await startPiholeStandIn({ password: "correct horse", notReadyFor: 3 });
    try {
      const result = await sync(api.url, LISTS);
      expect(result.stdout).toContain("added 2");
      expect(api.calls.filter((c) => c.path === "/api/info/login")).toHaveLength(4);
    } finally {
      await api.close();
    }
  });

  test("a wrong password fails loudly, names the Secret, and leaves the lists alone", async () => {
    const api = await startPiholeStandIn({ password: "correct horse" });
    try {
      await expect(sync(api.url, LISTS, "wrong")).rejects.toMatchObject({
        stderr: expect.stringContaining(
          "Pi-hole refused the password (check the pihole-secret Secret",
        ),
      });
      expect(api.lists).toEqual([]);
      // The password never reaches a command line: it goes to curl on stdin.
      expect(adlistSyncScript()).not.toMatch(/curl[^\n]*\$PIHOLE_PASSWORD/);
    } finally {
      await api.close();
    }
  });

  test("a Pi-hole that never comes up fails after the wait with what to check", async () => {
    const api = await startPiholeStandIn({ password: "x", notReadyFor: 1000 });
    try {
      await expect(sync(api.url, LISTS, "x", 2)).rejects.toMatchObject({
        stderr: expect.stringContaining("did not answer /api/info/login with dns=true within 2s"),
      });
    } finally {
      await api.close();
    }
  });

  test("the script passes shellcheck", () => {
    const result = spawnSync("shellcheck", ["-s", "bash", script], { encoding: "utf8" });
    expect(result.error).toBeUndefined();
    expect(result.stdout).toBe("");
    expect(result.status).toBe(0);
  });

  test("the Job's name changes with the lists and only with them", () => {
    const img = image("pihole");
    expect(adlistRevision(LISTS, img)).toBe(adlistRevision([...LISTS].reverse(), img));
    expect(adlistRevision(LISTS, img)).not.toBe(adlistRevision(LISTS.slice(1), img));
  });
});

describe("pi-k3s: what pulumi preview shows for Pi-hole", () => {
  let stack: StackRun;
  beforeAll(async () => {
    stack = await planStack("pi-k3s");
  });
  const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- manifests are walked as JSON
  const pod = (name: string) => (named(stack, DEPLOYMENT, name).inputs as any).spec.template.spec;

  test("host network on pi-k3s, Recreate, 53/udp, 53/tcp and 80 only", () => {
    const deployment = named(stack, DEPLOYMENT, "pihole").inputs as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(deployment.spec.strategy).toEqual({ type: "Recreate" });
    expect(deployment.spec.replicas).toBe(1);
    const spec = pod("pihole");
    expect(spec.hostNetwork).toBe(true);
    expect(spec.dnsPolicy).toBe("ClusterFirstWithHostNet");
    expect(spec.nodeSelector).toEqual({ "kubernetes.io/hostname": "pi-k3s" });
    expect(
      spec.containers[0].ports.map(
        (p: { hostPort: number; protocol: string }) => `${p.hostPort}/${p.protocol}`,
      ),
    ).toEqual(["53/UDP", "53/TCP", "80/TCP"]);
    expect(spec.containers[0].resources).toEqual({
      requests: { cpu: "100m", memory: "128Mi" },
      limits: { cpu: "500m", memory: "512Mi" },
    });
  });

  test("FTLCONF: Unbound's ClusterIP from its Service, DNSSEC off, web on 80 only, no NTP or DHCP", () => {
    const env = Object.fromEntries(
      pod("pihole").containers[0].env.map((e: { name: string; value?: string }) => [
        e.name,
        e.value,
      ]),
    );
    expect(env.FTLCONF_dns_upstreams).toBe(`${fakeClusterIp("unbound")}#5335`);
    expect(env.FTLCONF_dns_dnssec).toBe("false");
    expect(env.FTLCONF_webserver_port).toBe("80");
    expect(env.FTLCONF_dns_listeningMode).toBe("LOCAL");
    expect(env.FTLCONF_ntp_ipv4_active).toBe("false");
    expect(env.FTLCONF_dhcp_active).toBe("false");
    // v5 names are ignored by v6: none may creep back in.
    for (const v5 of ["WEBPASSWORD", "PIHOLE_DNS_", "DNSSEC", "WEB_PORT"])
      expect(env).not.toHaveProperty(v5);
    const password = pod("pihole").containers[0].env.find(
      (e: { name: string }) => e.name === "FTLCONF_webserver_api_password",
    );
    expect(password.valueFrom).toEqual({
      secretKeyRef: { name: "pihole-secret", key: "password" },
    });
  });

  test("/etc/pihole on the live claim's name and class, protected and kept on delete", () => {
    const claim = named(stack, "kubernetes:core/v1:PersistentVolumeClaim", "pihole-pihole-etc");
    expect(claim.inputs).toMatchObject({
      metadata: { name: "pihole-etc", namespace: "pihole" },
      spec: {
        // The live claim's class (pi-cluster:volumes): a claim's class cannot change in place.
        storageClassName: "local-path",
        accessModes: ["ReadWriteOnce"],
        resources: { requests: { storage: "1Gi" } },
      },
    });
    expect(claim.options.protect).toBe(true);
    expect(claim.options.retainOnDelete).toBe(true);
  });

  test("Unbound on pi3-worker-1; the exporter's ServiceMonitor waits for the monitoring release", () => {
    expect(pod("unbound").nodeSelector).toEqual({ "kubernetes.io/hostname": "pi3-worker-1" });
    const monitor = named(
      stack,
      "kubernetes:monitoring.coreos.com/v1:ServiceMonitor",
      "pihole-exporter",
    );
    expect(monitor.dependsOn).toContain("kubernetes:helm.sh/v3:Release::kube-prometheus-stack");
    expect(monitor.inputs.spec).toEqual({
      selector: { matchLabels: { "app.kubernetes.io/name": "pihole-exporter" } },
      endpoints: [{ port: "metrics", path: "/metrics", interval: "30s", scrapeTimeout: "10s" }],
    });
  });

  test("one adlist Job, after Pi-hole, carrying the stack's lists", () => {
    const [job] = ofType(stack, "kubernetes:batch/v1:Job");
    expect(job.dependsOn).toContain("kubernetes:apps/v1:Deployment::pihole");
    const configMap = named(stack, "kubernetes:core/v1:ConfigMap", "pihole-adlists");
    const lists = String((configMap.inputs.data as Record<string, string>)["adlists.txt"])
      .trim()
      .split("\n");
    expect(lists).toContain("https://v.firebog.net/hosts/Easylist.txt");
    expect(lists.length).toBeGreaterThanOrEqual(20);
  });
});

test("a stack keeping the live claim's name and class declares exactly those (adopted in place)", async () => {
  const kept = await planStack("pi-k3s", (raw) => {
    raw.volumes = {
      "pihole/pihole-etc": { liveName: "pihole-config", storageClass: "local-path" },
      "monitoring/kube-prometheus-stack-grafana": { storageClass: "local-path" },
    };
  });
  const claim = named(kept, "kubernetes:core/v1:PersistentVolumeClaim", "pihole-pihole-etc");
  expect(claim.inputs).toMatchObject({
    metadata: { name: "pihole-config" },
    spec: { storageClassName: "local-path" },
  });
  const pod = (named(kept, "kubernetes:apps/v1:Deployment", "pihole").inputs as any).spec.template
    .spec; // eslint-disable-line @typescript-eslint/no-explicit-any
  expect(pod.volumes).toEqual([
    { name: "etc-pihole", persistentVolumeClaim: { claimName: "pihole-config" } },
  ]);
  const grafana = (
    named(kept, "kubernetes:helm.sh/v3:Release", "kube-prometheus-stack").inputs as any
  ).values.grafana; // eslint-disable-line @typescript-eslint/no-explicit-any
  expect(grafana.persistence.storageClassName).toBe("local-path");
});

describe("bad Pi-hole config", () => {
  const problems = configProblems;

  test("an adlist that is not an http(s) URL", () => {
    expect(problems((r) => (r.apps.pihole.adlists[2] = "ftp://lists.example/hosts"))).toEqual([
      'pi-cluster:apps.pihole.adlists[2]: "ftp://lists.example/hosts" is invalid: is not an http(s) URL',
    ]);
  });

  test("a DNS address that is no node's", () => {
    expect(problems((r) => (r.apps.pihole.dnsAddress = "192.168.1.100"))).toEqual([
      'pi-cluster:apps.pihole.dnsAddress: "192.168.1.100" is no node\'s address; Pi-hole runs on the host network of the node clients use as DNS: one of 192.168.1.55 (pi-k3s), 192.168.1.53 (pi3-worker-1), 192.168.1.51 (pi3-worker-2)',
    ]);
  });

  test("two apps on one host port of one node", () => {
    // node-exporter already listens on 9100 on every node.
    expect(problems((r) => (r.apps.pihole.webPort = 9100))).toEqual([
      "pi-cluster:placement.pihole: host port 9100/TCP on node pi-k3s is used by both node-exporter and pihole; place one of them on another node or change its port",
    ]);
  });

  test("Pi-hole placed on a node that cannot hold it", () => {
    expect(
      problems((r) => {
        r.apps.pihole.dnsAddress = "192.168.1.53";
        r.nodes[1].allocatableMemory = "300Mi";
      })[0],
    ).toMatch(
      /^node pi3-worker-1 is overcommitted: pods request \d+Mi of memory but only 100Mi is free for pods/,
    );
  });

  test("the password is required", () => {
    expect(problems((r) => delete r.secrets.piholePassword)).toEqual([
      "pi-cluster:secrets.piholePassword is required by pihole (a 1Password reference op://<vault>/<item>/<field>)",
    ]);
  });
});
