/** The Web group's link-only tiles (seed 003): no Ingress, a monitor where asked. */
import * as YAML from "yaml";
import { linkEntry, linkHrefProblem, linkSchema } from "../../components/apps/links";
import { StackRun } from "../../plan/run";
import { configProblems, named, ofType, planStack } from "../support/stack";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- manifests are walked as JSON
type Json = any;

let run: StackRun;
beforeAll(async () => {
  run = await planStack("pi-k3s");
});

const problems = configProblems;

test("a link is a catalog entry without a route; its monitor checks href", () => {
  const link = linkSchema.parse({
    name: "mtgibbs-xyz",
    title: "Personal Site (Heroku)",
    href: "https://mtgibbs.xyz",
    icon: "si-heroku",
    description: "Production site",
    monitor: true,
  });
  expect(linkEntry(link)).toEqual({
    name: "mtgibbs-xyz",
    title: "Personal Site (Heroku)",
    href: "https://mtgibbs.xyz",
    dashboard: { group: "Web", icon: "si-heroku", description: "Production site" },
    monitor: { kind: "http", path: "/" },
  });
  expect(linkEntry({ ...link, monitor: false }).monitor).toBe(false);
});

describe("in pi-k3s", () => {
  test("no Ingress for either link", () => {
    const hosts = ofType(run, "kubernetes:networking.k8s.io/v1:Ingress").map(
      (r) => (r.inputs as Json).spec.rules[0].host,
    );
    expect(hosts.filter((h: string) => /mtgibbs\.xyz|cloudflare/.test(h))).toEqual([]);
    expect(ofType(run, "kubernetes:networking.k8s.io/v1:Ingress").map((r) => r.name)).not.toEqual(
      expect.arrayContaining(["mtgibbs-xyz-ingress", "cloudflare-ingress"]),
    );
  });

  test("Homepage: the Web group between Monitoring and Media, 3 columns, seed 003's three tiles", () => {
    const files = (named(run, "kubernetes:core/v1:ConfigMap", "homepage-config").inputs as Json)
      .data;
    const groups = YAML.parse(files["services.yaml"]).map((g: Json) => Object.keys(g)[0]);
    const web = groups.indexOf("Web");
    expect(groups[web - 1]).toBe("Monitoring");
    expect(groups[web + 1]).toBe("Media");
    expect(YAML.parse(files["settings.yaml"]).layout.Web).toEqual({ style: "row", columns: 3 });
    const tiles = YAML.parse(files["services.yaml"])[web].Web;
    expect(tiles).toEqual([
      {
        "Personal Site (Heroku)": {
          icon: "si-heroku",
          href: "https://mtgibbs.xyz",
          description: "Production site",
          siteMonitor: "https://mtgibbs.xyz",
        },
      },
      {
        Cloudflare: {
          icon: "cloudflare.png",
          href: "https://dash.cloudflare.com",
          description: "DNS and domains",
        },
      },
      {
        "Personal Site (Cluster)": {
          icon: "si-nextdotjs",
          href: "https://site.lab.mtgibbs.dev",
          description: "mtgibbs.xyz, built from the newest image",
          siteMonitor: "https://site.lab.mtgibbs.dev",
        },
      },
    ]);
  });

  test("an uptime monitor for mtgibbs.xyz named as seed 003 names its file, none for Cloudflare", () => {
    const files = (named(run, "kubernetes:core/v1:ConfigMap", "autokuma-monitors").inputs as Json)
      .data;
    expect(JSON.parse(files["personal-site-heroku.json"])).toEqual({
      type: "http",
      name: "Personal Site (Heroku)",
      url: "https://mtgibbs.xyz/",
      interval: 60,
    });
    expect(Object.keys(files)).not.toContain("cloudflare.json");
  });
});

describe("config errors name the key", () => {
  test.each([
    [
      "ftp://mtgibbs.xyz",
      '"ftp://mtgibbs.xyz" is not an http(s) URL; use one like https://mtgibbs.xyz',
    ],
    ["mtgibbs.xyz", '"mtgibbs.xyz" is not an http(s) URL; use one like https://mtgibbs.xyz'],
    [
      "javascript:alert(1)",
      '"javascript:alert(1)" is not an http(s) URL; use one like https://mtgibbs.xyz',
    ],
  ])("href %s", (href, problem) => {
    expect(linkHrefProblem(href, "k")).toBe(problem);
    expect(problems((raw) => (raw.apps.links.entries[1].href = href))).toEqual([
      `pi-cluster:apps.links.entries[1].href: ${problem}`,
    ]);
  });

  test("two links with one name", () => {
    expect(problems((raw) => (raw.apps.links.entries[1].name = "mtgibbs-xyz"))).toEqual([
      'pi-cluster:apps.links.entries[1].name: "mtgibbs-xyz" is already used by entries[0]; names must be unique',
    ]);
  });

  test("a monitor flag that is not a boolean", () => {
    expect(problems((raw) => (raw.apps.links.entries[0].monitor = "yes"))).toEqual([
      'pi-cluster:apps.links.entries[0].monitor: "yes" is not true or false',
    ]);
  });
});
