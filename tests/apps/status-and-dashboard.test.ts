/** Uptime Kuma + AutoKuma and Homepage in pi-k3s, as `pulumi preview` would show them. */
import * as YAML from "yaml";
import { entryMonitor, monitorId, nonWebMonitor } from "../../components/apps/uptime-kuma/monitors";
import { groupOrder, servicesYaml, widgetEnvName } from "../../components/apps/homepage/config";
import { canariesIn } from "../../plan/mocks";
import { isSecretInput } from "../../plan/record";
import { StackRun } from "../../plan/run";
import { CatalogEntry } from "../../topology/catalog";
import { ConfigError } from "../../topology/errors";
import { named, planned, planStack } from "../support/stack";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- manifests are walked as JSON
type Json = any;

let stack: StackRun;
beforeAll(async () => {
  stack = await planStack("pi-k3s");
});
const deployment = (name: string): Json =>
  named(stack, "kubernetes:apps/v1:Deployment", name).inputs;
const env = (container: Json): Record<string, Json> =>
  Object.fromEntries(container.env.map((e: Json) => [e.name, e.value ?? e.valueFrom]));

describe("Uptime Kuma and AutoKuma", () => {
  test("Uptime Kuma: SQLite by environment, its 2Gi volume (the live claim kept), Recreate", () => {
    const kuma = deployment("uptime-kuma");
    expect(kuma.spec.strategy).toEqual({ type: "Recreate" });
    const container = kuma.spec.template.spec.containers[0];
    expect(env(container).UPTIME_KUMA_DB_TYPE).toBe("sqlite");
    expect(container.volumeMounts).toEqual([{ name: "data", mountPath: "/app/data" }]);
    const claim = named(
      stack,
      "kubernetes:core/v1:PersistentVolumeClaim",
      "uptime-kuma-uptime-kuma-data",
    );
    expect(claim.inputs).toMatchObject({
      metadata: { name: "uptime-kuma-pvc" },
      spec: { storageClassName: "local-path", resources: { requests: { storage: "2Gi" } } },
    });
    expect(claim.options).toMatchObject({ protect: true, retainOnDelete: true });
  });

  test("AutoKuma: Docker off, ConfigMap symlinks followed, state persisted, password from its Secret", () => {
    const auto = deployment("autokuma");
    expect(auto.spec.strategy).toEqual({ type: "Recreate" });
    const vars = env(auto.spec.template.spec.containers[0]);
    expect(vars).toMatchObject({
      AUTOKUMA__KUMA__URL: "http://uptime-kuma.uptime-kuma.svc.cluster.local:3001",
      AUTOKUMA__KUMA__USERNAME: "admin",
      AUTOKUMA__KUMA__PASSWORD: {
        secretKeyRef: { name: "uptime-kuma-credentials", key: "password" },
      },
      AUTOKUMA__DOCKER__ENABLED: "false",
      AUTOKUMA__FILES__FOLLOW_SYMLINKS: "true",
      AUTOKUMA__STATIC_MONITORS: "/autokuma/monitors",
      AUTOKUMA__DATA_PATH: "/data",
    });
    const credentials = named(
      stack,
      "kubernetes:external-secrets.io/v1:ExternalSecret",
      "uptime-kuma-uptime-kuma-credentials-external-secret",
    );
    expect((credentials.inputs as Json).spec.data).toEqual([
      { secretKey: "password", remoteRef: { key: "uptime-kuma/password" } },
    ]);
  });

  test("monitor files: DNS on the node address, Unbound's port, the API, web pages on their URL", () => {
    const files = (named(stack, "kubernetes:core/v1:ConfigMap", "autokuma-monitors").inputs as Json)
      .data;
    expect(JSON.parse(files["pi-hole-dns.json"])).toEqual({
      type: "dns",
      name: "Pi-hole DNS",
      hostname: "pi-hole.net",
      dns_resolve_server: "192.168.1.55",
      dns_resolve_type: "A",
      port: 53,
      interval: 60,
    });
    expect(JSON.parse(files["unbound.json"])).toEqual({
      type: "port",
      name: "Unbound",
      hostname: "unbound.pihole.svc.cluster.local",
      port: 5335,
      interval: 60,
    });
    expect(JSON.parse(files["k3s-api.json"])).toMatchObject({
      type: "port",
      hostname: "192.168.1.55",
      port: 6443,
    });
    expect(JSON.parse(files["grafana.json"])).toEqual({
      type: "http",
      name: "Grafana",
      url: "https://grafana.lab.mtgibbs.dev/api/health",
      interval: 60,
    });
    // A changed monitor set restarts AutoKuma (its pod template carries the set's hash).
    expect(
      deployment("autokuma").spec.template.metadata.annotations["pi-cluster/monitors-hash"],
    ).toMatch(/^[0-9a-f]{16}$/);
  });

  test("link-only entries are monitored only when they ask; routed ones unless they opt out", () => {
    const link: CatalogEntry = {
      name: "cloudflare",
      href: "https://dash.cloudflare.com",
      dashboard: { group: "Web", icon: "cloudflare.png", description: "DNS" },
    };
    expect(entryMonitor(link, "lab.mtgibbs.dev")).toBeUndefined();
    expect(entryMonitor({ ...link, monitor: { kind: "http" } }, "lab.mtgibbs.dev")).toEqual({
      type: "http",
      name: "Cloudflare",
      url: "https://dash.cloudflare.com/",
      interval: 60,
    });
    expect(monitorId("Personal Site (Heroku)")).toBe("personal-site-heroku");
    expect(nonWebMonitor({ kind: "http", name: "X", url: "http://x/", reason: "r" })).toEqual({
      type: "http",
      name: "X",
      url: "http://x/",
      interval: 60,
    });
  });
});

describe("Homepage", () => {
  test("config copied from the ConfigMap into a writable emptyDir by an init container", () => {
    const pod = deployment("homepage").spec.template.spec;
    expect(pod.initContainers[0]).toMatchObject({
      name: "copy-config",
      command: ["sh", "-c", "cp -L /config-source/* /app/config/"],
      resources: {
        requests: { cpu: "10m", memory: "16Mi" },
        limits: { cpu: "100m", memory: "32Mi" },
      },
    });
    expect(pod.volumes).toContainEqual({ name: "config", emptyDir: { sizeLimit: "64Mi" } });
    expect(pod.volumes).toContainEqual({
      name: "config-source",
      configMap: { name: "homepage-config" },
    });
    expect(pod.serviceAccountName).toBe("homepage");
  });

  test("allowed hosts: the public host and the pod's own address (the probes)", () => {
    const vars = env(deployment("homepage").spec.template.spec.containers[0]);
    expect(vars.HOMEPAGE_ALLOWED_HOSTS).toBe("home.lab.mtgibbs.dev,$(POD_IP):3000");
    expect(vars.POD_IP).toEqual({ fieldRef: { fieldPath: "status.podIP" } });
    expect(vars.HOMEPAGE_VAR_PIHOLE_KEY).toEqual({
      secretKeyRef: { name: "homepage-pihole", key: "key" },
    });
  });

  test("read-only cluster access for the kubernetes widget", () => {
    const role = named(stack, "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", "homepage")
      .inputs as Json;
    for (const rule of role.rules) expect(rule.verbs).toEqual(["get", "list"]);
    expect(role.rules.map((r: Json) => r.resources).flat()).toEqual(
      expect.arrayContaining(["nodes", "pods", "namespaces", "ingresses"]),
    );
  });

  test("services.yaml: the catalog in groups, secrets only as placeholders; dark theme; the weather", () => {
    const files = (named(stack, "kubernetes:core/v1:ConfigMap", "homepage-config").inputs as Json)
      .data;
    expect(canariesIn(JSON.stringify(files))).toEqual([]);
    expect(isSecretInput(files)).toBe(false);
    const services = YAML.parse(files["services.yaml"]);
    const names = services.map((g: Json) => Object.keys(g)[0]);
    expect(names.slice(0, 2)).toEqual(["Infrastructure", "Monitoring"]);
    expect(services[0].Infrastructure[0]["Pi-hole"].widget).toEqual({
      type: "pihole",
      url: "http://192.168.1.55:80",
      version: 6,
      key: "{{HOMEPAGE_VAR_PIHOLE_KEY}}",
    });
    expect(YAML.parse(files["settings.yaml"])).toMatchObject({ theme: "dark" });
    expect(YAML.parse(files["widgets.yaml"])).toContainEqual({
      openmeteo: {
        label: "Johns Creek",
        latitude: 34.0289,
        longitude: -84.1986,
        units: "imperial",
        cache: 5,
      },
    });
    expect(YAML.parse(files["kubernetes.yaml"])).toEqual({ mode: "cluster" });
  });

  test("group order: configured groups first, then the others as they come", () => {
    const entry = (name: string, group: string): CatalogEntry => ({
      name,
      href: `https://${name}.example`,
      dashboard: { group, icon: "x", description: "x" },
    });
    const catalog = [entry("a", "Media"), entry("b", "Tools"), entry("c", "Web")];
    expect(groupOrder(catalog, [{ name: "Web" }, { name: "Media" }, { name: "Absent" }])).toEqual([
      "Web",
      "Media",
      "Tools",
    ]);
    expect(YAML.parse(servicesYaml(catalog, "d", []))).toHaveLength(3);
    expect(widgetEnvName("uptime-kuma", "key")).toBe("HOMEPAGE_VAR_UPTIME_KUMA_KEY");
  });

  test("a bad weather latitude names its key", () => {
    expect(() => planned("pi-k3s", (raw) => (raw.apps.homepage.weather.latitude = 134))).toThrow(
      ConfigError,
    );
    try {
      planned("pi-k3s", (raw) => (raw.apps.homepage.weather.latitude = 134));
    } catch (error) {
      expect((error as ConfigError).problems.map((p) => p.message)).toEqual([
        "pi-cluster:apps.homepage.weather.latitude: 134 is out of range; allowed: at most 90",
      ]);
    }
  });

  test("an unknown app section names the stack's apps", () => {
    try {
      planned("pi-k3s", (raw) => (raw.apps.plex = {}));
      throw new Error("expected a ConfigError");
    } catch (error) {
      expect((error as ConfigError).problems.map((p) => p.message)).toContain(
        'unknown key "plex" in pi-cluster:apps; this stack runs pihole, uptime-kuma, homepage, personal-site (listed in stacks/<stack>.ts)',
      );
    }
  });
});
