/**
 * The ingress controller: ingress-nginx (as the seeds run it) or Traefik, chosen per stack in one
 * place (`pi-cluster:platform.ingress.controller`), and exposed either on host port 443 of every
 * node (`hostPort`) or on a MetalLB address (`loadBalancer`). Port 80 is never bound on a node:
 * Pi-hole's hostNetwork owns it (seed 001, decision 8), and every web UI is HTTPS anyway.
 *
 * ingress-nginx was retired upstream in March 2026 (4.15.1 is its last chart, no security fixes
 * follow); Traefik is maintained. Both are supported here so a stack can switch by config.
 * @see https://github.com/kubernetes/ingress-nginx/tree/helm-chart-4.15.1/charts/ingress-nginx
 * @see https://github.com/traefik/traefik-helm-chart/tree/v41.3.0/traefik
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { schedulingFor } from "../../topology/scheduling";
import { PlatformSettings, Topology } from "../../topology/types";
import { ContainerResources, resources, WorkloadSpec } from "../../topology/workloads";
import { ChartRef, helmRelease, namespace } from "./helm";
import { loadBalancerAnnotations } from "./metallb";

/** Which controller serves Ingresses. */
export type IngressControllerKind = PlatformSettings["ingress"]["controller"];

/** ingress-nginx's last chart (retired upstream in March 2026). */
export const INGRESS_NGINX: ChartRef = {
  chart: "ingress-nginx",
  version: "4.15.1",
  repo: "https://kubernetes.github.io/ingress-nginx",
};

/**
 * Traefik's chart (Traefik v3.7.11). Its CRDs sit in `crds/`: Helm installs them on the first
 * install and never upgrades them.
 */
export const TRAEFIK: ChartRef = {
  chart: "traefik",
  version: "41.3.0",
  repo: "https://traefik.github.io/charts",
};

/** Namespace each controller is installed into. */
export const INGRESS_NAMESPACE: Readonly<Record<IngressControllerKind, string>> = {
  "ingress-nginx": "ingress-nginx",
  traefik: "traefik",
};

/** IngressClass each controller's chart creates (and marks as the cluster default). */
export const INGRESS_CLASS: Readonly<Record<IngressControllerKind, string>> = {
  "ingress-nginx": "nginx",
  traefik: "traefik",
};

/**
 * The workload name of the controller, the same for both, so `pi-cluster:placement` rules do not
 * change when a stack switches controller.
 */
export const INGRESS_WORKLOAD = "ingress-controller";

/** The one port the controller binds on a node or publishes on its LoadBalancer. */
export const HTTPS_PORT = 443;

/** Everything that differs between the two controllers, apart from their values. */
export interface ControllerProfile {
  readonly controller: IngressControllerKind;
  readonly chart: ChartRef;
  readonly namespace: string;
  readonly ingressClass: string;
  /** Workload name in the topology plan (`pi-cluster:placement.<workload>`). */
  readonly workload: string;
  /** Helm release name (fixed, so the chart's object names are stable). */
  readonly release: string;
  /** Name of the controller's container in the chart's pod template. */
  readonly container: string;
  /** The pod's labels the chart sets, for topology spread constraints. */
  readonly podLabels: Readonly<Record<string, string>>;
}

/** The chart, names and labels of a controller. */
export function controllerProfile(controller: IngressControllerKind): ControllerProfile {
  const namespace = INGRESS_NAMESPACE[controller];
  if (controller === "ingress-nginx") {
    const release = "ingress-nginx";
    return {
      controller,
      chart: INGRESS_NGINX,
      namespace,
      ingressClass: INGRESS_CLASS[controller],
      workload: INGRESS_WORKLOAD,
      release,
      container: "controller",
      // ingress-nginx's selector labels (_helpers.tpl "ingress-nginx.selectorLabels" + component).
      podLabels: {
        "app.kubernetes.io/name": "ingress-nginx",
        "app.kubernetes.io/instance": release,
        "app.kubernetes.io/component": "controller",
      },
    };
  }
  const release = "traefik";
  return {
    controller,
    chart: TRAEFIK,
    namespace,
    ingressClass: INGRESS_CLASS[controller],
    workload: INGRESS_WORKLOAD,
    release,
    container: "traefik",
    // traefik's "traefik.labelselector": the instance label is `<release>-<namespace>`.
    podLabels: {
      "app.kubernetes.io/name": "traefik",
      "app.kubernetes.io/instance": `${release}-${namespace}`,
    },
  };
}

/**
 * Requests and limits sized for a Pi 3 (1 GB), where the hostPort DaemonSet also runs.
 * ingress-nginx: the chart's own requests (100m/90Mi); Traefik idles well under 64Mi.
 * The CPU limit is one of the Pi's four cores, enough for TLS handshakes in bursts.
 */
const CONTROLLER_RESOURCES: Readonly<Record<IngressControllerKind, ContainerResources>> = {
  "ingress-nginx": resources("100m", "90Mi", "1", "256Mi"),
  traefik: resources("50m", "64Mi", "1", "256Mi"),
};

/**
 * Containers ingress-nginx renders besides the controller, with the values key that sizes each:
 * the admission webhook's hook Jobs (kube-webhook-certgen), run once per install or upgrade.
 * Not in the capacity check (they finish in seconds), but never without a memory limit.
 */
export const INGRESS_NGINX_AUX_CONTAINERS: readonly {
  readonly container: string;
  readonly key: string;
}[] = [
  {
    container: "admission-create/create",
    key: "controller.admissionWebhooks.createSecretJob.resources",
  },
  {
    container: "admission-patch/patch",
    key: "controller.admissionWebhooks.patchWebhookJob.resources",
  },
];

/** The certgen Jobs' size: the chart's own commented suggestion is 10m/20Mi. */
const CERTGEN_RESOURCES: ContainerResources = resources("10m", "20Mi", "100m", "64Mi");

/** Replicas of the loadBalancer Deployment: two, so one survives a server's reboot. */
const LOAD_BALANCER_REPLICAS = 2;

/**
 * The controller's pods as the capacity check and the values see them.
 * - `hostPort`: a DaemonSet, one pod per node with host port 443/TCP (the seeds ran
 *   ingress-nginx on the Pi 3 workers too; DNS points at one node, the others are spares).
 * - `loadBalancer`: a Deployment of two replicas behind the MetalLB address, preferring the
 *   servers (HA across servers).
 */
export function ingressWorkloads(settings: PlatformSettings["ingress"]): WorkloadSpec[] {
  const profile = controllerProfile(settings.controller);
  const containers = { [profile.container]: CONTROLLER_RESOURCES[settings.controller] };
  if (settings.exposure === "hostPort") {
    return [
      {
        name: profile.workload,
        namespace: profile.namespace,
        kind: "DaemonSet",
        containers,
        // Port 80 belongs to Pi-hole's hostNetwork: the controller listens on 443 only.
        hostPorts: [{ port: HTTPS_PORT, protocol: "TCP" }],
      },
    ];
  }
  return [
    {
      name: profile.workload,
      namespace: profile.namespace,
      kind: "Deployment",
      replicas: LOAD_BALANCER_REPLICAS,
      containers,
      defaultPlacement: { prefer: { "node-role.kubernetes.io/control-plane": "true" } },
    },
  ];
}

/** The controller's WorkloadSpec in the plan's terms (a program error when it is missing). */
function controllerResources(topology: Topology, profile: ControllerProfile): ContainerResources {
  const workload = ingressWorkloads(topology.platform.ingress).find(
    (w) => w.name === profile.workload,
  );
  const found = workload?.containers[profile.container];
  if (!found) throw new Error(`ingress: no container "${profile.container}" in its workload`);
  return found;
}

/** The fixed MetalLB address of the controller's LoadBalancer Service. */
function loadBalancerAddress(topology: Topology): string {
  const address = topology.metallb?.services.ingress;
  if (!address) {
    // Config validation already rejects this; reaching it is a program error.
    throw new Error(
      `ingress: exposure "loadBalancer" needs pi-cluster:metallb.services.ingress ` +
        `(stack ${topology.stack})`,
    );
  }
  return address;
}

/** Spread the loadBalancer replicas over nodes, without blocking a rollout on a small cluster. */
function spreadOverNodes(profile: ControllerProfile): Record<string, unknown>[] {
  return [
    {
      maxSkew: 1,
      topologyKey: "kubernetes.io/hostname",
      whenUnsatisfiable: "ScheduleAnyway",
      labelSelector: { matchLabels: { ...profile.podLabels } },
    },
  ];
}

/**
 * A DaemonSet with a host port cannot surge: the new pod would need the port the old one holds
 * on the same node and stay Pending. Replace one node's pod at a time instead.
 */
const HOST_PORT_ROLLOUT = {
  type: "RollingUpdate",
  rollingUpdate: { maxUnavailable: 1, maxSurge: 0 },
} as const;

/**
 * ingress-nginx 4.15.1 values.
 *
 * hostPort trap: the chart gives a host port to *every* key of `controller.containerPort`
 * (falling back to the container port), so `hostPort.ports` cannot drop 80. Deleting the key with
 * `containerPort.http: null` is the only way; @pulumi/kubernetes ≥ 4.30 passes the null to Helm.
 * The Service is off in hostPort mode: a LoadBalancer Service on k3s's ServiceLB would start svclb
 * pods binding 80 and 443 on every node, clashing with Pi-hole.
 *
 * Metrics stay off: a ServiceMonitor needs kube-prometheus-stack's CRD, which would make this
 * release wait for monitoring; nothing scrapes the controller today.
 */
export function ingressNginxValues(topology: Topology): Record<string, unknown> {
  const { exposure } = topology.platform.ingress;
  const profile = controllerProfile("ingress-nginx");
  const scheduling = schedulingFor(topology, profile.workload);
  const common = {
    // Only 443: the http key is deleted so no port 80 (container or host) is declared.
    containerPort: { http: null, https: HTTPS_PORT },
    ingressClass: profile.ingressClass,
    ingressClassResource: { name: profile.ingressClass, enabled: true, default: true },
    // failurePolicy Fail: Ingresses are rejected until the controller is ready, so every
    // Ingress must depend on this release (CatalogRoutes takes it in `dependsOn`).
    admissionWebhooks: {
      enabled: true,
      createSecretJob: { resources: CERTGEN_RESOURCES },
      patchWebhookJob: { resources: CERTGEN_RESOURCES },
    },
    metrics: { enabled: false },
    resources: { ...controllerResources(topology, profile) },
    ...scheduling,
  };
  if (exposure === "hostPort") {
    return {
      controller: {
        ...common,
        kind: "DaemonSet",
        updateStrategy: HOST_PORT_ROLLOUT,
        hostPort: { enabled: true, ports: { https: HTTPS_PORT } },
        // No Service: ServiceLB would bind port 80 on every node. Ingress status then reports
        // the nodes' addresses.
        service: { enabled: false },
        publishService: { enabled: false },
      },
    };
  }
  return {
    controller: {
      ...common,
      kind: "Deployment",
      replicaCount: LOAD_BALANCER_REPLICAS,
      topologySpreadConstraints: spreadOverNodes(profile),
      service: {
        enabled: true,
        type: "LoadBalancer",
        annotations: loadBalancerAnnotations(loadBalancerAddress(topology)),
        // HTTPS only on the MetalLB address too.
        enableHttp: false,
        enableHttps: true,
      },
      publishService: { enabled: true },
    },
  };
}

/**
 * Traefik 41.3.0 values. Since chart 40 the Service type is `service.spec.type`; the old
 * `service.type` is silently ignored. The `web` entrypoint (8000 in the pod) stays unexposed and
 * has no host port; `websecure` (8443 in the pod) is the only way in.
 *
 * Metrics: Traefik serves Prometheus metrics in the pod (port 9100, not exposed); no
 * ServiceMonitor, for the same reason as ingress-nginx.
 */
export function traefikValues(topology: Topology): Record<string, unknown> {
  const { exposure } = topology.platform.ingress;
  const profile = controllerProfile("traefik");
  const common = {
    ingressClass: { enabled: true, isDefaultClass: true, name: profile.ingressClass },
    // The Ingress provider serves the catalog; the CRD provider reads the ServersTransports
    // that HTTPS backends with self-signed certificates refer to (see routes.ts).
    providers: { kubernetesIngress: { enabled: true }, kubernetesCRD: { enabled: true } },
    resources: { ...controllerResources(topology, profile) },
    ...schedulingFor(topology, profile.workload),
  };
  if (exposure === "hostPort") {
    return {
      ...common,
      deployment: { kind: "DaemonSet" },
      updateStrategy: HOST_PORT_ROLLOUT,
      ports: {
        web: { expose: { default: false } },
        websecure: { hostPort: HTTPS_PORT },
      },
      // ClusterIP, never LoadBalancer: ServiceLB's svclb pods would take host port 443 on every
      // node (and 80, were `web` exposed), clashing with this DaemonSet and Pi-hole.
      service: { spec: { type: "ClusterIP" } },
    };
  }
  return {
    ...common,
    deployment: { kind: "Deployment", replicas: LOAD_BALANCER_REPLICAS },
    podDisruptionBudget: { enabled: true, maxUnavailable: 1 },
    topologySpreadConstraints: spreadOverNodes(profile),
    ports: { web: { expose: { default: false } } },
    service: {
      annotations: loadBalancerAnnotations(loadBalancerAddress(topology)),
      spec: { type: "LoadBalancer" },
    },
  };
}

/** The values of the stack's controller. */
export function ingressControllerValues(topology: Topology): Record<string, unknown> {
  return topology.platform.ingress.controller === "traefik"
    ? traefikValues(topology)
    : ingressNginxValues(topology);
}

export interface IngressControllerArgs {
  /** The stack's plan: `platform.ingress` picks the controller and its exposure. */
  readonly topology: Topology;
  /** Provider of the k3s cluster. */
  readonly provider: k8s.Provider;
  /**
   * What must exist first (the cluster's nodes; MetalLB's pool for `loadBalancer` exposure).
   * @default []
   */
  readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
}

/** The stack's ingress controller: its namespace and Helm release. */
export class IngressController extends pulumi.ComponentResource {
  /** The Helm release. Ingresses must depend on it (ingress-nginx's webhook fails closed). */
  public readonly release: k8s.helm.v3.Release;
  /** IngressClass the chart creates, the cluster's default. */
  public readonly ingressClass: string;
  /** Namespace the controller runs in. */
  public readonly namespace: string;

  constructor(name: string, args: IngressControllerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pi-cluster:platform:IngressController", name, {}, opts);
    const { topology, provider } = args;
    const profile = controllerProfile(topology.platform.ingress.controller);
    const ns = namespace(
      profile.namespace,
      { parent: this, provider, dependsOn: args.dependsOn ?? [] },
      // Host ports are forbidden at the baseline Pod Security level: say so if a default applies.
      topology.platform.ingress.exposure === "hostPort"
        ? { "pod-security.kubernetes.io/enforce": "privileged" }
        : {},
    );
    this.release = helmRelease(
      profile.release,
      {
        chart: profile.chart,
        namespace: profile.namespace,
        values: ingressControllerValues(topology),
      },
      { parent: this, provider, dependsOn: [ns] },
    );
    this.ingressClass = profile.ingressClass;
    this.namespace = profile.namespace;
    this.registerOutputs({ ingressClass: this.ingressClass, namespace: this.namespace });
  }
}
