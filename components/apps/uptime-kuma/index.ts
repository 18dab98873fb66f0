/**
 * The status page (seed 001, namespace `uptime-kuma`): Uptime Kuma v2 on SQLite at
 * `status.<domain>`, and AutoKuma keeping its monitors equal to the generated set (see
 * monitors.ts). Both keep their state on retained, protected volumes: AutoKuma forgets the
 * monitors it made without its own (seed 001, decision 12) and would create duplicates.
 * @see https://github.com/louislam/uptime-kuma/wiki
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { volumeOf } from "../../../topology/apps";
import { ServiceEndpoint } from "../../../topology/catalog";
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
  serviceManifest,
  StatefulVolume,
  statefulClaim,
  workloadNamed,
} from "../workload";
import { autokumaMonitorFiles } from "./monitors";

export const UPTIME_KUMA_NAMESPACE = "uptime-kuma";
export const UPTIME_KUMA_PORT = 3001;
/** Uptime Kuma's in-cluster address (AutoKuma and Homepage's widget use it). */
export const UPTIME_KUMA_URL = `http://uptime-kuma.${UPTIME_KUMA_NAMESPACE}.svc.cluster.local:${UPTIME_KUMA_PORT}`;
/** The Secret AutoKuma reads Uptime Kuma's admin password from. */
export const CREDENTIALS_SECRET = "uptime-kuma-credentials";
/** The claims as the program names them (a stack may keep the live cluster's: pi-cluster:volumes). */
const KUMA_CLAIM = "uptime-kuma-data";
const AUTOKUMA_CLAIM = "autokuma-data";
const MONITORS_DIR = "/autokuma/monitors";

/** `pi-cluster:apps.uptime-kuma`. */
export const uptimeKumaConfigSchema = z.strictObject({
  /** The admin user created in Uptime Kuma's setup page; AutoKuma logs in as it. @default "admin" */
  adminUser: z.string().min(1).default("admin"),
  /** Slug of the status page Homepage's widget shows (seed 001: `home`). @default "home" */
  statusPage: z
    .string()
    .regex(/^[a-z0-9-]+$/, "is not a status page slug (lowercase letters, digits, '-')")
    .default("home"),
  /** Size of Uptime Kuma's SQLite volume (seed 001: 2Gi). @default "2Gi" */
  storage: z.string().default("2Gi"),
});
export type UptimeKumaConfig = z.infer<typeof uptimeKumaConfigSchema>;

/** Uptime Kuma and AutoKuma, sized by what seed 002 measured (Uptime Kuma ~152Mi). */
export function uptimeKumaWorkloads(): WorkloadSpec[] {
  return [
    {
      name: "uptime-kuma",
      namespace: UPTIME_KUMA_NAMESPACE,
      kind: "Deployment",
      // Node.js plus SQLite: 152Mi observed; the limit leaves room for v2's first-start migration.
      containers: { "uptime-kuma": resources("50m", "160Mi", "1", "512Mi") },
    },
    {
      name: "autokuma",
      namespace: UPTIME_KUMA_NAMESPACE,
      kind: "Deployment",
      // A small Rust binary; the sled database is a few MiB.
      containers: { autokuma: resources("10m", "32Mi", "200m", "128Mi") },
    },
  ];
}

/** The status page in the catalog: `status.<domain>` (seed 001), with the status-page widget. */
export function uptimeKumaEndpoint(config: UptimeKumaConfig): ServiceEndpoint {
  return {
    name: "uptime-kuma",
    title: "Uptime Kuma",
    host: "status",
    namespace: UPTIME_KUMA_NAMESPACE,
    service: "uptime-kuma",
    port: UPTIME_KUMA_PORT,
    dashboard: {
      group: "Monitoring",
      icon: "uptime-kuma.png",
      description: "Status page",
      widget: { type: "uptimekuma", url: UPTIME_KUMA_URL, options: { slug: config.statusPage } },
    },
  };
}

/** Both apps' state. */
export function uptimeKumaVolumes(config: UptimeKumaConfig): StatefulVolume[] {
  return [
    {
      claim: KUMA_CLAIM,
      namespace: UPTIME_KUMA_NAMESPACE,
      app: "uptime-kuma",
      workload: "uptime-kuma",
      size: config.storage,
      storage: "local",
      backup: true,
      holds: "Uptime Kuma's SQLite database: monitors, history, status pages, the admin account",
    },
    {
      claim: AUTOKUMA_CLAIM,
      namespace: UPTIME_KUMA_NAMESPACE,
      app: "uptime-kuma",
      workload: "autokuma",
      size: "100Mi",
      storage: "local",
      backup: true,
      holds: "AutoKuma's sled database: which monitors it created (lost, it creates duplicates)",
    },
  ];
}

/** Uptime Kuma: SQLite chosen by environment (no setup wizard), data on its volume. */
export function uptimeKumaDeployment(
  topology: Topology,
  spec: WorkloadSpec,
): k8s.types.input.apps.v1.Deployment {
  // Answers without a login, before and after the admin account exists.
  const http = { httpGet: { path: "/api/entry-page", port: UPTIME_KUMA_PORT } };
  const { claim } = volumeOf(topology, UPTIME_KUMA_NAMESPACE, KUMA_CLAIM);
  return deploymentManifest(
    topology,
    spec,
    {
      containers: [
        {
          name: "uptime-kuma",
          image: image("uptimeKuma"),
          env: [
            { name: "UPTIME_KUMA_DB_TYPE", value: "sqlite" },
            { name: "TZ", value: topology.timezone },
          ],
          ports: [{ name: "http", containerPort: UPTIME_KUMA_PORT, protocol: "TCP" }],
          volumeMounts: [{ name: "data", mountPath: "/app/data" }],
          // v2's first start migrates a v1 database: minutes on a Pi with long history.
          startupProbe: { ...http, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 90 },
          readinessProbe: { ...http, periodSeconds: 15, timeoutSeconds: 5 },
          livenessProbe: { ...http, periodSeconds: 30, timeoutSeconds: 10, failureThreshold: 3 },
          securityContext: {
            allowPrivilegeEscalation: false,
            seccompProfile: { type: "RuntimeDefault" },
          },
        },
      ],
      volumes: [claimVolume("data", claim)],
    },
    { rwoClaims: [claim], part: "uptime-kuma" },
  );
}

/** AutoKuma: Docker source off, monitors from the generated ConfigMap, state on its volume. */
export function autokumaDeployment(
  topology: Topology,
  config: UptimeKumaConfig,
  spec: WorkloadSpec,
  monitorsHash: string,
): k8s.types.input.apps.v1.Deployment {
  const { claim } = volumeOf(topology, UPTIME_KUMA_NAMESPACE, AUTOKUMA_CLAIM);
  return deploymentManifest(
    topology,
    spec,
    {
      // A changed monitor set restarts AutoKuma, which then syncs it at once.
      annotations: { "pi-cluster/monitors-hash": monitorsHash },
      containers: [
        {
          name: "autokuma",
          image: image("autokuma"),
          env: [
            { name: "AUTOKUMA__KUMA__URL", value: UPTIME_KUMA_URL },
            { name: "AUTOKUMA__KUMA__USERNAME", value: config.adminUser },
            {
              name: "AUTOKUMA__KUMA__PASSWORD",
              valueFrom: { secretKeyRef: { name: CREDENTIALS_SECRET, key: "password" } },
            },
            // No Docker here: monitors come only from the files.
            { name: "AUTOKUMA__DOCKER__ENABLED", value: "false" },
            { name: "AUTOKUMA__STATIC_MONITORS", value: MONITORS_DIR },
            // ConfigMap files are symlinks; AutoKuma skips symlinks unless told otherwise.
            { name: "AUTOKUMA__FILES__FOLLOW_SYMLINKS", value: "true" },
            { name: "AUTOKUMA__DATA_PATH", value: "/data" },
          ],
          volumeMounts: [
            { name: "data", mountPath: "/data" },
            { name: "monitors", mountPath: MONITORS_DIR, readOnly: true },
          ],
          securityContext: {
            allowPrivilegeEscalation: false,
            seccompProfile: { type: "RuntimeDefault" },
          },
        },
      ],
      volumes: [
        claimVolume("data", claim),
        { name: "monitors", configMap: { name: "autokuma-monitors" } },
      ],
    },
    { rwoClaims: [claim], part: "uptime-kuma" },
  );
}

/** The app module: `pi-cluster:apps.uptime-kuma`. */
export const uptimeKuma = defineAppModule<UptimeKumaConfig>({
  name: "uptime-kuma",
  schema: uptimeKumaConfigSchema,
  secrets: ["uptimeKumaPassword"],
  workloads: () => uptimeKumaWorkloads(),
  endpoints: (config) => [uptimeKumaEndpoint(config)],
  volumes: uptimeKumaVolumes,
  deploy: (config, context, opts) => new UptimeKuma("uptime-kuma", { config, context }, opts),
});

export type UptimeKumaArgs = AppArgs<UptimeKumaConfig>;

/** Uptime Kuma and AutoKuma in `uptime-kuma`, the monitors generated from the catalog. */
export class UptimeKuma extends pulumi.ComponentResource {
  constructor(name: string, args: UptimeKumaArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pi-cluster:apps:UptimeKuma", name, {}, opts);
    const { config, context } = args;
    const { topology, provider, platform } = context;
    const child = { parent: this, provider };
    const spec = (workload: string) => workloadNamed(uptimeKumaWorkloads(), workload);

    const ns = namespace(UPTIME_KUMA_NAMESPACE, { ...child, dependsOn: [...context.nodesReady] });
    const claims = [KUMA_CLAIM, AUTOKUMA_CLAIM].map((declared) =>
      statefulClaim(volumeOf(topology, UPTIME_KUMA_NAMESPACE, declared), {
        ...child,
        dependsOn: [ns, platform.storage],
      }),
    );
    const kuma = new k8s.apps.v1.Deployment(
      "uptime-kuma",
      uptimeKumaDeployment(topology, spec("uptime-kuma")),
      { ...child, dependsOn: [claims[0]] },
    );
    new k8s.core.v1.Service(
      "uptime-kuma",
      serviceManifest(spec("uptime-kuma"), [{ name: "http", port: UPTIME_KUMA_PORT }]),
      { ...child, dependsOn: [ns] },
    );

    const credentials = platform.externalSecrets.secret(
      {
        name: CREDENTIALS_SECRET,
        namespace: UPTIME_KUMA_NAMESPACE,
        data: { password: topology.secrets.uptimeKumaPassword },
      },
      [ns],
    );
    const files = autokumaMonitorFiles(context.catalog, context.monitors, topology.domain);
    const monitors = new k8s.core.v1.ConfigMap(
      "autokuma-monitors",
      {
        metadata: {
          name: "autokuma-monitors",
          namespace: UPTIME_KUMA_NAMESPACE,
          labels: appLabels("autokuma", "uptime-kuma"),
        },
        data: files,
      },
      { ...child, dependsOn: [ns] },
    );
    new k8s.apps.v1.Deployment(
      "autokuma",
      autokumaDeployment(topology, config, spec("autokuma"), contentHash(JSON.stringify(files))),
      { ...child, dependsOn: [claims[1], credentials, monitors, kuma] },
    );
    this.registerOutputs({});
  }
}
