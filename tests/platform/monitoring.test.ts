/**
 * kube-prometheus-stack's values as pure data: the k3s scrape settings, retention and storage
 * from config, the Discord receiver, Grafana's admin Secret, resources equal to the WorkloadSpecs
 * the capacity check counted, placement from the plan, and every key checked against the chart.
 */
import {
  ALERTMANAGER_DISCORD_SECRET,
  DISCORD_WEBHOOK_FILE,
  GRAFANA_ADMIN_SECRET,
  grafanaEndpoint,
  KUBE_PROMETHEUS_STACK,
  MONITORING_NAMESPACE,
  MONITORING_RELEASE,
  monitoringSecrets,
  monitoringValues,
  monitoringWorkloads,
  retentionSizeFor,
} from "../../components/platform/monitoring";
import { RETAIN_STORAGE_CLASS } from "../../components/platform/storage";
import { cpuMillis, memoryMi } from "../../topology/quantity";
import { Topology } from "../../topology/types";
import { resources, WorkloadSpec } from "../../topology/workloads";
import { chartDefaults, unknownValuePaths } from "../support/helm-values";
import { planned, STACKS } from "../support/stack";

// Tests walk the values freely.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Values = Record<string, any>;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests mutate config freely
function topologyOf(stack: string, mutate?: (raw: Record<string, any>) => void): Topology {
  return planned(stack, mutate);
}

const valuesOf = (topology: Topology): Values => monitoringValues(topology);
const workload = (name: string): WorkloadSpec =>
  monitoringWorkloads().find((w) => w.name === name)!;

/** Subtrees the chart's values.yaml does not describe: remote subcharts and Alertmanager's own config. */
const FREE_FORM = [
  "grafana",
  "kube-state-metrics",
  "prometheus-node-exporter",
  "alertmanager.config",
];

describe("k3s and Prometheus", () => {
  const values = valuesOf(topologyOf("pi-k3s"));

  test("control-plane scrapes k3s serves from one process are off; kubelet and API server stay", () => {
    for (const key of ["kubeControllerManager", "kubeScheduler", "kubeProxy", "kubeEtcd"]) {
      expect(values[key]).toEqual({ enabled: false });
    }
    expect(values.kubelet).toBeUndefined();
    expect(values.kubeApiServer).toBeUndefined();
  });

  test("CRDs come with the release", () => {
    expect(values.crds).toEqual({ enabled: true });
  });

  test("monitors and rules from every namespace are selected (pihole-exporter has no release label)", () => {
    const spec = values.prometheus.prometheusSpec;
    for (const kind of ["serviceMonitor", "podMonitor", "rule", "probe", "scrapeConfig"]) {
      expect(spec[`${kind}SelectorNilUsesHelmValues`]).toBe(false);
    }
    expect(spec.scrapeInterval).toBe("30s");
  });

  test("retention and volume size come from pi-cluster:platform.monitoring", () => {
    // homelab-ha is a new cluster: its volumes are the program's own, on local-path-retain.
    const topology = topologyOf("homelab-ha", (raw) => {
      raw.platform.monitoring = { retention: "30d", storage: "20Gi" };
    });
    const spec = valuesOf(topology).prometheus.prometheusSpec;
    expect(spec.retention).toBe("30d");
    expect(spec.retentionSize).toBe("16GiB");
    expect(spec.walCompression).toBe(true);
    expect(spec.storageSpec).toEqual({
      volumeClaimTemplate: {
        spec: {
          storageClassName: "local-path-retain",
          accessModes: ["ReadWriteOnce"],
          resources: { requests: { storage: "20Gi" } },
        },
      },
    });
    // The defaults when the stack says nothing.
    const defaults = valuesOf(
      topologyOf("homelab-ha", (raw) => {
        delete raw.platform.monitoring;
      }),
    ).prometheus.prometheusSpec;
    expect([defaults.retention, defaults.storageSpec.volumeClaimTemplate.spec.resources]).toEqual([
      "10d",
      { requests: { storage: "10Gi" } },
    ]);
  });

  test.each([
    ["10Gi", "8GiB", 8192],
    ["20Gi", "16GiB", 16384],
    ["5Gi", "4GiB", 4096],
    ["3Gi", "2457MiB", 2457],
    ["500Mi", "400MiB", 400],
  ])("retentionSize for a %s volume is %s, under the volume", (volume, size, mi) => {
    expect(retentionSizeFor(volume)).toBe(size);
    expect(mi).toBeLessThan(memoryMi(volume));
    // The operator's CRD pattern for retentionSize.
    expect(size).toMatch(/^(0|([0-9]*[.])?[0-9]+((K|M|G|T|E|P)i?)?B)$/);
  });
});

describe("Alertmanager", () => {
  const values = valuesOf(topologyOf("pi-k3s"));
  const { config, alertmanagerSpec } = values.alertmanager;

  test("alerts go to Discord, grouped by namespace and alert, with resolutions", () => {
    expect(config.route).toMatchObject({
      receiver: "discord",
      group_by: ["namespace", "alertname"],
    });
    expect(config.receivers).toContainEqual({
      name: "discord",
      discord_configs: [
        {
          webhook_url_file: "/etc/alertmanager/secrets/alertmanager-discord/webhook-url",
          send_resolved: true,
        },
      ],
    });
    // The URL stays out of the config Secret: no inline webhook_url anywhere.
    expect(JSON.stringify(config)).not.toContain('"webhook_url"');
  });

  test("the webhook file is the mounted alertmanager-discord Secret's webhook-url key", () => {
    expect(alertmanagerSpec.secrets).toEqual([ALERTMANAGER_DISCORD_SECRET]);
    expect(DISCORD_WEBHOOK_FILE).toBe(
      `/etc/alertmanager/secrets/${ALERTMANAGER_DISCORD_SECRET}/webhook-url`,
    );
    const discord = monitoringSecrets(topologyOf("pi-k3s")).find(
      (s) => s.name === ALERTMANAGER_DISCORD_SECRET,
    )!;
    expect(Object.keys(discord.data)).toEqual(["webhook-url"]);
    expect(discord.data["webhook-url"].uri).toBe("op://pi-cluster/discord-alerts/webhook-url");
    expect(discord.template).toBeUndefined();
  });

  test("Watchdog goes to the kept null receiver; every routed receiver exists", () => {
    expect(config.route.routes).toContainEqual({
      receiver: "null",
      matchers: ['alertname = "Watchdog"'],
    });
    const names = config.receivers.map((r: { name: string }) => r.name);
    expect(names).toContain("null");
    const routed = [config.route, ...config.route.routes].map((r) => r.receiver);
    for (const receiver of routed) expect(names).toContain(receiver);
  });
});

describe("Grafana", () => {
  const topology = topologyOf("pi-k3s");
  const grafana = valuesOf(topology).grafana;

  test("the admin login comes from the grafana-admin Secret, with both keys the chart reads", () => {
    expect(grafana.admin).toEqual({
      existingSecret: GRAFANA_ADMIN_SECRET,
      userKey: "admin-user",
      passwordKey: "admin-password",
    });
    const secret = monitoringSecrets(topology).find((s) => s.name === GRAFANA_ADMIN_SECRET)!;
    expect(Object.keys(secret.template!).sort()).toEqual(
      [grafana.admin.userKey, grafana.admin.passwordKey].sort(),
    );
    expect(secret.template).toEqual({ "admin-user": "admin", "admin-password": "{{ .password }}" });
    // The template reads the one fetched key.
    expect(Object.keys(secret.data)).toEqual(["password"]);
    expect(secret.data.password.uri).toBe("op://pi-cluster/grafana-admin/password");
  });

  test("pi-k3s keeps the live claims' class (local-path: a claim's class cannot change)", () => {
    const values = valuesOf(topologyOf("pi-k3s"));
    expect(values.grafana.persistence.storageClassName).toBe("local-path");
    expect(
      values.prometheus.prometheusSpec.storageSpec.volumeClaimTemplate.spec.storageClassName,
    ).toBe("local-path");
  });

  test("no chart Ingress; a Recreate Deployment on a small retained volume", () => {
    const grafana = valuesOf(topologyOf("homelab-ha")).grafana;
    expect(grafana.ingress).toEqual({ enabled: false });
    expect(grafana.deploymentStrategy).toEqual({ type: "Recreate" });
    expect(grafana.persistence).toMatchObject({
      enabled: true,
      type: "pvc",
      storageClassName: RETAIN_STORAGE_CLASS,
      accessModes: ["ReadWriteOnce"],
    });
    expect(memoryMi(grafana.persistence.size)).toBeLessThanOrEqual(2048);
    expect(grafana.defaultDashboardsTimezone).toBeDefined();
    expect(grafana["grafana.ini"].server.root_url).toBe("https://grafana.lab.mtgibbs.dev");
  });

  test("the catalog entry points at the Service the grafana subchart names", () => {
    expect(grafanaEndpoint()).toEqual({
      name: "grafana",
      host: "grafana",
      namespace: MONITORING_NAMESPACE,
      service: "kube-prometheus-stack-grafana",
      port: 80,
      dashboard: { group: "Monitoring", icon: "grafana.png", description: "Dashboards" },
      monitor: { kind: "http", path: "/api/health" },
    });
    // grafana.fullname: `<release>-grafana` unless the release name contains "grafana".
    expect(MONITORING_RELEASE).not.toContain("grafana");
    expect(grafana.service.port).toBe(grafanaEndpoint().port);
  });

  test("dashboard and datasource sidecars stay on (the default dashboards need them)", () => {
    expect(grafana.sidecar.dashboards.enabled).toBe(true);
    expect(grafana.sidecar.datasources.enabled).toBe(true);
  });
});

describe("resources: the values say what the capacity check counted", () => {
  const values = valuesOf(topologyOf("pi-k3s"));

  /** Where each container's resources sit in the values. */
  const CONTAINER_KEYS: [workload: string, container: string, at: (v: Values) => unknown][] = [
    ["prometheus", "prometheus", (v) => v.prometheus.prometheusSpec.resources],
    [
      "prometheus",
      "config-reloader",
      (v) => v.prometheusOperator.prometheusConfigReloader.resources,
    ],
    ["grafana", "grafana", (v) => v.grafana.resources],
    ["grafana", "grafana-sc-dashboard", (v) => v.grafana.sidecar.resources],
    ["grafana", "grafana-sc-datasources", (v) => v.grafana.sidecar.resources],
    ["alertmanager", "alertmanager", (v) => v.alertmanager.alertmanagerSpec.resources],
    [
      "alertmanager",
      "config-reloader",
      (v) => v.prometheusOperator.prometheusConfigReloader.resources,
    ],
    ["prometheus-operator", "kube-prometheus-stack", (v) => v.prometheusOperator.resources],
    ["kube-state-metrics", "kube-state-metrics", (v) => v["kube-state-metrics"].resources],
    ["node-exporter", "node-exporter", (v) => v["prometheus-node-exporter"].resources],
  ];

  test.each(CONTAINER_KEYS)("%s/%s", (name, container, at) => {
    expect(at(values)).toEqual(workload(name).containers[container]);
  });

  test("the table covers every container of every workload", () => {
    const declared = monitoringWorkloads().flatMap((w) =>
      Object.keys(w.containers).map((c) => `${w.name}/${c}`),
    );
    expect(CONTAINER_KEYS.map(([w, c]) => `${w}/${c}`).sort()).toEqual(declared.sort());
  });

  test("one WorkloadSpec per pod the chart runs, all in monitoring", () => {
    const workloads = monitoringWorkloads();
    expect(workloads.map((w) => [w.name, w.kind])).toEqual([
      ["prometheus", "StatefulSet"],
      ["grafana", "Deployment"],
      ["alertmanager", "StatefulSet"],
      ["prometheus-operator", "Deployment"],
      ["kube-state-metrics", "Deployment"],
      ["node-exporter", "DaemonSet"],
    ]);
    for (const w of workloads) expect(w.namespace).toBe(MONITORING_NAMESPACE);
    expect(workload("node-exporter").hostPorts).toEqual([{ port: 9100, protocol: "TCP" }]);
    expect(values["prometheus-node-exporter"]).toMatchObject({
      hostNetwork: true,
      service: { port: 9100, targetPort: 9100 },
    });
  });

  test("every container has CPU and memory requests and limits, limits at least the requests", () => {
    const problems = monitoringWorkloads().flatMap((w) =>
      Object.entries(w.containers).flatMap(([name, r]) => {
        const where = `${w.name}/${name}`;
        return [
          cpuMillis(r.requests.cpu) > 0 ? [] : [`${where}: no CPU request`],
          memoryMi(r.requests.memory) > 0 ? [] : [`${where}: no memory request`],
          cpuMillis(r.limits.cpu) >= cpuMillis(r.requests.cpu) ? [] : [`${where}: CPU limit`],
          memoryMi(r.limits.memory) >= memoryMi(r.requests.memory)
            ? []
            : [`${where}: memory limit`],
        ].flat();
      }),
    );
    expect(problems).toEqual([]);
  });

  test("Prometheus and Grafana are sized from what seed 002 measured (785Mi, 696Mi)", () => {
    const prometheus = workload("prometheus").containers.prometheus;
    expect(memoryMi(prometheus.requests.memory)).toBeGreaterThanOrEqual(600);
    expect(memoryMi(prometheus.limits.memory)).toBeGreaterThan(785);
    const grafana = workload("grafana").containers.grafana;
    expect(memoryMi(grafana.limits.memory)).toBeGreaterThan(696);
  });

  test("containers that share one chart key must agree, or the values refuse", () => {
    const workloads = monitoringWorkloads().map((w) =>
      w.name === "alertmanager"
        ? {
            ...w,
            containers: {
              ...w.containers,
              "config-reloader": resources("10m", "8Mi", "50m", "16Mi"),
            },
          }
        : w,
    );
    expect(() => monitoringValues(topologyOf("pi-k3s"), workloads)).toThrow(
      "prometheus/config-reloader and alertmanager/config-reloader must have the same resources: the chart sets them all from prometheusOperator.prometheusConfigReloader.resources",
    );
  });

  test("a missing pod or an unknown container is a program error", () => {
    const topology = topologyOf("pi-k3s");
    const without = monitoringWorkloads().filter((w) => w.name !== "kube-state-metrics");
    expect(() => monitoringValues(topology, without)).toThrow(
      'monitoring: no WorkloadSpec named "kube-state-metrics"',
    );
    const extra = monitoringWorkloads().map((w) =>
      w.name === "grafana"
        ? {
            ...w,
            containers: { ...w.containers, renderer: resources("10m", "8Mi", "50m", "16Mi") },
          }
        : w,
    );
    expect(() => monitoringValues(topology, extra)).toThrow(
      'monitoring: workload "grafana" declares containers [grafana, grafana-sc-dashboard, grafana-sc-datasources, renderer] but the chart runs [grafana, grafana-sc-dashboard, grafana-sc-datasources]',
    );
  });
});

describe("placement", () => {
  const pinned = topologyOf("pi5-expansion", (raw) => {
    raw.placement = {
      ...(raw.placement ?? {}),
      prometheus: { node: "pi5-worker-1" },
      grafana: { node: "pi5-worker-1" },
    };
  });
  const values = valuesOf(pinned);

  test("pi5-expansion pins Prometheus and Grafana to pi5-worker-1 (seed 002)", () => {
    const onWorker = { "kubernetes.io/hostname": "pi5-worker-1" };
    expect(values.prometheus.prometheusSpec.nodeSelector).toEqual(onWorker);
    expect(values.grafana.nodeSelector).toEqual(onWorker);
    const worker = pinned.capacity.find((n) => n.hostname === "pi5-worker-1")!;
    expect(worker.pods.filter((p) => p.how === "pinned").map((p) => p.workload)).toEqual(
      expect.arrayContaining(["prometheus", "grafana"]),
    );
    // Nothing else is pinned by default: the scheduler decides.
    expect(values.alertmanager.alertmanagerSpec.nodeSelector).toBeUndefined();
    expect(values["prometheus-node-exporter"].nodeSelector).toBeUndefined();
  });

  test("preferences become node affinity at the chart's keys", () => {
    const preferring = valuesOf(
      topologyOf("pi5-expansion", (raw) => {
        raw.placement = {
          ...(raw.placement ?? {}),
          alertmanager: { prefer: { "memory-class": "low" } },
          "kube-state-metrics": { preferNodes: ["pi3-worker-2"] },
          "prometheus-operator": { nodeSelector: { hardware: "pi3" } },
          "node-exporter": {
            nodeSelector: { hardware: "pi5" },
            prefer: { "memory-class": "high" },
          },
        };
      }),
    );
    const affinity = (key: string, value: string) => ({
      nodeAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          {
            weight: 100,
            preference: { matchExpressions: [{ key, operator: "In", values: [value] }] },
          },
        ],
      },
    });
    expect(preferring.alertmanager.alertmanagerSpec.affinity).toEqual(
      affinity("memory-class", "low"),
    );
    expect(preferring["kube-state-metrics"].affinity).toEqual(
      affinity("kubernetes.io/hostname", "pi3-worker-2"),
    );
    expect(preferring.prometheusOperator.nodeSelector).toEqual({ hardware: "pi3" });
    // The DaemonSet takes the selector only.
    expect(preferring["prometheus-node-exporter"].nodeSelector).toEqual({ hardware: "pi5" });
    expect(preferring["prometheus-node-exporter"].affinity).toBeUndefined();
  });

  test.each(STACKS)("%s: node-exporter runs on every node and fits a Pi 3's budget", (stack) => {
    const topology = topologyOf(stack);
    for (const node of topology.capacity) {
      expect(node.pods.filter((p) => p.workload === "node-exporter")).toHaveLength(1);
      expect(node.memoryRequestMi).toBeLessThanOrEqual(node.budgetMi);
    }
    for (const node of topology.capacity.filter((n) =>
      topology.nodes.some((p) => p.hostname === n.hostname && p.model === "pi3"),
    )) {
      const exporter = node.pods.find((p) => p.workload === "node-exporter")!;
      expect(exporter.how).toBe("daemonset");
      expect(exporter.memoryRequestMi).toBeLessThan(node.budgetMi / 10);
    }
  });

  test("pi5-expansion as configured: the plan has a Pi 3 carrying node-exporter", () => {
    const pi3 = pinned.capacity.find((n) => n.hostname === "pi3-worker-1")!;
    expect(pi3.pods.map((p) => `${p.workload}:${p.how}`)).toContain("node-exporter:daemonset");
    expect(pi3.memoryRequestMi).toBeLessThanOrEqual(pi3.budgetMi);
  });
});

describe("keys against kube-prometheus-stack 88.5.3", () => {
  test.each(STACKS)("%s: every key is one the chart has", (stack) => {
    const values = valuesOf(topologyOf(stack));
    expect(
      unknownValuePaths(
        values,
        KUBE_PROMETHEUS_STACK.chart,
        KUBE_PROMETHEUS_STACK.version,
        FREE_FORM,
      ),
    ).toEqual([]);
    // Helm gets plain data: nothing undefined, nothing lost in JSON.
    expect(JSON.parse(JSON.stringify(values))).toStrictEqual(values);
  });

  test("the check can fail: a misspelled key is reported", () => {
    const values = valuesOf(topologyOf("pi-k3s"));
    values.prometheus.prometheusSpec.retension = "10d";
    // A misspelled k3s switch would silently bring the duplicate scrapes back.
    values.kubeControlerManager = { enabled: false };
    const { chart, version } = KUBE_PROMETHEUS_STACK;
    expect(unknownValuePaths(values, chart, version, FREE_FORM).sort()).toEqual([
      "kubeControlerManager",
      "prometheus.prometheusSpec.retension",
    ]);
  });

  /**
   * Keys of the remote subcharts (not in shared/charts), read from their values.yaml at the
   * versions kube-prometheus-stack 88.5.3's Chart.yaml pins:
   * - grafana 12.11.1: grafana-community/helm-charts, tag grafana-12.11.1, charts/grafana/values.yaml
   * - kube-state-metrics 8.4.0 and prometheus-node-exporter 4.56.1:
   *   prometheus-community/helm-charts, tags kube-state-metrics-8.4.0 / prometheus-node-exporter-4.56.1
   * `map` entries default to `{}` (or are free-form config) and take any content; the others are
   * single keys. Line numbers are in those files.
   */
  const SUBCHART_KEYS: Record<string, { keys: string[]; maps: string[] }> = {
    grafana: {
      keys: [
        "deploymentStrategy/type", // l.79-80 (default RollingUpdate: only `type`, so a merge leaves nothing stale)
        "persistence/enabled", // l.491
        "persistence/type", // l.490
        "persistence/storageClassName", // l.492, commented
        "persistence/accessModes", // l.495
        "persistence/size", // l.497
        "admin/existingSecret", // l.577
        "admin/userKey", // l.578
        "admin/passwordKey", // l.579
        "service/port", // l.261
        "ingress/enabled", // l.305
        "sidecar/dashboards/enabled", // l.1163
        "sidecar/datasources/enabled", // l.1282
        "grafana.ini/server/root_url", // l.976, commented
      ],
      // l.427, 438, 448, 1048; initChownData.resources is `{}` in the chart's values (the
      // init-chown-data container, rendered while persistence is on).
      maps: [
        "resources",
        "nodeSelector",
        "affinity",
        "sidecar/resources",
        "initChownData/resources",
      ],
    },
    "kube-state-metrics": {
      keys: [],
      maps: ["resources", "nodeSelector", "affinity"], // l.515, 360, 365
    },
    "prometheus-node-exporter": {
      keys: ["hostNetwork", "service/port", "service/targetPort"], // l.382, 131, 137
      maps: ["resources", "nodeSelector"], // l.334, 464
    },
  };

  /** Key paths (joined with "/": `grafana.ini` has a dot) down to leaves or documented maps. */
  function keyPaths(tree: Values, maps: string[], at: string[] = []): string[] {
    return Object.entries(tree).flatMap(([key, value]) => {
      const path = [...at, key];
      const joined = path.join("/");
      const isMap = value !== null && typeof value === "object" && !Array.isArray(value);
      return isMap && !maps.includes(joined) ? keyPaths(value, maps, path) : [joined];
    });
  }

  /** True when the parent chart's own values.yaml has the path under the subchart's key. */
  function parentHas(subchart: string, path: string): boolean {
    let node: unknown = chartDefaults(KUBE_PROMETHEUS_STACK.chart, KUBE_PROMETHEUS_STACK.version)
      .values[subchart];
    for (const key of path.split("/")) {
      if (node === null || typeof node !== "object" || !(key in node)) return false;
      node = (node as Values)[key];
    }
    return true;
  }

  /** Keys set under a subchart that neither the subchart nor the parent chart documents. */
  function undocumented(subchart: string, given: Values): string[] {
    const { keys, maps } = SUBCHART_KEYS[subchart];
    return keyPaths(given, maps).filter(
      (p) => !keys.includes(p) && !maps.includes(p) && !parentHas(subchart, p),
    );
  }

  test.each(Object.keys(SUBCHART_KEYS))(
    "%s: the keys set are ones the subchart documents",
    (subchart) => {
      for (const stack of STACKS) {
        const given = valuesOf(
          topologyOf(stack, (raw) => {
            // Placement everywhere, so nodeSelector and affinity are set too.
            raw.placement = {
              ...(raw.placement ?? {}),
              // Grafana keeps a local volume: pinned, and preferring its node as well.
              grafana: { node: raw.nodes[0].hostname, preferNodes: [raw.nodes[0].hostname] },
              prometheus: { node: raw.nodes[0].hostname },
              "kube-state-metrics": { preferNodes: [raw.nodes[0].hostname] },
              "node-exporter": { nodeSelector: { "kubernetes.io/os": "linux" } },
            };
          }),
        )[subchart];
        expect(undocumented(subchart, given)).toEqual([]);
      }
    },
  );

  test("the subchart check can fail too", () => {
    const grafana = valuesOf(topologyOf("pi-k3s")).grafana;
    grafana.persistance = { enabled: true };
    grafana.sidecar.dashboard = { enabled: true };
    expect(undocumented("grafana", grafana)).toEqual([
      "sidecar/dashboard/enabled",
      "persistance/enabled",
    ]);
  });
});
