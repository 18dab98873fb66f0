/**
 * Home devices outside the cluster behind the cluster's ingress (seed 001, decision 11, namespace
 * `external-services`): each device in `pi-cluster:apps.external-services.devices` becomes a
 * selectorless Service and an EndpointSlice holding the device's address, and a catalog entry at
 * `<host>.<domain>` with a Let's Encrypt certificate. The seeds used a v1 Endpoints object; that
 * API is deprecated from Kubernetes 1.33, so the address goes into a `discovery.k8s.io/v1`
 * EndpointSlice labelled with the Service's name, which is what kube-proxy and both ingress
 * controllers read.
 * @see https://kubernetes.io/docs/concepts/services-networking/service/#services-without-selectors
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { appKey, AppPlanContext } from "../../topology/apps";
import { ServiceEndpoint } from "../../topology/catalog";
import { ConfigProblem, showValue } from "../../topology/errors";
import { inRange, isIpv4, parseCidr } from "../../topology/net";
import { hostRange, reservedAddress } from "../../topology/validate";
import { IngressControllerKind } from "../platform/ingress-controller";
import { namespace } from "../platform/helm";
import { serviceAnnotations } from "../platform/routes";
import { AppArgs, defineAppModule } from "./app";
import { appLabels } from "./workload";

export const EXTERNAL_SERVICES_NAMESPACE = "external-services";

/**
 * The secrets each kind of device widget logs in with: widget key → `pi-cluster:secrets` key.
 * Kept here, not in the stack file, because an app's secrets are known before its config is read
 * (and a config field named `password` would be taken for a pasted secret). Unifi's widget logs in
 * with a local account (seed 001, decision 18).
 */
export const DEVICE_WIDGET_SECRETS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  unifi: { username: "unifiUsername", password: "unifiPassword" },
};

const dnsLabel = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, "is not a DNS label (a-z, 0-9, '-')");

/** One device as the stack file gives it. */
export const deviceSchema = z.strictObject({
  /** Service, catalog entry and Ingress name, e.g. `unifi`. */
  name: dnsLabel,
  /** Subdomain under the stack's domain. @default the name */
  host: dnsLabel.optional(),
  /** The device's LAN address (a host on `pi-cluster:network.subnet`). */
  address: z.string(),
  /** The port its web UI listens on, e.g. 8443. */
  port: z.number().int().min(1).max(65535),
  /** `HTTPS` for a device that only speaks TLS (Unifi), usually with a self-signed certificate. */
  protocol: z.enum(["HTTP", "HTTPS"]),
  /** The tile's title. @default the name, capitalised */
  title: z.string().optional(),
  /** Homepage group. @default "Infrastructure" */
  group: z.string().default("Infrastructure"),
  /** Homepage icon, e.g. `unifi.png`. */
  icon: z.string(),
  description: z.string(),
  /** Path the uptime monitor checks through the ingress; `false` for no monitor. @default "/" */
  monitor: z.union([z.string(), z.literal(false)]).default("/"),
  /**
   * A Homepage widget on the tile: its type and plain keys; the secrets a type logs in with come
   * from DEVICE_WIDGET_SECRETS. It reads the device through its
   * in-cluster Service.
   */
  widget: z
    .strictObject({
      type: z.string(),
      options: z.record(z.string(), z.unknown()).optional(),
    })
    .optional(),
});
export type DeviceConfig = z.infer<typeof deviceSchema>;

/** `pi-cluster:apps.external-services`. */
export const externalServicesConfigSchema = z.strictObject({
  /** The devices to route; none by default. @default [] */
  devices: z.array(deviceSchema).default([]),
});
export type ExternalServicesConfig = z.infer<typeof externalServicesConfigSchema>;

/**
 * Why `address` cannot be a device on the LAN `subnet`, or undefined when it can: it must be an
 * IPv4 address inside the subnet and neither its network nor its broadcast address (the same
 * rules and words as the platform's own addresses). `key` is the config key, for the value.
 */
export function lanHostProblem(address: string, subnet: string, key: string): string | undefined {
  const range = parseCidr(subnet);
  if (!isIpv4(address)) {
    return `${showValue(address, key)} is not a valid IPv4 address (four numbers 0-255, e.g. 192.168.1.30)`;
  }
  if (!range) return undefined; // the subnet's own error is reported at pi-cluster:network.subnet
  if (!inRange(address, range)) {
    return `${showValue(address, key)} is outside the LAN ${subnet}; a device must be on it`;
  }
  const reserved = reservedAddress(address, range);
  if (reserved) {
    return (
      `${showValue(address, key)} is the ${reserved} of the LAN ${subnet}, not a host; a device ` +
      `needs a host address (${hostRange(range)})`
    );
  }
  return undefined;
}

/** Addresses on the LAN, unique names and hosts, monitor paths. */
export function validateExternalServices(
  config: ExternalServicesConfig,
  context: AppPlanContext,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const keyOf = (path: string) => appKey("external-services", path);
  const add = (path: string, message: string) => {
    const key = keyOf(path);
    problems.push({ key, message: `${key}: ${message}` });
  };
  const names = new Map<string, number>();
  const hosts = new Map<string, number>();
  config.devices.forEach((device, i) => {
    const at = `.devices[${i}]`;
    const problem = lanHostProblem(device.address, context.network.subnet, keyOf(`${at}.address`));
    if (problem) add(`${at}.address`, problem);
    const host = device.host ?? device.name;
    if (names.has(device.name)) {
      add(
        `${at}.name`,
        `${showValue(device.name, keyOf(`${at}.name`))} is already used by devices[${names.get(device.name)}]; names must be unique`,
      );
    } else names.set(device.name, i);
    if (hosts.has(host)) {
      add(
        `${at}.host`,
        `${showValue(host, keyOf(`${at}.host`))} is already used by devices[${hosts.get(host)}]; hosts must be unique`,
      );
    } else hosts.set(host, i);
    if (device.monitor !== false && !device.monitor.startsWith("/")) {
      add(
        `${at}.monitor`,
        `${showValue(device.monitor, keyOf(`${at}.monitor`))} is not a path; use one like /`,
      );
    }
  });
  return problems;
}

/** The port's name in the Service and the EndpointSlice (they must match). */
function portName(device: DeviceConfig): string {
  return device.protocol === "HTTPS" ? "https" : "http";
}

/** The in-cluster URL of a device's Service (what Homepage's widget reads). */
export function deviceServiceUrl(device: DeviceConfig): string {
  const scheme = device.protocol === "HTTPS" ? "https" : "http";
  return `${scheme}://${device.name}.${EXTERNAL_SERVICES_NAMESPACE}.svc.cluster.local:${device.port}`;
}

/** A device's catalog entry: routed at `<host>.<domain>`, HTTPS backends marked as such. */
export function deviceEndpoint(device: DeviceConfig): ServiceEndpoint {
  return {
    name: device.name,
    host: device.host ?? device.name,
    ...(device.title ? { title: device.title } : {}),
    namespace: EXTERNAL_SERVICES_NAMESPACE,
    service: device.name,
    port: device.port,
    ...(device.protocol === "HTTPS" ? { backendProtocol: "HTTPS" as const } : {}),
    dashboard: {
      group: device.group,
      icon: device.icon,
      description: device.description,
      ...(device.widget
        ? {
            widget: {
              type: device.widget.type,
              url: deviceServiceUrl(device),
              ...(device.widget.options ? { options: device.widget.options } : {}),
              ...(DEVICE_WIDGET_SECRETS[device.widget.type]
                ? { secrets: DEVICE_WIDGET_SECRETS[device.widget.type] }
                : {}),
            },
          }
        : {}),
    },
    // Through the ingress URL: its Let's Encrypt certificate, whatever the device presents.
    monitor: device.monitor === false ? false : { kind: "http", path: device.monitor },
  };
}

/**
 * The selectorless Service of a device. Traefik reads an HTTPS backend's scheme from the
 * Service's annotations (`serviceAnnotations`); ingress-nginx from the Ingress.
 */
export function deviceServiceManifest(
  device: DeviceConfig,
  controller: IngressControllerKind,
): k8s.types.input.core.v1.Service {
  const annotations = serviceAnnotations(controller, deviceEndpoint(device));
  return {
    metadata: {
      name: device.name,
      namespace: EXTERNAL_SERVICES_NAMESPACE,
      labels: appLabels(device.name, "external-services"),
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    },
    spec: {
      type: "ClusterIP",
      // No selector: the endpoints are the EndpointSlice below, not pods.
      ports: [
        { name: portName(device), port: device.port, targetPort: device.port, protocol: "TCP" },
      ],
    },
  };
}

/** The EndpointSlice giving the device's Service its one address. */
export function deviceEndpointSliceManifest(
  device: DeviceConfig,
): k8s.types.input.discovery.v1.EndpointSlice {
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: {
      name: device.name,
      namespace: EXTERNAL_SERVICES_NAMESPACE,
      labels: {
        ...appLabels(device.name, "external-services"),
        // What ties the slice to its Service.
        "kubernetes.io/service-name": device.name,
        // Not the EndpointSlice controller's: it leaves slices another manager owns alone.
        "endpointslice.kubernetes.io/managed-by": "pulumi",
      },
    },
    addressType: "IPv4",
    ports: [{ name: portName(device), port: device.port, protocol: "TCP" }],
    endpoints: [{ addresses: [device.address], conditions: { ready: true } }],
  };
}

/** The app module: `pi-cluster:apps.external-services`. */
export const externalServices = defineAppModule<ExternalServicesConfig>({
  name: "external-services",
  schema: externalServicesConfigSchema,
  secrets: Object.values(DEVICE_WIDGET_SECRETS).flatMap((keys) => Object.values(keys)),
  validate: validateExternalServices,
  // Nothing runs in the cluster: the devices serve themselves.
  workloads: () => [],
  endpoints: (config) => config.devices.map(deviceEndpoint),
  deploy: (config, context, opts) =>
    new ExternalServices("external-services", { config, context }, opts),
});

export type ExternalServicesArgs = AppArgs<ExternalServicesConfig>;

/** The namespace, and a Service and EndpointSlice per device (named after the device). */
export class ExternalServices extends pulumi.ComponentResource {
  constructor(name: string, args: ExternalServicesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pi-cluster:apps:ExternalServices", name, {}, opts);
    const { config, context } = args;
    const { topology, provider } = context;
    const child = { parent: this, provider };
    const ns = namespace(EXTERNAL_SERVICES_NAMESPACE, {
      ...child,
      dependsOn: [...context.nodesReady],
    });
    for (const device of config.devices) {
      new k8s.core.v1.Service(
        device.name,
        deviceServiceManifest(device, topology.platform.ingress.controller),
        { ...child, dependsOn: [ns] },
      );
      new k8s.discovery.v1.EndpointSlice(device.name, deviceEndpointSliceManifest(device), {
        ...child,
        dependsOn: [ns],
      });
    }
    this.registerOutputs({});
  }
}
