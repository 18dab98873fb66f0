/**
 * Immich (seeds 000 and 001, namespace `immich`, `immich.<domain>`): chart 0.10.3 running app
 * v2.4.1 with Valkey, its own Postgres with VectorChord (postgres.ts), the photo library on the
 * NAS over NFS. Machine learning runs on the CPU of the 8 GB Pi 5 beside the server.
 * @see https://docs.immich.app/install/kubernetes/
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import {
  AppPlanContext,
  appKey,
  DatabaseSpec,
  nfsExportProblems,
  StatefulVolume,
  volumeOf,
} from "../../../topology/apps";
import { ServiceEndpoint } from "../../../topology/catalog";
import { ConfigProblem } from "../../../topology/errors";
import { resources, WorkloadSpec, workloadNamed } from "../../../topology/workloads";
import { helmRelease, namespace } from "../../platform/helm";
import { nfsVolume } from "../../platform/storage";
import { AppArgs, defineAppModule } from "../app";
import { statefulClaim } from "../workload";
import {
  POSTGRES_CLAIM,
  POSTGRES_NAME,
  POSTGRES_PORT,
  postgresService,
  postgresStatefulSet,
} from "./postgres";
import {
  IMMICH,
  IMMICH_RELEASE,
  immichValues,
  ML_WORKLOAD,
  SERVER_PORT,
  SERVER_WORKLOAD,
  VALKEY_WORKLOAD,
} from "./values";

export { IMMICH };

export const IMMICH_NAMESPACE = "immich";
/** The chart's server Service (`<release>-server`), what the route and the widget reach. */
export const SERVER_SERVICE = SERVER_WORKLOAD;
/** The Secret with the database password (server and Postgres read it). */
export const DB_SECRET = POSTGRES_NAME;
/** The NFS claim of the photo library (the program's name; `pi-cluster:volumes` may keep a live one). */
export const LIBRARY_CLAIM = "immich-library";

/** `pi-cluster:apps.immich`. */
export const immichConfigSchema = z.strictObject({
  /**
   * The NAS export holding the photo library (server `pi-cluster:network.nas`). The seeds name
   * none, so the default is a choice: a Synology share `photos` on volume 1.
   * @default "/volume1/photos"
   */
  libraryExport: z.string().default("/volume1/photos"),
  /** Size recorded on the library's volume and claim (NFS does not enforce it). @default "1Ti" */
  librarySize: z.string().default("1Ti"),
  /** Database name and user Immich connects as (the old chart's defaults). @default "immich" */
  database: z
    .strictObject({
      name: z.string().min(1).default("immich"),
      user: z.string().min(1).default("immich"),
      /** Size of Postgres' local volume. @default "10Gi" */
      storage: z.string().default("10Gi"),
    })
    .prefault({}),
});
export type ImmichConfig = z.infer<typeof immichConfigSchema>;

/** Problems zod cannot see: the export path's form and a NAS to mount it from. */
export function validateImmich(config: ImmichConfig, context: AppPlanContext): ConfigProblem[] {
  return nfsExportProblems(
    appKey("immich", ".libraryExport"),
    config.libraryExport,
    context.network.nas,
    "/volume1/photos",
  );
}

/**
 * Every pod Immich runs, each counted at what it is observed or expected to use. Placement by
 * default: the node with the most memory (the first such), where the stack file may pin it.
 */
export function immichWorkloads(_config: ImmichConfig, context: AppPlanContext): WorkloadSpec[] {
  const most = Math.max(...context.nodes.map((n) => n.memoryGb));
  const big = context.nodes.find((n) => n.memoryGb === most)!;
  const defaultPlacement = { nodeSelector: { "kubernetes.io/hostname": big.hostname } };
  const workload = (
    name: string,
    kind: WorkloadSpec["kind"],
    container: string,
    r: ReturnType<typeof resources>,
  ): WorkloadSpec => ({
    name,
    namespace: IMMICH_NAMESPACE,
    kind,
    containers: { [container]: r },
    defaultPlacement,
  });
  return [
    // Seed 002 measured the server at 1425Mi (API and job workers in one process); thumbnails
    // and video transcodes of large uploads peak above it, up to the limit.
    workload(SERVER_WORKLOAD, "Deployment", "main", resources("250m", "1425Mi", "3", "3Gi")),
    // CPU only on a Pi 5: CLIP (ViT-B-32) and face models loaded together take ~1.5Gi (the
    // limit leaves room); idle models unload after five minutes, so the request is what the
    // process holds between jobs.
    workload(ML_WORKLOAD, "Deployment", "main", resources("250m", "512Mi", "2", "2560Mi")),
    // The job queue: a few MiB of keys.
    workload(VALKEY_WORKLOAD, "Deployment", "main", resources("20m", "32Mi", "250m", "128Mi")),
    // Seed 002: 213Mi observed, plus the 128Mi memory-backed /dev/shm, which the kernel charges
    // to the container.
    workload(POSTGRES_NAME, "StatefulSet", "postgres", resources("100m", "384Mi", "1", "1Gi")),
  ];
}

/** `immich.<domain>` → the chart's server Service, with Homepage's v2 widget and a ping check. */
export function immichEndpoint(): ServiceEndpoint {
  return {
    name: "immich",
    host: "immich",
    namespace: IMMICH_NAMESPACE,
    service: SERVER_SERVICE,
    port: SERVER_PORT,
    // Photo and video uploads are large: no request body limit (ingress-nginx defaults to 1m).
    unlimitedRequestBody: true,
    dashboard: {
      group: "Media",
      icon: "immich.png",
      description: "Photos and videos",
      widget: {
        type: "immich",
        url: `http://${SERVER_SERVICE}.${IMMICH_NAMESPACE}.svc.cluster.local:${SERVER_PORT}`,
        // Immich ≥1.118's API; the key needs the `server.statistics` permission (seed 001).
        options: { version: 2 },
        secrets: { key: "immichApiKey" },
      },
    },
    // Answers {"res":"pong"} without a login once the server is up.
    monitor: { kind: "http", path: "/api/server/ping" },
  };
}

/** Postgres' data (backed up by the volume copy and dumped) and the library on the NAS. */
export function immichVolumes(config: ImmichConfig): StatefulVolume[] {
  return [
    {
      claim: POSTGRES_CLAIM,
      namespace: IMMICH_NAMESPACE,
      app: "immich",
      workload: POSTGRES_NAME,
      size: config.database.storage,
      storage: "local",
      backup: true,
      holds: "Immich's Postgres: users, albums, sharing, faces, smart-search vectors",
    },
    {
      claim: LIBRARY_CLAIM,
      namespace: IMMICH_NAMESPACE,
      app: "immich",
      workload: SERVER_WORKLOAD,
      size: config.librarySize,
      storage: "nfs",
      // It lives on the NAS already; the weekly copy is of local volumes to the NAS.
      backup: false,
      holds: `the photo library (uploads, thumbnails, encoded video) on the NAS at ${config.libraryExport}`,
    },
  ];
}

/** The database, for the dump job (Immich's documented `pg_dumpall --clean --if-exists`). */
export function immichDatabase(config: ImmichConfig): DatabaseSpec {
  return {
    app: "immich",
    namespace: IMMICH_NAMESPACE,
    service: POSTGRES_NAME,
    port: POSTGRES_PORT,
    engine: "postgres",
    database: config.database.name,
    user: config.database.user,
    passwordSecret: "immichDbPassword",
    workload: POSTGRES_NAME,
  };
}

/** The app module: `pi-cluster:apps.immich`. */
export const immich = defineAppModule<ImmichConfig>({
  name: "immich",
  schema: immichConfigSchema,
  secrets: ["immichDbPassword", "immichApiKey"],
  validate: validateImmich,
  workloads: immichWorkloads,
  endpoints: () => [immichEndpoint()],
  volumes: immichVolumes,
  databases: (config) => [immichDatabase(config)],
  deploy: (config, context, opts) => new Immich("immich", { config, context }, opts),
});

export type ImmichArgs = AppArgs<ImmichConfig>;

/** Immich in `immich`: the password Secret, Postgres, the library volume, then the chart. */
export class Immich extends pulumi.ComponentResource {
  public readonly release: k8s.helm.v3.Release;

  constructor(name: string, args: ImmichArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pi-cluster:apps:Immich", name, {}, opts);
    const { config, context } = args;
    const { topology, provider, platform } = context;
    const child = { parent: this, provider };
    const workloads = immichWorkloads(config, topology);
    const passwordSecret = { name: DB_SECRET, key: "password" };

    const ns = namespace(IMMICH_NAMESPACE, { ...child, dependsOn: [...context.nodesReady] });
    const secret = platform.externalSecrets.secret(
      {
        name: DB_SECRET,
        namespace: IMMICH_NAMESPACE,
        data: { password: topology.secrets.immichDbPassword },
      },
      [ns],
    );

    const data = volumeOf(topology, IMMICH_NAMESPACE, POSTGRES_CLAIM);
    const claim = statefulClaim(data, { ...child, dependsOn: [ns, platform.storage] });
    const postgresSpec = workloadNamed(workloads, POSTGRES_NAME);
    const service = new k8s.core.v1.Service(POSTGRES_NAME, postgresService(postgresSpec), {
      ...child,
      dependsOn: [ns],
    });
    const postgres = new k8s.apps.v1.StatefulSet(
      POSTGRES_NAME,
      postgresStatefulSet(topology, postgresSpec, {
        database: config.database.name,
        user: config.database.user,
        passwordSecret,
        claim: data.claim,
      }),
      { ...child, dependsOn: [claim, secret] },
    );

    const library = volumeOf(topology, IMMICH_NAMESPACE, LIBRARY_CLAIM);
    const nfs = nfsVolume(
      `${IMMICH_NAMESPACE}-library`,
      {
        server: topology.network.nas!,
        path: config.libraryExport,
        size: library.size,
        namespace: IMMICH_NAMESPACE,
        claimName: library.claim,
      },
      { ...child, dependsOn: [ns] },
    );

    this.release = helmRelease(
      IMMICH_RELEASE,
      {
        chart: IMMICH,
        namespace: IMMICH_NAMESPACE,
        values: immichValues(topology, {
          libraryClaim: library.claim,
          database: {
            host: POSTGRES_NAME,
            port: POSTGRES_PORT,
            database: config.database.name,
            user: config.database.user,
            passwordSecret,
          },
          workloads,
        }),
        // The first start of a new version migrates the database before the server is ready.
        timeoutSeconds: 900,
      },
      { ...child, dependsOn: [nfs.claim, postgres, service, secret] },
    );
    this.registerOutputs({});
  }
}
