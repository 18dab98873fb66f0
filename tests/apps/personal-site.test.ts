/**
 * The personal site as `pulumi preview` shows it, and its image policy: the TypeScript rule and
 * the updater's real script (run by busybox sh, as in curlimages/curl) against a local registry
 * and Kubernetes API stand-in, over the same tag lists, with pagination and a registry that is
 * down.
 */
import { execFile, execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import {
  SITE_DEPLOYMENT,
  SITE_IMAGE_FIELD,
  SITE_NAMESPACE,
  siteUpdaterScript,
} from "../../components/apps/personal-site";
import {
  compareNumericTags,
  newestTag,
  updateDecision,
} from "../../components/apps/personal-site/tags";
import { image, TRACKED_IMAGES } from "../../components/apps/images";
import { StackRun } from "../../plan/run";
import { configProblems, named, planStack } from "../support/stack";
import { validateObject } from "../support/kube-schema";
import { RegistryStandIn, startRegistryStandIn, STAND_IN_SA_TOKEN } from "./registry-stand-in";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- manifests are read as JSON
type Json = any;

const REPO = "mtgibbs/mtgibbs.xyz";
const IMAGE = TRACKED_IMAGES.personalSite.repository;

/** Tag lists and the tag the rule picks: the one table both implementations are held to. */
const CASES: readonly { name: string; tags: string[]; newest: string | undefined }[] = [
  {
    name: "ignores latest, git SHAs and 13/15-digit numbers",
    tags: [
      "latest",
      "a1b2c3d",
      "20260104084623",
      "2026010415423",
      "202601041542340",
      "20260104154234",
      "99999999999999a",
    ],
    newest: "20260104154234",
  },
  {
    name: "numeric order, not listing order",
    tags: ["20260301000000", "20251231235959", "20260104154234"],
    newest: "20260301000000",
  },
  { name: "nothing matches", tags: ["latest", "a1b2c3d", "v1.2.3"], newest: undefined },
  { name: "no tags at all", tags: [], newest: undefined },
];

describe("newestTag: the rule", () => {
  test.each(CASES)("$name", ({ tags, newest }) => {
    expect(newestTag(tags)).toBe(newest);
  });

  test("numbers compare exactly at any length, leading zeros ignored", () => {
    expect(newestTag(["0099", "100", "98"], "^[0-9]+$")).toBe("100");
    expect(newestTag(["9007199254740993", "9007199254740992"], "^[0-9]+$")).toBe(
      "9007199254740993",
    );
    expect(compareNumericTags("007", "7")).toBe(0);
    // Equal as numbers: the first listed wins (the script does the same).
    expect(newestTag(["007", "7"], "^[0-9]+$")).toBe("007");
  });

  test("the updater patches only to a newer tag and leaves a hand-set tag alone", () => {
    const tags = ["20260104084623", "20260104154234"];
    expect(updateDecision(tags, "20260104084623")).toEqual({
      action: "patch",
      tag: "20260104154234",
    });
    expect(updateDecision(tags, "20260104154234")).toEqual({
      action: "keep",
      tag: "20260104154234",
    });
    // Running a newer build than the registry lists (a tag deleted upstream): never backwards.
    expect(updateDecision(tags, "20270101000000")).toEqual({
      action: "keep",
      tag: "20270101000000",
    });
    expect(updateDecision(tags, "a1b2c3d")).toEqual({ action: "keep", tag: "a1b2c3d" });
    expect(() => updateDecision(["latest"], "20260104154234")).toThrow(
      "no tag matches ^[0-9]{14}$",
    );
  });
});

describe("the updater script against a local registry and API", () => {
  // busybox sh, as in curlimages/curl (.ci/run installs it).
  const shell = ["busybox", "sh"];
  let dir: string;
  let standIn: RegistryStandIn;
  const run = promisify(execFile);

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "site-updater-"));
    fs.writeFileSync(path.join(dir, "update.sh"), siteUpdaterScript());
    fs.mkdirSync(path.join(dir, "sa"));
    fs.writeFileSync(path.join(dir, "sa", "token"), STAND_IN_SA_TOKEN);
    fs.writeFileSync(path.join(dir, "sa", "ca.crt"), "not used over http\n");
    // busybox's own grep, sed, awk...: the image has no GNU tools, so neither does the test.
    const busybox = execFileSync("sh", ["-c", "command -v busybox"], { encoding: "utf8" }).trim();
    fs.mkdirSync(path.join(dir, "bin"));
    for (const applet of ["awk", "cat", "grep", "head", "mktemp", "rm", "sed", "tr"])
      fs.symlinkSync(busybox, path.join(dir, "bin", applet));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  beforeEach(async () => {
    standIn = await startRegistryStandIn({
      repository: REPO,
      namespace: SITE_NAMESPACE,
      deployment: SITE_DEPLOYMENT,
      tags: [],
      image: `${IMAGE}:20260104084623`,
      // Two tags a page: every list below spans several pages.
      pageSize: 2,
    });
  });
  afterEach(() => standIn.close());

  /** Runs the real script; resolves with its exit code and output. */
  async function update(registry = standIn.url) {
    try {
      const { stdout, stderr } = await run(
        shell[0],
        [...shell.slice(1), path.join(dir, "update.sh")],
        {
          env: {
            PATH: `${path.join(dir, "bin")}:${process.env.PATH}`,
            REGISTRY: registry,
            KUBE_API: standIn.url,
            SA_DIR: path.join(dir, "sa"),
          },
          timeout: 60_000,
        },
      );
      return { code: 0, out: stdout + stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, out: e.stdout + e.stderr };
    }
  }

  test.each(CASES)("same pick as newestTag: $name", async ({ tags, newest }) => {
    standIn.tags = tags;
    standIn.image = `${IMAGE}:20250101000000`;
    const result = await update();
    if (newest === undefined) {
      expect(result).toEqual({
        code: 1,
        out: `pi-cluster: site-updater: no tag of ${REPO} matches ^[0-9]{14}$; 20250101000000 keeps running\n`,
      });
      expect(standIn.patches).toEqual([]);
    } else {
      expect(result).toEqual({
        code: 0,
        out: `pi-cluster: site-updater: 20250101000000 -> ${newest}\n`,
      });
      expect(standIn.image).toBe(`${IMAGE}:${newest}`);
    }
  });

  test("follows every Link rel=next page and patches with a compare-and-swap", async () => {
    standIn.tags = ["latest", "20260104084623", "a1b2c3d", "20260104154234", "sha-1", "x"];
    expect(await update()).toEqual({
      code: 0,
      out: "pi-cluster: site-updater: 20260104084623 -> 20260104154234\n",
    });
    expect(standIn.requests).toEqual([
      `GET /token?scope=repository:${REPO}:pull`,
      `GET /v2/${REPO}/tags/list?n=1000`,
      `GET /v2/${REPO}/tags/list?last=20260104084623&n=2`,
      `GET /v2/${REPO}/tags/list?last=20260104154234&n=2`,
    ]);
    expect(standIn.patches).toEqual([
      [
        {
          op: "test",
          path: "/spec/template/spec/containers/0/image",
          value: `${IMAGE}:20260104084623`,
        },
        {
          op: "replace",
          path: "/spec/template/spec/containers/0/image",
          value: `${IMAGE}:20260104154234`,
        },
      ],
    ]);
  });

  test("no patch when the running tag is the newest, or newer than any listed", async () => {
    standIn.tags = ["20260104084623", "20251231235959"];
    expect(await update()).toEqual({
      code: 0,
      out: "pi-cluster: site-updater: 20260104084623 is the newest tag; no change\n",
    });
    standIn.image = `${IMAGE}:20270101000000`;
    expect((await update()).code).toBe(0);
    expect(standIn.image).toBe(`${IMAGE}:20270101000000`);
    expect(standIn.patches).toEqual([]);
  });

  test("a tag set by hand outside the pattern is left alone", async () => {
    standIn.tags = ["20260104154234"];
    standIn.image = `${IMAGE}:a1b2c3d`;
    expect(await update()).toEqual({
      code: 0,
      out:
        "pi-cluster: site-updater: a1b2c3d was set by hand (not ^[0-9]{14}$); leaving it " +
        "(newest: 20260104154234)\n",
    });
    expect(standIn.patches).toEqual([]);
  });

  test("a registry answering 5xx: the job fails clearly and the site keeps its tag", async () => {
    standIn.tags = ["20260104154234"];
    standIn.mode = "5xx";
    const result = await update();
    expect(result.code).toBe(1);
    expect(result.out).toContain(
      `pi-cluster: site-updater: registry ${standIn.url} refused or did not answer the token ` +
        "request; 20260104084623 keeps running\n",
    );
    expect(standIn.image).toBe(`${IMAGE}:20260104084623`);
  });

  test("a registry refusing connections: the same", async () => {
    const closed = await startRegistryStandIn({
      repository: REPO,
      namespace: SITE_NAMESPACE,
      deployment: SITE_DEPLOYMENT,
      tags: [],
      image: "",
    });
    const refused = closed.url;
    await closed.close();
    const result = await update(refused);
    expect(result.code).toBe(1);
    expect(result.out).toContain(
      `pi-cluster: site-updater: registry ${refused} refused or did not answer the token ` +
        "request; 20260104084623 keeps running\n",
    );
    expect(standIn.patches).toEqual([]);
  });

  test("the script is POSIX sh that shellcheck accepts", () => {
    const { status, stdout } = spawnSync(
      "shellcheck",
      ["--shell=sh", "--severity=warning", path.join(dir, "update.sh")],
      { encoding: "utf8" },
    );
    expect(stdout).toBe("");
    expect(status).toBe(0);
  });
});

const runs = new Map<string, StackRun>();
beforeAll(async () => {
  for (const stack of ["pi-k3s", "pi5-expansion"]) runs.set(stack, await planStack(stack));
});

describe.each(["pi-k3s", "pi5-expansion"])("%s: the site as preview shows it", (stack) => {
  const run = () => runs.get(stack)!;
  const manifest = (type: string, name: string): Json => named(run(), type, name).inputs;

  test("the Deployment: seed 003's name, resources, probes and non-root settings", () => {
    const deployment = manifest("kubernetes:apps/v1:Deployment", "mtgibbs-site");
    expect(deployment.metadata).toMatchObject({ name: "mtgibbs-site", namespace: "mtgibbs-site" });
    const [site] = deployment.spec.template.spec.containers;
    expect(deployment.spec.template.spec.containers).toHaveLength(1);
    expect(site.image).toBe(`${IMAGE}:20260104154234`);
    expect(site.resources).toEqual({
      requests: { cpu: "50m", memory: "128Mi" },
      limits: { cpu: "500m", memory: "256Mi" },
    });
    expect(site.ports).toEqual([{ name: "http", containerPort: 3000, protocol: "TCP" }]);
    expect(site.livenessProbe).toMatchObject({
      httpGet: { path: "/", port: "http" },
      periodSeconds: 30,
    });
    expect(site.readinessProbe).toMatchObject({
      httpGet: { path: "/", port: "http" },
      periodSeconds: 10,
    });
    expect(site.securityContext).toMatchObject({
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    });
    expect(deployment.spec.template.spec.automountServiceAccountToken).toBe(false);
    expect(validateObject(deployment)).toEqual([]);
  });

  test("pulumi up never moves the image: it is ignored after the create", () => {
    expect(
      named(run(), "kubernetes:apps/v1:Deployment", "mtgibbs-site").options.ignoreChanges,
    ).toEqual([SITE_IMAGE_FIELD]);
    expect(SITE_IMAGE_FIELD).toBe("spec.template.spec.containers[0].image");
  });

  test("the Service on 3000 and the route at site.<domain>", () => {
    const service = manifest("kubernetes:core/v1:Service", "mtgibbs-site");
    expect(service.spec.ports).toEqual([
      { name: "http", port: 3000, targetPort: 3000, protocol: "TCP" },
    ]);
    expect(service.spec.selector).toEqual({ "app.kubernetes.io/name": "mtgibbs-site" });
    const ingress = manifest("kubernetes:networking.k8s.io/v1:Ingress", "site-ingress");
    expect(ingress.metadata.namespace).toBe("mtgibbs-site");
    expect(ingress.spec.rules[0].host).toBe("site.lab.mtgibbs.dev");
  });

  test("the updater: every 5 minutes, one at a time, its script and a pinned image", () => {
    const cronJob = manifest("kubernetes:batch/v1:CronJob", "mtgibbs-site-updater");
    expect(cronJob.spec).toMatchObject({
      schedule: "*/5 * * * *",
      concurrencyPolicy: "Forbid",
      suspend: false,
      successfulJobsHistoryLimit: 1,
      failedJobsHistoryLimit: 3,
      jobTemplate: { spec: { backoffLimit: 1, activeDeadlineSeconds: 120 } },
    });
    const pod = cronJob.spec.jobTemplate.spec.template.spec;
    expect(pod.serviceAccountName).toBe("mtgibbs-site-updater");
    expect(pod.containers[0].image).toBe(image("curl"));
    expect(pod.containers[0].command).toEqual(["/bin/sh", "/scripts/update.sh"]);
    const script = manifest("kubernetes:core/v1:ConfigMap", "mtgibbs-site-updater-script");
    expect(script.data["update.sh"]).toBe(siteUpdaterScript());
    expect(validateObject(cronJob)).toEqual([]);
  });

  test("the updater may get and patch only the site's Deployment", () => {
    const role = manifest("kubernetes:rbac.authorization.k8s.io/v1:Role", "mtgibbs-site-updater");
    expect(role.rules).toEqual([
      {
        apiGroups: ["apps"],
        resources: ["deployments"],
        resourceNames: ["mtgibbs-site"],
        verbs: ["get", "patch"],
      },
    ]);
    const binding = manifest(
      "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
      "mtgibbs-site-updater",
    );
    expect(binding.subjects).toEqual([
      { kind: "ServiceAccount", name: "mtgibbs-site-updater", namespace: "mtgibbs-site" },
    ]);
  });
});

test("placement: pi-k3s prefers both Pi 3s (seed 003), pi5-expansion pi3-worker-2 (seed 002)", () => {
  const prefer = (stack: string) =>
    (named(runs.get(stack)!, "kubernetes:apps/v1:Deployment", "mtgibbs-site").inputs as Json).spec
      .template.spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution;
  const hosts = (values: string[]) => [
    {
      weight: 100,
      preference: {
        matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values }],
      },
    },
  ];
  expect(prefer("pi-k3s")).toEqual(hosts(["pi3-worker-1", "pi3-worker-2"]));
  expect(prefer("pi5-expansion")).toEqual(hosts(["pi3-worker-2"]));
});

test("autoUpdate: false suspends the updater", async () => {
  const run = await planStack("pi-k3s", (raw) => (raw.apps["personal-site"].autoUpdate = false));
  expect(
    (named(run, "kubernetes:batch/v1:CronJob", "mtgibbs-site-updater").inputs as Json).spec.suspend,
  ).toBe(true);
});

describe("bad personal-site config", () => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests mutate config freely
  const problems = configProblems;

  test.each(["2026-01-04", "latest", "2026010415423", "202601041542340"])(
    "a fallback tag that is not a build tag: %s",
    (tag) => {
      expect(problems((r) => (r.apps["personal-site"].fallbackTag = tag))).toEqual([
        `pi-cluster:apps.personal-site.fallbackTag: "${tag}" is not a build tag of the site; ` +
          "allowed: ^[0-9]{14}$ (YYYYMMDDHHmmss, e.g. 20260104154234)",
      ]);
    },
  );

  test("a tag written as a YAML number is read as its digits", () => {
    expect(problems((r) => (r.apps["personal-site"].fallbackTag = 20260104154234))).toEqual([]);
  });

  test("no fallback tag", () => {
    expect(problems((r) => delete r.apps["personal-site"].fallbackTag)).toEqual([
      "pi-cluster:apps.personal-site.fallbackTag is required (a string)",
    ]);
  });
});
