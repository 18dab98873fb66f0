/**
 * The personal site (seed 003, namespace `mtgibbs-site`): the Next.js build of mtgibbs.xyz at
 * `site.<domain>`, preferring the Pi 3 workers, with the seed's resources and probes. Flux's image
 * automation is replaced by the updater CronJob (updater.ts): it keeps the Deployment on the
 * newest `YYYYMMDDHHmmss` build, and Pulumi ignores the image it owns, so `pulumi up` never moves
 * the site back. The stack pins only the tag a first create starts from (`fallbackTag`).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { appKey } from "../../../topology/apps";
import { ServiceEndpoint } from "../../../topology/catalog";
import { ConfigProblem, showValue } from "../../../topology/errors";
import { Topology } from "../../../topology/types";
import { resources, WorkloadSpec } from "../../../topology/workloads";
import { contentHash } from "../../cluster/k3s-node";
import { namespace } from "../../platform/helm";
import { AppArgs, defineAppModule } from "../app";
import { TRACKED_IMAGES, trackedImage } from "../images";
import {
  appLabels,
  deploymentManifest,
  restrictedContainer,
  serviceManifest,
  workloadNamed,
} from "../workload";
import { newestTag, SITE_TAG_PATTERN } from "./tags";
import { updaterCronJob, updaterNames, updaterRole, updaterScript } from "./updater";

export const SITE_NAMESPACE = "mtgibbs-site";
/** The Deployment's name on the live cluster (seed 003: pods `mtgibbs-site-...`). */
export const SITE_DEPLOYMENT = "mtgibbs-site";
export const SITE_PORT = 3000;
export const SITE_UPDATER = updaterNames(SITE_DEPLOYMENT).cronJob;
/**
 * The image field the updater owns and Pulumi ignores. Index 0: the site's pod has exactly one
 * container, and the updater's JSON patch addresses the same index.
 */
export const SITE_IMAGE_FIELD = "spec.template.spec.containers[0].image";

/** `pi-cluster:apps.personal-site`. */
export const personalSiteConfigSchema = z.strictObject({
  /**
   * The build a first create starts from, until the updater's first run (≤ 5 minutes) moves it to
   * the newest. `pulumi up` never forces it back (the image is ignored after the create). Checked
   * against `^[0-9]{14}$` by `validate`. A YAML number is accepted and read as its digits.
   */
  fallbackTag: z.preprocess((v) => (typeof v === "number" ? String(v) : v), z.string()),
  /** False suspends the updater CronJob: the running tag stays until set by hand. @default true */
  autoUpdate: z.boolean().default(true),
  /**
   * The uid the site runs as; the image must allow it (Next.js's Docker example creates `nextjs`
   * as 1001). @default 1001
   */
  uid: z.number().int().min(1).default(1001),
});
export type PersonalSiteConfig = z.infer<typeof personalSiteConfigSchema>;

/** The fallback tag must be a build tag the updater itself would pick. */
export function validatePersonalSite(config: PersonalSiteConfig): ConfigProblem[] {
  if (newestTag([config.fallbackTag]) === config.fallbackTag) return [];
  const key = appKey("personal-site", ".fallbackTag");
  return [
    {
      key,
      message:
        `${key}: ${showValue(config.fallbackTag, key)} is not a build tag of the site; allowed: ` +
        `${SITE_TAG_PATTERN} (YYYYMMDDHHmmss, e.g. 20260104154234)`,
    },
  ];
}

/** The site and its updater, sized as seed 003 runs the site. */
export function personalSiteWorkloads(): WorkloadSpec[] {
  return [
    {
      name: SITE_DEPLOYMENT,
      namespace: SITE_NAMESPACE,
      kind: "Deployment",
      // Seed 003: 50m/500m CPU, 128Mi/256Mi memory (kept small for a 1 GB Pi 3).
      containers: { site: resources("50m", "128Mi", "500m", "256Mi") },
    },
    {
      name: SITE_UPDATER,
      namespace: SITE_NAMESPACE,
      kind: "CronJob",
      // curl and busybox for a few seconds every five minutes.
      containers: { updater: resources("10m", "16Mi", "100m", "64Mi") },
    },
  ];
}

/** `site.<domain>` in the Web group, monitored every minute (seed 003: personal-site-cluster). */
export function personalSiteEndpoint(): ServiceEndpoint {
  return {
    name: "site",
    title: "Personal Site (Cluster)",
    host: "site",
    namespace: SITE_NAMESPACE,
    service: SITE_DEPLOYMENT,
    port: SITE_PORT,
    dashboard: {
      group: "Web",
      icon: "si-nextdotjs",
      description: "mtgibbs.xyz, built from the newest image",
    },
    monitor: { kind: "http", path: "/" },
  };
}

/**
 * The site's Deployment with the fallback image: the seed's probes (liveness every 30 s,
 * readiness every 10 s on port 3000), non-root, no service-account token.
 */
export function siteDeployment(
  topology: Topology,
  config: PersonalSiteConfig,
  spec: WorkloadSpec,
): k8s.types.input.apps.v1.Deployment {
  const http = { httpGet: { path: "/", port: "http" } };
  return deploymentManifest(
    topology,
    spec,
    {
      containers: [
        {
          name: "site",
          image: trackedImage("personalSite", config.fallbackTag),
          env: [
            { name: "PORT", value: String(SITE_PORT) },
            // Next.js's standalone server binds to $HOSTNAME, which Kubernetes sets to the pod's
            // name: without this it may not answer on the pod IP the probes use.
            { name: "HOSTNAME", value: "0.0.0.0" },
          ],
          ports: [{ name: "http", containerPort: SITE_PORT, protocol: "TCP" }],
          // A Pi 3 starts Node slowly (seed 000's Homepage lesson): up to two minutes.
          startupProbe: { ...http, periodSeconds: 5, timeoutSeconds: 5, failureThreshold: 24 },
          readinessProbe: { ...http, periodSeconds: 10, timeoutSeconds: 5 },
          livenessProbe: { ...http, periodSeconds: 30, timeoutSeconds: 10, failureThreshold: 3 },
          // Next.js writes .next/cache inside the image: see the exemption.
          securityContext: restrictedContainer(config.uid, false),
        },
      ],
      spec: { automountServiceAccountToken: false },
    },
    { part: "personal-site" },
  );
}

/** The app module: `pi-cluster:apps.personal-site`. */
export const personalSite = defineAppModule<PersonalSiteConfig>({
  name: "personal-site",
  schema: personalSiteConfigSchema as z.ZodType<PersonalSiteConfig>,
  validate: (config) => validatePersonalSite(config),
  workloads: () => personalSiteWorkloads(),
  endpoints: () => [personalSiteEndpoint()],
  deploy: (config, context, opts) => new PersonalSite("personal-site", { config, context }, opts),
});

export type PersonalSiteArgs = AppArgs<PersonalSiteConfig>;

/** The site, its Service, and the updater with its one-Deployment Role, in `mtgibbs-site`. */
export class PersonalSite extends pulumi.ComponentResource {
  constructor(name: string, args: PersonalSiteArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pi-cluster:apps:PersonalSite", name, {}, opts);
    const { config, context } = args;
    const { topology, provider } = context;
    const child = { parent: this, provider };
    const spec = (workload: string) => workloadNamed(personalSiteWorkloads(), workload);
    const names = updaterNames(SITE_DEPLOYMENT);

    const ns = namespace(SITE_NAMESPACE, { ...child, dependsOn: [...context.nodesReady] });
    const site = new k8s.apps.v1.Deployment(
      SITE_DEPLOYMENT,
      siteDeployment(topology, config, spec(SITE_DEPLOYMENT)),
      // The updater owns the tag after the create; Pulumi must never set it back.
      { ...child, dependsOn: [ns], ignoreChanges: [SITE_IMAGE_FIELD] },
    );
    new k8s.core.v1.Service(
      SITE_DEPLOYMENT,
      serviceManifest(spec(SITE_DEPLOYMENT), [{ name: "http", port: SITE_PORT }]),
      { ...child, dependsOn: [ns] },
    );

    const labels = appLabels(names.cronJob, SITE_DEPLOYMENT);
    const account = new k8s.core.v1.ServiceAccount(
      names.serviceAccount,
      { metadata: { name: names.serviceAccount, namespace: SITE_NAMESPACE, labels } },
      { ...child, dependsOn: [ns] },
    );
    const role = new k8s.rbac.v1.Role(names.role, updaterRole(SITE_NAMESPACE, SITE_DEPLOYMENT), {
      ...child,
      dependsOn: [ns],
    });
    const binding = new k8s.rbac.v1.RoleBinding(
      names.role,
      {
        metadata: { name: names.role, namespace: SITE_NAMESPACE, labels },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: names.role },
        subjects: [
          { kind: "ServiceAccount", name: names.serviceAccount, namespace: SITE_NAMESPACE },
        ],
      },
      { ...child, dependsOn: [account, role] },
    );
    const script = siteUpdaterScript();
    const scriptMap = new k8s.core.v1.ConfigMap(
      names.script,
      {
        metadata: { name: names.script, namespace: SITE_NAMESPACE, labels },
        data: { "update.sh": script },
      },
      { ...child, dependsOn: [ns] },
    );
    const cronJob = updaterCronJob(topology, spec(SITE_UPDATER), {
      namespace: SITE_NAMESPACE,
      deployment: SITE_DEPLOYMENT,
      enabled: config.autoUpdate,
    });
    new k8s.batch.v1.CronJob(
      names.cronJob,
      {
        ...cronJob,
        metadata: {
          ...cronJob.metadata,
          // A changed script is visible on the CronJob in `pulumi preview`.
          annotations: { "pi-cluster/script-hash": contentHash(script) },
        },
      },
      { ...child, dependsOn: [binding, scriptMap, site] },
    );
    this.registerOutputs({});
  }
}

/** The updater script for the site's repository and Deployment. */
export function siteUpdaterScript(registry?: string): string {
  const tracked = TRACKED_IMAGES.personalSite;
  return updaterScript({
    registry,
    repository: tracked.repository.replace(/^ghcr\.io\//, ""),
    image: tracked.repository,
    pattern: tracked.tagPattern,
    namespace: SITE_NAMESPACE,
    deployment: SITE_DEPLOYMENT,
  });
}
