/**
 * Weekly backups to the NAS, as the seeds schedule them (seed 001, decision 19 and the
 * `backup-jobs` folder): Sunday 02:00 every backed-up local volume is archived, Sunday 02:30
 * every declared database is dumped Immich's documented way. Both write to an NFS export on the
 * NAS mounted as a retained volume: no key or host key in the cluster, the way Jellyfin and
 * Immich already reach the Synology (the seed's SCP needed both). A run that wrote nothing or
 * something incomplete fails its Job, which fires kube-prometheus-stack's `KubeJobFailed` alert
 * to Discord.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { appKey, DatabaseSpec, nfsExportProblems, StatefulVolume } from "../../../topology/apps";
import { ConfigProblem } from "../../../topology/errors";
import { Topology } from "../../../topology/types";
import { resources, WorkloadSpec } from "../../../topology/workloads";
import { namespace } from "../../platform/helm";
import { nfsVolume } from "../../platform/storage";
import { defineAppModule } from "../app";
import { image } from "../images";
import { appLabels, podTemplate, restrictedContainer } from "../workload";
import { cronProblem, dumpScript, volumeCopyScript } from "./scripts";

export const BACKUP_NAMESPACE = "backup-jobs";
/** Claim of the NAS export, mounted at /backup by every backup pod. */
export const NAS_BACKUP_CLAIM = "nas-backups";
/** Where k3s's local-path provisioner keeps every volume (its default `nodePath`). */
export const LOCAL_PATH_DIR = "/var/lib/rancher/k3s/storage";
/** The dump job: one CronJob for every database, named as the seed's (`postgres-backup`). */
export const DUMP_WORKLOAD = "postgres-backup";
/** Secret with each database's password, key `<service>-password`. */
export const DUMP_SECRET = "postgres-backup";

/** `pi-cluster:apps.backups`. */
export const backupsSchema = z.strictObject({
  /** When the volumes are copied. @default "0 2 * * 0" (Sunday 02:00, seed 001) */
  volumesSchedule: z.string().default("0 2 * * 0"),
  /** When the databases are dumped. @default "30 2 * * 0" (Sunday 02:30, seed 001) */
  databasesSchedule: z.string().default("30 2 * * 0"),
  /** The NAS export the backups are written to. @default "/volume1/backups/k3s" */
  nfsExport: z.string().default("/volume1/backups/k3s"),
  /** Weekly copies (and dumps) kept on the NAS. @default 4 */
  keep: z.number().int().min(1).max(52).default(4),
  /** A compressed dump smaller than this fails the job. @default 64 */
  minDumpKiB: z.number().int().min(1).default(64),
});
export type BackupsConfig = z.infer<typeof backupsSchema>;

/** The per-node volume copy's workload name. */
export function volumeBackupWorkload(hostname: string): string {
  return `volume-backup-${hostname}`;
}

/**
 * Backup pods. The volume copy must run on the node whose disk holds the volumes, and which
 * nodes those are is known only once every app has declared its volumes, after planning: so one
 * copy pod per node is counted (pinned there), the conservative figure; a node without backed-up
 * volumes gets no CronJob. The dump reaches Postgres over the network and may run anywhere.
 */
export function backupWorkloads(nodes: readonly { hostname: string }[]): WorkloadSpec[] {
  return [
    ...nodes.map(
      (node): WorkloadSpec => ({
        name: volumeBackupWorkload(node.hostname),
        namespace: BACKUP_NAMESPACE,
        kind: "CronJob",
        // tar + gzip stream: little memory, CPU-bound at 02:00 when nothing else is busy.
        containers: { copy: resources("50m", "32Mi", "1", "128Mi") },
        defaultPlacement: { nodeSelector: { "kubernetes.io/hostname": node.hostname } },
      }),
    ),
    {
      name: DUMP_WORKLOAD,
      namespace: BACKUP_NAMESPACE,
      kind: "CronJob",
      containers: { dump: resources("50m", "64Mi", "1", "256Mi") },
    },
  ];
}

/** Config rules: valid cron expressions, an absolute export, a NAS to export from. */
export function validateBackups(
  config: BackupsConfig,
  nas: string | undefined,
  key: (field: string) => string = (field) => appKey("backups", `.${field}`),
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const field of ["volumesSchedule", "databasesSchedule"] as const) {
    const why = cronProblem(config[field]);
    if (why) {
      problems.push({
        key: key(field),
        message:
          `${key(field)}: "${config[field]}" is not a cron expression (${why}); allowed: 5 fields ` +
          `minute hour day-of-month month day-of-week, each *, a number, a range a-b, a step ` +
          `*/n or a-b/n, or a comma list, e.g. "0 2 * * 0"`,
      });
    }
  }
  problems.push(
    ...nfsExportProblems(key("nfsExport"), config.nfsExport, nas, "/volume1/backups/k3s"),
  );
  return problems;
}

/**
 * The node holding each backed-up local volume, from the plan: the node its workload is pinned
 * to. A local-path volume lives on the disk of the node its pod first ran on; when the plan lets
 * that workload float, which disk holds it is not knowable here, so planning fails naming the
 * placement that fixes it (rather than a job on every node guessing).
 * NFS volumes are already on the NAS and are not copied.
 */
export function volumesByNode(
  topology: Pick<Topology, "placements">,
  volumes: readonly StatefulVolume[],
): Map<string, StatefulVolume[]> {
  const byNode = new Map<string, StatefulVolume[]>();
  for (const volume of volumes.filter((v) => v.backup && v.storage === "local")) {
    const placement = topology.placements[volume.workload];
    if (!placement) {
      throw new Error(
        `backups: volume ${volume.namespace}/${volume.claim} belongs to workload ` +
          `"${volume.workload}", which is not in the plan`,
      );
    }
    if (placement.eligibleNodes.length !== 1) {
      throw new Error(
        `backups: volume ${volume.namespace}/${volume.claim} is on a local disk, but its ` +
          `workload ${volume.workload} may run on ${placement.eligibleNodes.join(", ")}; pin it ` +
          `with pi-cluster:placement.${volume.workload}.node so the backup runs where the data is`,
      );
    }
    const node = placement.eligibleNodes[0];
    byNode.set(node, [...(byNode.get(node) ?? []), volume]);
  }
  return byNode;
}

/** The settings every backup CronJob shares (seed 001: Sunday nights; facts-apps: CronJob traps). */
function cronJob(
  name: string,
  schedule: string,
  timeZone: string,
  template: k8s.types.input.core.v1.PodTemplateSpec,
): k8s.types.input.batch.v1.CronJob {
  return {
    metadata: { name, namespace: BACKUP_NAMESPACE, labels: appLabels(name, "backups") },
    spec: {
      schedule,
      timeZone,
      // A copy still running next week must not be joined by a second one on the same files.
      concurrencyPolicy: "Forbid",
      // Node down at 02:00: still run if it is back within the hour, not at noon.
      startingDeadlineSeconds: 3600,
      successfulJobsHistoryLimit: 2,
      // A failed Job is kept (KubeJobFailed fires while it exists) until newer ones replace it.
      failedJobsHistoryLimit: 2,
      jobTemplate: {
        metadata: { labels: appLabels(name, "backups") },
        spec: {
          // One retry for a NAS blip; a second failure is a real problem worth an alert.
          backoffLimit: 1,
          activeDeadlineSeconds: 6 * 3600,
          template,
        },
      },
    },
  };
}

/** The NAS export as the pod volume every backup writes to. */
const nasVolume: k8s.types.input.core.v1.Volume = {
  name: "nas",
  persistentVolumeClaim: { claimName: NAS_BACKUP_CLAIM },
};

/**
 * The volume copy of one node. It reads local-path's directory through a read-only hostPath
 * rather than mounting the claims: a pod can mount only claims of its own namespace, and the
 * volumes belong to every app's namespace. Reading files every app owns (Postgres keeps its
 * data 0700) takes root with DAC_READ_SEARCH and nothing else (see exemptions.ts).
 */
export function volumeBackupCronJob(
  topology: Topology,
  config: BackupsConfig,
  node: string,
  volumes: readonly StatefulVolume[],
): k8s.types.input.batch.v1.CronJob {
  const name = volumeBackupWorkload(node);
  const spec = backupWorkloads(topology.nodes).find((w) => w.name === name);
  if (!spec) throw new Error(`backups: node ${node} is not in the plan`);
  const script = volumeCopyScript({
    node,
    volumes: volumes.map((v) => ({ namespace: v.namespace, claim: v.claim })),
    keep: config.keep,
  });
  const template = podTemplate(
    topology,
    spec,
    {
      containers: [
        {
          name: "copy",
          image: image("alpine"),
          command: ["/bin/sh", "-c", script],
          securityContext: {
            runAsNonRoot: false,
            runAsUser: 0,
            runAsGroup: 0,
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"], add: ["DAC_READ_SEARCH"] },
            seccompProfile: { type: "RuntimeDefault" },
          },
          volumeMounts: [
            { name: "local-path", mountPath: "/storage", readOnly: true },
            { name: "nas", mountPath: "/backup" },
          ],
        },
      ],
      volumes: [
        { name: "local-path", hostPath: { path: LOCAL_PATH_DIR, type: "Directory" } },
        nasVolume,
      ],
      spec: { restartPolicy: "Never" },
    },
    appLabels(name, "backups"),
  );
  return cronJob(name, config.volumesSchedule, topology.timezone, template);
}

/** The password file of a database inside the dump pod. */
function passwordKey(database: DatabaseSpec): string {
  return `${database.service}-password`;
}

/** The dump CronJob for every declared database (one pod, one after the other). */
export function dumpCronJob(
  topology: Topology,
  config: BackupsConfig,
  databases: readonly DatabaseSpec[],
): k8s.types.input.batch.v1.CronJob {
  const spec = backupWorkloads(topology.nodes).find((w) => w.name === DUMP_WORKLOAD)!;
  const script = dumpScript({
    databases: databases.map((d) => ({
      name: d.service,
      host: `${d.service}.${d.namespace}.svc.cluster.local`,
      port: d.port,
      user: d.user,
      passwordFile: `/secrets/${passwordKey(d)}`,
    })),
    keep: config.keep,
    minBytes: config.minDumpKiB * 1024,
  });
  const template = podTemplate(
    topology,
    spec,
    {
      containers: [
        {
          name: "dump",
          image: image("postgresClient"),
          command: ["/bin/sh", "-c", script],
          // The image's `postgres` user (uid 70 in the Alpine images).
          securityContext: restrictedContainer(70),
          volumeMounts: [
            { name: "nas", mountPath: "/backup" },
            { name: "passwords", mountPath: "/secrets", readOnly: true },
          ],
        },
      ],
      volumes: [nasVolume, { name: "passwords", secret: { secretName: DUMP_SECRET } }],
      spec: { restartPolicy: "Never" },
    },
    appLabels(DUMP_WORKLOAD, "backups"),
  );
  return cronJob(DUMP_WORKLOAD, config.databasesSchedule, topology.timezone, template);
}

/** The backups app: `backup-jobs` namespace, the NAS export, the CronJobs. */
export class Backups extends pulumi.ComponentResource {
  constructor(
    name: string,
    args: {
      readonly topology: Topology;
      readonly config: BackupsConfig;
      readonly provider: k8s.Provider;
      readonly volumes: readonly StatefulVolume[];
      readonly databases: readonly DatabaseSpec[];
      /** Every node joined and ready: the namespace (and so everything in it) waits for them. */
      readonly nodesReady: readonly pulumi.Resource[];
      readonly externalSecrets: import("../../platform/external-secrets").ExternalSecrets;
    },
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("pi-cluster:apps:Backups", name, {}, opts);
    const { topology, config, provider } = args;
    // Fails planning before any resource when a volume's node is not fixed.
    const byNode = volumesByNode(topology, args.volumes);
    const child = { parent: this, provider };
    const ns = namespace(BACKUP_NAMESPACE, { ...child, dependsOn: [...args.nodesReady] });
    const nas = nfsVolume(
      `${BACKUP_NAMESPACE}-${NAS_BACKUP_CLAIM}`,
      {
        server: topology.network.nas!,
        path: config.nfsExport,
        // NFS does not enforce it; recorded for `kubectl get pv`.
        size: "1Ti",
        namespace: BACKUP_NAMESPACE,
        claimName: NAS_BACKUP_CLAIM,
      },
      { ...child, dependsOn: [ns] },
    );
    for (const [node, volumes] of byNode) {
      new k8s.batch.v1.CronJob(
        volumeBackupWorkload(node),
        volumeBackupCronJob(topology, config, node, volumes),
        { ...child, dependsOn: [nas.claim] },
      );
    }
    if (args.databases.length > 0) {
      const secret = args.externalSecrets.secret(
        {
          name: DUMP_SECRET,
          namespace: BACKUP_NAMESPACE,
          data: Object.fromEntries(
            args.databases.map((d) => {
              const ref = topology.secrets[d.passwordSecret];
              if (!ref) {
                throw new Error(
                  `backups: database ${d.namespace}/${d.service} reads pi-cluster:secrets.` +
                    `${d.passwordSecret}, which the stack does not give`,
                );
              }
              return [passwordKey(d), ref];
            }),
          ),
        },
        [ns],
      );
      new k8s.batch.v1.CronJob(DUMP_WORKLOAD, dumpCronJob(topology, config, args.databases), {
        ...child,
        dependsOn: [nas.claim, secret],
      });
    }
    this.registerOutputs({});
  }
}

/** The backups app module (`pi-cluster:apps.backups`). */
export const backups = defineAppModule<BackupsConfig>({
  name: "backups",
  schema: backupsSchema,
  validate: (config, context) => validateBackups(config, context.network.nas),
  workloads: (_config, context) => backupWorkloads(context.nodes),
  deploy(config, context, opts) {
    return new Backups(
      "backups",
      {
        topology: context.topology,
        config,
        provider: context.provider,
        volumes: context.volumes,
        databases: context.databases,
        nodesReady: context.nodesReady,
        externalSecrets: context.platform.externalSecrets,
      },
      opts,
    );
  },
});
