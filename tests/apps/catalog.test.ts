/**
 * The catalog is the single source: one entry gives a route, a dashboard tile and an uptime
 * monitor. Proven with a made-up app added to the real pi-k3s stack, and against the seeds'
 * own list of 14 monitors.
 */
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import { z } from "zod";
import { defineAppModule } from "../../components/apps/app";
import { autokumaMonitorFiles } from "../../components/apps/uptime-kuma/monitors";
import { PI_K3S_APPS } from "../../stacks/pi-k3s";
import { composeStack } from "../../stacks/compose";
import { readStackConfigFile, runProgram } from "../../plan/run";
import { RecordedResource } from "../../plan/record";
import { resources } from "../../topology/workloads";
import { planStack } from "../support/stack";

/** A made-up app with one routed entry: nothing but its module is written for it. */
const whoami = defineAppModule({
  name: "whoami",
  schema: z.strictObject({}),
  workloads: () => [
    {
      name: "whoami",
      namespace: "whoami",
      kind: "Deployment" as const,
      containers: { whoami: resources("5m", "8Mi", "50m", "16Mi") },
    },
  ],
  endpoints: () => [
    {
      name: "whoami",
      title: "Who am I",
      host: "whoami",
      namespace: "whoami",
      service: "whoami",
      port: 80,
      dashboard: { group: "Tools", icon: "mdi-account", description: "Echoes the request" },
      monitor: { kind: "keyword" as const, path: "/", keyword: "Hostname" },
    },
  ],
  // Declares nothing of its own: only what the catalog derives from its entry is looked at.
  deploy: (_config, _context, opts) =>
    new pulumi.ComponentResource("test:apps:Whoami", "whoami", {}, opts),
});

describe("a new catalog entry gets its Ingress, its tile and its monitor", () => {
  let resourcesOf: RecordedResource[];
  beforeAll(async () => {
    const run = await runProgram("pi-k3s", readStackConfigFile("pi-k3s"), () =>
      composeStack("pi-k3s", { apps: [...PI_K3S_APPS, whoami] }),
    );
    resourcesOf = [...run.resources];
  });

  const find = (type: string, name: string) =>
    resourcesOf.find((r) => r.type === type && r.name === name);

  test("an Ingress at whoami.<domain> with a certificate", () => {
    const ingress = find("kubernetes:networking.k8s.io/v1:Ingress", "whoami-ingress");
    expect(ingress?.inputs).toMatchObject({
      metadata: { name: "whoami", namespace: "whoami" },
      spec: {
        tls: [{ hosts: ["whoami.lab.mtgibbs.dev"], secretName: "whoami-tls" }],
        rules: [{ host: "whoami.lab.mtgibbs.dev" }],
      },
    });
  });

  test("a Homepage tile in its group", () => {
    const config = find("kubernetes:core/v1:ConfigMap", "homepage-config")!;
    const services = YAML.parse(
      (config.inputs.data as Record<string, string>)["services.yaml"],
    ) as Record<string, unknown>[];
    expect(services).toContainEqual({
      Tools: [
        {
          "Who am I": {
            icon: "mdi-account",
            href: "https://whoami.lab.mtgibbs.dev",
            description: "Echoes the request",
            siteMonitor: "https://whoami.lab.mtgibbs.dev",
          },
        },
      ],
    });
  });

  test("an AutoKuma keyword monitor", () => {
    const monitors = find("kubernetes:core/v1:ConfigMap", "autokuma-monitors")!;
    const file = (monitors.inputs.data as Record<string, string>)["who-am-i.json"];
    expect(JSON.parse(file)).toEqual({
      type: "keyword",
      name: "Who am I",
      url: "https://whoami.lab.mtgibbs.dev/",
      keyword: "Hostname",
      interval: 60,
    });
  });
});

/**
 * Seed 003's 14 monitors: seed 001's eight, the four web apps added since (the seeds' catalog of
 * routed services), and the two personal sites. Each is generated from a catalog entry or an
 * app's non-web checks; `app` says which module must be in the stack for it to exist.
 */
const SEED_MONITORS: readonly { name: string; app: string }[] = [
  { name: "Pi-hole DNS", app: "pihole" },
  { name: "Pi-hole Admin", app: "pihole" },
  { name: "Grafana", app: "platform" },
  { name: "Prometheus", app: "platform" },
  { name: "Unbound", app: "pihole" },
  { name: "K3s API", app: "platform" },
  { name: "Uptime Kuma", app: "uptime-kuma" },
  { name: "Homepage", app: "homepage" },
  { name: "Jellyfin", app: "jellyfin" },
  { name: "Immich", app: "immich" },
  { name: "Unifi", app: "external-services" },
  { name: "Synology NAS", app: "external-services" },
  { name: "Personal Site (Cluster)", app: "personal-site" },
  { name: "Personal Site (Heroku)", app: "links" },
];

describe.each(["pi-k3s", "pi5-expansion"])("%s: the seeds' monitors", (stack) => {
  let names: string[];
  let apps: string[];
  beforeAll(async () => {
    const run = await planStack(stack);
    const monitors = run.resources.find(
      (r) => r.type === "kubernetes:core/v1:ConfigMap" && r.name === "autokuma-monitors",
    )!;
    names = Object.values(monitors.inputs.data as Record<string, string>).map(
      (json) => (JSON.parse(json) as { name: string }).name,
    );
    apps = ["platform", ...Object.keys(run.topology.apps)];
  });

  test("every seed monitor of an app the stack runs is generated", () => {
    const expected = SEED_MONITORS.filter((m) => apps.includes(m.app)).map((m) => m.name);
    expect(expected.length).toBeGreaterThanOrEqual(8);
    expect(names).toEqual(expect.arrayContaining(expected));
  });

  test("exactly the seeds' monitors: nothing generated that the seeds do not list", () => {
    // Every catalog entry of these stacks with a monitor is one the seeds monitor.
    expect([...names].sort()).toEqual(
      SEED_MONITORS.filter((m) => apps.includes(m.app))
        .map((m) => m.name)
        .sort(),
    );
  });
});

test("two monitors with one name are refused (AutoKuma keys them by file name)", () => {
  const link = (name: string) => ({
    name,
    title: "Same",
    href: `https://${name}.example`,
    dashboard: { group: "Web", icon: "x", description: "x" },
    monitor: { kind: "http" as const },
  });
  expect(() => autokumaMonitorFiles([link("a"), link("b")], [], "lab.mtgibbs.dev")).toThrow(
    'two uptime monitors are named "Same"; give one another name',
  );
});
