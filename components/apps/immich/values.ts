/**
 * The Helm values of Immich's chart 0.10.3 (seed 001: the chart the user runs, app v2.4.1 by image
 * tag). The chart renders three components from the bjw-s common library: `server`,
 * `machine-learning` and `valkey`; each merges its own section over the top-level values, so what
 * is shared (the image tag) sits at the top and what is not (the database settings, resources,
 * placement) in each component's section. The chart bundles no database: Postgres is ours
 * (postgres.ts), and the chart refuses to render with a `postgresql:` or `redis:` key.
 * @see https://github.com/immich-app/immich-charts/tree/immich-0.10.3/charts/immich
 */
import { schedulingFor } from "../../../topology/scheduling";
import { Topology } from "../../../topology/types";
import { ContainerResources, WorkloadSpec, workloadNamed } from "../../../topology/workloads";
import { ChartRef } from "../../platform/helm";
import { IMAGES } from "../images";

/**
 * The chart as the seeds pin it (seed 001: immich-charts v0.10.3). Upstream publishes it as an
 * OCI artifact; the classic repository (immich-app.github.io/immich-charts) is marked deprecated.
 */
export const IMMICH: ChartRef = {
  chart: "oci://ghcr.io/immich-app/immich-charts/immich",
  version: "0.10.3",
  repo: "",
};

/**
 * The Helm release name. Flux named the live release after its HelmRelease `immich`
 * (`[<targetNamespace>-]<name>`, and the seeds' HelmRelease sets no targetNamespace), so the
 * chart's objects are `immich-server`, `immich-machine-learning`, `immich-valkey`: a takeover
 * adopts the release `immich/immich` in place.
 */
export const IMMICH_RELEASE = "immich";

/** The workloads the chart renders, named as the chart names their Deployments. */
export const SERVER_WORKLOAD = `${IMMICH_RELEASE}-server`;
export const ML_WORKLOAD = `${IMMICH_RELEASE}-machine-learning`;
export const VALKEY_WORKLOAD = `${IMMICH_RELEASE}-valkey`;

/** Where the chart mounts the library claim in the server (its hardcoded `persistence.data`). */
export const LIBRARY_MOUNT = "/data";

/** The server's port and the Service the chart puts in front of it (`<release>-server`). */
export const SERVER_PORT = 2283;

/** How the server reaches Postgres; the password comes from a Secret by reference only. */
export interface ImmichDatabaseEnv {
  /** In-cluster Service name, e.g. `immich-postgresql`. */
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  /** Secret (synced from 1Password) and key holding the user's password. */
  readonly passwordSecret: { readonly name: string; readonly key: string };
}

export interface ImmichValuesArgs {
  /** The claim of the photo library (an NFS volume), mounted at `/data`. */
  readonly libraryClaim: string;
  readonly database: ImmichDatabaseEnv;
  /** The WorkloadSpecs of the server, machine learning and Valkey (their resources). */
  readonly workloads: readonly WorkloadSpec[];
}

/** The one container's resources of a chart-rendered workload, as the capacity check counted. */
function containerResources(workloads: readonly WorkloadSpec[], name: string): ContainerResources {
  const spec = workloadNamed(workloads, name);
  const all = Object.values(spec.containers);
  if (all.length !== 1) {
    throw new Error(`workload ${name}: the chart runs one container; its spec has ${all.length}`);
  }
  return { requests: { ...all[0].requests }, limits: { ...all[0].limits } };
}

/**
 * A bjw-s controller section for one component: the container's resources (from its
 * WorkloadSpec) and security settings, the pod's placement (from the plan).
 */
function controller(
  topology: Topology,
  workloads: readonly WorkloadSpec[],
  name: string,
  container: Record<string, unknown>,
  podSecurity: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    main: {
      pod: { ...schedulingFor(topology, name), ...podSecurity },
      containers: {
        main: { ...container, resources: containerResources(workloads, name) },
      },
    },
  };
}

/** Container settings every component can follow whatever user it runs as. */
const NO_ESCALATION = {
  allowPrivilegeEscalation: false,
  seccompProfile: { type: "RuntimeDefault" },
};

/** Valkey's user in the official image (`valkey`, uid 999). */
export const VALKEY_UID = 999;

/**
 * The chart's values. The image tag is set once at the top level (`controllers.main...tag`),
 * which the chart merges into both Immich components; Valkey keeps its own image (the chart's
 * digest-pinned default). The database variables go to the server only: machine learning and
 * Valkey never talk to Postgres and need not see its password.
 */
export function immichValues(topology: Topology, args: ImmichValuesArgs): Record<string, unknown> {
  const { database, workloads } = args;
  if (IMAGES.immichServer.tag !== IMAGES.immichMachineLearning.tag) {
    // The chart takes one tag for both; two tags in the table would be a silent mismatch.
    throw new Error(
      `immich-server ${IMAGES.immichServer.tag} and immich-machine-learning ` +
        `${IMAGES.immichMachineLearning.tag} must be the same release (components/apps/images.ts)`,
    );
  }
  return {
    controllers: {
      main: { containers: { main: { image: { tag: IMAGES.immichServer.tag } } } },
    },
    immich: {
      persistence: { library: { existingClaim: args.libraryClaim } },
    },
    // The job queue lives in Valkey; its data stays an emptyDir (the chart's default): Immich
    // re-queues missing jobs from the database.
    valkey: {
      enabled: true,
      controllers: controller(
        topology,
        workloads,
        VALKEY_WORKLOAD,
        {
          securityContext: {
            ...NO_ESCALATION,
            runAsNonRoot: true,
            runAsUser: VALKEY_UID,
            runAsGroup: VALKEY_UID,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"] },
          },
        },
        { securityContext: { fsGroup: VALKEY_UID } },
      ),
    },
    server: {
      enabled: true,
      controllers: controller(topology, workloads, SERVER_WORKLOAD, {
        image: { repository: IMAGES.immichServer.repository },
        env: {
          DB_HOSTNAME: database.host,
          DB_PORT: String(database.port),
          DB_USERNAME: database.user,
          DB_DATABASE_NAME: database.database,
          DB_PASSWORD: {
            valueFrom: {
              secretKeyRef: {
                name: database.passwordSecret.name,
                key: database.passwordSecret.key,
              },
            },
          },
          // Seed 000: uploads are written under /data, where the chart mounts the library claim
          // (the user's fix for "Immich unable to write uploaded photos").
          IMMICH_MEDIA_LOCATION: LIBRARY_MOUNT,
        },
        // Runs as the image's root: the live library on the NAS was written by root (see README).
        securityContext: NO_ESCALATION,
      }),
    },
    "machine-learning": {
      enabled: true,
      controllers: controller(topology, workloads, ML_WORKLOAD, {
        image: { repository: IMAGES.immichMachineLearning.repository },
        env: {
          // A Pi 5 has four cores and no usable accelerator: one worker process, two threads per
          // model so a smart-search query and a background job can run side by side.
          MACHINE_LEARNING_WORKERS: "1",
          MACHINE_LEARNING_MODEL_INTRA_OP_THREADS: "2",
          // Models leave memory after five idle minutes (Immich's default, stated on purpose).
          MACHINE_LEARNING_MODEL_TTL: "300",
        },
        securityContext: NO_ESCALATION,
      }),
    },
  };
}
