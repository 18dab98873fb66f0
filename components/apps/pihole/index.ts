/**
 * DNS for the household (seed 001, namespace `pihole`): Pi-hole v6 on the host network of the
 * node the router hands out as DNS, Unbound behind it as the recursive resolver, and
 * pihole-exporter for Prometheus. Pi-hole is configured through `FTLCONF_*` variables (v6
 * ignores the v5 names the seeds used), its upstream is Unbound's ClusterIP read from the
 * Service itself, and its blocklists are data synced through the v6 API by a Job.
 * @see https://docs.pi-hole.net/docker/configuration/
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { appKey, AppPlanContext, volumeOf } from "../../../topology/apps";
import { NonWebMonitor, ServiceEndpoint } from "../../../topology/catalog";
import { showValue } from "../../../topology/errors";
import { Topology } from "../../../topology/types";
import { resources, WorkloadSpec } from "../../../topology/workloads";
import { contentHash } from "../../cluster/k3s-node";
import { namespace } from "../../platform/helm";
import { AppArgs, defineAppModule } from "../app";
import { image } from "../images";
import {
  appLabels,
  claimVolume,
  deploymentManifest,
  podTemplate,
  restrictedContainer,
  serviceManifest,
  StatefulVolume,
  statefulClaim,
  workloadNamed,
} from "../workload";
import { ADLISTS_FILE, adlistRevision, adlistsFile, adlistSyncScript } from "./adlists";
import { UNBOUND_CONF_PATH, UNBOUND_PORT, unboundConf } from "./unbound";

export const PIHOLE_NAMESPACE = "pihole";
/** The Secret the live cluster syncs Pi-hole's admin password into (seed 001: `pihole-secret`). */
export const PIHOLE_SECRET = "pihole-secret";
const PIHOLE_SECRET_KEY = "password";
/** The live cluster's volume for /etc/pihole (seed 001). */
export const PIHOLE_CLAIM = "pihole-etc";
/** pihole-exporter's metrics port (seed 001). */
export const EXPORTER_PORT = 9617;

const url = z.string().refine((s) => /^https?:\/\/[^\s/]+\.[^\s]*$/.test(s), {
  message: "is not an http(s) URL",
});

/** `pi-cluster:apps.pihole`. */
export const piholeConfigSchema = z.strictObject({
  /**
   * The address the router hands out as DNS: a node's IP. Pi-hole runs on that node's host
   * network, so clients reach it there on port 53.
   */
  dnsAddress: z.string(),
  /** Blocklist URLs (Firebog's "ticked" lists, seed 001), synced through the v6 API. @default [] */
  adlists: z.array(url).default([]),
  /** Port of the web UI on the node (443 belongs to the ingress controller). @default 80 */
  webPort: z.number().int().min(1).max(65535).default(80),
  /**
   * Which clients Pi-hole answers: `LOCAL` answers only hosts on a subnet it has an interface in
   * (the LAN), never the internet. @default "LOCAL"
   */
  listeningMode: z.enum(["LOCAL", "ALL", "SINGLE", "BIND"]).default("LOCAL"),
  /** Pi-hole's NTP server (on by default upstream; the router serves time here). @default false */
  ntp: z.boolean().default(false),
  /** Pi-hole's DHCP server (the router hands out addresses). @default false */
  dhcp: z.boolean().default(false),
  /** Size of the /etc/pihole volume (seed 001: 1Gi). @default "1Gi" */
  storage: z.string().default("1Gi"),
  unbound: z
    .strictObject({
      /** Unbound pods behind its Service. @default 1 */
      replicas: z.number().int().min(1).max(5).default(1),
    })
    .default({ replicas: 1 }),
});
export type PiholeConfig = z.infer<typeof piholeConfigSchema>;

/** The node whose address is the DNS address (validated to exist). */
function dnsNode(config: PiholeConfig, context: Pick<AppPlanContext, "nodes">) {
  return context.nodes.find((n) => n.ip === config.dnsAddress);
}

/** Every pod of the DNS stack, sized as seed 001 allocates them. */
export function piholeWorkloads(config: PiholeConfig, context: AppPlanContext): WorkloadSpec[] {
  const node = dnsNode(config, context);
  return [
    {
      name: "pihole",
      namespace: PIHOLE_NAMESPACE,
      kind: "Deployment",
      // Seed 001: 100m/128Mi requested, 500m/512Mi limit (190Mi observed, seed 002).
      containers: { pihole: resources("100m", "128Mi", "500m", "512Mi") },
      hostPorts: [
        { port: 53, protocol: "UDP" },
        { port: 53, protocol: "TCP" },
        { port: config.webPort, protocol: "TCP" },
      ],
      defaultPlacement: node
        ? { nodeSelector: { "kubernetes.io/hostname": node.hostname } }
        : undefined,
    },
    {
      name: "unbound",
      namespace: PIHOLE_NAMESPACE,
      kind: "Deployment",
      replicas: config.unbound.replicas,
      // Seed 001: 50m/64Mi requested, 500m/256Mi limit.
      containers: { unbound: resources("50m", "64Mi", "500m", "256Mi") },
    },
    {
      name: "pihole-exporter",
      namespace: PIHOLE_NAMESPACE,
      kind: "Deployment",
      // Seed 001: 10m/32Mi requested, 100m/64Mi limit.
      containers: { exporter: resources("10m", "32Mi", "100m", "64Mi") },
    },
    {
      name: "pihole-adlists",
      namespace: PIHOLE_NAMESPACE,
      kind: "Job",
      // curl and jq over a few dozen URLs; gravity itself runs inside Pi-hole.
      containers: { sync: resources("10m", "32Mi", "200m", "64Mi") },
    },
  ];
}

/** Rules that need the rest of the plan: the DNS address must be a node's. */
export function validatePihole(config: PiholeConfig, context: AppPlanContext) {
  const key = appKey("pihole", ".dnsAddress");
  if (dnsNode(config, context)) return [];
  return [
    {
      key,
      message:
        `${key}: ${showValue(config.dnsAddress, key)} is no node's address; Pi-hole runs on the host network ` +
        `of the node clients use as DNS: one of ${context.nodes.map((n) => `${n.ip} (${n.hostname})`).join(", ")}`,
    },
  ];
}

/** Pi-hole's web UI in the catalog: `pihole.<domain>`, with its v6 widget. */
export function piholeEndpoint(config: PiholeConfig): ServiceEndpoint {
  return {
    name: "pihole",
    title: "Pi-hole",
    host: "pihole",
    namespace: PIHOLE_NAMESPACE,
    service: "pihole",
    port: config.webPort,
    dashboard: {
      group: "Infrastructure",
      icon: "pi-hole.png",
      description: "DNS and ad blocking",
      widget: {
        type: "pihole",
        // Homepage's server asks Pi-hole directly on the node, as the exporter does.
        url: `http://${config.dnsAddress}:${config.webPort}`,
        options: { version: 6 },
        secrets: { key: "piholePassword" },
      },
    },
    monitor: { kind: "http", path: "/admin/", name: "Pi-hole Admin" },
  };
}

/** DNS answered on the address clients use, and Unbound's port (seed 001's monitors). */
export function piholeMonitors(config: PiholeConfig): NonWebMonitor[] {
  return [
    {
      kind: "dns",
      name: "Pi-hole DNS",
      server: config.dnsAddress,
      port: 53,
      query: "pi-hole.net",
      reason: "what every client on the LAN depends on; the web UI can be up while DNS is not",
    },
    {
      kind: "port",
      name: "Unbound",
      host: `unbound.${PIHOLE_NAMESPACE}.svc.cluster.local`,
      port: UNBOUND_PORT,
      reason: "Pi-hole's only upstream: when it is down every uncached lookup fails",
    },
  ];
}

/** /etc/pihole: settings, gravity database, query history. */
export function piholeVolumes(config: PiholeConfig): StatefulVolume[] {
  return [
    {
      claim: PIHOLE_CLAIM,
      namespace: PIHOLE_NAMESPACE,
      app: "pihole",
      workload: "pihole",
      size: config.storage,
      storage: "local",
      backup: true,
      holds: "Pi-hole settings (pihole.toml), gravity database, query log",
    },
  ];
}

/** The `FTLCONF_*` environment of Pi-hole v6 (a setting given here is read-only in the UI). */
export function piholeEnv(
  config: PiholeConfig,
  timezone: string,
  upstream: pulumi.Input<string>,
): k8s.types.input.core.v1.EnvVar[] {
  return [
    { name: "TZ", value: timezone },
    {
      name: "FTLCONF_webserver_api_password",
      valueFrom: { secretKeyRef: { name: PIHOLE_SECRET, key: PIHOLE_SECRET_KEY } },
    },
    // Unbound only: `<ClusterIP>#5335`, read from the Service's own output.
    { name: "FTLCONF_dns_upstreams", value: upstream },
    // Unbound validates DNSSEC (seed 001, decision 4); validating twice only adds latency.
    { name: "FTLCONF_dns_dnssec", value: "false" },
    { name: "FTLCONF_dns_listeningMode", value: config.listeningMode },
    // Port 80 only: Pi-hole's default also binds 443, which the ingress controller owns.
    { name: "FTLCONF_webserver_port", value: String(config.webPort) },
    { name: "FTLCONF_ntp_ipv4_active", value: String(config.ntp) },
    { name: "FTLCONF_ntp_ipv6_active", value: String(config.ntp) },
    { name: "FTLCONF_ntp_sync_active", value: String(config.ntp) },
    { name: "FTLCONF_dhcp_active", value: String(config.dhcp) },
  ];
}

/** A DNS check as the image's own HEALTHCHECK runs it: FTL answers for its own name. */
const DIG_PROBE = {
  exec: { command: ["dig", "+short", "+norecurse", "+retry=0", "@127.0.0.1", "pi.hole"] },
};

/** Pi-hole's Deployment: host network on the DNS node, Recreate, /etc/pihole persisted. */
export function piholeDeployment(
  topology: Topology,
  config: PiholeConfig,
  spec: WorkloadSpec,
  upstream: pulumi.Input<string>,
): k8s.types.input.apps.v1.Deployment {
  // The stack's name for the claim (the live cluster's, when pi-cluster:volumes says so).
  const { claim } = volumeOf(topology, PIHOLE_NAMESPACE, PIHOLE_CLAIM);
  return deploymentManifest(
    topology,
    spec,
    {
      spec: {
        // Clients reach DNS on the node's own address (seed 001, decision 1).
        hostNetwork: true,
        // With hostNetwork, ClusterFirst would fall back to the node's resolv.conf.
        dnsPolicy: "ClusterFirstWithHostNet",
        // A Pi-hole shutdown flushes its query log to disk.
        terminationGracePeriodSeconds: 30,
      },
      containers: [
        {
          name: "pihole",
          image: image("pihole"),
          env: piholeEnv(config, topology.timezone, upstream),
          ports: [
            { name: "dns-udp", containerPort: 53, hostPort: 53, protocol: "UDP" },
            { name: "dns-tcp", containerPort: 53, hostPort: 53, protocol: "TCP" },
            {
              name: "http",
              containerPort: config.webPort,
              hostPort: config.webPort,
              protocol: "TCP",
            },
          ],
          securityContext: {
            // Pi-hole's start script sets these on FTL and exits if it cannot (facts-apps).
            capabilities: {
              add: [
                "NET_BIND_SERVICE",
                "NET_RAW",
                "SYS_NICE",
                "CHOWN",
                "SETFCAP",
                "SETUID",
                "SETGID",
                ...(config.dhcp ? ["NET_ADMIN"] : []),
              ],
            },
            allowPrivilegeEscalation: false,
            seccompProfile: { type: "RuntimeDefault" },
          },
          volumeMounts: [{ name: "etc-pihole", mountPath: "/etc/pihole" }],
          // A fresh volume builds gravity (~900k domains, seed 001) before FTL answers.
          startupProbe: {
            ...DIG_PROBE,
            periodSeconds: 10,
            timeoutSeconds: 5,
            failureThreshold: 60,
          },
          readinessProbe: { ...DIG_PROBE, periodSeconds: 10, timeoutSeconds: 5 },
          livenessProbe: {
            ...DIG_PROBE,
            periodSeconds: 30,
            timeoutSeconds: 5,
            failureThreshold: 3,
          },
        },
      ],
      volumes: [claimVolume("etc-pihole", claim)],
    },
    { rwoClaims: [claim], part: "pihole" },
  );
}

/** Unbound's Deployment: its config file mounted alone, replicas spread over nodes. */
export function unboundDeployment(
  topology: Topology,
  spec: WorkloadSpec,
  configHash: string,
): k8s.types.input.apps.v1.Deployment {
  const probe = {
    // The image's own HEALTHCHECK script (resolves through the local Unbound).
    exec: { command: ["/usr/local/unbound/sbin/healthcheck.sh"] },
    timeoutSeconds: 10,
  };
  const manifest = deploymentManifest(
    topology,
    spec,
    {
      annotations: { "pi-cluster/config-hash": configHash },
      containers: [
        {
          name: "unbound",
          image: image("unbound"),
          ports: [
            { name: "dns-udp", containerPort: UNBOUND_PORT, protocol: "UDP" },
            { name: "dns-tcp", containerPort: UNBOUND_PORT, protocol: "TCP" },
          ],
          volumeMounts: [
            {
              name: "config",
              mountPath: UNBOUND_CONF_PATH,
              subPath: "unbound.conf",
              readOnly: true,
            },
          ],
          startupProbe: { ...probe, periodSeconds: 5, failureThreshold: 24 },
          readinessProbe: { ...probe, periodSeconds: 15 },
          livenessProbe: { ...probe, periodSeconds: 30, failureThreshold: 3 },
          securityContext: {
            allowPrivilegeEscalation: false,
            // The image's entrypoint starts as root to fix iana.d/ ownership, then runs Unbound
            // as _unbound through su-exec; only what those two steps need is kept.
            capabilities: {
              drop: ["ALL"],
              add: ["CHOWN", "FOWNER", "SETUID", "SETGID", "DAC_OVERRIDE"],
            },
            seccompProfile: { type: "RuntimeDefault" },
          },
        },
      ],
      volumes: [{ name: "config", configMap: { name: "unbound-config" } }],
    },
    { part: "pihole" },
  );
  return manifest;
}

/** pihole-exporter: the v6 API's figures as Prometheus metrics on 9617. */
export function exporterDeployment(
  topology: Topology,
  config: PiholeConfig,
  spec: WorkloadSpec,
): k8s.types.input.apps.v1.Deployment {
  // A TCP check: an HTTP probe of /metrics would log in to Pi-hole on every probe.
  const probe = { tcpSocket: { port: EXPORTER_PORT } };
  return deploymentManifest(
    topology,
    spec,
    {
      spec: { securityContext: { runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534 } },
      containers: [
        {
          name: "exporter",
          image: image("piholeExporter"),
          env: [
            { name: "PIHOLE_PROTOCOL", value: "http" },
            { name: "PIHOLE_HOSTNAME", value: config.dnsAddress },
            { name: "PIHOLE_PORT", value: String(config.webPort) },
            {
              name: "PIHOLE_PASSWORD",
              valueFrom: { secretKeyRef: { name: PIHOLE_SECRET, key: PIHOLE_SECRET_KEY } },
            },
            { name: "PORT", value: String(EXPORTER_PORT) },
          ],
          ports: [{ name: "metrics", containerPort: EXPORTER_PORT, protocol: "TCP" }],
          readinessProbe: { ...probe, periodSeconds: 15 },
          livenessProbe: { ...probe, periodSeconds: 30 },
          securityContext: restrictedContainer(65534),
        },
      ],
    },
    { part: "pihole" },
  );
}

/**
 * The ServiceMonitor Prometheus scrapes the exporter through. The stack's Prometheus selects
 * monitors in every namespace without a release label (`serviceMonitorSelectorNilUsesHelmValues:
 * false`, empty namespace selector), so this one needs none.
 */
export function exporterServiceMonitor(): Record<string, unknown> {
  return {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "ServiceMonitor",
    metadata: {
      name: "pihole-exporter",
      namespace: PIHOLE_NAMESPACE,
      labels: appLabels("pihole-exporter", "pihole"),
    },
    spec: {
      selector: { matchLabels: { "app.kubernetes.io/name": "pihole-exporter" } },
      // Seed 001: scraped every 30s.
      endpoints: [{ port: "metrics", path: "/metrics", interval: "30s", scrapeTimeout: "10s" }],
    },
  };
}

/** The adlist sync Job, named by a hash of the lists so only a change runs it again. */
export function adlistJob(
  topology: Topology,
  config: PiholeConfig,
  spec: WorkloadSpec,
): k8s.types.input.batch.v1.Job {
  const revision = adlistRevision(config.adlists, image("pihole"));
  return {
    metadata: {
      name: `pihole-adlists-${revision}`,
      namespace: PIHOLE_NAMESPACE,
      labels: appLabels("pihole-adlists", "pihole"),
    },
    spec: {
      // Waiting for a first gravity run plus one of its own: generous, but bounded.
      activeDeadlineSeconds: 3600,
      backoffLimit: 3,
      // No ttlSecondsAfterFinished: a deleted Job would be created again by the next `pulumi up`.
      template: podTemplate(
        topology,
        spec,
        {
          spec: {
            restartPolicy: "OnFailure",
            securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000 },
          },
          containers: [
            {
              name: "sync",
              // The Pi-hole image brings bash, curl and jq: no other image to pin.
              image: image("pihole"),
              command: ["bash", "/etc/pi-cluster/sync.sh"],
              env: [
                { name: "PIHOLE_URL", value: `http://${config.dnsAddress}:${config.webPort}` },
                {
                  name: "PIHOLE_PASSWORD",
                  valueFrom: { secretKeyRef: { name: PIHOLE_SECRET, key: PIHOLE_SECRET_KEY } },
                },
                { name: "ADLISTS_FILE", value: ADLISTS_FILE },
              ],
              volumeMounts: [
                { name: "sync", mountPath: "/etc/pi-cluster", readOnly: true },
                // bash may spill here-strings to /tmp; the root filesystem stays read-only.
                { name: "tmp", mountPath: "/tmp" },
              ],
              securityContext: restrictedContainer(1000),
            },
          ],
          volumes: [
            { name: "sync", configMap: { name: `pihole-adlists-${revision}` } },
            { name: "tmp", emptyDir: { sizeLimit: "16Mi" } },
          ],
        },
        appLabels("pihole-adlists", "pihole"),
      ),
    },
  };
}

/** The app module: `pi-cluster:apps.pihole`. */
export const pihole = defineAppModule<PiholeConfig>({
  name: "pihole",
  schema: piholeConfigSchema,
  secrets: ["piholePassword"],
  validate: validatePihole,
  workloads: piholeWorkloads,
  endpoints: (config) => [piholeEndpoint(config)],
  monitors: piholeMonitors,
  volumes: piholeVolumes,
  deploy: (config, context, opts) => new PiholeDns("pihole", { config, context }, opts),
});

export type PiholeDnsArgs = AppArgs<PiholeConfig>;

/** Pi-hole, Unbound, pihole-exporter and the adlist sync in the `pihole` namespace. */
export class PiholeDns extends pulumi.ComponentResource {
  /** Unbound's Service: Pi-hole's upstream. */
  public readonly unboundService: k8s.core.v1.Service;
  public readonly deployment: k8s.apps.v1.Deployment;

  constructor(name: string, args: PiholeDnsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pi-cluster:apps:PiholeDns", name, {}, opts);
    const { config, context } = args;
    const { topology, provider, platform } = context;
    const spec = (workload: string) => workloadNamed(piholeWorkloads(config, topology), workload);
    const child = { parent: this, provider };

    const ns = namespace(PIHOLE_NAMESPACE, { ...child, dependsOn: [...context.nodesReady] });
    const secret = platform.externalSecrets.secret(
      {
        name: PIHOLE_SECRET,
        namespace: PIHOLE_NAMESPACE,
        data: { [PIHOLE_SECRET_KEY]: topology.secrets.piholePassword },
      },
      [ns],
    );

    // Unbound first: Pi-hole's upstream is its Service's address.
    const conf = unboundConf({
      lanCidr: topology.network.subnet,
      privateDomains: [topology.domain],
    });
    const unboundConfig = new k8s.core.v1.ConfigMap(
      "unbound-config",
      {
        metadata: {
          name: "unbound-config",
          namespace: PIHOLE_NAMESPACE,
          labels: appLabels("unbound", "pihole"),
        },
        data: { "unbound.conf": conf },
      },
      { ...child, dependsOn: [ns] },
    );
    const unbound = new k8s.apps.v1.Deployment(
      "unbound",
      unboundDeployment(topology, spec("unbound"), contentHash(conf)),
      { ...child, dependsOn: [unboundConfig] },
    );
    this.unboundService = new k8s.core.v1.Service(
      "unbound",
      serviceManifest(spec("unbound"), [
        { name: "dns-udp", port: UNBOUND_PORT, protocol: "UDP" },
        { name: "dns-tcp", port: UNBOUND_PORT, protocol: "TCP" },
      ]),
      { ...child, dependsOn: [ns] },
    );
    const upstream = this.unboundService.spec.clusterIP.apply((ip) => `${ip}#${UNBOUND_PORT}`);

    const claim = statefulClaim(volumeOf(topology, PIHOLE_NAMESPACE, PIHOLE_CLAIM), {
      ...child,
      dependsOn: [ns, platform.storage],
    });
    this.deployment = new k8s.apps.v1.Deployment(
      "pihole",
      piholeDeployment(topology, config, spec("pihole"), upstream),
      { ...child, dependsOn: [claim, secret, unbound] },
    );
    // The web UI behind the ingress: a Service in front of the host-network pod's port.
    new k8s.core.v1.Service(
      "pihole",
      serviceManifest(spec("pihole"), [{ name: "http", port: config.webPort }]),
      { ...child, dependsOn: [ns] },
    );

    const exporter = new k8s.apps.v1.Deployment(
      "pihole-exporter",
      exporterDeployment(topology, config, spec("pihole-exporter")),
      { ...child, dependsOn: [secret] },
    );
    new k8s.core.v1.Service(
      "pihole-exporter",
      serviceManifest(spec("pihole-exporter"), [{ name: "metrics", port: EXPORTER_PORT }]),
      { ...child, dependsOn: [ns] },
    );
    new k8s.apiextensions.CustomResource(
      "pihole-exporter",
      exporterServiceMonitor() as k8s.apiextensions.CustomResourceArgs,
      // The ServiceMonitor CRD comes with kube-prometheus-stack.
      { ...child, dependsOn: [exporter, platform.monitoring.release] },
    );

    if (config.adlists.length > 0) {
      const job = adlistJob(topology, config, spec("pihole-adlists"));
      const jobName = String((job.metadata as { name: string }).name);
      const script = new k8s.core.v1.ConfigMap(
        "pihole-adlists",
        {
          metadata: {
            name: jobName,
            namespace: PIHOLE_NAMESPACE,
            labels: appLabels("pihole-adlists", "pihole"),
          },
          data: { "sync.sh": adlistSyncScript(), "adlists.txt": adlistsFile(config.adlists) },
        },
        { ...child, dependsOn: [ns] },
      );
      // Waits for Pi-hole itself: the Job talks to its API.
      new k8s.batch.v1.Job("pihole-adlists", job, {
        ...child,
        dependsOn: [script, this.deployment],
        // A new list is a new Job: replace rather than patch the immutable template.
        deleteBeforeReplace: true,
      });
    }
    this.registerOutputs({});
  }
}
