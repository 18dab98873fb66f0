/**
 * Deploy notifications to Discord, as Flux's Alert did (seed 000, item 6), without a secret in
 * Pulumi: an in-cluster Job whose NAME carries a hash of the stack's version summary (k3s, the
 * platform's charts, every pinned image). Changed versions → a new Job → one message; the same
 * versions → the same Job, no diff, no message. The Job reads the webhook from a Secret synced
 * by External Secrets, hands it to curl in a config file (never on a command line), and keeps
 * the set it announced in a ConfigMap so the next message marks what changed.
 */
import * as crypto from "crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { Topology } from "../../../topology/types";
import { resources, WorkloadSpec } from "../../../topology/workloads";
import { CERT_MANAGER } from "../../platform/cert-manager";
import { EXTERNAL_SECRETS } from "../../platform/external-secrets";
import { ChartRef, namespace } from "../../platform/helm";
import { INGRESS_NGINX, TRAEFIK } from "../../platform/ingress-controller";
import { METALLB } from "../../platform/metallb";
import { KUBE_PROMETHEUS_STACK } from "../../platform/monitoring";
import { defineAppModule } from "../app";
import { image, IMAGES } from "../images";
import { appLabels, podTemplate, restrictedContainer } from "../workload";

export const NOTIFY_NAMESPACE = "deploy-notifications";
export const NOTIFY_WORKLOAD = "deploy-notify";
/** Secret (key `webhook-url`) synced from the same 1Password field Alertmanager uses. */
export const NOTIFY_WEBHOOK_SECRET = "discord-webhook";
/** ConfigMap (key `versions`) holding the last set announced; only the Job writes it. */
export const LAST_NOTIFIED_CONFIGMAP = "deploy-notify-last";
/** Discord's limit on a message's `content`. */
export const DISCORD_CONTENT_LIMIT = 2000;

/** `pi-cluster:apps.deploy-notifications` (nothing to set yet; the section may be omitted). */
export const notifySchema = z.strictObject({});
export type NotifyConfig = z.infer<typeof notifySchema>;

/** One versioned thing the stack deploys. */
export interface DeployedVersion {
  /** `k3s`, a chart name, or an image's key in images.ts. */
  readonly name: string;
  readonly version: string;
}

/**
 * What a deploy of this stack runs: k3s, the platform charts it installs (the ingress controller
 * it chose, MetalLB only where it runs) and every pinned image (the one image table is the
 * apps' release manifest; an image no app of this stack runs is still listed). Sorted by name.
 */
export function deployVersions(
  topology: Pick<Topology, "platform" | "metallb"> & { readonly k3s: { readonly version: string } },
): DeployedVersion[] {
  const charts: ChartRef[] = [
    EXTERNAL_SECRETS,
    CERT_MANAGER,
    KUBE_PROMETHEUS_STACK,
    topology.platform.ingress.controller === "traefik" ? TRAEFIK : INGRESS_NGINX,
    ...(topology.metallb ? [METALLB] : []),
  ];
  return [
    { name: "k3s", version: topology.k3s.version },
    ...charts.map((c) => ({ name: `chart/${c.chart}`, version: c.version })),
    ...Object.entries(IMAGES).map(([key, pinned]) => ({
      name: `image/${key}`,
      version: pinned.tag,
    })),
  ].sort((a, b) => a.name.localeCompare(b.name));
}

/** The summary as the Job reads it: one `<name> <version>` per line. */
export function versionLines(versions: readonly DeployedVersion[]): string {
  return versions.map((v) => `${v.name} ${v.version}`).join("\n");
}

/** Where the notify script finds its inputs (defaults: the paths the Job mounts). */
export interface NotifyScriptOptions {
  /** Secret key with the webhook URL. @default "/etc/discord/webhook-url" */
  readonly webhookFile?: string;
  /** The last announced set (may not exist yet). @default "/etc/last/versions" */
  readonly lastFile?: string;
  /** Service-account token for the ConfigMap update. */
  readonly tokenFile?: string;
  /** CA of the API server; omitted for a plain-HTTP stand-in in tests. */
  readonly caFile?: string;
  /** @default "https://kubernetes.default.svc" */
  readonly apiServer?: string;
  /** A writable tmpfs for the payload and curl's config files. @default "/work" */
  readonly workDir?: string;
}

/**
 * The Job's script. Inputs: `$STACK`, `$VERSIONS` (versionLines) and the files above. It marks
 * each version new/changed against the last announced set, posts ONE message (nothing when no
 * version changed), then records the set in the ConfigMap. The webhook URL and the API token
 * reach curl through `-K` config files written by the shell's `printf` builtin, so no process's
 * command line or log carries them.
 */
export function notifyScript(options: NotifyScriptOptions = {}): string {
  const webhookFile = options.webhookFile ?? "/etc/discord/webhook-url";
  const lastFile = options.lastFile ?? "/etc/last/versions";
  const tokenFile = options.tokenFile ?? "/var/run/secrets/kubernetes.io/serviceaccount/token";
  const caFile =
    "caFile" in options ? options.caFile : "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
  const api = options.apiServer ?? "https://kubernetes.default.svc";
  const work = options.workDir ?? "/work";
  const configMapUrl = `${api}/api/v1/namespaces/${NOTIFY_NAMESPACE}/configmaps/${LAST_NOTIFIED_CONFIGMAP}`;
  // awk: JSON string escaping of the text read so far (backslash, quote, newline).
  const jsonEscape =
    'function esc(s) { gsub(/\\\\/, "\\\\\\\\", s); gsub(/"/, "\\\\\\"", s); return s }';
  return [
    "set -eu",
    `work='${work}'`,
    `last='${lastFile}'`,
    '[ -f "$last" ] || last=/dev/null',
    'printf \'%s\\n\' "$VERSIONS" > "$work/current"',
    // Marks each current version against the last set; counts the changes.
    'awk -v stack="$STACK" -v limit=' +
      (DISCORD_CONTENT_LIMIT - 10) +
      ' -v first="$([ "$last" = /dev/null ] && echo 1 || echo 0)" \'',
    `  ${jsonEscape}`,
    "  FILENAME == ARGV[1] { if (NF == 2) old[$1] = $2; next }",
    "  NF == 2 {",
    "    n++",
    '    if (!($1 in old)) { line = "**" $1 " " $2 "** (new)"; changed++ }',
    '    else if (old[$1] != $2) { line = "**" $1 " " $2 "** (was " old[$1] ")"; changed++ }',
    '    else line = $1 " " $2',
    '    body = body "\\n" line',
    "  }",
    "  END {",
    '    if (changed == 0) { print "unchanged" > "/dev/stderr"; exit 3 }',
    '    head = first ? "**" stack "** deployed by Pulumi: " n " versions (first notice)" \\',
    '                 : "**" stack "** deployed by Pulumi: " changed " of " n " versions changed"',
    "    text = head body",
    '    if (length(text) > limit) text = substr(text, 1, limit) "\\n…"',
    '    gsub(/\\n/, "\\\\n", text)',
    '    printf "{\\"content\\":\\"%s\\",\\"allowed_mentions\\":{\\"parse\\":[]}}\\n", esc(text)',
    '  }\' "$last" "$work/current" > "$work/payload.json" || status=$?',
    'if [ "${status:-0}" -eq 3 ]; then',
    '  echo "no version changed since the last notice: nothing sent"',
    "  exit 0",
    'elif [ "${status:-0}" -ne 0 ]; then',
    '  echo "could not build the message" >&2',
    "  exit 1",
    "fi",
    `url=$(cat '${webhookFile}')`,
    'printf \'url = "%s"\\n\' "$url" > "$work/discord.conf"',
    'curl --fail --silent --show-error --max-time 30 --retry 3 -K "$work/discord.conf" \\',
    '  -H "Content-Type: application/json" --data @"$work/payload.json"',
    'echo "notified Discord"',
    // Record what was announced; the Role allows exactly this ConfigMap.
    "awk '" +
      jsonEscape +
      ' { s = s (NR > 1 ? "\\n" : "") $0 } END { gsub(/\\n/, "\\\\n", s); ' +
      'printf "{\\"data\\":{\\"versions\\":\\"%s\\"}}\\n", esc(s) }\' "$work/current" > "$work/patch.json"',
    `printf 'header = "Authorization: Bearer %s"\\n' "$(cat '${tokenFile}')" > "$work/api.conf"`,
    'curl --fail --silent --show-error --max-time 30 -K "$work/api.conf" -X PATCH \\',
    ...(caFile ? [`  --cacert '${caFile}' \\`] : []),
    '  -H "Content-Type: application/merge-patch+json" --data @"$work/patch.json" \\',
    `  '${configMapUrl}' > /dev/null`,
    'echo "recorded the announced versions"',
    "",
  ].join("\n");
}

/** The Job's name: changes exactly when the stack, the versions or the script change. */
export function notifyJobName(stack: string, versions: string, script: string): string {
  const hash = crypto
    .createHash("sha256")
    .update(JSON.stringify({ stack, versions, script }))
    .digest("hex");
  return `${NOTIFY_WORKLOAD}-${hash.slice(0, 10)}`;
}

/** The notifier pod: curl and a shell, seconds of work once per changing deploy. */
export function notifyWorkloads(): WorkloadSpec[] {
  return [
    {
      name: NOTIFY_WORKLOAD,
      namespace: NOTIFY_NAMESPACE,
      kind: "Job",
      containers: { notify: resources("10m", "16Mi", "200m", "64Mi") },
    },
  ];
}

/**
 * The Job. `pulumi.com/skipAwait`: `pulumi up` does not wait on Discord. No
 * `ttlSecondsAfterFinished`: a Job that deleted itself would be recreated (and post again) by
 * the next `pulumi up`.
 */
export function notifyJobManifest(topology: Topology): k8s.types.input.batch.v1.Job {
  const versions = versionLines(deployVersions(topology));
  const script = notifyScript();
  const name = notifyJobName(topology.stack, versions, script);
  const template = podTemplate(
    topology,
    notifyWorkloads()[0],
    {
      containers: [
        {
          name: "notify",
          image: image("curl"),
          command: ["/bin/sh", "-c", script],
          env: [
            { name: "STACK", value: topology.stack },
            { name: "VERSIONS", value: versions },
          ],
          // curlimages/curl runs as curl_user (uid 100).
          securityContext: restrictedContainer(100),
          volumeMounts: [
            { name: "webhook", mountPath: "/etc/discord", readOnly: true },
            { name: "last", mountPath: "/etc/last", readOnly: true },
            { name: "work", mountPath: "/work" },
          ],
        },
      ],
      volumes: [
        { name: "webhook", secret: { secretName: NOTIFY_WEBHOOK_SECRET } },
        { name: "last", configMap: { name: LAST_NOTIFIED_CONFIGMAP, optional: true } },
        // Memory-backed: the webhook's config file never touches a disk.
        { name: "work", emptyDir: { medium: "Memory", sizeLimit: "1Mi" } },
      ],
      spec: { serviceAccountName: NOTIFY_WORKLOAD, restartPolicy: "Never" },
    },
    appLabels(NOTIFY_WORKLOAD, "deploy-notifications"),
  );
  return {
    metadata: {
      name,
      namespace: NOTIFY_NAMESPACE,
      labels: appLabels(NOTIFY_WORKLOAD, "deploy-notifications"),
      annotations: { "pulumi.com/skipAwait": "true" },
    },
    spec: { backoffLimit: 2, activeDeadlineSeconds: 600, template },
  };
}

/** The longest message the current set could produce (every version marked changed). */
export function longestMessage(stack: string, versions: readonly DeployedVersion[]): number {
  const lines = versions.map(
    (v) => `**${v.name} ${v.version}** (was ${"x".repeat(v.version.length + 8)})`,
  );
  return `**${stack}** deployed by Pulumi: ${versions.length} of ${versions.length} versions changed\n${lines.join("\n")}`
    .length;
}

/** The notifier's namespace, Secret, ConfigMap, RBAC and Job. */
export class DeployNotifications extends pulumi.ComponentResource {
  constructor(
    name: string,
    args: {
      readonly topology: Topology;
      readonly provider: k8s.Provider;
      /** Every node joined and ready: the namespace (and so everything in it) waits for them. */
      readonly nodesReady: readonly pulumi.Resource[];
      readonly externalSecrets: import("../../platform/external-secrets").ExternalSecrets;
      /** What the notice waits for (the platform's releases). */
      readonly after: readonly pulumi.Resource[];
    },
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("pi-cluster:apps:DeployNotifications", name, {}, opts);
    const { topology, provider } = args;
    const child = { parent: this, provider };
    const labels = appLabels(NOTIFY_WORKLOAD, "deploy-notifications");
    const ns = namespace(NOTIFY_NAMESPACE, { ...child, dependsOn: [...args.nodesReady] });
    const secret = args.externalSecrets.secret(
      {
        name: NOTIFY_WEBHOOK_SECRET,
        namespace: NOTIFY_NAMESPACE,
        data: { "webhook-url": topology.platform.secrets.discordWebhook },
      },
      [ns],
    );
    const last = new k8s.core.v1.ConfigMap(
      LAST_NOTIFIED_CONFIGMAP,
      { metadata: { name: LAST_NOTIFIED_CONFIGMAP, namespace: NOTIFY_NAMESPACE, labels } },
      // The Job owns `data`; Pulumi only makes sure the object exists.
      { ...child, dependsOn: [ns], ignoreChanges: ["data"] },
    );
    const account = new k8s.core.v1.ServiceAccount(
      NOTIFY_WORKLOAD,
      { metadata: { name: NOTIFY_WORKLOAD, namespace: NOTIFY_NAMESPACE, labels } },
      { ...child, dependsOn: [ns] },
    );
    const role = new k8s.rbac.v1.Role(
      NOTIFY_WORKLOAD,
      {
        metadata: { name: NOTIFY_WORKLOAD, namespace: NOTIFY_NAMESPACE, labels },
        rules: [
          {
            apiGroups: [""],
            resources: ["configmaps"],
            resourceNames: [LAST_NOTIFIED_CONFIGMAP],
            verbs: ["get", "patch"],
          },
        ],
      },
      { ...child, dependsOn: [ns] },
    );
    const binding = new k8s.rbac.v1.RoleBinding(
      NOTIFY_WORKLOAD,
      {
        metadata: { name: NOTIFY_WORKLOAD, namespace: NOTIFY_NAMESPACE, labels },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: NOTIFY_WORKLOAD },
        subjects: [{ kind: "ServiceAccount", name: NOTIFY_WORKLOAD, namespace: NOTIFY_NAMESPACE }],
      },
      { ...child, dependsOn: [role, account] },
    );
    new k8s.batch.v1.Job(NOTIFY_WORKLOAD, notifyJobManifest(topology), {
      ...child,
      dependsOn: [secret, last, binding, ...args.after],
    });
    this.registerOutputs({});
  }
}

/** The deploy-notifications app module (`pi-cluster:apps.deploy-notifications`). */
export const deployNotifications = defineAppModule<NotifyConfig>({
  name: "deploy-notifications",
  schema: notifySchema,
  validate: (_config, context) => {
    // The app context has no k3s settings; a stand-in as long as any k3s version will do.
    const versions = deployVersions({ ...context, k3s: { version: "v1.99.99+k3s9" } });
    const length = longestMessage(context.stack, versions);
    return length > DISCORD_CONTENT_LIMIT
      ? [
          {
            key: "pi-cluster:apps.deploy-notifications",
            message:
              `pi-cluster:apps.deploy-notifications: a notice could reach ${length} characters, ` +
              `over Discord's ${DISCORD_CONTENT_LIMIT}; shorten the version list`,
          },
        ]
      : [];
  },
  workloads: () => notifyWorkloads(),
  deploy(_config, context, opts) {
    return new DeployNotifications(
      "deploy-notifications",
      {
        topology: context.topology,
        provider: context.provider,
        nodesReady: context.nodesReady,
        externalSecrets: context.platform.externalSecrets,
        // The platform's parts, not the Platform itself: its routes wait for every app (this
        // one too), so waiting on the whole would be a cycle.
        after: [
          context.platform.externalSecrets,
          context.platform.certManager,
          context.platform.ingress,
          context.platform.monitoring,
          ...(context.platform.metallb ? [context.platform.metallb] : []),
        ],
      },
      opts,
    );
  },
});
