/**
 * Immich's own Postgres: the chart bundles none since 0.10 (facts-apps). A StatefulSet named so
 * its Service is `immich-postgresql`, the address the seeds' backup job dumps (seed 001, decision
 * 19), running Immich's image with VectorChord, on a retained, protected local volume.
 * @see https://docs.immich.app/administration/postgres-standalone/
 */
import * as k8s from "@pulumi/kubernetes";
import { Topology } from "../../../topology/types";
import { WorkloadSpec } from "../../../topology/workloads";
import { image } from "../images";
import { appLabels, podTemplate, restrictedContainer, selectorLabels } from "../workload";

/** The StatefulSet and its Service (seed 001: `immich-postgresql.immich.svc.cluster.local`). */
export const POSTGRES_NAME = "immich-postgresql";
export const POSTGRES_PORT = 5432;

/**
 * The data claim as a `data` volumeClaimTemplate (and the Bitnami subchart the chart once
 * bundled) names it for pod 0 of `immich-postgresql`; declared by the program instead so Pulumi
 * protects it. A stack keeps another live name with `pi-cluster:volumes`.
 */
export const POSTGRES_CLAIM = `data-${POSTGRES_NAME}-0`;

/** The official postgres image's `postgres` user, which Immich's image builds on. */
export const POSTGRES_UID = 999;

/** Where the claim is mounted (the official image's data path). */
export const DATA_MOUNT = "/var/lib/postgresql/data";

/**
 * The data directory: a subdirectory of the mount, as the official image advises for mounted
 * volumes. local-path creates the volume's directory as root (and ignores `fsGroup`); initdb,
 * running as uid 999, can create and own a subdirectory but cannot take over the root one.
 */
export const PGDATA = `${DATA_MOUNT}/pgdata`;

/**
 * Shared memory for parallel queries: Immich's compose gives 128 MB (`shm_size`); Docker's
 * 64 MB default makes vector index builds fail. Memory-backed, so it counts against the
 * container's memory limit and is included in the WorkloadSpec's request.
 */
export const POSTGRES_SHM = "128Mi";

/**
 * Postgres' main cache. The image's config asks for 512 MB, sized for a PC; a quarter of the
 * database's memory request on a Pi leaves room for the connections and `/dev/shm`.
 */
export const SHARED_BUFFERS = "128MB";

export interface PostgresArgs {
  readonly database: string;
  readonly user: string;
  /** Secret (synced from 1Password) and key holding the password. */
  readonly passwordSecret: { readonly name: string; readonly key: string };
  /** The claim holding the data directory (the live name where the stack keeps one). */
  readonly claim: string;
}

/**
 * `pg_isready` against the local server, as the image's own health check runs it: exit 0 when
 * it accepts connections, 1 while it starts or recovers, 2 when nothing answers.
 * @param port @default 5432
 */
export function pgIsReady(
  args: Pick<PostgresArgs, "database" | "user">,
  port = POSTGRES_PORT,
): string[] {
  return [
    "pg_isready",
    "--host=127.0.0.1",
    `--port=${port}`,
    `--username=${args.user}`,
    `--dbname=${args.database}`,
  ];
}

/** The image's CMD plus a Pi-sized cache (`-c` wins over the image's config file). */
export function postgresArgs(configFile = "/etc/postgresql/postgresql.conf"): string[] {
  return ["postgres", "-c", `config_file=${configFile}`, "-c", `shared_buffers=${SHARED_BUFFERS}`];
}

/** What `initdb` gets on a fresh volume (as Immich's compose: page checksums). */
export const INITDB_ARGS = "--data-checksums";

/** The StatefulSet: one replica (the data is on one node's disk), the image's own entrypoint. */
export function postgresStatefulSet(
  topology: Topology,
  spec: WorkloadSpec,
  args: PostgresArgs,
): k8s.types.input.apps.v1.StatefulSet {
  const ready = { exec: { command: pgIsReady(args) } };
  const labels = appLabels(spec.name, "immich");
  return {
    metadata: { name: spec.name, namespace: spec.namespace, labels },
    spec: {
      replicas: 1,
      serviceName: POSTGRES_NAME,
      selector: { matchLabels: selectorLabels(spec.name) },
      template: podTemplate(
        topology,
        spec,
        {
          spec: {
            securityContext: {
              runAsNonRoot: true,
              runAsUser: POSTGRES_UID,
              runAsGroup: POSTGRES_UID,
              fsGroup: POSTGRES_UID,
              seccompProfile: { type: "RuntimeDefault" },
            },
            // A fast shutdown checkpoints first: give it time on an SD card.
            terminationGracePeriodSeconds: 120,
          },
          containers: [
            {
              name: "postgres",
              image: image("immichPostgres"),
              args: postgresArgs(),
              env: [
                { name: "POSTGRES_DB", value: args.database },
                { name: "POSTGRES_USER", value: args.user },
                {
                  name: "POSTGRES_PASSWORD",
                  valueFrom: {
                    secretKeyRef: { name: args.passwordSecret.name, key: args.passwordSecret.key },
                  },
                },
                // Page checksums, which the image's own health check reads.
                { name: "POSTGRES_INITDB_ARGS", value: INITDB_ARGS },
                { name: "PGDATA", value: PGDATA },
                // Immich's setting for storage that is not an SSD: a Pi's SD card or USB disk.
                { name: "DB_STORAGE_TYPE", value: "HDD" },
              ],
              ports: [{ name: "postgres", containerPort: POSTGRES_PORT, protocol: "TCP" }],
              volumeMounts: [
                { name: "data", mountPath: DATA_MOUNT },
                { name: "shm", mountPath: "/dev/shm" },
                // The entrypoint writes its config here; the socket and lock file go to /var/run.
                { name: "config", mountPath: "/etc/postgresql" },
                { name: "run", mountPath: "/var/run/postgresql" },
                { name: "tmp", mountPath: "/tmp" },
              ],
              // Crash recovery after a power cut replays WAL from the SD card: allow 10 minutes.
              startupProbe: {
                ...ready,
                periodSeconds: 10,
                timeoutSeconds: 5,
                failureThreshold: 60,
              },
              readinessProbe: { ...ready, periodSeconds: 10, timeoutSeconds: 5 },
              livenessProbe: {
                ...ready,
                periodSeconds: 30,
                timeoutSeconds: 10,
                failureThreshold: 4,
              },
              securityContext: restrictedContainer(POSTGRES_UID),
            },
          ],
          volumes: [
            { name: "data", persistentVolumeClaim: { claimName: args.claim } },
            { name: "shm", emptyDir: { medium: "Memory", sizeLimit: POSTGRES_SHM } },
            { name: "config", emptyDir: { sizeLimit: "1Mi" } },
            { name: "run", emptyDir: { sizeLimit: "1Mi" } },
            { name: "tmp", emptyDir: { sizeLimit: "256Mi" } },
          ],
        },
        labels,
      ),
    },
  };
}

/** The ClusterIP Service `immich-postgresql` (the server and the backup job connect to it). */
export function postgresService(spec: WorkloadSpec): k8s.types.input.core.v1.Service {
  return {
    metadata: { name: POSTGRES_NAME, namespace: spec.namespace, labels: appLabels(spec.name) },
    spec: {
      type: "ClusterIP",
      selector: selectorLabels(spec.name),
      ports: [
        { name: "postgres", port: POSTGRES_PORT, targetPort: POSTGRES_PORT, protocol: "TCP" },
      ],
    },
  };
}
