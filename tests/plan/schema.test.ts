/** The schema checks themselves must catch what kubernetes-models alone lets through. */
import { validateObject } from "../support/kube-schema";

const deployment = (extra: Record<string, unknown> = {}, name = "homepage") => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name, namespace: "homepage" },
  spec: {
    selector: { matchLabels: { app: "homepage" } },
    template: {
      metadata: { labels: { app: "homepage" } },
      spec: {
        containers: [{ name: "homepage", image: "ghcr.io/gethomepage/homepage:v1.12.3", ...extra }],
      },
    },
  },
});

test("a valid Deployment passes", () => {
  expect(validateObject(deployment())).toEqual([]);
});

test("a misspelled field is rejected", () => {
  expect(validateObject(deployment({ resource: { limits: { memory: "256Mi" } } }))).toEqual([
    "apps/v1 Deployment homepage: unknown field spec.template.spec.containers[0].resource",
  ]);
});

test("a wrong type is rejected", () => {
  expect(validateObject(deployment({ ports: [{ containerPort: "3000" }] }))[0]).toMatch(
    /^apps\/v1 Deployment homepage: .*containerPort.*must be integer/,
  );
});

test("an invalid or missing name is rejected", () => {
  expect(validateObject(deployment({}, "Homepage_1"))).toEqual([
    'apps/v1 Deployment Homepage_1: metadata.name "Homepage_1" is not a valid DNS-1123 subdomain',
  ]);
  const unnamed = { apiVersion: "v1", kind: "Namespace", metadata: {} };
  expect(validateObject(unnamed)).toEqual([
    "v1 Namespace undefined: metadata.name is missing (the provider would invent one with a random suffix)",
  ]);
});

test("custom resources are checked against the pinned CRDs", () => {
  const pool = {
    apiVersion: "metallb.io/v1beta1",
    kind: "IPAddressPool",
    metadata: { name: "lan", namespace: "metallb-system" },
    spec: { addresses: ["10.0.0.100-10.0.0.104"], autoAssign: false },
  };
  expect(validateObject(pool)).toEqual([]);
  expect(
    validateObject({ ...pool, spec: { addresses: ["10.0.0.100-10.0.0.104"], autoassign: false } }),
  ).toEqual([
    "metallb.io/v1beta1 IPAddressPool lan: /spec must NOT have additional properties (autoassign)",
  ]);
  expect(validateObject({ ...pool, apiVersion: "metallb.io/v1alpha1" })[0]).toMatch(
    /^metallb\.io\/v1alpha1 IPAddressPool lan: the CRDs serve no metallb\.io\/v1alpha1 IPAddressPool/,
  );
});

describe("kube-prometheus-stack's and Traefik's CRDs are checked too", () => {
  const monitor = (spec: Record<string, unknown>) => ({
    apiVersion: "monitoring.coreos.com/v1",
    kind: "ServiceMonitor",
    metadata: { name: "pihole-exporter", namespace: "pihole" },
    spec,
  });
  const selector = { matchLabels: { app: "pihole-exporter" } };

  test("a valid ServiceMonitor passes", () => {
    expect(validateObject(monitor({ selector, endpoints: [{ port: "metrics" }] }))).toEqual([]);
  });

  test("a ServiceMonitor with a misspelt key is rejected", () => {
    expect(validateObject(monitor({ selector, endpoint: [{ port: "metrics" }] }))).toEqual([
      "monitoring.coreos.com/v1 ServiceMonitor pihole-exporter: /spec must have required property 'endpoints'",
      "monitoring.coreos.com/v1 ServiceMonitor pihole-exporter: /spec must NOT have additional properties (endpoint)",
    ]);
  });

  test("a Traefik ServersTransport is checked against traefik.io's CRD", () => {
    const transport = (spec: Record<string, unknown>) => ({
      apiVersion: "traefik.io/v1alpha1",
      kind: "ServersTransport",
      metadata: { name: "insecure-backend", namespace: "external-services" },
      spec,
    });
    expect(validateObject(transport({ insecureSkipVerify: true }))).toEqual([]);
    expect(validateObject(transport({ insecureSkipVerfy: true }))).toEqual([
      "traefik.io/v1alpha1 ServersTransport insecure-backend: /spec must NOT have additional properties (insecureSkipVerfy)",
    ]);
  });
});
