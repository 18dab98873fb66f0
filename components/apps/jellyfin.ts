/**
 * The media server (seeds 000 and 001, namespace `jellyfin`): Jellyfin 10.11 at
 * `jellyfin.<domain>`, the video library read-only from the NAS over NFS, its configuration on a
 * retained, protected local volume, its cache in a size-limited emptyDir. On a Pi 5 it direct
 * plays: there is no hardware encoder to hand it (no `/dev/dri`), so clients that cannot play a
 * file's codec get a slow CPU transcode at best (README, Jellyfin).
 * @see https://jellyfin.org/docs/general/installation/container
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { appKey, AppPlanContext, nfsExportProblems, volumeOf } from "../../topology/apps";
import { ServiceEndpoint } from "../../topology/catalog";
import { ConfigProblem, showValue } from "../../topology/errors";
import { isMemoryQuantity, memoryMi } from "../../topology/quantity";
import { Topology } from "../../topology/types";
import { resources, WorkloadSpec } from "../../topology/workloads";
import { namespace } from "../platform/helm";
import { nfsVolume } from "../platform/storage";
import { AppArgs, defineAppModule } from "./app";
import { image } from "./images";
import {
  claimVolume,
  deploymentManifest,
  serviceManifest,
  StatefulVolume,
  statefulClaim,
  workloadNamed,
} from "./workload";

export const JELLYFIN_NAMESPACE = "jellyfin";
export const JELLYFIN_PORT = 8096;
/** Jellyfin's in-cluster address (Homepage's widget reads it). */
export const JELLYFIN_URL = `http://jellyfin.${JELLYFIN_NAMESPACE}.svc.cluster.local:${JELLYFIN_PORT}`;
/** The claims as the program names them (a stack may keep the live cluster's: pi-cluster:volumes). */
export const CONFIG_CLAIM = "jellyfin-config";
export const MEDIA_CLAIM = "jellyfin-media";
/**
 * Jellyfin 10.11 refuses to start with less than 2 GiB free on its data or cache directory
 * (facts-apps). The config volume is sized well above it: 2 GiB of headroom plus the metadata,
 * artwork and database a home library grows to.
 */
export const MIN_FREE_GI = 2;
const MIN_CONFIG_GI = 5;
/** Where the pod mounts its own volumes; the library must go elsewhere. */
const OWN_MOUNTS = ["/config", "/cache", "/tmp"];

const quantity = z
  .string()
  .refine(isMemoryQuantity, "is not a size; use a quantity such as 5Gi or 512Mi");

/** `pi-cluster:apps.jellyfin`. */
export const jellyfinConfigSchema = z.strictObject({
  /**
   * The NAS export holding the video library (seed 000: `192.168.1.60:/volume1/video`); the NAS
   * address is `pi-cluster:network.nas`. @default "/volume1/video"
   */
  mediaExport: z.string().default("/volume1/video"),
  /**
   * Where the library is mounted in the pod. Jellyfin stores its libraries' paths in its
   * database: keep the live deployment's mount path, or every library must be re-pointed.
   * @default "/media"
   */
  mediaPath: z.string().default("/media"),
  /** Size of the config volume (database, metadata, artwork, logs); at least 5Gi. @default "5Gi" */
  configSize: quantity.default("5Gi"),
  /**
   * Most the cache (image cache, transcodes) may hold before the kubelet evicts the pod, so a
   * runaway transcode cannot fill the node's SD card; at least 2Gi (Jellyfin's free-space check).
   * @default "4Gi"
   */
  cacheLimit: quantity.default("4Gi"),
});
export type JellyfinConfig = z.infer<typeof jellyfinConfigSchema>;

/**
 * Rules across the config and the plan: an absolute export and mount path, a NAS to mount from,
 * volumes big enough for Jellyfin's free-space check.
 */
export function validateJellyfin(config: JellyfinConfig, context: AppPlanContext): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const add = (field: string, message: string) => {
    const key = appKey("jellyfin", `.${field}`);
    problems.push({ key, message: `${key}: ${message}` });
  };
  problems.push(
    ...nfsExportProblems(
      appKey("jellyfin", ".mediaExport"),
      config.mediaExport,
      context.network.nas,
      "/volume1/video",
    ),
  );
  if (!config.mediaPath.startsWith("/") || config.mediaPath.split("/").includes("..")) {
    add(
      "mediaPath",
      `${showValue(config.mediaPath, appKey("jellyfin", ".mediaPath"))} is not an absolute path; use one like /media`,
    );
  }
  const own = OWN_MOUNTS.find(
    (m) =>
      config.mediaPath === m ||
      config.mediaPath.startsWith(`${m}/`) ||
      m.startsWith(`${config.mediaPath}/`) ||
      config.mediaPath === "/",
  );
  if (own) {
    add(
      "mediaPath",
      `${showValue(config.mediaPath, appKey("jellyfin", ".mediaPath"))} overlaps Jellyfin's own ${own}; allowed: a path outside ${OWN_MOUNTS.join(", ")}`,
    );
  }
  if (isMemoryQuantity(config.configSize) && memoryMi(config.configSize) < MIN_CONFIG_GI * 1024) {
    add(
      "configSize",
      `${showValue(config.configSize, appKey("jellyfin", ".configSize"))} is too small; allowed: at least ${MIN_CONFIG_GI}Gi ` +
        `(Jellyfin refuses to start with less than ${MIN_FREE_GI} GiB free)`,
    );
  }
  if (isMemoryQuantity(config.cacheLimit) && memoryMi(config.cacheLimit) < MIN_FREE_GI * 1024) {
    add(
      "cacheLimit",
      `${showValue(config.cacheLimit, appKey("jellyfin", ".cacheLimit"))} is too small; allowed: at least ${MIN_FREE_GI}Gi ` +
        `(Jellyfin refuses to start with less than ${MIN_FREE_GI} GiB free)`,
    );
  }
  return problems;
}

/** Jellyfin's one pod, sized from what seed 002 measured (467Mi). */
export function jellyfinWorkloads(): WorkloadSpec[] {
  return [
    {
      name: "jellyfin",
      namespace: JELLYFIN_NAMESPACE,
      kind: "Deployment",
      // 467Mi observed idle (seed 002): requested at 512Mi so the node is not overbooked; the
      // limit leaves room for library scans and ffmpeg remuxing a stream; all four Pi 5 cores.
      containers: { jellyfin: resources("250m", "512Mi", "4", "1536Mi") },
    },
  ];
}

/** `jellyfin.<domain>` in the Media group, with the library widget and a `/health` monitor. */
export function jellyfinEndpoint(): ServiceEndpoint {
  return {
    name: "jellyfin",
    title: "Jellyfin",
    host: "jellyfin",
    namespace: JELLYFIN_NAMESPACE,
    service: "jellyfin",
    port: JELLYFIN_PORT,
    dashboard: {
      group: "Media",
      icon: "jellyfin.png",
      description: "Media server",
      widget: {
        type: "jellyfin",
        url: JELLYFIN_URL,
        options: { enableBlocks: true, enableNowPlaying: true },
        // An API key made in Jellyfin's dashboard (Administration → API Keys), kept in 1Password.
        secrets: { key: "jellyfinApiKey" },
      },
    },
    // `/health` answers "Healthy" without a login once the server is up.
    monitor: { kind: "http", path: "/health" },
  };
}

/** The config volume (backed up) and the NAS library (read-only, already on the NAS). */
export function jellyfinVolumes(config: JellyfinConfig): StatefulVolume[] {
  return [
    {
      claim: CONFIG_CLAIM,
      namespace: JELLYFIN_NAMESPACE,
      app: "jellyfin",
      workload: "jellyfin",
      size: config.configSize,
      storage: "local",
      backup: true,
      holds: "Jellyfin's database, users, watch history, library metadata and artwork",
    },
    {
      claim: MEDIA_CLAIM,
      namespace: JELLYFIN_NAMESPACE,
      app: "jellyfin",
      workload: "jellyfin",
      // NFS does not enforce a size; this is what the volume and claim record.
      size: "1Ti",
      storage: "nfs",
      // The library lives on the NAS (and its own backups); Jellyfin only reads it.
      backup: false,
      holds: `the video library, NFS ${config.mediaExport} (read-only)`,
    },
  ];
}

/** The NFS volume's arguments: the export read-only, as every pod mounts it. */
export function jellyfinMediaVolumeArgs(topology: Topology, config: JellyfinConfig) {
  const media = volumeOf(topology, JELLYFIN_NAMESPACE, MEDIA_CLAIM);
  return {
    server: topology.network.nas!,
    path: config.mediaExport,
    size: media.size,
    namespace: JELLYFIN_NAMESPACE,
    claimName: media.claim,
    accessModes: ["ReadOnlyMany"],
    readOnly: true,
  };
}

/**
 * Jellyfin's Deployment: config on its claim, the library read-only, cache and /tmp in emptyDirs
 * (the root filesystem is read-only). Probes on `/health`; the first start of 10.11 migrates the
 * database of a 10.10 install, which takes minutes on a Pi, hence the long startup allowance.
 */
export function jellyfinDeployment(
  topology: Topology,
  config: JellyfinConfig,
  spec: WorkloadSpec,
): k8s.types.input.apps.v1.Deployment {
  const health = { httpGet: { path: "/health", port: JELLYFIN_PORT } };
  const configClaim = volumeOf(topology, JELLYFIN_NAMESPACE, CONFIG_CLAIM).claim;
  const mediaClaim = volumeOf(topology, JELLYFIN_NAMESPACE, MEDIA_CLAIM).claim;
  return deploymentManifest(
    topology,
    spec,
    {
      containers: [
        {
          name: "jellyfin",
          image: image("jellyfin"),
          env: [
            { name: "TZ", value: topology.timezone },
            // fontconfig's cache (subtitle rendering) cannot go to the read-only /var/cache.
            { name: "XDG_CACHE_HOME", value: "/cache" },
            // The URL clients and the DLNA/"published server" list are told.
            {
              name: "JELLYFIN_PublishedServerUrl",
              value: `https://jellyfin.${topology.domain}`,
            },
          ],
          ports: [{ name: "http", containerPort: JELLYFIN_PORT, protocol: "TCP" }],
          volumeMounts: [
            { name: "config", mountPath: "/config" },
            { name: "cache", mountPath: "/cache" },
            { name: "tmp", mountPath: "/tmp" },
            { name: "media", mountPath: config.mediaPath, readOnly: true },
          ],
          // Up to 15 minutes for the first start (database migration, plugin load).
          startupProbe: { ...health, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 90 },
          readinessProbe: { ...health, periodSeconds: 15, timeoutSeconds: 5 },
          livenessProbe: { ...health, periodSeconds: 30, timeoutSeconds: 10, failureThreshold: 5 },
          securityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            // As root it owns the live root-owned files without DAC_OVERRIDE; nothing else.
            capabilities: { drop: ["ALL"] },
            seccompProfile: { type: "RuntimeDefault" },
          },
        },
      ],
      volumes: [
        claimVolume("config", configClaim),
        // On the node's disk but bounded: past the limit the kubelet evicts the pod (the cache is
        // rebuilt on the next start) instead of filling the SD card.
        { name: "cache", emptyDir: { sizeLimit: config.cacheLimit } },
        { name: "tmp", emptyDir: { sizeLimit: "256Mi" } },
        { name: "media", persistentVolumeClaim: { claimName: mediaClaim, readOnly: true } },
      ],
    },
    { rwoClaims: [configClaim], part: "jellyfin" },
  );
}

/** The app module: `pi-cluster:apps.jellyfin`. */
export const jellyfin = defineAppModule<JellyfinConfig>({
  name: "jellyfin",
  schema: jellyfinConfigSchema,
  secrets: ["jellyfinApiKey"],
  validate: validateJellyfin,
  workloads: () => jellyfinWorkloads(),
  endpoints: () => [jellyfinEndpoint()],
  volumes: jellyfinVolumes,
  deploy: (config, context, opts) => new Jellyfin("jellyfin", { config, context }, opts),
});

export type JellyfinArgs = AppArgs<JellyfinConfig>;

/** Jellyfin in `jellyfin`: namespace, the two volumes, the Deployment and its Service. */
export class Jellyfin extends pulumi.ComponentResource {
  constructor(name: string, args: JellyfinArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pi-cluster:apps:Jellyfin", name, {}, opts);
    const { config, context } = args;
    const { topology, provider, platform } = context;
    const child = { parent: this, provider };
    const spec = workloadNamed(jellyfinWorkloads(), "jellyfin");

    const ns = namespace(JELLYFIN_NAMESPACE, { ...child, dependsOn: [...context.nodesReady] });
    const configClaim = statefulClaim(volumeOf(topology, JELLYFIN_NAMESPACE, CONFIG_CLAIM), {
      ...child,
      dependsOn: [ns, platform.storage],
    });
    const media = nfsVolume(MEDIA_CLAIM, jellyfinMediaVolumeArgs(topology, config), {
      ...child,
      dependsOn: [ns],
    });
    new k8s.apps.v1.Deployment("jellyfin", jellyfinDeployment(topology, config, spec), {
      ...child,
      dependsOn: [configClaim, media.claim],
    });
    new k8s.core.v1.Service(
      "jellyfin",
      serviceManifest(spec, [{ name: "http", port: JELLYFIN_PORT }]),
      { ...child, dependsOn: [ns] },
    );
    this.registerOutputs({});
  }
}
