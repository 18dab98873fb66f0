/**
 * The dashboard (seed 001, namespace `homepage`, `home.<domain>`): Homepage with its config
 * generated from the catalog (config.ts), copied by an initContainer from a ConfigMap into a
 * writable emptyDir (Homepage writes into its config directory), a read-only ServiceAccount for
 * its kubernetes widget, and each live widget's key from 1Password as a `HOMEPAGE_VAR_*`.
 * @see https://gethomepage.dev/installation/k8s/
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { CatalogEntry, endpointHost, ServiceEndpoint } from "../../../topology/catalog";
import { Topology } from "../../../topology/types";
import { resources, WorkloadSpec } from "../../../topology/workloads";
import { contentHash } from "../../cluster/k3s-node";
import { namespace } from "../../platform/helm";
import { AppArgs, defineAppModule } from "../app";
import { image } from "../images";
import { appLabels, deploymentManifest, restrictedContainer, serviceManifest } from "../workload";
import { HomepageSettings, homepageFiles, widgetSecretName, widgetSecrets } from "./config";

export const HOMEPAGE_NAMESPACE = "homepage";
export const HOMEPAGE_PORT = 3000;
/** The user the image's node process runs as when not root (the image's own `node` user). */
const HOMEPAGE_UID = 1000;

/** `pi-cluster:apps.homepage`. */
export const homepageConfigSchema = z.strictObject({
  /** The page title. @default "Pi Cluster" */
  title: z.string().min(1).default("Pi Cluster"),
  /** Seed 001: dark theme. @default "dark" */
  theme: z.enum(["dark", "light"]).default("dark"),
  /** Homepage's accent palette. @default "slate" */
  color: z
    .enum([
      "slate",
      "gray",
      "zinc",
      "neutral",
      "stone",
      "red",
      "orange",
      "amber",
      "yellow",
      "lime",
      "green",
      "emerald",
      "teal",
      "cyan",
      "sky",
      "blue",
      "indigo",
      "violet",
      "purple",
      "fuchsia",
      "pink",
      "rose",
    ])
    .default("slate"),
  /** Groups in order, with tiles per row (seed 003: Web has 3 columns, between Monitoring and Media). */
  groups: z
    .array(
      z.strictObject({
        name: z.string().min(1),
        columns: z.number().int().min(1).max(8).optional(),
        style: z.enum(["row", "column"]).optional(),
      }),
    )
    .default([]),
  /** The weather widget (Open-Meteo, no key needed). */
  weather: z
    .strictObject({
      label: z.string().min(1),
      latitude: z.number().min(-90).max(90),
      longitude: z.number().min(-180).max(180),
      units: z.enum(["imperial", "metric"]).default("imperial"),
    })
    .optional(),
  /** The search widget's provider. @default "duckduckgo" */
  search: z
    .strictObject({
      provider: z
        .enum(["duckduckgo", "google", "bing", "baidu", "brave", "startpage"])
        .default("duckduckgo"),
    })
    .default({ provider: "duckduckgo" }),
});
export type HomepageConfig = z.infer<typeof homepageConfigSchema>;

/** Homepage and the init container that copies its config (seed 002 saw ~147Mi). */
export function homepageWorkloads(): WorkloadSpec[] {
  return [
    {
      name: "homepage",
      namespace: HOMEPAGE_NAMESPACE,
      kind: "Deployment",
      // Next.js on a Pi 3 needed more memory and time to start (seed 000, decision 3).
      containers: { homepage: resources("50m", "160Mi", "500m", "512Mi") },
      initContainers: { "copy-config": resources("10m", "16Mi", "100m", "32Mi") },
    },
  ];
}

/** `home.<domain>`: the dashboard itself has no tile, but it is monitored (seed 001). */
export function homepageEndpoint(): ServiceEndpoint {
  return {
    name: "homepage",
    title: "Homepage",
    host: "home",
    namespace: HOMEPAGE_NAMESPACE,
    service: "homepage",
    port: HOMEPAGE_PORT,
    monitor: { kind: "http", path: "/api/healthcheck" },
  };
}

/** The ClusterRole the kubernetes widget reads nodes, pods and their metrics with. */
export function homepageClusterRole(): k8s.types.input.rbac.v1.ClusterRole {
  return {
    metadata: { name: "homepage", labels: appLabels("homepage") },
    rules: [
      { apiGroups: [""], resources: ["namespaces", "pods", "nodes"], verbs: ["get", "list"] },
      { apiGroups: ["networking.k8s.io"], resources: ["ingresses"], verbs: ["get", "list"] },
      { apiGroups: ["metrics.k8s.io"], resources: ["nodes", "pods"], verbs: ["get", "list"] },
    ],
  };
}

/** Homepage's Deployment: config copied into an emptyDir, widget keys from their Secrets. */
export function homepageDeployment(
  topology: Topology,
  spec: WorkloadSpec,
  catalog: readonly CatalogEntry[],
  configHash: string,
): k8s.types.input.apps.v1.Deployment {
  const probe = { httpGet: { path: "/api/healthcheck", port: HOMEPAGE_PORT } };
  const host = endpointHost(homepageEndpoint(), topology.domain);
  return deploymentManifest(topology, spec, {
    annotations: { "pi-cluster/config-hash": configHash },
    spec: {
      serviceAccountName: "homepage",
      automountServiceAccountToken: true,
      securityContext: { fsGroup: HOMEPAGE_UID },
    },
    initContainers: [
      {
        name: "copy-config",
        image: image("homepage"),
        // ConfigMap files are symlinks: -L copies what they point to.
        command: ["sh", "-c", "cp -L /config-source/* /app/config/"],
        volumeMounts: [
          { name: "config-source", mountPath: "/config-source", readOnly: true },
          { name: "config", mountPath: "/app/config" },
        ],
        securityContext: restrictedContainer(HOMEPAGE_UID),
      },
    ],
    containers: [
      {
        name: "homepage",
        image: image("homepage"),
        env: [
          { name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
          // Without the public host and the pod's own address (the kubelet's probes) every
          // /api call answers 400 (Homepage >= 1.0).
          { name: "HOMEPAGE_ALLOWED_HOSTS", value: `${host},$(POD_IP):${HOMEPAGE_PORT}` },
          { name: "LOG_TARGETS", value: "stdout" },
          ...widgetSecrets(catalog).map((w) => ({
            name: w.env,
            valueFrom: { secretKeyRef: { name: widgetSecretName(w.entry), key: w.secretKey } },
          })),
        ],
        ports: [{ name: "http", containerPort: HOMEPAGE_PORT, protocol: "TCP" }],
        volumeMounts: [
          { name: "config", mountPath: "/app/config" },
          // Next.js caches optimised images here; the image's own directory is read-only.
          { name: "next-cache", mountPath: "/app/.next/cache" },
        ],
        // A Pi 3 takes a minute or more to start Next.js (seed 000: probe timeouts raised).
        startupProbe: { ...probe, periodSeconds: 10, timeoutSeconds: 10, failureThreshold: 30 },
        readinessProbe: { ...probe, periodSeconds: 15, timeoutSeconds: 10 },
        livenessProbe: { ...probe, periodSeconds: 30, timeoutSeconds: 30, failureThreshold: 3 },
        securityContext: restrictedContainer(HOMEPAGE_UID),
      },
    ],
    volumes: [
      { name: "config-source", configMap: { name: "homepage-config" } },
      { name: "config", emptyDir: { sizeLimit: "64Mi" } },
      { name: "next-cache", emptyDir: { sizeLimit: "256Mi" } },
    ],
  });
}

/** The settings the generated files read, from the app's config section. */
export function homepageSettings(config: HomepageConfig): HomepageSettings {
  return {
    title: config.title,
    theme: config.theme,
    color: config.color,
    groups: config.groups,
    search: config.search,
    ...(config.weather ? { weather: config.weather } : {}),
  };
}

/** The app module: `pi-cluster:apps.homepage`. */
export const homepage = defineAppModule<HomepageConfig>({
  name: "homepage",
  schema: homepageConfigSchema,
  workloads: () => homepageWorkloads(),
  endpoints: () => [homepageEndpoint()],
  deploy: (config, context, opts) => new Homepage("homepage", { config, context }, opts),
});

export type HomepageArgs = AppArgs<HomepageConfig>;

/** Homepage in `homepage`, its tiles generated from the stack's whole catalog. */
export class Homepage extends pulumi.ComponentResource {
  constructor(name: string, args: HomepageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pi-cluster:apps:Homepage", name, {}, opts);
    const { config, context } = args;
    const { topology, provider, platform, catalog } = context;
    const child = { parent: this, provider };
    const [spec] = homepageWorkloads();

    const ns = namespace(HOMEPAGE_NAMESPACE, { ...child, dependsOn: [...context.nodesReady] });
    const account = new k8s.core.v1.ServiceAccount(
      "homepage",
      {
        metadata: {
          name: "homepage",
          namespace: HOMEPAGE_NAMESPACE,
          labels: appLabels("homepage"),
        },
      },
      { ...child, dependsOn: [ns] },
    );
    const role = new k8s.rbac.v1.ClusterRole("homepage", homepageClusterRole(), child);
    const binding = new k8s.rbac.v1.ClusterRoleBinding(
      "homepage",
      {
        metadata: { name: "homepage", labels: appLabels("homepage") },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "homepage" },
        subjects: [{ kind: "ServiceAccount", name: "homepage", namespace: HOMEPAGE_NAMESPACE }],
      },
      { ...child, dependsOn: [role, account] },
    );

    // One ExternalSecret per tile with secrets: each key has its own lifecycle (seed 001, decision 18).
    const byEntry = new Map<string, Record<string, string>>();
    for (const w of widgetSecrets(catalog)) {
      byEntry.set(w.entry, { ...(byEntry.get(w.entry) ?? {}), [w.secretKey]: w.source });
    }
    const secrets = [...byEntry].map(([entry, keys]) =>
      platform.externalSecrets.secret(
        {
          name: widgetSecretName(entry),
          namespace: HOMEPAGE_NAMESPACE,
          data: Object.fromEntries(
            Object.entries(keys).map(([key, source]) => [key, topology.secrets[source]]),
          ),
        },
        [ns],
      ),
    );

    const files = homepageFiles(homepageSettings(config), catalog, topology.domain);
    const configMap = new k8s.core.v1.ConfigMap(
      "homepage-config",
      {
        metadata: {
          name: "homepage-config",
          namespace: HOMEPAGE_NAMESPACE,
          labels: appLabels("homepage"),
        },
        data: files,
      },
      { ...child, dependsOn: [ns] },
    );
    new k8s.apps.v1.Deployment(
      "homepage",
      homepageDeployment(topology, spec, catalog, contentHash(JSON.stringify(files))),
      { ...child, dependsOn: [configMap, binding, ...secrets] },
    );
    new k8s.core.v1.Service(
      "homepage",
      serviceManifest(spec, [{ name: "http", port: HOMEPAGE_PORT }]),
      { ...child, dependsOn: [ns] },
    );
    this.registerOutputs({});
  }
}
