/**
 * Immich as `pulumi preview` shows it: the chart's values checked against chart 0.10.3's own
 * values.yaml, its Postgres (probe and server arguments run against a real PostgreSQL), the NFS
 * library, the catalog entry, placement on the 8 GB Pi 5 of each stack, and bad config.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  immich,
  immichDatabase,
  immichEndpoint,
  immichWorkloads,
  ImmichConfig,
} from "../../components/apps/immich";
import {
  INITDB_ARGS,
  PGDATA,
  pgIsReady,
  POSTGRES_SHM,
  postgresArgs,
} from "../../components/apps/immich/postgres";
import { IMMICH, immichValues } from "../../components/apps/immich/values";
import { IMAGES, image } from "../../components/apps/images";
import { routeAnnotations } from "../../components/platform/routes";
import { StackRun } from "../../plan/run";
import { ServiceEndpoint } from "../../topology/catalog";
import { Topology } from "../../topology/types";
import { unknownValuePaths } from "../support/helm-values";
import { validateObject } from "../support/kube-schema";
import { configProblems, named, planStack, planned } from "../support/stack";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- manifests are walked as JSON
type Json = any;

/**
 * Keys of the bjw-s common library (the chart's dependency, common 4.4.0) that the chart's own
 * values.yaml does not repeat. Each component section (server, machine-learning, valkey) is
 * merged over the library's values by the chart's templates, so these are real chart keys:
 * - `controllers.main.pod`: per-controller pod options (nodeSelector, affinity, securityContext);
 * - `containers.main.resources` / `.securityContext`: the container's own fields;
 * - `containers.main.env`: a map of variable names, which are the application's, not the chart's.
 */
const BJW_S_KEYS = ["server", "machine-learning", "valkey"].flatMap((component) => [
  `${component}.controllers.main.pod`,
  `${component}.controllers.main.containers.main.resources`,
  `${component}.controllers.main.containers.main.securityContext`,
  `${component}.controllers.main.containers.main.env`,
]);

const DATABASE = {
  host: "immich-postgresql",
  port: 5432,
  database: "immich",
  user: "immich",
  passwordSecret: { name: "immich-postgresql", key: "password" },
};

function valuesFor(topology: Topology): Json {
  const config = topology.apps.immich as ImmichConfig;
  return immichValues(topology, {
    libraryClaim: "immich-library",
    database: DATABASE,
    workloads: immichWorkloads(config, topology),
  });
}

describe("chart values", () => {
  const topology = planned("pi-k3s");
  const values = valuesFor(topology);

  test("every key is one chart 0.10.3 (or its bjw-s common library) has", () => {
    expect(unknownValuePaths(values, "immich", "0.10.3", BJW_S_KEYS)).toEqual([]);
  });

  test("no postgresql: or redis: key (the chart refuses to render with either)", () => {
    const keys: string[] = [];
    const walk = (v: Json) => {
      if (v && typeof v === "object")
        for (const [k, child] of Object.entries(v)) (keys.push(k), walk(child));
    };
    walk(values);
    expect(keys).not.toContain("postgresql");
    expect(keys).not.toContain("redis");
  });

  test("v2.4.1 once for server and machine learning, from the image table", () => {
    expect(values.controllers.main.containers.main.image).toEqual({ tag: "v2.4.1" });
    expect(IMAGES.immichServer.tag).toBe("v2.4.1");
    expect(IMAGES.immichMachineLearning.tag).toBe("v2.4.1");
    expect(values.server.controllers.main.containers.main.image).toEqual({
      repository: "ghcr.io/immich-app/immich-server",
    });
    expect(values["machine-learning"].controllers.main.containers.main.image).toEqual({
      repository: "ghcr.io/immich-app/immich-machine-learning",
    });
  });

  test("the server reaches our Postgres; the password only by reference; media under /data", () => {
    expect(values.server.controllers.main.containers.main.env).toEqual({
      DB_HOSTNAME: "immich-postgresql",
      DB_PORT: "5432",
      DB_USERNAME: "immich",
      DB_DATABASE_NAME: "immich",
      DB_PASSWORD: { valueFrom: { secretKeyRef: { name: "immich-postgresql", key: "password" } } },
      IMMICH_MEDIA_LOCATION: "/data",
    });
    // Machine learning and Valkey never see the database settings.
    expect(JSON.stringify(values["machine-learning"])).not.toContain("DB_");
    expect(JSON.stringify(values.valkey)).not.toContain("DB_");
  });

  test("Valkey on, the library as an existing claim", () => {
    expect(values.valkey.enabled).toBe(true);
    expect(values.immich.persistence.library).toEqual({ existingClaim: "immich-library" });
  });

  test("each component's resources are its WorkloadSpec's", () => {
    const specs = immichWorkloads(topology.apps.immich as ImmichConfig, topology);
    for (const [component, workload] of [
      ["server", "immich-server"],
      ["machine-learning", "immich-machine-learning"],
      ["valkey", "immich-valkey"],
    ]) {
      const spec = specs.find((w) => w.name === workload)!;
      expect(values[component].controllers.main.containers.main.resources).toEqual(
        spec.containers.main,
      );
    }
    expect(values.server.controllers.main.containers.main.resources).toEqual({
      requests: { cpu: "250m", memory: "1425Mi" },
      limits: { cpu: "3", memory: "3Gi" },
    });
  });

  test("Valkey runs with the restricted settings", () => {
    expect(values.valkey.controllers.main.containers.main.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      seccompProfile: { type: "RuntimeDefault" },
      runAsNonRoot: true,
      runAsUser: 999,
      runAsGroup: 999,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    });
  });
});

describe("the catalog entry", () => {
  test("immich.<domain> → immich-server:2283, widget v2 with its key from 1Password, ping", () => {
    const entry = immichEndpoint();
    expect(entry).toMatchObject({
      host: "immich",
      namespace: "immich",
      service: "immich-server",
      port: 2283,
      monitor: { kind: "http", path: "/api/server/ping" },
    });
    expect(entry.dashboard!.widget).toEqual({
      type: "immich",
      url: "http://immich-server.immich.svc.cluster.local:2283",
      options: { version: 2 },
      secrets: { key: "immichApiKey" },
    });
  });

  test("uploads: no body limit on ingress-nginx; Traefik has none to lift", () => {
    const entry: ServiceEndpoint = immichEndpoint();
    expect(routeAnnotations("ingress-nginx", entry, "letsencrypt-prod")).toEqual({
      "cert-manager.io/cluster-issuer": "letsencrypt-prod",
      "nginx.ingress.kubernetes.io/proxy-body-size": "0",
    });
    expect(routeAnnotations("traefik", entry, "letsencrypt-prod")).toEqual({
      "cert-manager.io/cluster-issuer": "letsencrypt-prod",
    });
  });
});

describe("pi-k3s as preview shows it", () => {
  let run: StackRun;
  beforeAll(async () => {
    run = await planStack("pi-k3s");
  });
  const inputs = (type: string, name: string): Json => named(run, type, name).inputs;

  test("the Helm release immich/immich, chart 0.10.3 from the OCI registry", () => {
    const release = inputs("kubernetes:helm.sh/v3:Release", "immich");
    expect(release).toMatchObject({
      name: "immich",
      namespace: "immich",
      chart: "oci://ghcr.io/immich-app/immich-charts/immich",
      version: "0.10.3",
      createNamespace: false,
      atomic: true,
    });
    expect(release.repositoryOpts).toBeUndefined();
    expect(IMMICH.version).toBe("0.10.3");
    for (const component of ["server", "machine-learning", "valkey"]) {
      expect(release.values[component].controllers.main.pod.nodeSelector).toEqual({
        "kubernetes.io/hostname": "pi-k3s",
      });
    }
  });

  test("Postgres: VectorChord + pgvecto.rs image, pg_isready probes, /dev/shm, on pi-k3s", () => {
    const sts = inputs("kubernetes:apps/v1:StatefulSet", "immich-postgresql");
    expect(validateObject(sts)).toEqual([]);
    expect(sts.metadata).toMatchObject({ name: "immich-postgresql", namespace: "immich" });
    expect(sts.spec.replicas).toBe(1);
    expect(sts.spec.serviceName).toBe("immich-postgresql");
    const pod = sts.spec.template.spec;
    expect(pod.nodeSelector).toEqual({ "kubernetes.io/hostname": "pi-k3s" });
    const [container] = pod.containers;
    expect(container.image).toBe("ghcr.io/immich-app/postgres:14-vectorchord0.4.3-pgvectors0.2.0");
    expect(container.image).toBe(image("immichPostgres"));
    const ready = [
      "pg_isready",
      "--host=127.0.0.1",
      "--port=5432",
      "--username=immich",
      "--dbname=immich",
    ];
    for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"])
      expect(container[probe].exec.command).toEqual(ready);
    expect(container.resources).toEqual({
      requests: { cpu: "100m", memory: "384Mi" },
      limits: { cpu: "1", memory: "1Gi" },
    });
    expect(pod.volumes).toContainEqual({
      name: "shm",
      emptyDir: { medium: "Memory", sizeLimit: "128Mi" },
    });
    expect(container.volumeMounts).toContainEqual({ name: "shm", mountPath: "/dev/shm" });
    expect(container.volumeMounts).toContainEqual({
      name: "data",
      mountPath: "/var/lib/postgresql/data",
    });
    expect(pod.volumes).toContainEqual({
      name: "data",
      persistentVolumeClaim: { claimName: "data-immich-postgresql-0" },
    });
    const env = Object.fromEntries(
      container.env.map((e: Json) => [e.name, e.value ?? e.valueFrom]),
    );
    expect(env).toEqual({
      POSTGRES_DB: "immich",
      POSTGRES_USER: "immich",
      POSTGRES_PASSWORD: { secretKeyRef: { name: "immich-postgresql", key: "password" } },
      POSTGRES_INITDB_ARGS: "--data-checksums",
      PGDATA: "/var/lib/postgresql/data/pgdata",
      DB_STORAGE_TYPE: "HDD",
    });
    expect(container.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 999,
      readOnlyRootFilesystem: true,
    });
  });

  test("the Service the backup job dumps: immich-postgresql:5432", () => {
    const service = inputs("kubernetes:core/v1:Service", "immich-postgresql");
    expect(validateObject(service)).toEqual([]);
    expect(service.spec.ports).toEqual([
      { name: "postgres", port: 5432, targetPort: 5432, protocol: "TCP" },
    ]);
  });

  test("Postgres' claim: the live claim's class (local-path, seed 002), protected, kept on delete", () => {
    const claim = named(
      run,
      "kubernetes:core/v1:PersistentVolumeClaim",
      "immich-data-immich-postgresql-0",
    );
    expect(claim.inputs).toMatchObject({
      metadata: { name: "data-immich-postgresql-0", namespace: "immich" },
      spec: {
        accessModes: ["ReadWriteOnce"],
        // pi-cluster:volumes keeps the live class: a claim's class cannot change in place.
        storageClassName: "local-path",
        resources: { requests: { storage: "10Gi" } },
      },
    });
    expect(claim.options).toMatchObject({ protect: true, retainOnDelete: true });
  });

  test("the library: NFSv3 from 192.168.1.60:/volume1/photos, retained", () => {
    const pv = named(run, "kubernetes:core/v1:PersistentVolume", "immich-library-pv");
    expect((pv.inputs as Json).spec).toMatchObject({
      nfs: { server: "192.168.1.60", path: "/volume1/photos" },
      mountOptions: ["nfsvers=3", "hard"],
      persistentVolumeReclaimPolicy: "Retain",
      accessModes: ["ReadWriteMany"],
      claimRef: { namespace: "immich", name: "immich-library" },
    });
    expect(pv.options).toMatchObject({ retainOnDelete: true });
    const claim = named(run, "kubernetes:core/v1:PersistentVolumeClaim", "immich-library-pvc");
    expect(claim.options).toMatchObject({ protect: true, retainOnDelete: true });
  });

  test("the password comes from 1Password through an ExternalSecret", () => {
    const secret = inputs(
      "kubernetes:external-secrets.io/v1:ExternalSecret",
      "immich-immich-postgresql-external-secret",
    );
    expect(secret.metadata).toMatchObject({ name: "immich-postgresql", namespace: "immich" });
    expect(secret.spec.data).toEqual([
      { secretKey: "password", remoteRef: { key: "immich-db/password" } },
    ]);
  });

  test("the route has no upload limit", () => {
    const ingress = inputs("kubernetes:networking.k8s.io/v1:Ingress", "immich-ingress");
    expect(ingress.metadata.annotations["nginx.ingress.kubernetes.io/proxy-body-size"]).toBe("0");
    expect(ingress.spec.rules[0].host).toBe("immich.lab.mtgibbs.dev");
  });
});

describe("what the other parts read", () => {
  test("the database, for the dump job", () => {
    const topology = planned("pi-k3s");
    expect(immichDatabase(topology.apps.immich as ImmichConfig)).toEqual({
      app: "immich",
      namespace: "immich",
      service: "immich-postgresql",
      port: 5432,
      engine: "postgres",
      database: "immich",
      user: "immich",
      passwordSecret: "immichDbPassword",
      workload: "immich-postgresql",
    });
  });

  test("the volumes: Postgres backed up, the library on the NAS", () => {
    const topology = planned("pi-k3s");
    expect(
      topology.volumes
        .filter((v) => v.app === "immich")
        .map((v) => [v.key, v.storage, v.backup, v.workload]),
    ).toEqual([
      ["immich/data-immich-postgresql-0", "local", true, "immich-postgresql"],
      ["immich/immich-library", "nfs", false, "immich-server"],
    ]);
  });

  test("a stack can keep the live claim names", () => {
    const topology = planned("pi-k3s", (raw) => {
      raw.volumes = { "immich/data-immich-postgresql-0": { liveName: "immich-postgres-data" } };
    });
    expect(
      topology.volumes.find((v) => v.declaredClaim === "data-immich-postgresql-0")!.claim,
    ).toBe("immich-postgres-data");
  });
});

describe("placement and capacity", () => {
  const immichOn = (topology: Topology, hostname: string) =>
    topology.capacity
      .find((n) => n.hostname === hostname)!
      .pods.map((p) => p.workload)
      .filter((w) => w.startsWith("immich-"))
      .sort();
  const ALL = ["immich-machine-learning", "immich-postgresql", "immich-server", "immich-valkey"];

  test("pi-k3s: every part on the 8 GB Pi 5, within 80% of its budget", () => {
    const topology = planned("pi-k3s");
    expect(immichOn(topology, "pi-k3s")).toEqual(ALL);
    for (const node of topology.capacity)
      expect(node.memoryRequestMi / node.budgetMi).toBeLessThan(0.8);
  });

  test("pi5-expansion: every part on pi5-worker-1 (seed 002), within 80%", async () => {
    const topology = planned("pi5-expansion");
    expect(immichOn(topology, "pi5-worker-1")).toEqual(ALL);
    expect(immichOn(topology, "pi-k3s")).toEqual([]);
    for (const node of topology.capacity)
      expect(node.memoryRequestMi / node.budgetMi).toBeLessThan(0.8);
    const run = await planStack("pi5-expansion");
    const sts = named(run, "kubernetes:apps/v1:StatefulSet", "immich-postgresql").inputs as Json;
    expect(sts.spec.template.spec.nodeSelector).toEqual({
      "kubernetes.io/hostname": "pi5-worker-1",
    });
    const values = (named(run, "kubernetes:helm.sh/v3:Release", "immich").inputs as Json).values;
    expect(values["machine-learning"].controllers.main.pod.nodeSelector).toEqual({
      "kubernetes.io/hostname": "pi5-worker-1",
    });
  });

  test("without placement in config: the node with the most memory", () => {
    const topology = planned("pi5-expansion", (raw) => {
      for (const w of ALL) delete raw.placement[w];
    });
    expect(immichOn(topology, "pi-k3s")).toEqual(ALL);
  });
});

describe("bad Immich config", () => {
  const problems = configProblems;

  test.each(["photos", "volume1/photos", "/volume1/../photos"])(
    "a library export that is not absolute: %s",
    (path) => {
      expect(problems((raw) => (raw.apps.immich.libraryExport = path))).toEqual([
        `pi-cluster:apps.immich.libraryExport: "${path}" is not an absolute export path; allowed: a path from / without "..", e.g. /volume1/photos`,
      ]);
    },
  );

  test("no NAS to mount the library from", () => {
    expect(problems((raw) => delete raw.network.nas)).toEqual([
      // Each app that mounts an export from the NAS names its own key (in the stack's app order).
      "pi-cluster:network.nas is required by pi-cluster:apps.immich.libraryExport (the NFS server of /volume1/photos, e.g. 192.168.1.60)",
      "pi-cluster:network.nas is required by pi-cluster:apps.jellyfin.mediaExport (the NFS server of /volume1/video, e.g. 192.168.1.60)",
      "pi-cluster:network.nas is required by pi-cluster:apps.backups.nfsExport (the NFS server of /volume1/backups/k3s, e.g. 192.168.1.60)",
    ]);
  });

  test("an unknown key names the allowed ones", () => {
    expect(problems((raw) => (raw.apps.immich.postgresql = { enabled: true }))).toEqual([
      'unknown key "postgresql" in pi-cluster:apps.immich; allowed: libraryExport, librarySize, database',
    ]);
  });

  test("the secrets it needs", () => {
    expect(problems((raw) => delete raw.secrets.immichDbPassword)).toEqual([
      "pi-cluster:secrets.immichDbPassword is required by immich (a 1Password reference op://<vault>/<item>/<field>)",
    ]);
    expect(immich.secrets).toEqual(["immichDbPassword", "immichApiKey"]);
  });
});

/** Debian's server binaries (`/usr/lib/postgresql/<major>/bin`, not on PATH), newest major. */
function postgresBin(command: string): string {
  const root = "/usr/lib/postgresql";
  const majors = fs.existsSync(root) ? fs.readdirSync(root).sort((a, b) => +b - +a) : [];
  const found = majors.map((m) => path.join(root, m, "bin", command)).find(fs.existsSync);
  return found ?? command;
}

/** Runs a PostgreSQL binary as the `postgres` user when the tests run as root (it refuses root). */
function asPostgres(command: string, args: string[]) {
  const bin = postgresBin(command);
  // From a folder every user may enter: the checkout may sit in a root-only temp folder.
  const options = { encoding: "utf8" as const, cwd: "/" };
  return process.getuid?.() === 0
    ? spawnSync("runuser", ["-u", "postgres", "--", bin, ...args], options)
    : spawnSync(bin, args, options);
}

describe("Postgres' probe and arguments against a real PostgreSQL", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "immich-pg-"));
  const data = path.join(dir, "data");
  const port = 20000 + (process.pid % 20000);
  const user = { database: "postgres", user: "postgres" };
  beforeAll(() => {
    if (process.getuid?.() === 0) spawnSync("chown", ["postgres", dir]);
    const init = asPostgres("initdb", [INITDB_ARGS, "-U", "postgres", "-D", data]);
    expect(init.status).toBe(0);
    // The image's own config file is not here: an empty one stands in for it.
    const conf = path.join(data, "immich.conf");
    fs.writeFileSync(conf, "");
    if (process.getuid?.() === 0) spawnSync("chown", ["postgres", conf]);
    const [, ...args] = postgresArgs(conf);
    const start = asPostgres("pg_ctl", [
      "-D",
      data,
      "-w",
      "-l",
      path.join(dir, "log"),
      "-o",
      [...args, "-c", `port=${port}`, "-c", `unix_socket_directories=${dir}`].join(" "),
      "start",
    ]);
    expect(start.stderr + start.status).toBe("0");
  }, 60_000);
  afterAll(() => {
    asPostgres("pg_ctl", ["-D", data, "-m", "fast", "stop"]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const probe = () => {
    const [command, ...args] = pgIsReady(user, port);
    return asPostgres(command, args).status;
  };

  test("pg_isready as the probes run it: 0 while the server accepts connections", () => {
    expect(probe()).toBe(0);
  });

  test("the server runs with the Pi-sized cache and page checksums", () => {
    const show = (setting: string) =>
      asPostgres("psql", [
        "-h",
        "127.0.0.1",
        "-p",
        String(port),
        "-U",
        "postgres",
        "-At",
        "-c",
        `SHOW ${setting}`,
      ]).stdout.trim();
    expect(show("shared_buffers")).toBe("128MB");
    expect(show("data_checksums")).toBe("on");
  });

  test("pg_isready fails (2: no answer) once the server is gone", () => {
    asPostgres("pg_ctl", ["-D", data, "-m", "fast", "stop"]);
    expect(probe()).toBe(2);
  });

  // Only as root can the test make the directory local-path makes (root's, mode 0777).
  (process.getuid?.() === 0 ? test : test.skip)(
    "initdb as a non-root user needs PGDATA below the claim's root-owned directory",
    () => {
      const claim = fs.mkdtempSync(path.join(os.tmpdir(), "immich-claim-"));
      try {
        fs.chmodSync(claim, 0o777);
        expect(asPostgres("initdb", ["-U", "postgres", "-D", claim]).status).not.toBe(0);
        const pgdata = path.join(claim, path.basename(PGDATA));
        expect(asPostgres("initdb", ["-U", "postgres", "-D", pgdata]).status).toBe(0);
      } finally {
        fs.rmSync(claim, { recursive: true, force: true });
      }
    },
    60_000,
  );

  test("the shm size the pod gets is at least Immich's 128 MB", () => {
    expect(POSTGRES_SHM).toBe("128Mi");
  });
});
