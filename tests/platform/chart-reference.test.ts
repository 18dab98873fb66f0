/**
 * The chart reference data in tests/reference/charts: it covers every chart the program pins,
 * names its upstream source, carries no upstream prose, and is exactly what the generator makes
 * from the upstream files.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  DEFAULT_INPUT,
  REFERENCE_DIR,
  REGENERATE,
  commentedKeys,
  generateReference,
  gitBlobHash,
  keyTypes,
  listFiles,
  stripSchema,
  writeReference,
} from "../../scripts/chart-reference";
import { pinnedCharts, missingReference } from "../support/chart-refs";
import { crdFiles, crdGroups } from "../support/crd-schema";
import { chartDefaults, schemaProblems, unknownValuePaths } from "../support/helm-values";

const read = (relative: string) =>
  JSON.parse(fs.readFileSync(path.join(REFERENCE_DIR, relative), "utf8")) as Record<
    string,
    unknown
  >;
const files = listFiles(REFERENCE_DIR);

describe("pinned charts", () => {
  const pinned = pinnedCharts();

  test("every ChartRef the components export is found", () => {
    expect(pinned.map((p) => `${p.module} ${p.name}`)).toEqual(
      expect.arrayContaining([
        "components/platform/cert-manager.ts CERT_MANAGER",
        "components/platform/external-secrets.ts EXTERNAL_SECRETS",
        "components/platform/ingress-controller.ts INGRESS_NGINX",
        "components/platform/ingress-controller.ts TRAEFIK",
        "components/platform/metallb.ts METALLB",
        "components/platform/monitoring.ts KUBE_PROMETHEUS_STACK",
      ]),
    );
  });

  test(`every pinned chart version has reference data (else: ${REGENERATE})`, () => {
    expect(missingReference(pinned, REFERENCE_DIR)).toEqual([]);
  });

  test("a chart bumped without regenerating is reported with the command to run", () => {
    const bumped = { ...pinned.find((p) => p.name === "METALLB")! };
    const ref = { ...bumped.ref, version: "0.16.1" };
    expect(missingReference([{ ...bumped, ref }], REFERENCE_DIR)).toEqual([
      "components/platform/metallb.ts METALLB pins metallb 0.16.1, which has no reference data " +
        "in tests/reference/charts/metallb/0.16.1: put the chart's upstream files in " +
        "../shared/charts/metallb/0.16.1 and run `npm run charts:reference`",
    ]);
  });

  test("unknownValuePaths names the command when a version has no data", () => {
    expect(() => unknownValuePaths({}, "metallb", "0.16.1")).toThrow(REGENERATE);
  });
});

describe("reference files", () => {
  test("cover every chart version, values schema and CRD of the upstream set", () => {
    expect(files.filter((f) => !f.includes("/crds/"))).toEqual([
      "cert-manager/v1.21.1/values-schema.json",
      "cert-manager/v1.21.1/values.json",
      "external-secrets/1.2.0/values-schema.json",
      "external-secrets/1.2.0/values.json",
      "immich/0.10.3/values.json",
      "ingress-nginx/4.15.1/values.json",
      "kube-prometheus-stack/88.5.3/values.json",
      "metallb/0.15.3/values-schema.json",
      "metallb/0.15.3/values.json",
      "traefik/41.3.0/values-schema.json",
      "traefik/41.3.0/values.json",
    ]);
    const kinds = crdFiles().map((f) => {
      const crd = read(f);
      return `${String(crd.group)} ${String(crd.kind)}`;
    });
    expect(kinds.sort()).toEqual([
      "external-secrets.io ClusterSecretStore",
      "external-secrets.io ExternalSecret",
      "metallb.io IPAddressPool",
      "metallb.io L2Advertisement",
      "monitoring.coreos.com AlertmanagerConfig",
      "monitoring.coreos.com PodMonitor",
      "monitoring.coreos.com Probe",
      "monitoring.coreos.com PrometheusRule",
      "monitoring.coreos.com ServiceMonitor",
      "traefik.io IngressRoute",
      "traefik.io IngressRouteTCP",
      "traefik.io IngressRouteUDP",
      "traefik.io Middleware",
      "traefik.io MiddlewareTCP",
      "traefik.io ServersTransport",
      "traefik.io ServersTransportTCP",
      "traefik.io TLSOption",
      "traefik.io TLSStore",
      "traefik.io TraefikService",
    ]);
    expect(crdGroups()).toEqual([
      "external-secrets.io",
      "metallb.io",
      "monitoring.coreos.com",
      "traefik.io",
    ]);
  });

  test.each(files)("%s names its upstream source and its own chart version", (file) => {
    const [chart, version] = file.split("/");
    const data = read(file);
    expect(data).toMatchObject({ chart, version });
    expect(data.source).toEqual({
      repository: expect.stringMatching(/^https:\/\/github\.com\/[\w.-]+\/[\w.-]+$/),
      tag: expect.stringMatching(/\S/),
      commit: expect.stringMatching(/^[0-9a-f]{12,40}$/),
      path: expect.stringMatching(/\.(yaml|json)$/),
      blob: expect.stringMatching(/^[0-9a-f]{40}$/),
    });
  });

  test.each(files.filter((f) => !f.endsWith("/values.json")))(
    "%s: the schemas carry no upstream prose",
    (file) => {
      const prose: string[] = [];
      const walk = (node: unknown, at: string) => {
        if (Array.isArray(node)) node.forEach((n, i) => walk(n, `${at}[${i}]`));
        if (node === null || typeof node !== "object" || Array.isArray(node)) return;
        for (const [key, value] of Object.entries(node)) {
          // A property named `description` is a field (its value is a schema); prose is a string.
          if (["description", "title", "example", "$comment"].includes(key) && !isObject(value))
            prose.push(`${at}.${key}`);
          if (key === "examples" || key === "x-kubernetes-validations") prose.push(`${at}.${key}`);
          walk(value, `${at}.${key}`);
        }
      };
      walk(read(file), "");
      expect(prose).toEqual([]);
    },
  );

  test.each(files.filter((f) => f.endsWith("/values.json")))(
    "%s: the key index is the defaults' own, commented keys are names only",
    (file) => {
      const data = read(file);
      expect(data.keys).toEqual(keyTypes(data.defaults as Record<string, unknown>));
      for (const name of data.commentedKeys as string[]) expect(name).toMatch(/^[\w.\-/$]+$/);
    },
  );
});

function isObject(value: unknown): boolean {
  return value !== null && typeof value === "object";
}

describe("generator", () => {
  test("the git blob hash is git's (`git hash-object` of 'hello\\n')", () => {
    expect(gitBlobHash(Buffer.from("hello\n"))).toBe("ce013625030ba8dba906f756967f9e9ca394464a");
  });

  test("commented-out keys: names kept, prose dropped", () => {
    const yaml = [
      "# Default values. Note: prose here",
      "controller:",
      "  # secureMetricsPort: 9120",
      "  ## priorityClassName: high",
      "  #  - name: not-a-key",
      "  # see https://example.com for more",
      "  replicas: 1 # inline: not a commented key",
    ].join("\n");
    expect(commentedKeys(yaml)).toEqual(["priorityClassName", "secureMetricsPort"]);
  });

  test("schema prose is stripped; a field named description is kept", () => {
    expect(
      stripSchema({
        description: "prose",
        type: "object",
        properties: {
          description: { description: "prose", type: "string", minLength: 1 },
          list: { items: { title: "prose", type: "string" }, type: "array" },
        },
        "x-kubernetes-validations": [{ rule: "self.a", message: "prose" }],
      }),
    ).toEqual({
      type: "object",
      properties: {
        description: { type: "string", minLength: 1 },
        list: { items: { type: "string" }, type: "array" },
      },
    });
  });

  // The one place the tests look at the upstream files: only to prove the committed data is
  // what the generator makes of them. Everything else reads tests/reference alone.
  const input = DEFAULT_INPUT;
  const present = fs.existsSync(input);
  if (!present) {
    // jest lists skipped tests only in verbose runs: say why this one did not run.
    console.warn(
      `skipped: the generator's determinism check needs the upstream chart files at ${input}; ` +
        `everything else runs from tests/reference alone`,
    );
  }
  (present ? test : test.skip)(
    present
      ? `regenerating from ${input} reproduces tests/reference/charts byte for byte`
      : `regenerating reproduces tests/reference/charts: SKIPPED, no upstream chart files at ${input}`,
    () => {
      const out = fs.mkdtempSync(path.join(os.tmpdir(), "pi-cluster-reference-"));
      try {
        writeReference(generateReference(input), out);
        const generated = listFiles(out);
        expect(generated).toEqual(files);
        const differing = generated.filter(
          (f) =>
            !fs
              .readFileSync(path.join(out, f))
              .equals(fs.readFileSync(path.join(REFERENCE_DIR, f))),
        );
        expect(differing).toEqual([]);
      } finally {
        fs.rmSync(out, { recursive: true, force: true });
      }
    },
  );
});

describe("value checks read the reference data", () => {
  test("a commented-out documented key and keys under a free-form map are accepted", () => {
    expect(
      unknownValuePaths(
        {
          prometheus: { secureMetricsPort: 9120 },
          controller: { nodeSelector: { "kubernetes.io/hostname": "pi-k3s" } },
        },
        "metallb",
        "0.15.3",
      ),
    ).toEqual([]);
    expect(unknownValuePaths({ controller: { nodeSelektor: {} } }, "metallb", "0.15.3")).toEqual([
      "controller.nodeSelektor",
    ]);
  });

  test("the values schema sees the chart defaults merged with the given values", () => {
    expect(schemaProblems({}, "cert-manager", "v1.21.1")).toEqual([]);
    expect(schemaProblems({ replicaCount: "two" }, "cert-manager", "v1.21.1")).not.toEqual([]);
    // ingress-nginx ships no values schema.
    expect(schemaProblems({ anything: 1 }, "ingress-nginx", "4.15.1")).toEqual([]);
  });

  test("defaults are handed out as copies", () => {
    chartDefaults("metallb", "0.15.3").values.controller = "changed";
    expect(chartDefaults("metallb", "0.15.3").values.controller).not.toBe("changed");
  });
});
