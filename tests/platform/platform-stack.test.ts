// eslint-disable @typescript-eslint/no-explicit-any -- values are walked as loose JSON
/**
 * The platform of each stack under recording mocks: what `pulumi preview` would show — the
 * releases and their pinned versions, the values that matter, the order objects wait for, the
 * DNS record, and every secret input kept secret.
 */
import { monitoringWorkloads } from "../../components/platform/monitoring";
import { canariesIn } from "../../plan/mocks";
import { isSecretInput, RecordedResource, resourceKey } from "../../plan/record";
import { StackRun } from "../../plan/run";
import { named, ofType, planStack, STACKS } from "../support/stack";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const runs = new Map<string, StackRun>();

beforeAll(async () => {
  for (const stack of STACKS) runs.set(stack, await planStack(stack));
});

/** A value with its secret wrappers removed. */
function plain<T = unknown>(value: unknown): T {
  return JSON.parse(
    JSON.stringify(value, (_k, v: unknown) => (isSecretInput(v) ? v.value : v)) ?? "null",
  ) as T;
}

const key = (r: RecordedResource) => resourceKey(r.type, r.name);

function releases(run: StackRun): Record<string, string> {
  return Object.fromEntries(
    ofType(run, RELEASE).map((r) => [
      String(r.inputs.name),
      `${String(r.inputs.chart)}@${String(r.inputs.version)} from ${String((r.inputs.repositoryOpts as { repo: string }).repo)} into ${String(r.inputs.namespace)}`,
    ]),
  );
}

test("pi-k3s and pi5-expansion: ESO 1.2.0, cert-manager v1.21.1, ingress-nginx 4.15.1, kube-prometheus-stack 88.5.3", () => {
  for (const stack of ["pi-k3s", "pi5-expansion"]) {
    expect(releases(runs.get(stack)!)).toEqual({
      "external-secrets":
        "external-secrets@1.2.0 from https://charts.external-secrets.io into external-secrets",
      "cert-manager": "cert-manager@v1.21.1 from https://charts.jetstack.io into cert-manager",
      "ingress-nginx":
        "ingress-nginx@4.15.1 from https://kubernetes.github.io/ingress-nginx into ingress-nginx",
      "kube-prometheus-stack":
        "kube-prometheus-stack@88.5.3 from https://prometheus-community.github.io/helm-charts into monitoring",
    });
  }
});

test("homelab-ha: Traefik 41.3.0 and MetalLB 0.15.3 instead of ingress-nginx", () => {
  expect(releases(runs.get("homelab-ha")!)).toEqual({
    "external-secrets":
      "external-secrets@1.2.0 from https://charts.external-secrets.io into external-secrets",
    "cert-manager": "cert-manager@v1.21.1 from https://charts.jetstack.io into cert-manager",
    metallb: "metallb@0.15.3 from https://metallb.github.io/metallb into metallb-system",
    traefik: "traefik@41.3.0 from https://traefik.github.io/charts into traefik",
    "kube-prometheus-stack":
      "kube-prometheus-stack@88.5.3 from https://prometheus-community.github.io/helm-charts into monitoring",
  });
});

test("pi-k3s: ingress-nginx listens on host port 443 only (Pi-hole owns 80)", () => {
  const values = plain<Record<string, any>>(
    named(runs.get("pi-k3s")!, RELEASE, "ingress-nginx").inputs.values,
  );
  expect(values.controller.kind).toBe("DaemonSet");
  expect(values.controller.containerPort).toEqual({ http: null, https: 443 });
  expect(values.controller.hostPort).toEqual({ enabled: true, ports: { https: 443 } });
  expect(JSON.stringify(values)).not.toMatch(/"(hostPort|http)":80\b/);
});

test("homelab-ha: the controller's LoadBalancer takes MetalLB's 10.0.0.100, after the pool exists", () => {
  const run = runs.get("homelab-ha")!;
  const traefik = named(run, RELEASE, "traefik");
  expect(JSON.stringify(plain(traefik.inputs.values))).toContain(
    '"metallb.io/loadBalancerIPs":"10.0.0.100"',
  );
  const pool = ofType(run, "kubernetes:metallb.io/v1beta1:IPAddressPool")[0];
  expect(plain<{ spec: unknown }>(pool.inputs).spec).toEqual({
    addresses: ["10.0.0.53/32", "10.0.0.100-10.0.0.105"],
    autoAssign: false,
  });
  const waits = (r: RecordedResource): boolean =>
    r.dependsOn.includes(key(pool)) ||
    r.dependsOn.some((d) => {
      const dep = run.resources.find((o) => key(o) === d);
      return dep !== undefined && waits(dep);
    });
  expect(waits(named(run, RELEASE, "traefik"))).toBe(true);
});

test("kube-prometheus-stack is configured for k3s and sized for Pis", () => {
  for (const stack of STACKS) {
    const values = plain<Record<string, any>>(
      named(runs.get(stack)!, RELEASE, "kube-prometheus-stack").inputs.values,
    );
    for (const component of ["kubeControllerManager", "kubeScheduler", "kubeProxy", "kubeEtcd"]) {
      expect(values[component]).toEqual({ enabled: false });
    }
    expect(values.prometheus.prometheusSpec.retention).toBe("10d");
    // The pod gets exactly what the capacity check counted for it.
    const prometheus = monitoringWorkloads().find((w) => w.name === "prometheus")!;
    expect(values.prometheus.prometheusSpec.resources).toEqual(prometheus.containers.prometheus);
    expect(values.grafana.admin).toMatchObject({ existingSecret: "grafana-admin" });
  }
  const expansion = plain<Record<string, any>>(
    named(runs.get("pi5-expansion")!, RELEASE, "kube-prometheus-stack").inputs.values,
  );
  expect(expansion.prometheus.prometheusSpec.nodeSelector).toEqual({
    "kubernetes.io/hostname": "pi5-worker-1",
  });
  expect(expansion.grafana.nodeSelector).toEqual({ "kubernetes.io/hostname": "pi5-worker-1" });
});

describe.each(STACKS)("%s", (stack) => {
  const run = () => runs.get(stack)!;

  test("the onepassword store waits for the ESO release and its token; app secrets wait for the store", () => {
    const store = named(
      run(),
      "kubernetes:external-secrets.io/v1:ClusterSecretStore",
      "onepassword-store",
    );
    expect(store.dependsOn).toEqual(
      expect.arrayContaining([
        resourceKey(RELEASE, "external-secrets"),
        resourceKey("kubernetes:core/v1:Secret", "onepassword-service-account"),
      ]),
    );
    const secrets = ofType(run(), "kubernetes:external-secrets.io/v1:ExternalSecret");
    // The platform's own; the apps add theirs (every one waits for the store all the same).
    expect(
      secrets
        .map((s) => s.name)
        .filter((n) => n.startsWith("monitoring-"))
        .sort(),
    ).toEqual([
      "monitoring-alertmanager-discord-external-secret",
      "monitoring-grafana-admin-external-secret",
    ]);
    for (const secret of secrets) expect(secret.dependsOn).toContain(key(store));
  });

  test("the bootstrap token comes from 1Password and stays secret", () => {
    const token = named(run(), "kubernetes:core/v1:Secret", "onepassword-service-account");
    expect(isSecretInput(token.inputs.stringData)).toBe(true);
    expect(canariesIn(JSON.stringify(plain(token.inputs.stringData)))).toEqual([
      "op://pi-cluster/external-secrets-service-account/credential",
    ]);
  });

  test("Cloudflare: provider token from 1Password, a token scoped to the zone for cert-manager, kept secret", () => {
    const provider = named(run(), "pulumi:providers:cloudflare", "cloudflare");
    expect(isSecretInput(provider.inputs.apiToken)).toBe(true);
    expect(canariesIn(JSON.stringify(plain(provider.inputs.apiToken)))).toEqual([
      "op://pi-cluster/cloudflare-pulumi/credential",
    ]);
    const token = named(run(), "cloudflare:index/apiToken:ApiToken", "cert-manager-dns01");
    const [policy] = plain<{ resources: string; permissionGroups: { id: string }[] }[]>(
      token.inputs.policies,
    );
    expect(JSON.parse(policy.resources)).toEqual({
      "com.cloudflare.api.account.zone.zone-id-of-mtgibbs.dev": "*",
    });
    const secret = named(run(), "kubernetes:core/v1:Secret", "cloudflare-api-token");
    expect(isSecretInput(secret.inputs.stringData)).toBe(true);
    expect(canariesIn(JSON.stringify(plain(secret.inputs.stringData)))).toEqual([
      "cloudflare-api-token:cert-manager-dns01",
    ]);
  });

  test("both Let's Encrypt issuers wait for cert-manager and the token", () => {
    for (const issuer of ["letsencrypt-prod", "letsencrypt-staging"]) {
      const resource = named(run(), "kubernetes:cert-manager.io/v1:ClusterIssuer", issuer);
      expect(resource.dependsOn).toEqual(
        expect.arrayContaining([
          resourceKey(RELEASE, "cert-manager"),
          resourceKey("kubernetes:core/v1:Secret", "cloudflare-api-token"),
        ]),
      );
    }
  });

  test("the wildcard record points *.lab.mtgibbs.dev at the ingress, proxy off", () => {
    const [record] = ofType(run(), "cloudflare:index/dnsRecord:DnsRecord");
    expect(plain(record.inputs)).toMatchObject({
      zoneId: "zone-id-of-mtgibbs.dev",
      name: "*.lab.mtgibbs.dev",
      type: "A",
      content: stack === "homelab-ha" ? "10.0.0.100" : "192.168.1.55",
      ttl: 1,
      proxied: false,
    });
  });

  test("Grafana is routed at grafana.lab.mtgibbs.dev with a Let's Encrypt certificate", () => {
    const ingress = named(run(), "kubernetes:networking.k8s.io/v1:Ingress", "grafana-ingress");
    const manifest = plain<Record<string, any>>(ingress.inputs);
    // Trusted certificates: the live cluster's are production ones and must stay so.
    expect(manifest.metadata.annotations["cert-manager.io/cluster-issuer"]).toBe(
      "letsencrypt-prod",
    );
    expect(manifest.spec.tls).toEqual([
      { hosts: ["grafana.lab.mtgibbs.dev"], secretName: "grafana-tls" },
    ]);
    expect(manifest.spec.rules[0].http.paths[0].backend.service).toEqual({
      name: "kube-prometheus-stack-grafana",
      port: { number: 80 },
    });
  });

  test("the platform deploys only after every node is ready", () => {
    const nodes = run().topology.nodes.map((n) =>
      resourceKey("command:remote:Command", `${n.hostname}/k3s-ready`),
    );
    const namespaces = ofType(run(), "kubernetes:core/v1:Namespace");
    expect(namespaces.length).toBeGreaterThanOrEqual(4);
    for (const ns of namespaces) expect(ns.dependsOn).toEqual(expect.arrayContaining(nodes));
  });

  test("local-path-retain exists for data that must survive", () => {
    const cls = named(run(), "kubernetes:storage.k8s.io/v1:StorageClass", "local-path-retain");
    expect(cls.inputs).toMatchObject({
      reclaimPolicy: "Retain",
      provisioner: "rancher.io/local-path",
    });
  });
});
