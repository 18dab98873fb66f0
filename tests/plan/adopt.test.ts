/**
 * The takeover plan against the fixture of the live cluster (tests/fixtures/live/pi-k3s, built
 * from the seeds' description of clusters/pi-k3s): the import file matches the program, every
 * live volume is accounted for, and a handover that would lose data is refused.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  Adoption,
  chartVersion,
  DumpError,
  LiveCluster,
  planAdoption,
  readLiveDump,
  urnOf,
} from "../../plan/adopt";
import { adoptReport } from "../../plan/adopt-report";
import { resourceKey } from "../../plan/record";
import { StackRun } from "../../plan/run";
import { planStack } from "../support/stack";

const FIXTURE = path.join(__dirname, "../fixtures/live/pi-k3s");

let run: StackRun;
let live: LiveCluster;
let adoption: Adoption;
beforeAll(async () => {
  run = await planStack("pi-k3s");
  live = readLiveDump(FIXTURE);
  adoption = planAdoption(run, live, run.topology.takeover!);
});

describe("the fixture's adoption", () => {
  test("nothing blocks it", () => {
    expect(adoption.problems).toEqual([]);
  });

  test("every import entry is a resource of the plan: type, name, parent and provider by URN", () => {
    const byKey = new Map(run.resources.map((r) => [resourceKey(r.type, r.name), r]));
    const { nameTable, resources } = adoption.importFile;
    expect(resources.length).toBe(adoption.adopted.length);
    for (const entry of resources) {
      const planned = byKey.get(resourceKey(entry.type, entry.name));
      expect(planned).toBeDefined();
      const parent = planned!.parent ? byKey.get(planned!.parent) : undefined;
      expect(entry.parent && nameTable[entry.parent]).toBe(
        parent ? urnOf("pi-k3s", "pi-cluster", parent, byKey) : undefined,
      );
      expect(nameTable[entry.provider!]).toBe(
        "urn:pulumi:pi-k3s::pi-cluster::pi-cluster:cluster:K3sCluster$pulumi:providers:kubernetes::pi-k3s-k3s",
      );
    }
  });

  test("URNs as Pulumi writes them: the ancestors' types joined by $, then the name", () => {
    const release = adoption.importFile.resources.find((r) => r.name === "kube-prometheus-stack")!;
    expect(adoption.importFile.nameTable[release.parent!]).toBe(
      "urn:pulumi:pi-k3s::pi-cluster::pi-cluster:platform:Platform$pi-cluster:platform:Monitoring::monitoring",
    );
    const claim = adoption.importFile.resources.find((r) => r.name === "pihole-pihole-etc")!;
    expect(adoption.importFile.nameTable[claim.parent!]).toBe(
      "urn:pulumi:pi-k3s::pi-cluster::pi-cluster:apps:PiholeDns::pihole",
    );
  });

  test("import ids: releases and namespaced objects by namespace/name, cluster-scoped by name", () => {
    const id = (type: string, name: string) =>
      adoption.importFile.resources.find((r) => r.type === type && r.name === name)?.id;
    expect(id("kubernetes:helm.sh/v3:Release", "kube-prometheus-stack")).toBe(
      "monitoring/kube-prometheus-stack",
    );
    expect(id("kubernetes:core/v1:PersistentVolumeClaim", "uptime-kuma-uptime-kuma-data")).toBe(
      "uptime-kuma/uptime-kuma-pvc",
    );
    expect(id("kubernetes:core/v1:Namespace", "pihole-namespace")).toBe("pihole");
    expect(id("kubernetes:external-secrets.io/v1:ClusterSecretStore", "onepassword-store")).toBe(
      "onepassword",
    );
  });

  test("the differences pulumi up will apply are named", () => {
    const diff = (name: string) =>
      adoption.adopted.find((a) => a.resource.name === name)?.differences ?? [];
    expect(diff("kube-prometheus-stack")).toEqual(["chart 80.6.0 → 88.5.3"]);
    expect(diff("pihole")).toEqual([
      "image pihole: pihole/pihole:latest → docker.io/pihole/pihole:2026.07.2",
    ]);
    expect(diff("external-secrets")).toEqual([]);
  });

  test("every live claim and volume is accounted for", () => {
    const fates = Object.fromEntries(adoption.volumes.map((v) => [v.object, v.fate]));
    const liveVolumes = live.objects.filter((o) =>
      ["PersistentVolumeClaim", "PersistentVolume"].includes(o.kind),
    );
    expect(adoption.volumes).toHaveLength(liveVolumes.length);
    expect(fates["PersistentVolumeClaim pihole/pihole-etc (1Gi)"]).toMatch(/^adopted \(pihole/);
    expect(fates["PersistentVolumeClaim uptime-kuma/uptime-kuma-pvc (2Gi)"]).toMatch(/^adopted/);
    expect(fates["PersistentVolumeClaim pihole/pihole-dnsmasq (100Mi)"]).toMatch(
      /^not adopted, deleted by the runbook after the backups: Pi-hole v5's/,
    );
    expect(
      fates[
        "PersistentVolumeClaim monitoring/prometheus-kube-prometheus-stack-prometheus-db-prometheus-kube-prometheus-stack-prometheus-0 (10Gi)"
      ],
    ).toMatch(/^adopted with its Helm release/);
    // NFS volumes are the program's own (Retain) and adopted as such.
    expect(fates["PersistentVolume immich-library (1Ti)"]).toBe("adopted");
    expect(fates["PersistentVolumeClaim immich/data-immich-postgresql-0 (10Gi)"]).toMatch(
      /^adopted \(immich: /,
    );
    // Adopted claims on k3s's local-path volumes (Delete) are switched to Retain by the runbook.
    expect(adoption.patchToRetain).toEqual([
      "pvc-pihole-e-0000",
      "pvc-uptime-k-0000",
      "pvc-autokuma-0000",
      "pvc-promethe-0000",
      "pvc-kube-pro-0000",
      "pvc-data-imm-0000",
      "pvc-jellyfin-0000",
    ]);
    // Nothing live is left without a decision: every object is adopted, left alone or a leftover.
    expect(adoption.unplanned.filter((u) => u.action === "gap in the program")).toEqual([]);
  });

  test("Flux's objects go with `flux uninstall`; k3s's own are left alone", () => {
    const action = (object: string) => adoption.unplanned.find((u) => u.object === object)?.action;
    expect(action("Kustomization flux-system/pihole")).toBe("deleted by the runbook");
    expect(action("ImagePolicy flux-system/mtgibbs-site")).toBe("deleted by the runbook");
    expect(action("Deployment kube-system/coredns")).toBe("left alone");
    expect(action("ConfigMap pihole/pihole-adlists")).toBe("deleted by the runbook");
    // Objects a Helm release owns are adopted with the release, never listed one by one.
    expect(adoption.unplanned.map((u) => u.object)).not.toContain(
      "PersistentVolumeClaim monitoring/kube-prometheus-stack-grafana",
    );
  });

  test("the report has the four lists and the Retain commands", () => {
    const report = adoptReport(adoption);
    for (const heading of [
      "## Adopted as is",
      "## Adopted with a difference `pulumi up` will apply",
      "## Planned but absent: `pulumi up` creates them",
      "## Live but not planned",
    ])
      expect(report).toContain(heading);
    expect(report).toContain(
      `kubectl patch pv pvc-pihole-e-0000 -p '{"spec":{"persistentVolumeReclaimPolicy":"Retain"}}'`,
    );
  });
});

describe("the stateful guard", () => {
  test("a renamed volume fails the adoption, naming both names", async () => {
    const renamed = await planStack("pi-k3s", (raw) => {
      delete raw.volumes["uptime-kuma/uptime-kuma-data"].liveName;
    });
    const result = planAdoption(renamed, live, renamed.topology.takeover!);
    expect(result.problems).toEqual([
      "planned claim uptime-kuma/uptime-kuma-data would be created empty while the live claim uptime-kuma/uptime-kuma-pvc (2Gi) of the same app (uptime-kuma) holds its data: keep the live name with pi-cluster:volumes.uptime-kuma/uptime-kuma-data.liveName: uptime-kuma-pvc, or list it in pi-cluster:takeover.leftovers if its data is not needed",
    ]);
  });

  test("a claim whose class the program would change is refused (a replaced claim starts empty)", async () => {
    const retained = await planStack("pi-k3s", (raw) => {
      delete raw.volumes["pihole/pihole-etc"];
    });
    expect(planAdoption(retained, live, retained.topology.takeover!).problems).toEqual([
      "claim pihole/pihole-etc (1Gi) would be replaced, and a new claim starts empty: storageClassName local-path → local-path-retain (immutable); keep the live value with pi-cluster:volumes.pihole/pihole-etc.storageClass: local-path",
    ]);
  });
});

describe("bad input", () => {
  const dump = (files: Record<string, string>) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dump-"));
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
    return dir;
  };

  test("a file that is not kubectl or helm output", () => {
    const dir = dump({ "pods.json": JSON.stringify({ hello: "world" }) });
    expect(() => readLiveDump(dir)).toThrow(
      new DumpError(
        `${dir}/pods.json is not \`kubectl get … -o json\` output (a List of objects with apiVersion, kind and metadata.name) nor \`helm list -o json\` output; capture it with the read-only commands in the README (section 'Taking over the running cluster')`,
      ),
    );
  });

  test("a file that is not JSON", () => {
    const dir = dump({ "cluster.json": "NAME   STATUS\npi-k3s Ready\n" });
    expect(() => readLiveDump(dir)).toThrow(/cluster\.json is not JSON/);
  });

  test("a dump holding Secret values is refused without using it", () => {
    const dir = dump({
      "secrets.json": JSON.stringify({
        apiVersion: "v1",
        kind: "List",
        items: [
          {
            apiVersion: "v1",
            kind: "Secret",
            metadata: { name: "pihole-secret", namespace: "pihole" },
            data: { password: "c2VjcmV0" },
          },
        ],
      }),
    });
    expect(() => readLiveDump(dir)).toThrow(
      `${dir}/secrets.json holds the values of Secret pihole/pihole-secret: delete the file and capture Secrets by name only (README); nothing in it was used`,
    );
  });

  test("a dump of another cluster", () => {
    const other: LiveCluster = {
      ...live,
      objects: live.objects.map((o) =>
        o.kind === "Node"
          ? { ...o, metadata: { ...o.metadata, name: `other-${o.metadata.name}` } }
          : o,
      ),
    };
    expect(() => planAdoption(run, other, run.topology.takeover!)).toThrow(
      "the dump is of another cluster: its nodes (other-pi-k3s, other-pi3-worker-1, other-pi3-worker-2) are none of stack pi-k3s's (pi-k3s, pi3-worker-1, pi3-worker-2)",
    );
  });

  test("a stack with no live counterpart", () => {
    const result = spawnSync(
      process.execPath,
      [
        require.resolve("tsx/cli"),
        path.join(__dirname, "../../plan/adopt-cli.ts"),
        "homelab-ha",
        "--live",
        FIXTURE,
      ],
      { encoding: "utf8", cwd: path.join(__dirname, "../..") },
    );
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      "stack homelab-ha has no live cluster to take over: Pulumi.homelab-ha.yaml sets no pi-cluster:takeover",
    );
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });
});

test("the handover's first stage declares the nodes, k3s and the provider, nothing on the cluster", async () => {
  const first = await planStack("pi-k3s", (raw) => (raw.takeover.stage = "cluster"));
  const onCluster = first.resources.filter(
    (r) => r.type.startsWith("kubernetes:") && r.type !== "kubernetes:core/v1:NodePatch",
  );
  expect(onCluster).toEqual([]);
  expect(first.resources.some((r) => r.type === "pulumi:providers:kubernetes")).toBe(true);
});

test("chart versions are read from helm list's chart field", () => {
  expect(chartVersion("kube-prometheus-stack-88.5.3")).toBe("88.5.3");
  expect(chartVersion("cert-manager-v1.21.1")).toBe("v1.21.1");
});
