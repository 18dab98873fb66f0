/** The Unifi and Synology routes: selectorless Services with EndpointSlices, either controller. */
import {
  DeviceConfig,
  deviceEndpoint,
  deviceEndpointSliceManifest,
  deviceSchema,
  deviceServiceManifest,
  lanHostProblem,
} from "../../components/apps/external-services";
import { widgetEnvName } from "../../components/apps/homepage/config";
import { StackRun } from "../../plan/run";
import { pastedSecrets } from "../../topology/errors";
import { configProblems, named, ofType, planStack, rawConfig } from "../support/stack";
import { validateObject } from "../support/kube-schema";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- manifests are walked as JSON
type Json = any;

const SERVICE = "kubernetes:core/v1:Service";
const SLICE = "kubernetes:discovery.k8s.io/v1:EndpointSlice";
const INGRESS = "kubernetes:networking.k8s.io/v1:Ingress";

const unifi: DeviceConfig = deviceSchema.parse({
  name: "unifi",
  address: "192.168.1.30",
  port: 8443,
  protocol: "HTTPS",
  icon: "unifi.png",
  description: "Unifi controller",
  widget: { type: "unifi" },
});

let nginx: StackRun;
let traefik: StackRun;
beforeAll(async () => {
  nginx = await planStack("pi-k3s");
  traefik = await planStack("pi-k3s", (raw) => (raw.platform.ingress.controller = "traefik"));
});

const problems = configProblems;

describe("pure builders", () => {
  test("the Service has no selector and names its port like the slice", () => {
    expect(deviceServiceManifest(unifi, "ingress-nginx")).toEqual({
      metadata: {
        name: "unifi",
        namespace: "external-services",
        labels: {
          "app.kubernetes.io/name": "unifi",
          "app.kubernetes.io/part-of": "external-services",
          "app.kubernetes.io/managed-by": "pulumi",
        },
      },
      spec: {
        type: "ClusterIP",
        ports: [{ name: "https", port: 8443, targetPort: 8443, protocol: "TCP" }],
      },
    });
  });

  test("under Traefik an HTTPS backend's Service carries the scheme and the transport", () => {
    expect((deviceServiceManifest(unifi, "traefik").metadata as Json).annotations).toEqual({
      "traefik.ingress.kubernetes.io/service.serversscheme": "https",
      "traefik.ingress.kubernetes.io/service.serverstransport":
        "external-services-insecure-backend@kubernetescrd",
    });
  });

  test("the EndpointSlice: discovery.k8s.io/v1, IPv4, labelled with the Service's name", () => {
    expect(deviceEndpointSliceManifest(unifi)).toMatchObject({
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: {
        name: "unifi",
        namespace: "external-services",
        labels: { "kubernetes.io/service-name": "unifi" },
      },
      addressType: "IPv4",
      ports: [{ name: "https", port: 8443, protocol: "TCP" }],
      endpoints: [{ addresses: ["192.168.1.30"], conditions: { ready: true } }],
    });
    expect(validateObject(deviceEndpointSliceManifest(unifi) as Json)).toEqual([]);
  });

  test("the catalog entry: HTTPS backend, widget through the in-cluster Service", () => {
    expect(deviceEndpoint(unifi)).toEqual({
      name: "unifi",
      host: "unifi",
      namespace: "external-services",
      service: "unifi",
      port: 8443,
      backendProtocol: "HTTPS",
      dashboard: {
        group: "Infrastructure",
        icon: "unifi.png",
        description: "Unifi controller",
        widget: {
          type: "unifi",
          url: "https://unifi.external-services.svc.cluster.local:8443",
          secrets: { username: "unifiUsername", password: "unifiPassword" },
        },
      },
      monitor: { kind: "http", path: "/" },
    });
  });

  test.each([
    ["192.168.1.30", undefined],
    ["10.0.0.30", '"10.0.0.30" is outside the LAN 192.168.1.0/24; a device must be on it'],
    [
      "192.168.1.0",
      '"192.168.1.0" is the network address of the LAN 192.168.1.0/24, not a host; a device needs a host address (192.168.1.1-192.168.1.254)',
    ],
    [
      "192.168.1.255",
      '"192.168.1.255" is the broadcast address of the LAN 192.168.1.0/24, not a host; a device needs a host address (192.168.1.1-192.168.1.254)',
    ],
    [
      "unifi.local",
      '"unifi.local" is not a valid IPv4 address (four numbers 0-255, e.g. 192.168.1.30)',
    ],
  ])("address %s", (address, problem) => {
    expect(lanHostProblem(address, "192.168.1.0/24", "k")).toBe(problem);
  });
});

describe("in pi-k3s (ingress-nginx)", () => {
  test("a Service and an EndpointSlice per device, each schema-valid", () => {
    expect(
      ofType(nginx, SERVICE)
        .filter((r) => (r.inputs as Json).metadata.namespace === "external-services")
        .map((r) => r.name),
    ).toEqual(["unifi", "synology"]);
    const slices = ofType(nginx, SLICE).map((r) => r.inputs as Json);
    expect(
      slices.map((s) => [s.metadata.name, s.endpoints[0].addresses[0], s.ports[0].port]),
    ).toEqual([
      ["unifi", "192.168.1.30", 8443],
      ["synology", "192.168.1.60", 5000],
    ]);
    for (const r of [...ofType(nginx, SLICE), named(nginx, SERVICE, "unifi")]) {
      const [, apiVersion, kind] = r.type.split(":");
      expect(
        validateObject({
          apiVersion: apiVersion.replace(/^core\//, ""),
          kind,
          ...(r.inputs as Json),
        }),
      ).toEqual([]);
    }
  });

  test("unifi.<domain> speaks HTTPS to the device; nas.<domain> plain HTTP", () => {
    const unifiIngress = named(nginx, INGRESS, "unifi-ingress").inputs as Json;
    expect(unifiIngress.metadata.annotations["nginx.ingress.kubernetes.io/backend-protocol"]).toBe(
      "HTTPS",
    );
    expect(unifiIngress.spec.rules[0].host).toBe("unifi.lab.mtgibbs.dev");
    const nas = named(nginx, INGRESS, "synology-ingress").inputs as Json;
    expect(nas.spec.rules[0]).toEqual({
      host: "nas.lab.mtgibbs.dev",
      http: {
        paths: [
          {
            path: "/",
            pathType: "Prefix",
            backend: { service: { name: "synology", port: { number: 5000 } } },
          },
        ],
      },
    });
    expect(
      nas.metadata.annotations["nginx.ingress.kubernetes.io/backend-protocol"],
    ).toBeUndefined();
  });

  test("monitors on both ingress URLs; Homepage gets the Unifi login from 1Password", () => {
    const files = (named(nginx, "kubernetes:core/v1:ConfigMap", "autokuma-monitors").inputs as Json)
      .data;
    expect(JSON.parse(files["unifi.json"])).toMatchObject({
      type: "http",
      url: "https://unifi.lab.mtgibbs.dev/",
    });
    expect(JSON.parse(files["synology-nas.json"])).toMatchObject({
      type: "http",
      url: "https://nas.lab.mtgibbs.dev/",
    });
    const secret = named(
      nginx,
      "kubernetes:external-secrets.io/v1:ExternalSecret",
      "homepage-homepage-unifi-external-secret",
    ).inputs as Json;
    expect(secret.metadata.name).toBe("homepage-unifi");
    expect(secret.spec.data).toEqual([
      { secretKey: "username", remoteRef: { key: "unifi/username" } },
      { secretKey: "password", remoteRef: { key: "unifi/password" } },
    ]);
    const homepage = named(nginx, "kubernetes:apps/v1:Deployment", "homepage").inputs as Json;
    const env = homepage.spec.template.spec.containers[0].env.map((e: Json) => e.name);
    expect(env).toEqual(
      expect.arrayContaining([
        widgetEnvName("unifi", "username"),
        widgetEnvName("unifi", "password"),
      ]),
    );
  });
});

describe("under Traefik", () => {
  test("the Unifi Service names the insecure-backend transport, which is declared", () => {
    const service = named(traefik, SERVICE, "unifi").inputs as Json;
    expect(service.metadata.annotations).toEqual({
      "traefik.ingress.kubernetes.io/service.serversscheme": "https",
      "traefik.ingress.kubernetes.io/service.serverstransport":
        "external-services-insecure-backend@kubernetescrd",
    });
    expect(named(traefik, SERVICE, "synology").inputs).not.toHaveProperty("metadata.annotations");
    named(
      traefik,
      "kubernetes:traefik.io/v1alpha1:ServersTransport",
      "external-services-insecure-backend",
    );
  });
});

describe("config errors name the key", () => {
  test.each([
    [
      "a device outside the LAN",
      (raw: Json) => (raw.apps["external-services"].devices[0].address = "10.0.0.30"),
      'pi-cluster:apps.external-services.devices[0].address: "10.0.0.30" is outside the LAN 192.168.1.0/24; a device must be on it',
    ],
    [
      "a device on the broadcast address",
      (raw: Json) => (raw.apps["external-services"].devices[1].address = "192.168.1.255"),
      'pi-cluster:apps.external-services.devices[1].address: "192.168.1.255" is the broadcast address of the LAN 192.168.1.0/24, not a host; a device needs a host address (192.168.1.1-192.168.1.254)',
    ],
    [
      "a port out of range",
      (raw: Json) => (raw.apps["external-services"].devices[0].port = 70000),
      "pi-cluster:apps.external-services.devices[0].port: 70000 is out of range; allowed: at most 65535",
    ],
    [
      "an unknown protocol",
      (raw: Json) => (raw.apps["external-services"].devices[0].protocol = "TCP"),
      'pi-cluster:apps.external-services.devices[0].protocol: "TCP" is not allowed; allowed: HTTP, HTTPS',
    ],
    [
      "two devices on one host",
      (raw: Json) => (raw.apps["external-services"].devices[1].host = "unifi"),
      'pi-cluster:apps.external-services.devices[1].host: "unifi" is already used by devices[0]; hosts must be unique',
    ],
  ])("%s", (_rule, mutate, message) => {
    expect(problems(mutate)).toEqual([message]);
  });

  test.each(["pi-k3s", "pi5-expansion"])(
    "%s: the device list holds no value a secret-named key would hide",
    (stack) => {
      expect(pastedSecrets({ apps: rawConfig(stack).apps })).toEqual([]);
    },
  );

  test("the Unifi login must be in the stack's secrets", () => {
    expect(problems((raw) => delete raw.secrets.unifiUsername)).toEqual([
      "pi-cluster:secrets.unifiUsername is required by external-services (a 1Password reference op://<vault>/<item>/<field>)",
    ]);
  });
});
