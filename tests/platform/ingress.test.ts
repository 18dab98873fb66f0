/**
 * The ingress controller and the catalog's routes: Helm values per controller and exposure
 * (host port 443 only, the MetalLB address, the default IngressClass, resources from the
 * WorkloadSpec), checked against the pinned charts' values; the Ingress of a catalog entry and
 * its HTTPS-backend translation per controller; the components under recording mocks.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  controllerProfile,
  INGRESS_CLASS,
  INGRESS_NAMESPACE,
  INGRESS_NGINX,
  IngressController,
  ingressControllerValues,
  IngressControllerKind,
  ingressNginxValues,
  ingressWorkloads,
  TRAEFIK,
  traefikValues,
} from "../../components/platform/ingress-controller";
import {
  CatalogRoutes,
  checkRoutes,
  ingressManifest,
  routeAnnotations,
  serversTransportManifest,
  serviceAnnotations,
} from "../../components/platform/routes";
import { RecordedResource, ResourceRecorder, resourceKey } from "../../plan/record";
import { ServiceEndpoint } from "../../topology/catalog";
import { Topology } from "../../topology/types";
import { schemaProblems, unknownValuePaths } from "../support/helm-values";
import { validateObject } from "../support/kube-schema";
import { planned, rawConfig } from "../support/stack";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests mutate config freely
type Raw = Record<string, any>;
type Values = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Plans a stack the way its composition does (the controller's pods depend on its settings). */
function plan(stack: string, mutate?: (raw: Raw) => void): Topology {
  return planned(stack, mutate);
}

const withController = (controller: IngressControllerKind) => (raw: Raw) => {
  raw.platform.ingress.controller = controller;
};

/** pi-k3s behind a MetalLB address instead of host ports (MetalLB needs ServiceLB off). */
const piK3sLoadBalancer = (controller: IngressControllerKind) => (raw: Raw) => {
  raw.cluster.k3s.disable = ["traefik", "servicelb"];
  raw.metallb = {
    addresses: ["192.168.1.200-192.168.1.210"],
    services: { ingress: "192.168.1.200" },
  };
  raw.platform.ingress = { controller, exposure: "loadBalancer" };
};

/** homelab-ha on host ports (the wildcard then points at the first server). */
const homelabHostPort = (controller: IngressControllerKind) => (raw: Raw) => {
  raw.platform.ingress = { controller, exposure: "hostPort" };
};

/** Every combination of controller and exposure, on the stack it is most natural for. */
const COMBINATIONS = [
  {
    label: "pi-k3s as configured",
    stack: "pi-k3s",
    mutate: undefined,
    nginx: true,
    hostPort: true,
  },
  {
    label: "pi-k3s with traefik",
    stack: "pi-k3s",
    mutate: withController("traefik"),
    nginx: false,
    hostPort: true,
  },
  {
    label: "homelab-ha as configured",
    stack: "homelab-ha",
    mutate: undefined,
    nginx: false,
    hostPort: false,
  },
  {
    label: "homelab-ha with ingress-nginx",
    stack: "homelab-ha",
    mutate: withController("ingress-nginx"),
    nginx: true,
    hostPort: false,
  },
  {
    label: "pi-k3s on MetalLB with ingress-nginx",
    stack: "pi-k3s",
    mutate: piK3sLoadBalancer("ingress-nginx"),
    nginx: true,
    hostPort: false,
  },
  {
    label: "homelab-ha on host ports with traefik",
    stack: "homelab-ha",
    mutate: homelabHostPort("traefik"),
    nginx: false,
    hostPort: true,
  },
] as const;

/** Every number (or numeric string) anywhere in a value, with its path. */
function numbersIn(value: unknown, at = ""): { path: string; value: number }[] {
  if (typeof value === "number") return [{ path: at, value }];
  if (typeof value === "string" && /^\d+$/.test(value)) return [{ path: at, value: Number(value) }];
  if (Array.isArray(value)) return value.flatMap((v, i) => numbersIn(v, `${at}[${i}]`));
  if (value && typeof value === "object") {
    return Object.entries(value).flatMap(([k, v]) => numbersIn(v, at ? `${at}.${k}` : k));
  }
  return [];
}

/** Every key path of a values object, stopping at the given free-form subtrees and at arrays. */
function keyPaths(values: Values, freeForm: readonly string[], at = ""): string[] {
  return Object.entries(values).flatMap(([key, value]) => {
    const here = at ? `${at}.${key}` : key;
    if (freeForm.includes(here)) return [here];
    if (value && typeof value === "object" && !Array.isArray(value)) {
      return keyPaths(value as Values, freeForm, here);
    }
    return [here];
  });
}

/**
 * The keys the program sets are also listed here, each checked by hand against
 * traefik/values.yaml of traefik-helm-chart v41.3.0 (commit a8a66d0098703627b2cf352c66b1725c196a734a,
 * https://github.com/traefik/traefik-helm-chart/blob/v41.3.0/traefik/values.yaml), with the line
 * each one is on. A key the program sets that is not listed fails the test: check it against that
 * file before adding it. The top level of the chart's schema is `additionalProperties: false`.
 */
const TRAEFIK_41_3_0_KEYS: Readonly<Record<string, number>> = {
  "deployment.kind": 25,
  "deployment.replicas": 28,
  "podDisruptionBudget.enabled": 122,
  "podDisruptionBudget.maxUnavailable": 123,
  "ingressClass.enabled": 128,
  "ingressClass.isDefaultClass": 129,
  "ingressClass.name": 130,
  "updateStrategy.type": 274,
  "updateStrategy.rollingUpdate.maxUnavailable": 276,
  "updateStrategy.rollingUpdate.maxSurge": 277,
  "providers.kubernetesCRD.enabled": 312,
  "providers.kubernetesIngress.enabled": 337,
  "ports.web.expose.default": 958,
  "ports.websecure.hostPort": 1014,
  // `service.annotations: {}` and `service.spec: {type: LoadBalancer}` (a ServiceSpec passthrough).
  "service.annotations": 1135,
  "service.spec.type": 1145,
  // Kubernetes objects passed through as they are (`{}` / `[]` in the chart).
  resources: 1221,
  affinity: 1226,
  nodeSelector: 1236,
  topologySpreadConstraints: 1241,
};
const TRAEFIK_FREE_FORM = [
  "resources",
  "affinity",
  "nodeSelector",
  "topologySpreadConstraints",
  "service.annotations",
];

/** ingress-nginx keys that hold a label map (its default `kubernetes.io/os: linux` is not a schema). */
const NGINX_FREE_FORM = ["controller.nodeSelector"];

describe("controller profile", () => {
  test.each([
    ["ingress-nginx", INGRESS_NGINX, "ingress-nginx", "nginx", "ingress-nginx"],
    ["traefik", TRAEFIK, "traefik", "traefik", "traefik"],
  ] as const)("%s", (controller, chart, namespace, ingressClass, release) => {
    expect(controllerProfile(controller)).toMatchObject({
      chart,
      namespace,
      ingressClass,
      release,
      workload: "ingress-controller",
    });
    expect(INGRESS_NAMESPACE[controller]).toBe(namespace);
    expect(INGRESS_CLASS[controller]).toBe(ingressClass);
  });

  test("charts are pinned to the versions this program was checked against", () => {
    expect(INGRESS_NGINX).toEqual({
      chart: "ingress-nginx",
      version: "4.15.1",
      repo: "https://kubernetes.github.io/ingress-nginx",
    });
    expect(TRAEFIK).toEqual({
      chart: "traefik",
      version: "41.3.0",
      repo: "https://traefik.github.io/charts",
    });
  });
});

describe("ingressWorkloads", () => {
  test("hostPort: a DaemonSet on every node holding host port 443/TCP only", () => {
    const [nginx] = ingressWorkloads({
      controller: "ingress-nginx",
      exposure: "hostPort",
      address: "192.168.1.55",
    });
    expect(nginx).toEqual({
      name: "ingress-controller",
      namespace: "ingress-nginx",
      kind: "DaemonSet",
      containers: {
        controller: {
          requests: { cpu: "100m", memory: "90Mi" },
          limits: { cpu: "1", memory: "256Mi" },
        },
      },
      hostPorts: [{ port: 443, protocol: "TCP" }],
    });
  });

  test("loadBalancer: a Deployment of two replicas preferring the servers, no host port", () => {
    const [traefik] = ingressWorkloads({
      controller: "traefik",
      exposure: "loadBalancer",
      address: "10.0.0.100",
    });
    expect(traefik).toEqual({
      name: "ingress-controller",
      namespace: "traefik",
      kind: "Deployment",
      replicas: 2,
      containers: {
        traefik: {
          requests: { cpu: "50m", memory: "64Mi" },
          limits: { cpu: "1", memory: "256Mi" },
        },
      },
      defaultPlacement: { prefer: { "node-role.kubernetes.io/control-plane": "true" } },
    });
  });

  test("pi-k3s counts one controller pod on every node, Pi 3 workers included", () => {
    const topology = plan("pi-k3s");
    for (const node of topology.capacity) {
      expect(node.pods.filter((p) => p.workload === "ingress-controller")).toEqual([
        expect.objectContaining({
          how: "daemonset",
          namespace: "ingress-nginx",
          memoryRequestMi: 90,
        }),
      ]);
    }
  });

  test("homelab-ha counts two replicas on two different servers", () => {
    const topology = plan("homelab-ha");
    const hosts = topology.capacity
      .filter((n) => n.pods.some((p) => p.workload === "ingress-controller"))
      .map((n) => n.hostname);
    expect(hosts).toHaveLength(2);
  });

  test("a host-port clash with another workload is a config error", () => {
    const raw = rawConfig("pi-k3s");
    const other = {
      name: "other-https",
      namespace: "other",
      kind: "DaemonSet" as const,
      containers: {
        app: { requests: { cpu: "10m", memory: "16Mi" }, limits: { cpu: "100m", memory: "32Mi" } },
      },
      hostPorts: [{ port: 443, protocol: "TCP" as const }],
    };
    expect(() => planned("pi-k3s", (r: Raw) => Object.assign(r, raw), [other])).toThrow(
      /host port 443\/TCP on node pi-k3s is used by both ingress-controller and other-https/,
    );
  });
});

describe.each(COMBINATIONS)("values: $label", ({ stack, mutate, nginx, hostPort }) => {
  const topology = plan(stack, mutate);
  const values: Values = ingressControllerValues(topology);
  const workload = ingressWorkloads(topology.platform.ingress)[0];
  const profile = controllerProfile(topology.platform.ingress.controller);

  test("dispatches on the planned controller", () => {
    expect(topology.platform.ingress.controller).toBe(nginx ? "ingress-nginx" : "traefik");
    expect(topology.platform.ingress.exposure).toBe(hostPort ? "hostPort" : "loadBalancer");
    expect(values).toEqual(nginx ? ingressNginxValues(topology) : traefikValues(topology));
  });

  test("no port 80 anywhere: the controller is HTTPS only", () => {
    expect(numbersIn(values).filter((n) => n.value === 80)).toEqual([]);
    if (nginx) {
      // The chart gives every containerPort key a host port: the http key must be deleted.
      expect(values.controller.containerPort).toEqual({ http: null, https: 443 });
      expect(values.controller.service.enableHttp ?? false).toBe(false);
    } else {
      expect(values.ports.web).toEqual({ expose: { default: false } });
      expect(values.ports.web).not.toHaveProperty("hostPort");
    }
  });

  test("resources are the WorkloadSpec's", () => {
    const expected = workload.containers[profile.container];
    expect(expected).toBeDefined();
    expect(nginx ? values.controller.resources : values.resources).toEqual(expected);
  });

  test("the chart's IngressClass is created and made the cluster default", () => {
    if (nginx) {
      expect(values.controller.ingressClassResource).toEqual({
        name: "nginx",
        enabled: true,
        default: true,
      });
      expect(values.controller.ingressClass).toBe("nginx");
    } else {
      expect(values.ingressClass).toEqual({ enabled: true, isDefaultClass: true, name: "traefik" });
    }
  });

  if (hostPort) {
    test("hostPort: a DaemonSet on host port 443, no LoadBalancer Service, no surge", () => {
      expect(workload.kind).toBe("DaemonSet");
      const rollout = { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } };
      if (nginx) {
        expect(values.controller).toMatchObject({
          kind: "DaemonSet",
          hostPort: { enabled: true, ports: { https: 443 } },
          service: { enabled: false },
          updateStrategy: rollout,
        });
      } else {
        expect(values.deployment).toEqual({ kind: "DaemonSet" });
        expect(values.ports.websecure).toEqual({ hostPort: 443 });
        // Traefik ≥ 40: the type lives under service.spec (service.type is ignored).
        expect(values.service).toEqual({ spec: { type: "ClusterIP" } });
        // The chart's default (maxSurge 1) would leave the new pod Pending on the taken port.
        expect(values.updateStrategy).toEqual(rollout);
      }
      expect(JSON.stringify(values)).not.toContain("LoadBalancer");
    });
  } else {
    test("loadBalancer: two replicas behind the MetalLB address, HTTPS only", () => {
      const address = topology.metallb!.services.ingress;
      expect(address).toBe(stack === "homelab-ha" ? "10.0.0.100" : "192.168.1.200");
      expect(workload).toMatchObject({ kind: "Deployment", replicas: 2 });
      const annotations = { "metallb.io/loadBalancerIPs": address };
      if (nginx) {
        expect(values.controller).toMatchObject({ kind: "Deployment", replicaCount: 2 });
        expect(values.controller.service).toEqual({
          enabled: true,
          type: "LoadBalancer",
          annotations,
          enableHttp: false,
          enableHttps: true,
        });
        expect(values.controller).not.toHaveProperty("hostPort");
      } else {
        expect(values.deployment).toEqual({ kind: "Deployment", replicas: 2 });
        expect(values.service).toEqual({ annotations, spec: { type: "LoadBalancer" } });
        expect(values.ports).not.toHaveProperty("websecure.hostPort");
        expect(values.podDisruptionBudget).toEqual({ enabled: true, maxUnavailable: 1 });
      }
      const spread = nginx
        ? values.controller.topologySpreadConstraints
        : values.topologySpreadConstraints;
      expect(spread).toEqual([
        expect.objectContaining({
          topologyKey: "kubernetes.io/hostname",
          whenUnsatisfiable: "ScheduleAnyway",
          labelSelector: { matchLabels: profile.podLabels },
        }),
      ]);
    });
  }

  if (nginx) {
    test("admission webhook on, metrics off; every key exists in ingress-nginx 4.15.1", () => {
      expect(values.controller.admissionWebhooks).toEqual({
        enabled: true,
        createSecretJob: { resources: expect.any(Object) },
        patchWebhookJob: { resources: expect.any(Object) },
      });
      expect(values.controller.metrics).toEqual({ enabled: false });
      expect(unknownValuePaths(values, "ingress-nginx", "4.15.1", NGINX_FREE_FORM)).toEqual([]);
    });
  } else {
    test("every key exists in traefik 41.3.0's values.yaml (documented allow-list)", () => {
      const unknown = keyPaths(values, TRAEFIK_FREE_FORM).filter(
        (p) => !(p in TRAEFIK_41_3_0_KEYS),
      );
      expect(unknown).toEqual([]);
    });

    test("traefik 41.3.0's values.yaml and values schema accept the values", () => {
      expect(unknownValuePaths(values, "traefik", "41.3.0", TRAEFIK_FREE_FORM)).toEqual([]);
      expect(schemaProblems(values, "traefik", "41.3.0")).toEqual([]);
    });
  }
});

describe("values: placement from the plan", () => {
  test.each(["ingress-nginx", "traefik"] as const)(
    "%s: a placement rule becomes the controller's nodeSelector",
    (controller) => {
      const topology = plan("pi-k3s", (raw) => {
        withController(controller)(raw);
        raw.placement = { ...(raw.placement ?? {}), "ingress-controller": { node: "pi-k3s" } };
      });
      const values: Values = ingressControllerValues(topology);
      const pod = controller === "ingress-nginx" ? values.controller : values;
      expect(pod.nodeSelector).toEqual({ "kubernetes.io/hostname": "pi-k3s" });
      if (controller === "ingress-nginx") {
        expect(unknownValuePaths(values, "ingress-nginx", "4.15.1", NGINX_FREE_FORM)).toEqual([]);
      }
      // Only that node then counts the pod.
      const counted = topology.capacity.filter((n) =>
        n.pods.some((p) => p.workload === "ingress-controller"),
      );
      expect(counted.map((n) => n.hostname)).toEqual(["pi-k3s"]);
    },
  );

  test("homelab-ha: the servers are preferred through node affinity", () => {
    const values: Values = traefikValues(plan("homelab-ha"));
    expect(values.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution).toEqual([
      {
        weight: 100,
        preference: {
          matchExpressions: [
            { key: "node-role.kubernetes.io/control-plane", operator: "In", values: ["true"] },
          ],
        },
      },
    ]);
  });
});

// --- routes ---

const grafana: ServiceEndpoint = {
  name: "grafana",
  host: "grafana",
  namespace: "monitoring",
  service: "kube-prometheus-stack-grafana",
  port: 80,
  dashboard: { group: "Monitoring", icon: "grafana.png", description: "Dashboards" },
};

const unifi: ServiceEndpoint = {
  name: "unifi",
  host: "unifi",
  namespace: "external-services",
  service: "unifi",
  port: 8443,
  backendProtocol: "HTTPS",
  dashboard: { group: "Network", icon: "unifi.png", description: "Unifi controller" },
};

describe("route annotations", () => {
  const issuer = { "cert-manager.io/cluster-issuer": "letsencrypt-prod" };
  test.each([
    { controller: "ingress-nginx", endpoint: grafana, expected: issuer },
    { controller: "traefik", endpoint: grafana, expected: issuer },
    {
      controller: "ingress-nginx",
      endpoint: unifi,
      expected: { ...issuer, "nginx.ingress.kubernetes.io/backend-protocol": "HTTPS" },
    },
    // Traefik takes the backend scheme from the Service, never from the Ingress.
    { controller: "traefik", endpoint: unifi, expected: issuer },
  ] as const)("$controller, $endpoint.name: Ingress", ({ controller, endpoint, expected }) => {
    expect(routeAnnotations(controller, endpoint, "letsencrypt-prod")).toEqual(expected);
  });

  test.each([
    { controller: "ingress-nginx", endpoint: grafana, expected: {} },
    { controller: "traefik", endpoint: grafana, expected: {} },
    { controller: "ingress-nginx", endpoint: unifi, expected: {} },
    {
      controller: "traefik",
      endpoint: unifi,
      expected: {
        "traefik.ingress.kubernetes.io/service.serversscheme": "https",
        "traefik.ingress.kubernetes.io/service.serverstransport":
          "external-services-insecure-backend@kubernetescrd",
      },
    },
  ] as const)("$controller, $endpoint.name: Service", ({ controller, endpoint, expected }) => {
    expect(serviceAnnotations(controller, endpoint)).toEqual(expected);
  });

  test("the ServersTransport those annotations name skips verification of self-signed certs", () => {
    expect(serversTransportManifest("external-services")).toEqual({
      apiVersion: "traefik.io/v1alpha1",
      kind: "ServersTransport",
      metadata: {
        name: "insecure-backend",
        namespace: "external-services",
        labels: { "app.kubernetes.io/managed-by": "pulumi" },
      },
      // traefik.io_serverstransports.yaml (chart 41.3.0): spec.insecureSkipVerify, boolean.
      spec: { insecureSkipVerify: true },
    });
  });
});

describe("the routes' ClusterIssuer follows pi-cluster:platform.certificates.issuer", () => {
  test.each([
    ["production", "letsencrypt-prod"],
    ["staging", "letsencrypt-staging"],
    [undefined, "letsencrypt-prod"],
  ] as const)("issuer %s → %s", (issuer, expected) => {
    const topology = plan("pi-k3s", (raw) => {
      raw.platform.certificates.acmeEmail = "me@mtgibbs.dev";
      if (issuer === undefined) delete raw.platform.certificates.issuer;
      else raw.platform.certificates.issuer = issuer;
    });
    expect(ingressManifest(topology, grafana).metadata.annotations).toEqual({
      "cert-manager.io/cluster-issuer": expected,
    });
  });
});

describe.each([
  ["pi-k3s", "nginx", undefined],
  ["homelab-ha", "traefik", undefined],
  ["pi-k3s", "traefik", withController("traefik")],
] as const)("ingressManifest: %s with class %s", (stack, ingressClass, mutate) => {
  const topology = plan(stack, mutate);

  test("grafana: TLS for grafana.lab.mtgibbs.dev, routed to its Service", () => {
    const manifest = ingressManifest(topology, grafana);
    expect(manifest).toEqual({
      apiVersion: "networking.k8s.io/v1",
      kind: "Ingress",
      metadata: {
        name: "grafana",
        namespace: "monitoring",
        labels: { "app.kubernetes.io/managed-by": "pulumi", "pi-cluster/catalog": "grafana" },
        annotations: { "cert-manager.io/cluster-issuer": "letsencrypt-prod" },
      },
      spec: {
        ingressClassName: ingressClass,
        tls: [{ hosts: ["grafana.lab.mtgibbs.dev"], secretName: "grafana-tls" }],
        rules: [
          {
            host: "grafana.lab.mtgibbs.dev",
            http: {
              paths: [
                {
                  path: "/",
                  pathType: "Prefix",
                  backend: {
                    service: { name: "kube-prometheus-stack-grafana", port: { number: 80 } },
                  },
                },
              ],
            },
          },
        ],
      },
    });
  });

  test.each([grafana, unifi])("$name's Ingress passes the schema and strict field checks", (e) => {
    expect(
      validateObject(ingressManifest(topology, e) as unknown as Record<string, unknown>),
    ).toEqual([]);
  });
});

describe("checkRoutes", () => {
  test("distinct names and hosts pass", () => {
    expect(() => checkRoutes([grafana, unifi], "lab.mtgibbs.dev")).not.toThrow();
  });

  test("a duplicate host is rejected, naming both endpoints", () => {
    const other = { ...unifi, name: "grafana-2", host: "grafana" };
    expect(() => checkRoutes([grafana, other], "lab.mtgibbs.dev")).toThrow(
      'host grafana.lab.mtgibbs.dev is claimed by both catalog endpoints "grafana" and "grafana-2"; ' +
        "give one of them another host",
    );
  });

  test("a duplicate name is rejected", () => {
    const other = { ...unifi, name: "grafana" };
    expect(() => checkRoutes([grafana, other], "lab.mtgibbs.dev")).toThrow(
      'catalog endpoint name "grafana" is used twice (namespaces monitoring and external-services)',
    );
  });
});

// --- components under recording mocks ---

// The SDK's "wait until every registration has been answered" (see plan/run.ts).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { waitForRPCs } = require("@pulumi/pulumi/runtime/settings") as {
  waitForRPCs: () => Promise<void>;
};

/** Runs `declare` in a mocked stack and returns every resource it declared. */
async function record(declare: () => void): Promise<RecordedResource[]> {
  const recorder = new ResourceRecorder();
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        recorder.recordInputs(args.type, args.name, args.inputs);
        return { id: args.custom ? `${args.name}-id` : "", state: { ...args.inputs } };
      },
      call: (args) => args.inputs,
    },
    "pi-cluster",
    "test",
    false,
  );
  let failure: unknown;
  await pulumi.runtime.runInPulumiStack(async () => {
    try {
      recorder.attach();
      declare();
    } catch (error) {
      failure = error;
    }
    return {};
  });
  await waitForRPCs();
  if (failure !== undefined) throw failure;
  return recorder.all();
}

const provider = () => new k8s.Provider("k3s", { kubeconfig: "{}" });
const find = (resources: RecordedResource[], type: string, name: string) => {
  const found = resources.find((r) => r.type === type && r.name === name);
  if (!found) throw new Error(`no ${type} ${name}: ${resources.map((r) => r.name).join(", ")}`);
  return found;
};
const RELEASE = "kubernetes:helm.sh/v3:Release";
const INGRESS = "kubernetes:networking.k8s.io/v1:Ingress";
const CUSTOM = "kubernetes:traefik.io/v1alpha1:ServersTransport";

describe("IngressController", () => {
  test.each([
    ["pi-k3s", "ingress-nginx", "ingress-nginx", INGRESS_NGINX],
    ["homelab-ha", "traefik", "traefik", TRAEFIK],
  ] as const)(
    "%s: namespace, then the pinned release with the planned values",
    async (stack, release, ns, chart) => {
      const topology = plan(stack);
      const resources = await record(() => {
        const controller = new IngressController("ingress", { topology, provider: provider() });
        expect(controller.ingressClass).toBe(INGRESS_CLASS[topology.platform.ingress.controller]);
      });
      const namespace = find(resources, "kubernetes:core/v1:Namespace", `${ns}-namespace`);
      expect(namespace.parent).toBe(
        resourceKey("pi-cluster:platform:IngressController", "ingress"),
      );
      const helm = find(resources, RELEASE, release);
      expect(helm.dependsOn).toEqual([
        resourceKey("kubernetes:core/v1:Namespace", `${ns}-namespace`),
      ]);
      expect(helm.inputs).toMatchObject({
        name: release,
        namespace: ns,
        chart: chart.chart,
        version: chart.version,
        repositoryOpts: { repo: chart.repo },
        values: JSON.parse(JSON.stringify(ingressControllerValues(topology))),
      });
      if (release === "ingress-nginx") {
        // The null that deletes the chart's port 80 reaches Helm (@pulumi/kubernetes >= 4.30).
        expect((helm.inputs.values as Values).controller.containerPort).toEqual({
          http: null,
          https: 443,
        });
      }
    },
  );
});

describe("CatalogRoutes", () => {
  test("ingress-nginx: one Ingress per endpoint, after the given dependencies", async () => {
    const topology = plan("pi-k3s");
    const resources = await record(() => {
      const p = provider();
      const release = new k8s.core.v1.ConfigMap("stand-in-release", {}, { provider: p });
      const routes = new CatalogRoutes("routes", {
        topology,
        provider: p,
        endpoints: [grafana, unifi],
        dependsOn: [release],
      });
      expect(Object.keys(routes.ingresses)).toEqual(["grafana", "unifi"]);
      expect(routes.serversTransports).toEqual({});
    });
    const ingress = find(resources, INGRESS, "unifi-ingress");
    expect(ingress.dependsOn).toEqual([
      resourceKey("kubernetes:core/v1:ConfigMap", "stand-in-release"),
    ]);
    expect(ingress.inputs).toMatchObject({
      metadata: {
        name: "unifi",
        annotations: { "nginx.ingress.kubernetes.io/backend-protocol": "HTTPS" },
      },
      spec: { ingressClassName: "nginx" },
    });
    expect(resources.filter((r) => r.type === INGRESS)).toHaveLength(2);
    expect(resources.filter((r) => r.type === CUSTOM)).toHaveLength(0);
  });

  test("traefik: one ServersTransport per namespace with HTTPS backends", async () => {
    const topology = plan("homelab-ha");
    const unifi2 = { ...unifi, name: "unifi-backup", host: "unifi-backup", service: "unifi-2" };
    const resources = await record(() => {
      new CatalogRoutes("routes", {
        topology,
        provider: provider(),
        endpoints: [grafana, unifi, unifi2],
      });
    });
    const transports = resources.filter((r) => r.type === CUSTOM);
    expect(transports.map((t) => t.name)).toEqual(["external-services-insecure-backend"]);
    expect(transports[0].inputs).toMatchObject({ spec: { insecureSkipVerify: true } });
    expect(find(resources, INGRESS, "unifi-ingress").dependsOn).toEqual([
      resourceKey(CUSTOM, "external-services-insecure-backend"),
    ]);
    expect(find(resources, INGRESS, "grafana-ingress").inputs).toMatchObject({
      metadata: { annotations: { "cert-manager.io/cluster-issuer": "letsencrypt-prod" } },
      spec: { ingressClassName: "traefik" },
    });
  });

  test("a duplicate host fails at construction with a clear error", async () => {
    const topology = plan("pi-k3s");
    const clash = { ...grafana, name: "grafana-old" };
    await expect(
      record(() => {
        new CatalogRoutes("routes", {
          topology,
          provider: provider(),
          endpoints: [grafana, clash],
        });
      }),
    ).rejects.toThrow(/host grafana\.lab\.mtgibbs\.dev is claimed by both/);
  });
});
