/**
 * The platform's pure builders: Helm values checked against the pinned charts' own files,
 * custom resources against their CRDs, and the objects every stack gets.
 */
import {
  CERT_MANAGER,
  certManagerValues,
  clusterIssuerManifest,
  dnsTokenPolicies,
} from "../../components/platform/cert-manager";
import { wildcardRecordArgs } from "../../components/platform/cloudflare-dns";
import {
  clusterSecretStoreManifest,
  EXTERNAL_SECRETS,
  externalSecretManifest,
  externalSecretsValues,
  externalSecretsWorkloads,
} from "../../components/platform/external-secrets";
import { METALLB, metallbPoolManifests, metallbValues } from "../../components/platform/metallb";
import { nfsVolumeSpecs, retainStorageClassSpec } from "../../components/platform/storage";
import { secretRef } from "../../topology/secret-ref";
import { Topology } from "../../topology/types";
import {
  ingressNginxValues,
  INGRESS_NGINX_AUX_CONTAINERS,
  traefikValues,
} from "../../components/platform/ingress-controller";
import {
  AUX_CONTAINER_RESOURCES,
  monitoringValues,
  MONITORING_AUX_CONTAINERS,
} from "../../components/platform/monitoring";
import {
  missingChartKeys,
  RenderedContainer,
  schemaProblems,
  unknownValuePaths,
  unsizedContainers,
} from "../support/helm-values";
import { validateObject } from "../support/kube-schema";
import { planned } from "../support/stack";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- fixtures are mutated freely
const plan = (stack: string, mutate?: (raw: Record<string, any>) => void): Topology => {
  return planned(stack, mutate);
};
const piK3s = plan("pi-k3s");
const ha = plan("homelab-ha");

describe("External Secrets", () => {
  const values = externalSecretsValues(piK3s);

  test("chart pinned to the seeds' v1.2.0; every value key exists in the chart", () => {
    expect(EXTERNAL_SECRETS).toEqual({
      chart: "external-secrets",
      version: "1.2.0",
      repo: "https://charts.external-secrets.io",
    });
    expect(unknownValuePaths(values, "external-secrets", "1.2.0")).toEqual([]);
    expect(schemaProblems(values, "external-secrets", "1.2.0")).toEqual([]);
  });

  test("the key check catches a misspelled key", () => {
    expect(
      unknownValuePaths({ ...values, webhook: { replicaCont: 1 } }, "external-secrets", "1.2.0"),
    ).toEqual(["webhook.replicaCont"]);
  });

  test("each pod's resources are its WorkloadSpec's", () => {
    const byName = Object.fromEntries(
      externalSecretsWorkloads().map((w) => [w.name, Object.values(w.containers)[0]]),
    );
    expect(values.resources).toEqual(byName["external-secrets"]);
    expect((values.webhook as Record<string, unknown>).resources).toEqual(
      byName["external-secrets-webhook"],
    );
    expect((values.certController as Record<string, unknown>).resources).toEqual(
      byName["external-secrets-cert-controller"],
    );
  });

  test("the onepassword store reads the pi-cluster vault with the bootstrap token, and is CRD-valid", () => {
    const store = clusterSecretStoreManifest("pi-cluster");
    expect(store).toMatchObject({
      apiVersion: "external-secrets.io/v1",
      kind: "ClusterSecretStore",
      metadata: { name: "onepassword" },
      spec: {
        provider: {
          onepasswordSDK: {
            vault: "pi-cluster",
            auth: {
              serviceAccountSecretRef: {
                name: "onepassword-service-account",
                key: "token",
                namespace: "external-secrets",
              },
            },
          },
        },
      },
    });
    expect(validateObject(store)).toEqual([]);
  });

  test("an ExternalSecret in one line: item/field keys, templated companions, CRD-valid", () => {
    const secret = externalSecretManifest(
      {
        name: "grafana-admin",
        namespace: "monitoring",
        data: { password: secretRef("pi-cluster", "grafana-admin", "password") },
        template: { "admin-user": "admin", "admin-password": "{{ .password }}" },
      },
      "pi-cluster",
    );
    expect(secret).toMatchObject({
      spec: {
        refreshInterval: "1h",
        secretStoreRef: { kind: "ClusterSecretStore", name: "onepassword" },
        target: { name: "grafana-admin", template: { data: { "admin-user": "admin" } } },
        data: [{ secretKey: "password", remoteRef: { key: "grafana-admin/password" } }],
      },
    });
    expect(validateObject(secret)).toEqual([]);
  });

  test("a reference outside the store's vault is refused", () => {
    expect(() =>
      externalSecretManifest(
        {
          name: "x",
          namespace: "default",
          data: { token: secretRef("personal", "x", "password") },
        },
        "pi-cluster",
      ),
    ).toThrow('ExternalSecret default/x: op://personal/x/password is not in vault "pi-cluster"');
  });
});

describe("cert-manager", () => {
  const values = certManagerValues(piK3s);

  test("v1.21.1 with CRDs kept; values pass the chart's strict schema and key check", () => {
    expect(CERT_MANAGER.version).toBe("v1.21.1");
    expect(values.crds).toEqual({ enabled: true, keep: true });
    expect(schemaProblems(values, "cert-manager", "v1.21.1")).toEqual([]);
    expect(unknownValuePaths(values, "cert-manager", "v1.21.1")).toEqual([]);
    expect(schemaProblems({ ...values, installCRD: true }, "cert-manager", "v1.21.1")).toEqual([
      "/ must NOT have additional properties (installCRD)",
    ]);
  });

  test("the DNS-01 self-check asks public resolvers, never the Pi-hole", () => {
    expect(values.dns01RecursiveNameservers).toBe("1.1.1.1:53,8.8.8.8:53");
    expect(values.dns01RecursiveNameserversOnly).toBe(true);
  });

  test("the ACME account has a contact only when the stack gives one (Let's Encrypt needs none)", () => {
    expect(clusterIssuerManifest("letsencrypt-prod", piK3s)).not.toHaveProperty("spec.acme.email");
    const withEmail = planned(
      "pi-k3s",
      (raw) => (raw.platform.certificates.acmeEmail = "me@mtgibbs.dev"),
    );
    expect(clusterIssuerManifest("letsencrypt-prod", withEmail)).toHaveProperty(
      "spec.acme.email",
      "me@mtgibbs.dev",
    );
  });

  test.each(["letsencrypt-prod", "letsencrypt-staging"] as const)(
    "%s solves DNS-01 in the mtgibbs.dev zone",
    (name) => {
      const issuer = clusterIssuerManifest(name, piK3s);
      expect(issuer).toMatchObject({
        kind: "ClusterIssuer",
        metadata: { name },
        spec: {
          acme: {
            solvers: [
              {
                selector: { dnsZones: ["mtgibbs.dev"] },
                dns01: {
                  cloudflare: {
                    apiTokenSecretRef: { name: "cloudflare-api-token", key: "api-token" },
                  },
                },
              },
            ],
          },
        },
      });
      expect(validateObject(issuer)).toEqual([]);
    },
  );

  test("the scoped token may edit DNS and read the one zone, nothing else", async () => {
    const [policy] = dnsTokenPolicies("zone-123");
    expect(policy.effect).toBe("allow");
    expect(policy.permissionGroups).toEqual([
      { id: "4755a26eedb94da69e1066d98aa820be" },
      { id: "c8fed203ed3043cba015a93ad1616f1f" },
    ]);
    const resources = await new Promise((resolve) =>
      (policy.resources as unknown as { apply(f: (v: string) => void): void }).apply(resolve),
    );
    expect(resources).toBe('{"com.cloudflare.api.account.zone.zone-123":"*"}');
  });
});

describe("MetalLB", () => {
  const values = metallbValues(ha);

  test("layer 2 only; values pass the chart's schema and key check", () => {
    expect(METALLB.version).toBe("0.15.3");
    expect((values.speaker as Record<string, unknown>).frr).toEqual({ enabled: false });
    expect(unknownValuePaths(values, "metallb", "0.15.3")).toEqual([]);
    expect(schemaProblems(values, "metallb", "0.15.3")).toEqual([]);
  });

  test("the pool holds exactly the configured addresses, handed out only on request", () => {
    const [pool, advertisement] = metallbPoolManifests(ha.metallb!);
    expect(pool).toMatchObject({
      spec: { addresses: ["10.0.0.53/32", "10.0.0.100-10.0.0.105"], autoAssign: false },
    });
    expect(advertisement).toMatchObject({
      kind: "L2Advertisement",
      spec: { ipAddressPools: ["lan"] },
    });
    for (const manifest of [pool, advertisement]) expect(validateObject(manifest)).toEqual([]);
  });
});

describe("storage", () => {
  test("local-path-retain keeps data when a claim goes away", () => {
    const spec = retainStorageClassSpec() as unknown as Record<string, unknown>;
    expect(spec).toMatchObject({
      provisioner: "rancher.io/local-path",
      reclaimPolicy: "Retain",
      volumeBindingMode: "WaitForFirstConsumer",
    });
    expect(
      validateObject({ apiVersion: "storage.k8s.io/v1", kind: "StorageClass", ...spec }),
    ).toEqual([]);
  });

  test("an NFS volume on the Synology is Retain, NFSv3, and bound to its one claim", () => {
    const { volume, claim } = nfsVolumeSpecs("jellyfin-media", {
      server: "192.168.1.60",
      path: "/volume1/video",
      size: "1Ti",
      namespace: "jellyfin",
      claimName: "jellyfin-media",
    });
    expect(volume.spec).toMatchObject({
      persistentVolumeReclaimPolicy: "Retain",
      mountOptions: ["nfsvers=3", "hard"],
      nfs: { server: "192.168.1.60", path: "/volume1/video" },
      claimRef: { namespace: "jellyfin", name: "jellyfin-media" },
    });
    expect(claim.spec).toMatchObject({ volumeName: "jellyfin-media", storageClassName: "" });
    expect(
      validateObject({ apiVersion: "v1", kind: "PersistentVolume", ...(volume as object) }),
    ).toEqual([]);
    expect(
      validateObject({ apiVersion: "v1", kind: "PersistentVolumeClaim", ...(claim as object) }),
    ).toEqual([]);
  });
});

describe("Cloudflare wildcard record", () => {
  test.each([
    ["pi-k3s", piK3s, "192.168.1.55"],
    ["homelab-ha", ha, "10.0.0.100"],
  ] as const)("%s: *.lab.mtgibbs.dev → %s, proxy off", (_stack, topology, address) => {
    expect(wildcardRecordArgs(topology, "zone")).toEqual({
      zoneId: "zone",
      name: "*.lab.mtgibbs.dev",
      type: "A",
      content: address,
      ttl: 1,
      proxied: false,
      comment: `pi-cluster ${topology.stack}: ingress (managed by Pulumi)`,
    });
  });
});

/**
 * Every container each chart renders, and the values key holding its resources. A container the
 * chart renders without resources is a pod the capacity check cannot see and a Pi cannot bound:
 * adding a chart feature that renders a new container means adding it here.
 */
const GRAFANA = "grafana 12.11.1";
const RENDERED: readonly {
  chart: string;
  version: string;
  values: (t: Topology) => Record<string, unknown>;
  /** Topologies that run this chart. */
  topologies: () => Topology[];
  containers: readonly RenderedContainer[];
}[] = [
  {
    chart: "kube-prometheus-stack",
    version: "88.5.3",
    values: (t) => monitoringValues(t),
    topologies: () => [piK3s, ha],
    containers: [
      { container: "prometheus/prometheus", key: "prometheus.prometheusSpec.resources" },
      // The operator gives the init and the running reloader the same resources.
      {
        container: "prometheus/{init-,}config-reloader",
        key: "prometheusOperator.prometheusConfigReloader.resources",
      },
      { container: "alertmanager/alertmanager", key: "alertmanager.alertmanagerSpec.resources" },
      { container: "operator/kube-prometheus-stack", key: "prometheusOperator.resources" },
      { container: "grafana/grafana", key: "grafana.resources", subchart: GRAFANA },
      { container: "grafana/grafana-sc-*", key: "grafana.sidecar.resources", subchart: GRAFANA },
      {
        container: "kube-state-metrics/kube-state-metrics",
        key: "kube-state-metrics.resources",
        subchart: "kube-state-metrics 8.4.0",
      },
      {
        container: "node-exporter/node-exporter",
        key: "prometheus-node-exporter.resources",
        subchart: "prometheus-node-exporter 4.56.1",
      },
      ...MONITORING_AUX_CONTAINERS.map((c) =>
        c.key.startsWith("grafana.") ? { ...c, subchart: GRAFANA } : c,
      ),
    ],
  },
  {
    chart: "ingress-nginx",
    version: "4.15.1",
    values: ingressNginxValues,
    topologies: () => [
      piK3s,
      plan("homelab-ha", (r) => (r.platform.ingress.controller = "ingress-nginx")),
    ],
    containers: [
      { container: "controller/controller", key: "controller.resources" },
      ...INGRESS_NGINX_AUX_CONTAINERS,
    ],
  },
  {
    chart: "cert-manager",
    version: "v1.21.1",
    values: (t) => certManagerValues(t),
    topologies: () => [piK3s, ha],
    containers: [
      { container: "cert-manager/cert-manager-controller", key: "resources" },
      { container: "webhook/cert-manager-webhook", key: "webhook.resources" },
      { container: "cainjector/cert-manager-cainjector", key: "cainjector.resources" },
      { container: "startupapicheck (Job)", key: "startupapicheck.resources" },
    ],
  },
  {
    chart: "external-secrets",
    version: "1.2.0",
    values: (t) => externalSecretsValues(t),
    topologies: () => [piK3s, ha],
    containers: [
      { container: "external-secrets/external-secrets", key: "resources" },
      { container: "webhook/webhook", key: "webhook.resources" },
      { container: "cert-controller/cert-controller", key: "certController.resources" },
    ],
  },
  {
    chart: "metallb",
    version: "0.15.3",
    values: (t) => metallbValues(t),
    topologies: () => [ha],
    // The speaker's FRR containers are off (speaker.frr.enabled: false, layer 2 only).
    containers: [
      { container: "controller/controller", key: "controller.resources" },
      { container: "speaker/speaker", key: "speaker.resources" },
    ],
  },
  {
    chart: "traefik",
    version: "41.3.0",
    values: traefikValues,
    topologies: () => [ha, plan("pi-k3s", (r) => (r.platform.ingress.controller = "traefik"))],
    containers: [{ container: "traefik/traefik", key: "resources" }],
  },
];

describe("every container a chart renders has a memory request and limit", () => {
  test.each(RENDERED.map((r) => [r.chart, r] as const))("%s", (_chart, r) => {
    expect(missingChartKeys(r.containers, r.chart, r.version)).toEqual([]);
    for (const topology of r.topologies()) {
      expect(unsizedContainers(r.values(topology), r.containers, r.chart, r.version)).toEqual([]);
    }
  });

  test("the check catches the chart defaults' unsized hook Jobs and init containers", () => {
    const [kps, nginx] = RENDERED;
    expect(unsizedContainers({}, MONITORING_AUX_CONTAINERS, kps.chart, kps.version)).toEqual([
      "grafana/init-chown-data (grafana.initChownData.resources)",
      "admission-create/create (prometheusOperator.admissionWebhooks.patch.resources)",
      "admission-patch/patch (prometheusOperator.admissionWebhooks.patch.resources)",
    ]);
    expect(unsizedContainers({}, INGRESS_NGINX_AUX_CONTAINERS, nginx.chart, nginx.version)).toEqual(
      [
        "admission-create/create (controller.admissionWebhooks.createSecretJob.resources)",
        "admission-patch/patch (controller.admissionWebhooks.patchWebhookJob.resources)",
      ],
    );
    // ingress-nginx's default requests 90Mi but sets no limit: still caught.
    expect(
      unsizedContainers(
        {},
        [{ container: "c", key: "controller.resources" }],
        "ingress-nginx",
        "4.15.1",
      ),
    ).toEqual(["c (controller.resources)"]);
  });

  test("a misspelt resources key is caught against values.yaml", () => {
    expect(
      missingChartKeys(
        [{ container: "x", key: "prometheusOperator.admissionWebhooks.patchJob.resources" }],
        "kube-prometheus-stack",
        "88.5.3",
      ),
    ).toEqual(["prometheusOperator.admissionWebhooks.patchJob.resources"]);
  });

  test("hook Jobs and init containers get the helper size", () => {
    const values = monitoringValues(piK3s);
    for (const c of MONITORING_AUX_CONTAINERS) {
      expect(
        c.key.split(".").reduce<unknown>((at, p) => (at as Record<string, unknown>)[p], values),
      ).toEqual(AUX_CONTAINER_RESOURCES);
    }
  });
});
