/**
 * The backups app: config errors name the key, the volume copy runs on the node the plan puts
 * each volume on (and refuses to guess), the CronJobs carry the settings a user checks in
 * `pulumi preview`, and the stack plans declare the namespace and the NAS export.
 */
import { spawnSync } from "child_process";
import {
  backupWorkloads,
  dumpCronJob,
  volumeBackupCronJob,
  volumesByNode,
} from "../../components/apps/backups/backups";
import {
  cronProblem,
  dumpScript,
  restoreScript,
  volumeCopyScript,
} from "../../components/apps/backups/scripts";
import { notifyScript } from "../../components/apps/deploy-notifications/deploy-notifications";
import { exemption } from "../../components/apps/exemptions";
import { DatabaseSpec, StatefulVolume } from "../../topology/apps";
import { ConfigError } from "../../topology/errors";
import { resources, WorkloadSpec } from "../../topology/workloads";
import { validateObject } from "../support/kube-schema";
import { named, planned, planStack } from "../support/stack";

/** Stand-ins for workloads of apps the stacks do not run (Pi-hole's, Immich's, Jellyfin's are real). */
const appWorkloads: WorkloadSpec[] = [["navidrome", "navidrome", "Deployment"]].map(
  ([name, namespace, kind]) => ({
    name,
    namespace,
    kind: kind as WorkloadSpec["kind"],
    containers: { main: resources("10m", "16Mi", "100m", "32Mi") },
  }),
);

const volume = (
  claim: string,
  namespace: string,
  workload: string,
  extra: Partial<StatefulVolume> = {},
): StatefulVolume => ({
  claim,
  namespace,
  app: namespace,
  workload,
  size: "1Gi",
  storage: "local",
  backup: true,
  holds: "test data",
  ...extra,
});

const volumes: StatefulVolume[] = [
  volume("immich-postgresql", "immich", "immich-postgresql"),
  volume("pihole-etc", "pihole", "pihole"),
  volume("navidrome-cache", "navidrome", "navidrome", { backup: false }),
  volume("immich-library", "immich", "immich-postgresql", { storage: "nfs" }),
];

const database: DatabaseSpec = {
  app: "immich",
  namespace: "immich",
  service: "immich-postgresql",
  port: 5432,
  engine: "postgres",
  database: "immich",
  user: "postgres",
  passwordSecret: "immichDbPassword",
  workload: "immich-postgresql",
};

/** pi-k3s, or pi5-expansion with Immich's Postgres on the second Pi 5 (seed 002's targets). */
function topologyWith(
  stack: "pi-k3s" | "pi5-expansion",
  pins: Record<string, string> = { "immich-postgresql": "pi-k3s", pihole: "pi-k3s" },
) {
  return planned(
    stack,
    (raw) => {
      raw.placement = {
        ...raw.placement,
        ...Object.fromEntries(Object.entries(pins).map(([w, node]) => [w, { node }])),
      };
    },
    appWorkloads,
  );
}

function problemsOf(mutate: (section: Record<string, unknown>) => void): string[] {
  try {
    planned("pi-k3s", (raw) => {
      raw.apps = raw.apps ?? {};
      raw.apps.backups = raw.apps.backups ?? {};
      mutate(raw.apps.backups);
    });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => p.message);
    throw error;
  }
  return [];
}

const CRON_ALLOWED =
  'allowed: 5 fields minute hour day-of-month month day-of-week, each *, a number, a range a-b, a step */n or a-b/n, or a comma list, e.g. "0 2 * * 0"';

describe("config", () => {
  test.each([
    ["0 25 * * 0", "hour 25 is outside 0-23"],
    ["0 2 * *", "it has 4 field(s), not 5"],
    ["0 2 * * sun", 'day-of-week "sun" is not *, a number, a range a-b or a step /n'],
    ["0 2 31-1 * 0", "day-of-month range 31-1 runs backwards"],
    ["*/0 2 * * 0", "minute step /0 never fires"],
    ["0 2 0 * 0", "day-of-month 0 is outside 1-31"],
  ])("volumesSchedule %j is refused: %s", (schedule, why) => {
    expect(problemsOf((s) => (s.volumesSchedule = schedule))).toEqual([
      `pi-cluster:apps.backups.volumesSchedule: "${schedule}" is not a cron expression (${why}); ${CRON_ALLOWED}`,
    ]);
  });

  test("databasesSchedule is checked the same way", () => {
    expect(problemsOf((s) => (s.databasesSchedule = "30 2 * 13 0"))).toEqual([
      `pi-cluster:apps.backups.databasesSchedule: "30 2 * 13 0" is not a cron expression (month 13 is outside 1-12); ${CRON_ALLOWED}`,
    ]);
  });

  test.each(["0 2 * * 0", "30 2 * * 7", "0 */6 * * 1-5", "0,30 2 1,15 * *", "5 4 * 1-12/2 *"])(
    "%j is a cron expression",
    (schedule) => expect(cronProblem(schedule)).toBeUndefined(),
  );

  test.each(["volume1/backups", "/volume1/../etc"])("nfsExport %j is refused", (path) => {
    expect(problemsOf((s) => (s.nfsExport = path))).toEqual([
      `pi-cluster:apps.backups.nfsExport: "${path}" is not an absolute export path; allowed: a path from / without "..", e.g. /volume1/backups/k3s`,
    ]);
  });

  test("keeping no copy is refused, naming the key", () => {
    expect(problemsOf((s) => (s.keep = 0))).toEqual([
      "pi-cluster:apps.backups.keep: 0 is out of range; allowed: at least 1",
    ]);
  });

  test("the backups need the NAS", () => {
    expect(
      (() => {
        try {
          planned("pi-k3s", (raw) => delete raw.network.nas);
        } catch (error) {
          if (error instanceof ConfigError) return error.problems.map((p) => p.message);
        }
        return [];
      })(),
    ).toContain(
      "pi-cluster:network.nas is required by pi-cluster:apps.backups.nfsExport (the NFS server of /volume1/backups/k3s, e.g. 192.168.1.60)",
    );
  });

  test("the stack files use the seed's schedules in the user's time zone", () => {
    for (const stack of ["pi-k3s", "pi5-expansion"] as const) {
      const topology = planned(stack);
      expect(topology.timezone).toBe("America/New_York");
      expect(topology.apps.backups).toEqual({
        volumesSchedule: "0 2 * * 0",
        databasesSchedule: "30 2 * * 0",
        nfsExport: "/volume1/backups/k3s",
        keep: 4,
        minDumpKiB: 64,
      });
    }
  });
});

describe("where the volume copy runs", () => {
  test("pi-k3s: every backed-up local volume is on the one Pi 5", () => {
    const byNode = volumesByNode(topologyWith("pi-k3s"), volumes);
    expect([...byNode.keys()]).toEqual(["pi-k3s"]);
    // Not copied: a volume not marked for backup, and an NFS volume (already on the NAS).
    expect(byNode.get("pi-k3s")!.map((v) => v.claim)).toEqual(["immich-postgresql", "pihole-etc"]);
  });

  test("pi5-expansion: one copy per node that holds volumes", () => {
    const topology = topologyWith("pi5-expansion", {
      "immich-postgresql": "pi5-worker-1",
      pihole: "pi-k3s",
    });
    const byNode = volumesByNode(topology, volumes);
    expect(Object.fromEntries([...byNode].map(([n, vs]) => [n, vs.map((v) => v.claim)]))).toEqual({
      "pi5-worker-1": ["immich-postgresql"],
      "pi-k3s": ["pihole-etc"],
    });
  });

  test("a volume whose workload floats fails planning, naming the placement that fixes it", () => {
    // The plan itself refuses an unpinned local volume of a declared app; this guards the rest.
    const topology = topologyWith("pi-k3s", { "immich-postgresql": "pi-k3s" });
    const floating = volume("navidrome-config", "navidrome", "navidrome");
    expect(() => volumesByNode(topology, [floating])).toThrow(
      "backups: volume navidrome/navidrome-config is on a local disk, but its workload navidrome may run on " +
        "pi-k3s, pi3-worker-1, pi3-worker-2; pin it with pi-cluster:placement.navidrome.node so the " +
        "backup runs where the data is",
    );
  });

  test("the capacity check counts a copy pod pinned to each node, and the dump", () => {
    const specs = backupWorkloads(topologyWith("pi5-expansion").nodes);
    expect(specs.map((s) => s.name)).toEqual([
      "volume-backup-pi-k3s",
      "volume-backup-pi5-worker-1",
      "volume-backup-pi3-worker-1",
      "volume-backup-pi3-worker-2",
      "postgres-backup",
    ]);
    const topology = topologyWith("pi5-expansion");
    const load = topology.capacity.find((n) => n.hostname === "pi5-worker-1")!;
    expect(load.pods).toContainEqual(
      expect.objectContaining({ workload: "volume-backup-pi5-worker-1", how: "pinned" }),
    );
  });
});

describe("the CronJobs", () => {
  const topology = topologyWith("pi-k3s");
  const config = topology.apps.backups as Parameters<typeof dumpCronJob>[1];
  const copy = volumeBackupCronJob(
    topology,
    config,
    "pi-k3s",
    volumesByNode(topology, volumes).get("pi-k3s")!,
  );
  const dump = dumpCronJob(topology, config, [database]);

  test("the volume copy: Sunday 02:00 New York time, on pi-k3s, reading local-path read-only", () => {
    expect(copy.metadata).toMatchObject({ name: "volume-backup-pi-k3s", namespace: "backup-jobs" });
    expect(copy.spec).toMatchObject({
      schedule: "0 2 * * 0",
      timeZone: "America/New_York",
      concurrencyPolicy: "Forbid",
      startingDeadlineSeconds: 3600,
      successfulJobsHistoryLimit: 2,
      failedJobsHistoryLimit: 2,
      jobTemplate: { spec: { backoffLimit: 1 } },
    });
    const pod = (copy.spec as any).jobTemplate.spec.template.spec; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(pod.nodeSelector).toEqual({ "kubernetes.io/hostname": "pi-k3s" });
    expect(pod.restartPolicy).toBe("Never");
    expect(pod.volumes).toEqual([
      {
        name: "local-path",
        hostPath: { path: "/var/lib/rancher/k3s/storage", type: "Directory" },
      },
      { name: "nas", persistentVolumeClaim: { claimName: "nas-backups" } },
    ]);
    const [container] = pod.containers;
    expect(container.image).toBe("docker.io/library/alpine:3.22.2");
    expect(container.command.slice(0, 2)).toEqual(["/bin/sh", "-c"]);
    expect(container.command[2]).toBe(
      volumeCopyScript({
        node: "pi-k3s",
        volumes: [
          { namespace: "immich", claim: "immich-postgresql" },
          { namespace: "pihole", claim: "pihole-etc" },
        ],
        keep: 4,
      }),
    );
    expect(container.volumeMounts).toEqual([
      { name: "local-path", mountPath: "/storage", readOnly: true },
      { name: "nas", mountPath: "/backup" },
    ]);
    expect(container.securityContext.capabilities).toEqual({
      drop: ["ALL"],
      add: ["DAC_READ_SEARCH"],
    });
    expect(container.resources).toEqual({
      requests: { cpu: "50m", memory: "32Mi" },
      limits: { cpu: "1", memory: "128Mi" },
    });
    expect(exemption("backup-jobs", "volume-backup-pi-k3s", "runAsNonRoot")).toMatch(
      /DAC_READ_SEARCH/,
    );
    expect(exemption("backup-jobs", "postgres-backup", "runAsNonRoot")).toBeUndefined();
  });

  test("the dump: Sunday 02:30, Immich's method, the password from a mounted Secret", () => {
    expect(dump.metadata).toMatchObject({ name: "postgres-backup", namespace: "backup-jobs" });
    expect(dump.spec).toMatchObject({
      schedule: "30 2 * * 0",
      timeZone: "America/New_York",
      concurrencyPolicy: "Forbid",
      jobTemplate: { spec: { backoffLimit: 1 } },
    });
    const pod = (dump.spec as any).jobTemplate.spec.template.spec; // eslint-disable-line @typescript-eslint/no-explicit-any
    const [container] = pod.containers;
    expect(container.image).toBe("docker.io/library/postgres:14.20-alpine");
    expect(container.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 70 });
    expect(container.command[2]).toBe(
      dumpScript({
        databases: [
          {
            name: "immich-postgresql",
            host: "immich-postgresql.immich.svc.cluster.local",
            port: 5432,
            user: "postgres",
            passwordFile: "/secrets/immich-postgresql-password",
          },
        ],
        keep: 4,
        minBytes: 65536,
      }),
    );
    expect(container.command[2]).toContain("pg_dumpall --clean --if-exists");
    expect(container.command[2]).not.toMatch(/PGPASSWORD=[^$]/);
    expect(pod.volumes).toContainEqual({
      name: "passwords",
      secret: { secretName: "postgres-backup" },
    });
  });

  test.each([
    ["copy", () => copy],
    ["dump", () => dump],
  ])("the %s CronJob is schema-valid", (_name, cronJob) => {
    expect(
      validateObject({ apiVersion: "batch/v1", kind: "CronJob", ...cronJob() } as Record<
        string,
        unknown
      >),
    ).toEqual([]);
  });
});

describe("in the stack plans", () => {
  test.each(["pi-k3s", "pi5-expansion"])(
    "%s: the backup-jobs namespace and the NAS export, retained",
    async (stack) => {
      const run = await planStack(stack);
      named(run, "kubernetes:core/v1:Namespace", "backup-jobs-namespace");
      const pv = named(run, "kubernetes:core/v1:PersistentVolume", "backup-jobs-nas-backups-pv");
      expect(pv.inputs.spec).toMatchObject({
        nfs: { server: "192.168.1.60", path: "/volume1/backups/k3s" },
        persistentVolumeReclaimPolicy: "Retain",
        claimRef: { namespace: "backup-jobs", name: "nas-backups" },
      });
      expect(pv.options.retainOnDelete).toBe(true);
    },
    60_000,
  );
});

test.each([
  [
    "volume copy",
    () => volumeCopyScript({ node: "pi-k3s", volumes: [{ namespace: "a", claim: "b" }] }),
  ],
  [
    "dump",
    () =>
      dumpScript({
        databases: [{ name: "x", host: "h", port: 5432, user: "u", passwordFile: "/p" }],
      }),
  ],
  [
    "restore",
    () =>
      restoreScript({ dump: "/d.sql.gz", host: "h", port: 5432, user: "u", passwordFile: "/p" }),
  ],
  ["deploy notice", () => notifyScript()],
])("the %s script passes shellcheck as POSIX sh (busybox runs it)", (_name, script) => {
  const result = spawnSync("shellcheck", ["-s", "sh", "-"], { input: script(), encoding: "utf8" });
  expect(result.stdout).toBe("");
  expect(result.status).toBe(0);
});
