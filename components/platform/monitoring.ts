/**
 * Monitoring: kube-prometheus-stack in the `monitoring` namespace (seed 001) — Prometheus,
 * Alertmanager with a Discord receiver, Grafana behind the catalog's Ingress, the operator,
 * kube-state-metrics and node-exporter — sized for Raspberry Pis and placed by the topology plan.
 * Every pod's requests and limits are declared once, as WorkloadSpecs, and read both by the
 * capacity check and by the Helm values below.
 * @see https://github.com/prometheus-community/helm-charts/tree/kube-prometheus-stack-88.5.3/charts/kube-prometheus-stack
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CatalogLink, endpointHost, NonWebMonitor, ServiceEndpoint } from "../../topology/catalog";
import { memoryMi } from "../../topology/quantity";
import { schedulingFor } from "../../topology/scheduling";
import { PlatformSettings, Topology } from "../../topology/types";
import { ContainerResources, resources, WorkloadSpec } from "../../topology/workloads";
import { ExternalSecrets, ExternalSecretSpec } from "./external-secrets";
import { ChartRef, helmRelease, namespace } from "./helm";
import { StatefulVolume, volumeOf } from "../../topology/apps";

/**
 * The pinned chart. Its subcharts: grafana 12.11.1 (from grafana-community, no longer
 * grafana/helm-charts), kube-state-metrics 8.4.0, prometheus-node-exporter 4.56.1.
 */
export const KUBE_PROMETHEUS_STACK: ChartRef = {
  chart: "kube-prometheus-stack",
  version: "88.5.3",
  repo: "https://prometheus-community.github.io/helm-charts",
};
export const MONITORING_NAMESPACE = "monitoring";
/** Helm release name: every object the chart names starts with it. */
export const MONITORING_RELEASE = "kube-prometheus-stack";
/** Secret with Grafana's admin login (keys `admin-user`, `admin-password`), synced from 1Password. */
export const GRAFANA_ADMIN_SECRET = "grafana-admin";
/** Secret with the Discord webhook URL (key `webhook-url`), synced from 1Password. */
export const ALERTMANAGER_DISCORD_SECRET = "alertmanager-discord";

/** The keys the grafana chart reads from `admin.existingSecret` (its defaults, set explicitly). */
const GRAFANA_ADMIN_KEYS = { user: "admin-user", password: "admin-password" } as const;
/** Key of the webhook URL in ALERTMANAGER_DISCORD_SECRET. */
const DISCORD_WEBHOOK_KEY = "webhook-url";
/**
 * Where Alertmanager reads the webhook URL: the operator mounts each `alertmanagerSpec.secrets`
 * entry at /etc/alertmanager/secrets/<secret>/<key>, so the URL never enters the config Secret.
 */
export const DISCORD_WEBHOOK_FILE = `/etc/alertmanager/secrets/${ALERTMANAGER_DISCORD_SECRET}/${DISCORD_WEBHOOK_KEY}`;

/** Grafana's SQLite database and plugins: a few MiB in practice. */
const GRAFANA_VOLUME = "1Gi";
/**
 * Share of the Prometheus volume its TSDB may fill: the WAL and head chunks count toward
 * `retentionSize` but only whole blocks are deleted, so Prometheus' docs advise 80-85%.
 */
const RETENTION_SHARE = 0.8;

/**
 * The containers of each pod, by the names the charts and the operator give them. Grafana's
 * sidecars run only when enabled (both are: the default dashboards and the Prometheus datasource
 * are ConfigMaps they load); the operator adds a `config-reloader` to Prometheus and Alertmanager.
 */
const CHART_CONTAINERS: Readonly<Record<string, readonly string[]>> = {
  prometheus: ["prometheus", "config-reloader"],
  grafana: ["grafana", "grafana-sc-dashboard", "grafana-sc-datasources"],
  alertmanager: ["alertmanager", "config-reloader"],
  // The operator's container is named after the parent chart.
  "prometheus-operator": ["kube-prometheus-stack"],
  "kube-state-metrics": ["kube-state-metrics"],
  "node-exporter": ["node-exporter"],
};

/**
 * Containers the chart renders that no WorkloadSpec counts, each with the values key that sizes
 * it. They run once per install or upgrade (hook Jobs) or before a pod starts (init containers),
 * so they never hold memory next to the running pods, but a container without a memory limit can
 * still take a 1 GB Pi down while it runs: each gets `AUX_CONTAINER_RESOURCES`.
 */
export const MONITORING_AUX_CONTAINERS: readonly {
  readonly container: string;
  readonly key: string;
}[] = [
  // grafana 12.11.1 subchart: chowns the data volume before Grafana starts (persistence is on).
  { container: "grafana/init-chown-data", key: "grafana.initChownData.resources" },
  // The operator's webhook certificate: kube-prometheus-stack's create and patch Jobs both read
  // `admissionWebhooks.patch.resources` (templates/prometheus-operator/admission-webhooks/job-patch).
  {
    container: "admission-create/create",
    key: "prometheusOperator.admissionWebhooks.patch.resources",
  },
  {
    container: "admission-patch/patch",
    key: "prometheusOperator.admissionWebhooks.patch.resources",
  },
];

/** One size for short-lived helper containers (chown, kube-webhook-certgen): a few MiB in use. */
export const AUX_CONTAINER_RESOURCES: ContainerResources = resources("10m", "32Mi", "100m", "64Mi");

/**
 * One WorkloadSpec per pod the chart runs, sized for Pis. Prometheus (785Mi) and Grafana (696Mi)
 * are what seed 002 measured on the Pi 5; the small pods must share a Pi 3's ~710Mi with others.
 */
export function monitoringWorkloads(): WorkloadSpec[] {
  // One value: the operator gives every config-reloader the same resources.
  const configReloader = resources("10m", "24Mi", "100m", "64Mi");
  // One value: the grafana chart has a single `sidecar.resources` for all its sidecars.
  const grafanaSidecar = resources("10m", "64Mi", "100m", "128Mi");
  const workload = (
    name: string,
    kind: WorkloadSpec["kind"],
    containers: Record<string, ContainerResources>,
    extra: Partial<WorkloadSpec> = {},
  ): WorkloadSpec => ({
    name,
    namespace: MONITORING_NAMESPACE,
    kind,
    owner: "monitoring",
    containers,
    ...extra,
  });
  return [
    workload("prometheus", "StatefulSet", {
      // Requests near the observed 785Mi; the limit leaves room for compaction and heavy queries.
      prometheus: resources("200m", "768Mi", "1", "1536Mi"),
      "config-reloader": configReloader,
    }),
    workload("grafana", "Deployment", {
      // The chart sets GOMEMLIMIT from this limit, so Go's GC keeps Grafana under it.
      grafana: resources("100m", "256Mi", "1", "768Mi"),
      "grafana-sc-dashboard": grafanaSidecar,
      "grafana-sc-datasources": grafanaSidecar,
    }),
    workload("alertmanager", "StatefulSet", {
      alertmanager: resources("10m", "32Mi", "100m", "128Mi"),
      "config-reloader": configReloader,
    }),
    workload("prometheus-operator", "Deployment", {
      "kube-prometheus-stack": resources("50m", "64Mi", "200m", "256Mi"),
    }),
    workload("kube-state-metrics", "Deployment", {
      "kube-state-metrics": resources("10m", "64Mi", "100m", "192Mi"),
    }),
    workload(
      "node-exporter",
      "DaemonSet",
      { "node-exporter": resources("10m", "24Mi", "200m", "64Mi") },
      // hostNetwork: the exporter listens on every node's own address.
      { hostPorts: [{ port: 9100, protocol: "TCP" }] },
    ),
  ];
}

/** The Prometheus claim the operator makes from its volumeClaimTemplate for pod 0. */
export const PROMETHEUS_CLAIM = `prometheus-${MONITORING_RELEASE}-prometheus-db-prometheus-${MONITORING_RELEASE}-prometheus-0`;
/** The claim the grafana subchart makes (`<release>-grafana`). */
export const GRAFANA_CLAIM = `${MONITORING_RELEASE}-grafana`;

/** The release's two stateful volumes: metrics history and Grafana's SQLite database. */
export function monitoringVolumes(platform: PlatformSettings): StatefulVolume[] {
  return [
    {
      claim: PROMETHEUS_CLAIM,
      namespace: MONITORING_NAMESPACE,
      app: "monitoring",
      workload: "prometheus",
      size: platform.monitoring.storage,
      storage: "local",
      backup: false,
      holds: `Prometheus' TSDB (${platform.monitoring.retention} of metrics)`,
      chart: true,
    },
    {
      claim: GRAFANA_CLAIM,
      namespace: MONITORING_NAMESPACE,
      app: "monitoring",
      workload: "grafana",
      size: GRAFANA_VOLUME,
      storage: "local",
      backup: true,
      holds: "Grafana's SQLite database: users, dashboards made in the UI, preferences",
      chart: true,
    },
  ];
}

/** Looks up a workload and checks it declares exactly the containers the chart runs. */
function chartWorkload(workloads: readonly WorkloadSpec[], name: string): WorkloadSpec {
  const found = workloads.find((w) => w.name === name);
  if (!found) {
    throw new Error(
      `monitoring: no WorkloadSpec named "${name}"; monitoringValues needs one per pod the chart runs (${Object.keys(CHART_CONTAINERS).join(", ")})`,
    );
  }
  const declared = Object.keys(found.containers).sort();
  const expected = [...CHART_CONTAINERS[name]].sort();
  if (declared.join() !== expected.join()) {
    throw new Error(
      `monitoring: workload "${name}" declares containers [${declared.join(", ")}] but the chart runs [${expected.join(", ")}]`,
    );
  }
  return found;
}

/** The resources several containers share through one chart key; they must be equal. */
function sharedResources(
  key: string,
  containers: readonly { workload: WorkloadSpec; container: string }[],
): ContainerResources {
  const first = containers[0].workload.containers[containers[0].container];
  for (const { workload, container } of containers) {
    if (JSON.stringify(workload.containers[container]) !== JSON.stringify(first)) {
      throw new Error(
        `monitoring: ${containers.map((c) => `${c.workload.name}/${c.container}`).join(" and ")} must have the same resources: the chart sets them all from ${key}`,
      );
    }
  }
  return first;
}

/** Prometheus' `retentionSize` for a volume: a share of it, in Prometheus' base-2 units. */
export function retentionSizeFor(volume: string): string {
  const mi = Math.floor(memoryMi(volume) * RETENTION_SHARE);
  return mi % 1024 === 0 ? `${mi / 1024}GiB` : `${mi}MiB`;
}

/**
 * Helm values for kube-prometheus-stack: resources from `workloads`, placement from the plan,
 * retention and volume size from `pi-cluster:platform.monitoring`. Pure.
 * @throws Error when `workloads` lacks a pod the chart runs or disagrees with a shared chart key
 */
export function monitoringValues(
  topology: Topology,
  workloads: readonly WorkloadSpec[] = monitoringWorkloads(),
): Record<string, unknown> {
  const prometheus = chartWorkload(workloads, "prometheus");
  const grafana = chartWorkload(workloads, "grafana");
  const alertmanager = chartWorkload(workloads, "alertmanager");
  const operator = chartWorkload(workloads, "prometheus-operator");
  const kubeStateMetrics = chartWorkload(workloads, "kube-state-metrics");
  const nodeExporter = chartWorkload(workloads, "node-exporter");

  const configReloader = sharedResources("prometheusOperator.prometheusConfigReloader.resources", [
    { workload: prometheus, container: "config-reloader" },
    { workload: alertmanager, container: "config-reloader" },
  ]);
  const grafanaSidecar = sharedResources("grafana.sidecar.resources", [
    { workload: grafana, container: "grafana-sc-dashboard" },
    { workload: grafana, container: "grafana-sc-datasources" },
  ]);
  const exporterPort = nodeExporter.hostPorts?.[0]?.port;
  if (exporterPort === undefined) {
    throw new Error(
      'monitoring: workload "node-exporter" must declare its hostNetwork port in hostPorts',
    );
  }
  // A DaemonSet runs wherever its selector allows: a preferred node means nothing to it.
  const exporterSelector = schedulingFor(topology, nodeExporter.name).nodeSelector;

  const { retention, storage } = topology.platform.monitoring;
  const grafanaEndpointSpec = grafanaEndpoint();

  return {
    // Helm installs the CRDs from the chart's crds/ directory on first install only and never
    // upgrades them: a chart bump must apply the new CRDs first (server-side, before the upgrade).
    crds: { enabled: true },

    // k3s runs the controller-manager, scheduler and proxy inside one process (with etcd, when
    // embedded) and serves all their metrics on every endpoint: these scrapes would collect the
    // same series again under other jobs. The kubelet and API server scrapes stay.
    kubeControllerManager: { enabled: false },
    kubeScheduler: { enabled: false },
    kubeProxy: { enabled: false },
    kubeEtcd: { enabled: false },

    prometheus: {
      prometheusSpec: {
        ...schedulingFor(topology, prometheus.name),
        resources: prometheus.containers.prometheus,
        retention,
        retentionSize: retentionSizeFor(storage),
        walCompression: true,
        // pihole-exporter is scraped every 30s (seed 001); rules follow the same pace.
        scrapeInterval: "30s",
        evaluationInterval: "30s",
        // Select monitors and rules from every namespace, not only those labelled with this
        // release: the apps' ServiceMonitors (pihole-exporter) carry no `release` label.
        serviceMonitorSelectorNilUsesHelmValues: false,
        podMonitorSelectorNilUsesHelmValues: false,
        ruleSelectorNilUsesHelmValues: false,
        probeSelectorNilUsesHelmValues: false,
        scrapeConfigSelectorNilUsesHelmValues: false,
        storageSpec: {
          volumeClaimTemplate: {
            spec: {
              // k3s's local-path deletes data with its claim; metrics history must survive that
              // (a stack taking over a live claim keeps its class: pi-cluster:volumes).
              storageClassName: volumeOf(topology, MONITORING_NAMESPACE, PROMETHEUS_CLAIM)
                .storageClass,
              accessModes: ["ReadWriteOnce"],
              resources: { requests: { storage } },
            },
          },
        },
      },
    },

    alertmanager: {
      // Helm merges maps but replaces lists: `receivers` and `routes` are given whole, so the
      // `null` receiver the default routes use is kept here.
      config: {
        route: {
          receiver: "discord",
          group_by: ["namespace", "alertname"],
          routes: [
            // The always-firing dead man's switch and the inhibition helper are not news.
            { receiver: "null", matchers: ['alertname = "Watchdog"'] },
            { receiver: "null", matchers: ['alertname = "InfoInhibitor"'] },
          ],
        },
        receivers: [
          { name: "null" },
          {
            name: "discord",
            discord_configs: [{ webhook_url_file: DISCORD_WEBHOOK_FILE, send_resolved: true }],
          },
        ],
      },
      alertmanagerSpec: {
        ...schedulingFor(topology, alertmanager.name),
        resources: alertmanager.containers.alertmanager,
        secrets: [ALERTMANAGER_DISCORD_SECRET],
        // No volume: only silences live there, and a local volume would tie Alertmanager to
        // the node it first ran on.
      },
    },

    grafana: {
      ...schedulingFor(topology, grafana.name),
      resources: grafana.containers.grafana,
      admin: {
        existingSecret: GRAFANA_ADMIN_SECRET,
        userKey: GRAFANA_ADMIN_KEYS.user,
        passwordKey: GRAFANA_ADMIN_KEYS.password,
      },
      // The platform derives the Ingress (and its certificate) from grafanaEndpoint().
      ingress: { enabled: false },
      service: { port: grafanaEndpointSpec.port },
      "grafana.ini": {
        server: { root_url: `https://${endpointHost(grafanaEndpointSpec, topology.domain)}` },
      },
      persistence: {
        enabled: true,
        type: "pvc",
        storageClassName: volumeOf(topology, MONITORING_NAMESPACE, GRAFANA_CLAIM).storageClass,
        accessModes: ["ReadWriteOnce"],
        size: GRAFANA_VOLUME,
      },
      // A ReadWriteOnce volume: a rolling update's new pod would wait forever for the old one's.
      deploymentStrategy: { type: "Recreate" },
      // Dashboards in each viewer's own time zone (the chart's default is UTC).
      defaultDashboardsTimezone: "browser",
      initChownData: { resources: AUX_CONTAINER_RESOURCES },
      sidecar: {
        resources: grafanaSidecar,
        dashboards: { enabled: true },
        datasources: { enabled: true },
      },
    },

    // admissionWebhooks stay at the chart's default: hook Jobs create the webhook certificate
    // once per install or upgrade, and the webhook rejects malformed PrometheusRules.
    prometheusOperator: {
      ...schedulingFor(topology, operator.name),
      resources: operator.containers["kube-prometheus-stack"],
      prometheusConfigReloader: { resources: configReloader },
      admissionWebhooks: { patch: { resources: AUX_CONTAINER_RESOURCES } },
    },

    "kube-state-metrics": {
      ...schedulingFor(topology, kubeStateMetrics.name),
      resources: kubeStateMetrics.containers["kube-state-metrics"],
    },

    "prometheus-node-exporter": {
      ...(exporterSelector ? { nodeSelector: exporterSelector } : {}),
      resources: nodeExporter.containers["node-exporter"],
      hostNetwork: true,
      service: { port: exporterPort, targetPort: exporterPort },
    },
  };
}

/** Grafana's entry in the service catalog: grafana.<domain> (seed 001). */
export function grafanaEndpoint(): ServiceEndpoint {
  return {
    name: "grafana",
    host: "grafana",
    namespace: MONITORING_NAMESPACE,
    // The grafana subchart names its Service `<release>-grafana` (grafana.fullname).
    service: `${MONITORING_RELEASE}-grafana`,
    port: 80,
    dashboard: { group: "Monitoring", icon: "grafana.png", description: "Dashboards" },
    monitor: { kind: "http", path: "/api/health" },
  };
}

/** Prometheus' in-cluster address: the operator's Service for the release's Prometheus. */
export const PROMETHEUS_URL = `http://${MONITORING_RELEASE}-prometheus.${MONITORING_NAMESPACE}.svc.cluster.local:9090`;

/**
 * Prometheus on the dashboard: a widget-only tile (targets up/down). Prometheus has no Ingress
 * (seed 001: ClusterIP, port-forward to reach its UI); Homepage's server reads it in-cluster.
 */
export function prometheusTile(): CatalogLink {
  return {
    name: "prometheus",
    dashboard: {
      group: "Monitoring",
      icon: "prometheus.png",
      description: "Metrics (port-forward for the UI)",
      widget: { type: "prometheus", url: PROMETHEUS_URL },
    },
  };
}

/** Prometheus' own health endpoint, checked from inside the cluster (it has no Ingress). */
export function prometheusMonitor(): NonWebMonitor {
  return {
    kind: "http",
    name: "Prometheus",
    url: `${PROMETHEUS_URL}/-/healthy`,
    reason: "Prometheus is ClusterIP only; seed 001 monitors it",
  };
}

/** The two Secrets the release reads: Grafana's admin login and the Discord webhook. */
export function monitoringSecrets(topology: Topology): ExternalSecretSpec[] {
  const { grafanaAdminPassword, discordWebhook } = topology.platform.secrets;
  return [
    {
      name: GRAFANA_ADMIN_SECRET,
      namespace: MONITORING_NAMESPACE,
      data: { password: grafanaAdminPassword },
      // The chart reads both keys from the Secret; the user name is fixed.
      template: {
        [GRAFANA_ADMIN_KEYS.user]: "admin",
        [GRAFANA_ADMIN_KEYS.password]: "{{ .password }}",
      },
    },
    {
      name: ALERTMANAGER_DISCORD_SECRET,
      namespace: MONITORING_NAMESPACE,
      data: { [DISCORD_WEBHOOK_KEY]: discordWebhook },
    },
  ];
}

export interface MonitoringArgs {
  /** The stack's plan: placement, `platform.monitoring` and the secrets' 1Password references. */
  readonly topology: Topology;
  /** Provider of the cluster the release installs into. */
  readonly provider: k8s.Provider;
  /** Syncs Grafana's admin password and the Discord webhook from 1Password. */
  readonly externalSecrets: ExternalSecrets;
  /**
   * What must exist first: the nodes, and the Storage component (its `local-path-retain` class
   * backs Prometheus and Grafana). @default []
   */
  readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
}

/** kube-prometheus-stack in `monitoring`, with its Secrets synced from 1Password. */
export class Monitoring extends pulumi.ComponentResource {
  public readonly release: k8s.helm.v3.Release;
  public readonly namespace: k8s.core.v1.Namespace;

  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pi-cluster:platform:Monitoring", name, {}, opts);
    const { topology, provider } = args;
    const dependsOn = args.dependsOn ?? [];

    const ns = namespace(MONITORING_NAMESPACE, { parent: this, provider, dependsOn });
    const secrets = monitoringSecrets(topology).map((spec) =>
      args.externalSecrets.secret(spec, [ns]),
    );
    // Pis pull Prometheus, Grafana and their sidecars slowly: more than the default 10 minutes.
    const release = helmRelease(
      MONITORING_RELEASE,
      {
        chart: KUBE_PROMETHEUS_STACK,
        namespace: MONITORING_NAMESPACE,
        values: monitoringValues(topology),
        timeoutSeconds: 900,
      },
      { parent: this, provider, dependsOn: [ns, ...secrets, ...dependsOn] },
    );

    this.namespace = ns;
    this.release = release;
    this.registerOutputs({});
  }
}
