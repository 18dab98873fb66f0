/**
 * Rules every workload the program declares directly follows, in every stack: requests and
 * limits, probes, pinned images from the one table, the restricted security settings where the
 * image allows (else a written exemption), stateful claims protected and kept, and one replica
 * with Recreate on a ReadWriteOnce volume. A breach fails naming the workload and the rule.
 */
import { exemption, WorkloadRule, WORKLOAD_EXEMPTIONS } from "../../components/apps/exemptions";
import { IMAGES, TRACKED_IMAGES } from "../../components/apps/images";
import { isKubernetesObject, manifestOf } from "../../plan/render";
import { RecordedResource } from "../../plan/record";
import { StackRun } from "../../plan/run";
import { planStack, STACKS } from "../support/stack";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- manifests are walked as JSON
type Json = any;

const WORKLOAD_KINDS = ["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"];

interface Workload {
  readonly id: string;
  readonly namespace: string;
  readonly name: string;
  readonly kind: string;
  readonly manifest: Json;
  readonly pod: Json;
}

function workloadsOf(run: StackRun): Workload[] {
  return run.resources
    .filter(isKubernetesObject)
    .map(manifestOf)
    .filter((m: Json) => WORKLOAD_KINDS.includes(m.kind))
    .map((m: Json) => {
      const template = m.kind === "CronJob" ? m.spec.jobTemplate.spec.template : m.spec.template;
      // Jobs named by a content hash (pihole-adlists-<hash>) are one workload.
      const name = String(m.metadata.name).replace(/-[0-9a-f]{10}$/, "");
      return {
        id: `${m.kind} ${m.metadata.namespace}/${m.metadata.name}`,
        namespace: m.metadata.namespace,
        name,
        kind: m.kind,
        manifest: m,
        pod: template.spec,
      };
    });
}

/** Every rule a workload breaks without an exemption, as "<id>: <rule>". */
export function breaches(w: Workload): string[] {
  const out: string[] = [];
  const fail = (rule: string) => out.push(`${w.id}: ${rule}`);
  const exempt = (rule: WorkloadRule) => exemption(w.namespace, w.name, rule) !== undefined;
  const containers: Json[] = w.pod.containers ?? [];
  const all: Json[] = [...(w.pod.initContainers ?? []), ...containers];
  for (const c of all) {
    for (const k of ["requests", "limits"])
      for (const r of ["cpu", "memory"])
        if (!c.resources?.[k]?.[r]) fail(`container ${c.name} has no ${r} ${k.slice(0, -1)}`);
    const pinned =
      Object.values(IMAGES).some((i) => `${i.repository}:${i.tag}` === c.image) ||
      // An updater moves these; the tag must still be one of the publisher's builds.
      Object.values(TRACKED_IMAGES).some(
        (i) =>
          String(c.image).startsWith(`${i.repository}:`) &&
          new RegExp(i.tagPattern).test(String(c.image).slice(i.repository.length + 1)),
      );
    if (!pinned) fail(`container ${c.name} runs ${c.image}, which is not from the image table`);
    const sc = c.securityContext ?? {};
    if (!(sc.runAsNonRoot ?? w.pod.securityContext?.runAsNonRoot) && !exempt("runAsNonRoot"))
      fail(`container ${c.name} may run as root (runAsNonRoot)`);
    if (!(sc.capabilities?.drop ?? []).includes("ALL") && !exempt("dropAllCapabilities"))
      fail(`container ${c.name} keeps the default capabilities (drop ALL)`);
    if (sc.readOnlyRootFilesystem !== true && !exempt("readOnlyRootFilesystem"))
      fail(`container ${c.name} has a writable root filesystem (readOnlyRootFilesystem)`);
    if (sc.allowPrivilegeEscalation !== false && !exempt("noPrivilegeEscalation"))
      fail(`container ${c.name} may escalate privileges (allowPrivilegeEscalation)`);
  }
  // Long-running pods only: a Job's pod ends by itself.
  if (!["Job", "CronJob"].includes(w.kind) && !exempt("probes")) {
    for (const c of containers) {
      if (!c.readinessProbe) fail(`container ${c.name} has no readinessProbe`);
      if (!c.livenessProbe && !c.startupProbe) fail(`container ${c.name} has no livenessProbe`);
    }
  }
  return out;
}

/** Claims that only one node can attach, by namespace/name. */
function singleWriterClaims(run: StackRun): Set<string> {
  return new Set(
    run.resources
      .filter((r) => r.type === "kubernetes:core/v1:PersistentVolumeClaim")
      .map((r) => r.inputs as Json)
      .filter((c) => (c.spec.accessModes ?? []).includes("ReadWriteOnce"))
      .map((c) => `${c.metadata.namespace}/${c.metadata.name}`),
  );
}

const runs = new Map<string, StackRun>();
beforeAll(async () => {
  for (const stack of STACKS) runs.set(stack, await planStack(stack));
});

describe.each(STACKS)("%s", (stack) => {
  const run = () => runs.get(stack)!;

  test("every workload follows every rule or has a written exemption", () => {
    expect(workloadsOf(run()).flatMap(breaches)).toEqual([]);
  });

  test("every claim is protected and kept on delete; every volume kept", () => {
    const unsafe = run()
      .resources.filter((r: RecordedResource) =>
        [
          "kubernetes:core/v1:PersistentVolumeClaim",
          "kubernetes:core/v1:PersistentVolume",
        ].includes(r.type),
      )
      .filter((r) => !r.options.retainOnDelete || (r.type.endsWith("Claim") && !r.options.protect))
      .map((r) => `${r.type} ${r.name}`);
    expect(unsafe).toEqual([]);
  });

  test("a ReadWriteOnce volume: one replica and Recreate", () => {
    const rwo = singleWriterClaims(run());
    const wrong = workloadsOf(run())
      .filter((w) => w.kind === "Deployment")
      .filter((w) =>
        (w.pod.volumes ?? []).some((v: Json) =>
          rwo.has(`${w.namespace}/${v.persistentVolumeClaim?.claimName}`),
        ),
      )
      .filter(
        (w) => w.manifest.spec.replicas !== 1 || w.manifest.spec.strategy?.type !== "Recreate",
      )
      .map((w) => w.id);
    expect(wrong).toEqual([]);
  });
});

describe("the rules themselves", () => {
  const good: Json = {
    name: "app",
    image: `${IMAGES.homepage.repository}:${IMAGES.homepage.tag}`,
    resources: { requests: { cpu: "1m", memory: "1Mi" }, limits: { cpu: "1m", memory: "1Mi" } },
    readinessProbe: { tcpSocket: { port: 1 } },
    livenessProbe: { tcpSocket: { port: 1 } },
    securityContext: {
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    },
  };
  const workload = (container: Json): Workload => ({
    id: "Deployment web/app",
    namespace: "web",
    name: "app",
    kind: "Deployment",
    manifest: {},
    pod: { containers: [container] },
  });

  test("a compliant workload passes", () => {
    expect(breaches(workload(good))).toEqual([]);
  });

  test("a new workload that breaks a rule fails with its name and the rule", () => {
    expect(
      breaches(
        workload({
          ...good,
          image: "nginx:latest",
          resources: { requests: { cpu: "1m" } },
          livenessProbe: undefined,
          securityContext: {},
        }),
      ),
    ).toEqual([
      "Deployment web/app: container app has no memory request",
      "Deployment web/app: container app has no cpu limit",
      "Deployment web/app: container app has no memory limit",
      "Deployment web/app: container app runs nginx:latest, which is not from the image table",
      "Deployment web/app: container app may run as root (runAsNonRoot)",
      "Deployment web/app: container app keeps the default capabilities (drop ALL)",
      "Deployment web/app: container app has a writable root filesystem (readOnlyRootFilesystem)",
      "Deployment web/app: container app may escalate privileges (allowPrivilegeEscalation)",
      "Deployment web/app: container app has no livenessProbe",
    ]);
  });

  test("every exemption names a real workload and gives a reason", () => {
    const planned = new Set(
      [...runs.values()].flatMap((run) => workloadsOf(run).map((w) => `${w.namespace}/${w.name}`)),
    );
    for (const [id, rules] of Object.entries(WORKLOAD_EXEMPTIONS)) {
      // A key ending in `*` covers workloads named per node (volume-backup-<node>).
      const matches = [...planned].filter((w) =>
        id.endsWith("*") ? w.startsWith(id.slice(0, -1)) : w === id,
      );
      expect({ id, matches: matches.length > 0 }).toEqual({ id, matches: true });
      for (const reason of Object.values(rules)) expect(String(reason).length).toBeGreaterThan(30);
    }
  });
});

describe("the image table", () => {
  // x.y[.z] with an optional suffix, or a major whose suffix pins every component it bundles
  // (Immich's Postgres: 14-vectorchord0.4.3-pgvectors0.2.0).
  const EXACT_TAG =
    /^v?[0-9]+((\.[0-9]+){1,2}([-+._][0-9A-Za-z.-]+)?|(-[a-z]+[0-9]+\.[0-9]+\.[0-9]+)+)$/;

  test("the exact-tag rule refuses floating tags", () => {
    for (const tag of ["latest", "2", "14-alpine", "14-vectorchord0.4", "v2"])
      expect(tag).not.toMatch(EXACT_TAG);
    for (const tag of ["2.5.3", "v2.4.1", "1.26.0-0", "14-vectorchord0.4.3-pgvectors0.2.0"])
      expect(tag).toMatch(EXACT_TAG);
  });

  test("every image has an exact tag: no latest, no floating major", () => {
    for (const [name, pinned] of Object.entries(IMAGES)) {
      expect({ name, tag: pinned.tag }).toEqual({
        name,
        tag: expect.stringMatching(EXACT_TAG),
      });
      expect(pinned.source).toMatch(/^https:\/\//);
    }
  });

  test("one image, one tag, across every stack", () => {
    const seen = new Map<string, Set<string>>();
    for (const run of runs.values()) {
      for (const w of workloadsOf(run)) {
        for (const c of [...(w.pod.initContainers ?? []), ...w.pod.containers]) {
          const [repository, tag] = String(c.image).split(/:(?=[^:]+$)/);
          seen.set(repository, new Set([...(seen.get(repository) ?? []), tag]));
        }
      }
    }
    const twice = [...seen]
      .filter(([, tags]) => tags.size > 1)
      .map(([r, t]) => `${r}: ${[...t].join(", ")}`);
    expect(twice).toEqual([]);
    expect(seen.size).toBeGreaterThan(0);
  });
});
