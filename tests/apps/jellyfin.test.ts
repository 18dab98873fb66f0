/** Jellyfin in both stacks, as `pulumi preview` would show it, and its config errors. */
import {
  jellyfinConfigSchema,
  jellyfinEndpoint,
  jellyfinVolumes,
  validateJellyfin,
} from "../../components/apps/jellyfin";
import { IMAGES } from "../../components/apps/images";
import { widgetEnvName } from "../../components/apps/homepage/config";
import { StackRun } from "../../plan/run";
import { configProblems, named, planStack, planned } from "../support/stack";
import { validateObject } from "../support/kube-schema";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- manifests are walked as JSON
type Json = any;

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const CLAIM = "kubernetes:core/v1:PersistentVolumeClaim";
const VOLUME = "kubernetes:core/v1:PersistentVolume";

const runs: Record<string, StackRun> = {};
beforeAll(async () => {
  runs["pi-k3s"] = await planStack("pi-k3s");
  runs["pi5-expansion"] = await planStack("pi5-expansion");
});
const deployment = (stack = "pi-k3s"): Json => named(runs[stack], DEPLOYMENT, "jellyfin").inputs;
const pod = (stack = "pi-k3s"): Json => deployment(stack).spec.template.spec;

/** The messages a config change produces (none when it plans). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- fixtures are mutated freely
const problems = configProblems;

describe("the Deployment", () => {
  test("pinned 10.11.11, one replica, Recreate (its config volume is ReadWriteOnce)", () => {
    expect(IMAGES.jellyfin.tag).toBe("10.11.11");
    const d = deployment();
    expect(d.spec.replicas).toBe(1);
    expect(d.spec.strategy).toEqual({ type: "Recreate" });
    expect(pod().containers[0].image).toBe("docker.io/jellyfin/jellyfin:10.11.11");
  });

  test("requests what seed 002 measured (467Mi → 512Mi), limits leave room for scans", () => {
    expect(pod().containers[0].resources).toEqual({
      requests: { cpu: "250m", memory: "512Mi" },
      limits: { cpu: "4", memory: "1536Mi" },
    });
  });

  test("runs on pi-k3s in pi-k3s and on pi5-worker-1 in pi5-expansion (seed 002)", () => {
    expect(pod("pi-k3s").nodeSelector).toEqual({ "kubernetes.io/hostname": "pi-k3s" });
    expect(pod("pi5-expansion").nodeSelector).toEqual({
      "kubernetes.io/hostname": "pi5-worker-1",
    });
  });

  test("probes on /health:8096, up to 15 minutes to start", () => {
    const c = pod().containers[0];
    const health = { httpGet: { path: "/health", port: 8096 } };
    expect(c.startupProbe).toEqual({
      ...health,
      periodSeconds: 10,
      timeoutSeconds: 5,
      failureThreshold: 90,
    });
    expect(c.readinessProbe).toMatchObject(health);
    expect(c.livenessProbe).toMatchObject(health);
  });

  test("config on its claim, library read-only, cache bounded, no /dev/dri", () => {
    const p = pod();
    const c = p.containers[0];
    expect(c.volumeMounts).toEqual([
      { name: "config", mountPath: "/config" },
      { name: "cache", mountPath: "/cache" },
      { name: "tmp", mountPath: "/tmp" },
      { name: "media", mountPath: "/media", readOnly: true },
    ]);
    expect(p.volumes).toEqual([
      { name: "config", persistentVolumeClaim: { claimName: "jellyfin-config" } },
      { name: "cache", emptyDir: { sizeLimit: "4Gi" } },
      { name: "tmp", emptyDir: { sizeLimit: "256Mi" } },
      { name: "media", persistentVolumeClaim: { claimName: "jellyfin-media", readOnly: true } },
    ]);
    // Direct play: no device is handed in and nothing privileged.
    expect(JSON.stringify(p)).not.toContain("/dev/dri");
    expect(c.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    });
  });

  test("the manifests pass the Kubernetes schema", () => {
    for (const [type, name] of [
      [DEPLOYMENT, "jellyfin"],
      ["kubernetes:core/v1:Service", "jellyfin"],
      [CLAIM, "jellyfin-jellyfin-config"],
      [CLAIM, "jellyfin-media-pvc"],
      [VOLUME, "jellyfin-media-pv"],
    ]) {
      const r = named(runs["pi-k3s"], type, name);
      const kind = type.split(":").pop()!;
      const apiVersion = type.split(":")[1].replace(/^core\//, "");
      expect(validateObject({ apiVersion, kind, ...(r.inputs as Json) })).toEqual([]);
    }
  });
});

describe("volumes", () => {
  test("config: 5Gi, protected and kept; both stacks keep the live local-path class", () => {
    const k3s = named(runs["pi-k3s"], CLAIM, "jellyfin-jellyfin-config");
    expect(k3s.inputs).toMatchObject({
      metadata: { name: "jellyfin-config", namespace: "jellyfin" },
      spec: {
        accessModes: ["ReadWriteOnce"],
        storageClassName: "local-path",
        resources: { requests: { storage: "5Gi" } },
      },
    });
    expect(k3s.options).toMatchObject({ protect: true, retainOnDelete: true });
    const expansion = named(runs["pi5-expansion"], CLAIM, "jellyfin-jellyfin-config");
    expect((expansion.inputs as Json).spec.storageClassName).toBe("local-path");
  });

  test("the library: NFSv3 from the NAS's /volume1/video, read-only, Retain, kept", () => {
    const pv = named(runs["pi-k3s"], VOLUME, "jellyfin-media-pv");
    expect((pv.inputs as Json).spec).toMatchObject({
      accessModes: ["ReadOnlyMany"],
      persistentVolumeReclaimPolicy: "Retain",
      mountOptions: ["nfsvers=3", "hard"],
      nfs: { server: "192.168.1.60", path: "/volume1/video", readOnly: true },
      claimRef: { namespace: "jellyfin", name: "jellyfin-media" },
    });
    expect(pv.options.retainOnDelete).toBe(true);
    const pvc = named(runs["pi-k3s"], CLAIM, "jellyfin-media-pvc");
    expect(pvc.options).toMatchObject({ protect: true, retainOnDelete: true });
  });

  test("declared for the backups: config backed up, the library not (it is the NAS's)", () => {
    const config = jellyfinConfigSchema.parse({});
    expect(
      jellyfinVolumes(config).map((v) => [v.claim, v.storage, v.size, v.backup, v.workload]),
    ).toEqual([
      ["jellyfin-config", "local", "5Gi", true, "jellyfin"],
      ["jellyfin-media", "nfs", "1Ti", false, "jellyfin"],
    ]);
  });
});

describe("catalog", () => {
  test("jellyfin.<domain> in Media, widget key from 1Password, monitor on /health", () => {
    expect(jellyfinEndpoint()).toMatchObject({
      host: "jellyfin",
      service: "jellyfin",
      port: 8096,
      dashboard: {
        group: "Media",
        widget: {
          type: "jellyfin",
          url: "http://jellyfin.jellyfin.svc.cluster.local:8096",
          secrets: { key: "jellyfinApiKey" },
        },
      },
      monitor: { kind: "http", path: "/health" },
    });
    const monitors = (
      named(runs["pi-k3s"], "kubernetes:core/v1:ConfigMap", "autokuma-monitors").inputs as Json
    ).data;
    expect(JSON.parse(monitors["jellyfin.json"])).toMatchObject({
      type: "http",
      url: "https://jellyfin.lab.mtgibbs.dev/health",
    });
    const homepage = named(runs["pi-k3s"], DEPLOYMENT, "homepage").inputs as Json;
    const env = homepage.spec.template.spec.containers[0].env.map((e: Json) => e.name);
    expect(env).toContain(widgetEnvName("jellyfin", "key"));
    // The live cluster's ExternalSecret name, filled from the 1Password item jellyfin/api-key.
    const secret = named(
      runs["pi-k3s"],
      "kubernetes:external-secrets.io/v1:ExternalSecret",
      "homepage-homepage-jellyfin-external-secret",
    ).inputs as Json;
    expect(secret.metadata.name).toBe("homepage-jellyfin");
    expect(secret.spec.data).toEqual([
      { secretKey: "key", remoteRef: { key: "jellyfin/api-key" } },
    ]);
  });
});

describe("config errors name the key", () => {
  test.each([
    [
      "an export path that is not absolute",
      (raw: Json) => (raw.apps.jellyfin.mediaExport = "volume1/video"),
      'pi-cluster:apps.jellyfin.mediaExport: "volume1/video" is not an absolute export path; allowed: a path from / without "..", e.g. /volume1/video',
    ],
    [
      "an export path that climbs out",
      (raw: Json) => (raw.apps.jellyfin.mediaExport = "/volume1/../etc"),
      'pi-cluster:apps.jellyfin.mediaExport: "/volume1/../etc" is not an absolute export path; allowed: a path from / without "..", e.g. /volume1/video',
    ],
    [
      "a relative mount path",
      (raw: Json) => (raw.apps.jellyfin.mediaPath = "media"),
      'pi-cluster:apps.jellyfin.mediaPath: "media" is not an absolute path; use one like /media',
    ],
    [
      "a mount path over Jellyfin's own",
      (raw: Json) => (raw.apps.jellyfin.mediaPath = "/config/media"),
      'pi-cluster:apps.jellyfin.mediaPath: "/config/media" overlaps Jellyfin\'s own /config; allowed: a path outside /config, /cache, /tmp',
    ],
    [
      "a config volume too small for the free-space check",
      (raw: Json) => (raw.apps.jellyfin.configSize = "2Gi"),
      'pi-cluster:apps.jellyfin.configSize: "2Gi" is too small; allowed: at least 5Gi (Jellyfin refuses to start with less than 2 GiB free)',
    ],
    [
      "a cache limit below the free-space check",
      (raw: Json) => (raw.apps.jellyfin.cacheLimit = "1Gi"),
      'pi-cluster:apps.jellyfin.cacheLimit: "1Gi" is too small; allowed: at least 2Gi (Jellyfin refuses to start with less than 2 GiB free)',
    ],
    [
      "a size that is not a quantity",
      (raw: Json) => (raw.apps.jellyfin.configSize = "lots"),
      'pi-cluster:apps.jellyfin.configSize: "lots" is invalid: is not a size; use a quantity such as 5Gi or 512Mi',
    ],
    [
      "a NAS outside the LAN",
      (raw: Json) => (raw.network.nas = "10.1.1.60"),
      'pi-cluster:network.nas: "10.1.1.60" is outside the LAN 192.168.1.0/24; the NAS must be on it',
    ],
  ])("%s", (_rule, mutate, message) => {
    expect(problems(mutate)).toEqual([message]);
  });

  test("no NAS to mount from (the backups need it too)", () => {
    expect(problems((raw: Json) => delete raw.network.nas)).toContain(
      "pi-cluster:network.nas is required by pi-cluster:apps.jellyfin.mediaExport (the NFS server of /volume1/video, e.g. 192.168.1.60)",
    );
  });

  test("an absent section plans with the seed's defaults", () => {
    const config = jellyfinConfigSchema.parse({});
    expect(config).toEqual({
      mediaExport: "/volume1/video",
      mediaPath: "/media",
      configSize: "5Gi",
      cacheLimit: "4Gi",
    });
    expect(
      validateJellyfin(
        config,
        planned("pi-k3s") as unknown as Parameters<typeof validateJellyfin>[1],
      ),
    ).toEqual([]);
  });
});
