/**
 * The mock runtime the offline plan and the tests share. Resources are recorded, never created;
 * data sources answer with plausible values; every secret a data source or a command would
 * return is a *canary* that names where the real value would come from. Canaries let the plan
 * print `<secret op://vault/item/field>` in place of a value and let tests prove that no secret
 * reached a place that is not marked secret.
 */
import * as pulumi from "@pulumi/pulumi";
import { BUILT_IN_FIELDS } from "../components/secrets/onepassword";
import { ResourceRecorder } from "./record";

const CANARY_PREFIX = "SECRET-CANARY[";

/** The stand-in value of a secret; `source` says where the real one comes from. */
export function canary(source: string): string {
  return `${CANARY_PREFIX}${source}]`;
}

/** Every canary inside a text, as their sources. */
export function canariesIn(text: string): string[] {
  return [...text.matchAll(/SECRET-CANARY\[([^\]]*)\]/g)].map((m) => m[1]);
}

/** Replaces each canary in a text by `<secret SOURCE>`. */
export function maskCanaries(text: string): string {
  return text.replace(/SECRET-CANARY\[([^\]]*)\]/g, "<secret $1>");
}

/** A stable address in k3s's service CIDR for a Service, derived from its resource name. */
export function fakeClusterIp(name: string): string {
  let hash = 0;
  for (const ch of name) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  return `10.43.${(hash >>> 8) % 256}.${(hash % 253) + 2}`;
}

/** Answers for `command:remote:Command` outputs, by the step a command name ends with. */
export type CommandStdout = (name: string, inputs: Record<string, unknown>) => string | undefined;

/**
 * Mocks that record every resource and answer data sources. `customFields` lists, per
 * `vault/item`, the custom field labels the stack refers to, so getItem can return them.
 */
export class PlanMocks implements pulumi.runtime.Mocks {
  constructor(
    private readonly recorder: ResourceRecorder,
    private readonly customFields: ReadonlyMap<string, readonly string[]>,
    private readonly commandStdout: CommandStdout,
  ) {}

  newResource(args: pulumi.runtime.MockResourceArgs): {
    id: string;
    state: Record<string, unknown>;
  } {
    this.recorder.recordInputs(args.type, args.name, args.inputs);
    const state: Record<string, unknown> = { ...args.inputs };
    if (args.type === "command:remote:Command" || args.type === "command:local:Command") {
      state.stdout = this.commandStdout(args.name, args.inputs) ?? "";
      state.stderr = "";
    }
    if (args.type === "kubernetes:core/v1:Service") {
      // The API server assigns a ClusterIP; the plan shows a stable stand-in from the service
      // CIDR (k3s: 10.43.0.0/16) so objects built from it read like the real thing.
      const spec = (args.inputs.spec ?? {}) as Record<string, unknown>;
      if (spec.clusterIP === undefined && spec.type !== "ExternalName") {
        state.spec = { ...spec, clusterIP: fakeClusterIp(args.name) };
      }
    }
    if (args.type === "cloudflare:index/apiToken:ApiToken") {
      state.value = canary(`cloudflare-api-token:${args.name}`);
    }
    return { id: args.custom ? `${args.name}-id` : "", state };
  }

  call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
    const inputs = args.inputs as Record<string, string>;
    switch (args.token) {
      case "onepassword:index/getVault:getVault":
        return {
          uuid: `uuid-of-${inputs.name ?? inputs.uuid}`,
          name: inputs.name,
          description: "",
        };
      case "onepassword:index/getItem:getItem": {
        const vault = String(inputs.vault).replace(/^uuid-of-/, "");
        const item = inputs.title ?? inputs.uuid;
        const ref = (field: string) => canary(`op://${vault}/${item}/${field}`);
        const result: Record<string, unknown> = {
          id: `${vault}/${item}`,
          title: item,
          vault,
          uuid: item,
          category: "login",
          tags: [],
        };
        for (const [field, property] of Object.entries(BUILT_IN_FIELDS))
          result[property] = ref(field);
        const custom = this.customFields.get(`${vault}/${item}`) ?? [];
        result.sections = [
          {
            id: "pi-cluster",
            label: "",
            fields: custom.map((label) => ({
              id: label,
              label,
              purpose: "",
              type: "CONCEALED",
              value: ref(label),
            })),
          },
        ];
        return result;
      }
      case "cloudflare:index/getZone:getZone": {
        const zone = (args.inputs as { filter?: { name?: string } }).filter?.name ?? "unknown";
        return { zoneId: `zone-id-of-${zone}`, id: "", name: zone, account: { id: "account-id" } };
      }
      default:
        return args.inputs;
    }
  }
}
