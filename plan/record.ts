/**
 * Records what a Pulumi program declares when it runs under the mock runtime: each resource's
 * type, name, parent, explicit dependencies and inputs (secret inputs still marked as secret).
 * The offline plan and the tests both read these records.
 */
import * as pulumi from "@pulumi/pulumi";

/** The marker the SDK's RPC layer wraps secret values in (sdk/nodejs/runtime/rpc.ts). */
export const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** A secret value as the mock monitor receives it. */
export interface SecretInput {
  readonly [SECRET_SIG_KEY]: typeof SECRET_SIG;
  readonly value: unknown;
}

/** True when a recorded input value is a Pulumi secret. */
export function isSecretInput(value: unknown): value is SecretInput {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Record<string, unknown>)[SECRET_SIG_KEY] === SECRET_SIG
  );
}

/** One declared resource. */
export interface RecordedResource {
  /** Type token, e.g. `kubernetes:core/v1:Namespace` or `pi-cluster:cluster:K3sNode`. */
  readonly type: string;
  readonly name: string;
  /** `type::name` of the parent, or undefined under the stack root. */
  readonly parent?: string;
  /** `type::name` of every explicit `dependsOn`. */
  readonly dependsOn: readonly string[];
  /** Custom (provider-backed) resource, as opposed to a component. */
  readonly custom: boolean;
  /** Inputs as the provider would get them; secrets stay wrapped (see isSecretInput). */
  inputs: Record<string, unknown>;
  /** Resource options worth asserting on. */
  readonly options: {
    readonly protect: boolean;
    readonly retainOnDelete: boolean;
    readonly deleteBeforeReplace: boolean;
    readonly aliases: number;
    readonly ignoreChanges: readonly string[];
    readonly additionalSecretOutputs: readonly string[];
  };
}

/** The options of a resource declared with none. */
export const DEFAULT_OPTIONS: RecordedResource["options"] = {
  protect: false,
  retainOnDelete: false,
  deleteBeforeReplace: false,
  aliases: 0,
  ignoreChanges: [],
  additionalSecretOutputs: [],
};

/** `type::name`, the key records use to refer to each other. */
export function resourceKey(type: string, name: string): string {
  return `${type}::${name}`;
}

/**
 * Collects resources from two sides: a stack transformation (sees parent, dependsOn and options
 * for components and custom resources alike) and the mock monitor (sees the serialized inputs of
 * custom resources, with secrets marked).
 */
export class ResourceRecorder {
  private readonly byKey = new Map<string, RecordedResource>();
  private readonly keyOf = new WeakMap<pulumi.Resource, string>();

  /** Registers the transformation; call inside the stack, before the program declares anything. */
  attach(): void {
    pulumi.runtime.registerStackTransformation((args) => {
      const key = resourceKey(args.type, args.name);
      if (this.byKey.has(key)) {
        throw new Error(
          `two resources are both named ${key}; child names must derive from a unique hostname or app name`,
        );
      }
      this.keyOf.set(args.resource, key);
      const opts = args.opts as pulumi.CustomResourceOptions;
      const depends = opts.dependsOn;
      const dependsList = depends === undefined ? [] : Array.isArray(depends) ? depends : [depends];
      this.byKey.set(key, {
        type: args.type,
        name: args.name,
        parent: opts.parent ? this.keyOf.get(opts.parent) : undefined,
        dependsOn: dependsList
          .filter((d): d is pulumi.Resource => pulumi.Resource.isInstance(d))
          .map((d) => this.keyOf.get(d) ?? "unknown"),
        custom: pulumi.CustomResource.isInstance(args.resource),
        inputs: {},
        options: {
          protect: opts.protect === true,
          retainOnDelete: opts.retainOnDelete === true,
          deleteBeforeReplace: opts.deleteBeforeReplace === true,
          aliases: opts.aliases?.length ?? 0,
          ignoreChanges: opts.ignoreChanges ?? [],
          additionalSecretOutputs: opts.additionalSecretOutputs ?? [],
        },
      });
      return undefined;
    });
  }

  /** Called by the mocks with a custom resource's serialized inputs. */
  recordInputs(type: string, name: string, inputs: Record<string, unknown>): void {
    const key = resourceKey(type, name);
    const existing = this.byKey.get(key);
    if (existing) existing.inputs = inputs;
    else {
      // Providers registered implicitly (default providers) never pass the transformation.
      this.byKey.set(key, {
        type,
        name,
        dependsOn: [],
        custom: true,
        inputs,
        options: DEFAULT_OPTIONS,
      });
    }
  }

  /** Every resource in declaration order. */
  all(): RecordedResource[] {
    return [...this.byKey.values()];
  }
}
