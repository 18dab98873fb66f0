/**
 * One Raspberry Pi taken from a fresh Raspberry Pi OS Lite to a k3s node, as a chain of remote
 * commands, one idempotent script per step (see provisioning/ and STEPS for the order):
 * reachable → hostname → cgroups → swap → static DNS → packages → reboot (only if the kernel line changed)
 * → wait for boot → verify cgroups → token file → k3s config → install → ready.
 */
import { createHash } from "crypto";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import {
  asRootCommand,
  asUserCommand,
  commandName,
  cgroupScript,
  hostnameScript,
  k3sConfigScript,
  k3sConfigYaml,
  k3sInstallScript,
  k3sReadyScript,
  k3sTokenScript,
  packagesScript,
  reachableScript,
  rebootScript,
  StepId,
  staticDnsScript,
  swapScript,
  uninstallScript,
  usesTokenFile,
  verifyCgroupsScript,
  waitForBootScript,
  withEnv,
} from "../../provisioning";
import { K3sSettings, NetworkSettings, PlannedNode } from "../../topology/types";
import { DialPolicy, NORMAL_DIAL, REBOOT_DIAL, sshConnection } from "./ssh";

export interface K3sNodeArgs {
  /** The node, from the topology plan. */
  readonly node: PlannedNode;
  /** Cluster-wide k3s settings (version, disable list, endpoint, token source). */
  readonly k3s: K3sSettings;
  /** LAN settings: the static resolvers the node uses for itself. */
  readonly network: NetworkSettings;
  /** SSH private key for this node (a secret). */
  readonly privateKey: pulumi.Input<string>;
  /**
   * The cluster token, for every node that reads it from a root-only file: all nodes but a first
   * server that generates its own. Sent on stdin only.
   */
  readonly token?: pulumi.Input<string>;
  /**
   * What the k3s steps wait for: nothing on the first server, the first server's readiness for
   * agents, the previous server's readiness for a joining HA server (one server at a time).
   * @default []
   */
  readonly joinAfter?: readonly pulumi.Resource[];
}

/** Parses the reboot step's report (`boot-id=...`, `reboot=...`); missing lines stay empty. */
export function parseRebootReport(stdout: string): { bootId: string; reboot: string } {
  const value = (key: string) => new RegExp(`^${key}=(.*)$`, "m").exec(stdout)?.[1]?.trim() ?? "";
  return { bootId: value("boot-id"), reboot: value("reboot") };
}

/** Short content hash for triggers: a changed config re-runs what depends on it. */
export function contentHash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}

/** A Pi prepared for and joined to the k3s cluster. */
export class K3sNode extends pulumi.ComponentResource {
  /** The last step: k3s is installed and its service (or API) answers. */
  public readonly ready: command.remote.Command;
  /** Runs the k3s uninstall script when the node is removed from the stack. */
  public readonly membership: command.remote.Command;
  /** The node's boot id after the reboot step (changes when the node rebooted). */
  public readonly bootId: pulumi.Output<string>;

  constructor(name: string, args: K3sNodeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pi-cluster:cluster:K3sNode", name, {}, opts);
    const { node, k3s, network } = args;

    let previous: pulumi.Resource[] = [];
    const step = (
      id: StepId,
      create: pulumi.Input<string>,
      extra: Partial<command.remote.CommandArgs> = {},
      dial: DialPolicy = NORMAL_DIAL,
      after: readonly pulumi.Resource[] = [],
    ): command.remote.Command => {
      const cmd = new command.remote.Command(
        commandName(node.hostname, id),
        {
          connection: sshConnection(node, args.privateKey, dial),
          create,
          // Never hand a previous run's stdout back in the environment (it may be a secret).
          addPreviousOutputInEnv: false,
          ...extra,
        },
        { parent: this, dependsOn: [...previous, ...after] },
      );
      previous = [cmd];
      return cmd;
    };

    // Runs as the SSH user (no sudo yet): it only reads, and proves the login works.
    step("reachable", asUserCommand(reachableScript(node)));
    step("hostname", asRootCommand(hostnameScript(node)));
    const cgroups = cgroupScript(node);
    step("cgroups", asRootCommand(cgroups));
    step("swap", asRootCommand(swapScript(node)));
    step("static-dns", asRootCommand(staticDnsScript(node, network)));
    step("packages", asRootCommand(packagesScript(node)));
    // Re-run whenever the cgroups step re-runs: it decides from the marker that step leaves.
    const reboot = step("reboot", asRootCommand(rebootScript(node)), {
      triggers: [contentHash(cgroups)],
    });
    const report = reboot.stdout.apply(parseRebootReport);
    const waited = step(
      "wait-for-boot",
      report.apply(({ bootId, reboot: state }) =>
        asRootCommand(
          withEnv(waitForBootScript(node), { PREVIOUS_BOOT_ID: bootId, REBOOT: state }),
        ),
      ),
      {},
      REBOOT_DIAL,
    );
    this.bootId = waited.stdout.apply((out) => parseRebootReport(out).bootId);
    step("verify-cgroups", asRootCommand(verifyCgroupsScript(node)));

    const joinAfter = args.joinAfter ?? [];
    if (usesTokenFile(node, k3s)) {
      if (args.token === undefined) {
        throw new Error(
          `K3sNode ${node.hostname}: this node reads the cluster token from a file; pass args.token`,
        );
      }
      step(
        "k3s-token",
        asRootCommand(k3sTokenScript(node)),
        { stdin: pulumi.secret(args.token) },
        NORMAL_DIAL,
        joinAfter,
      );
    }
    const configYaml = k3sConfigYaml(node, k3s);
    const configHash = contentHash(configYaml);
    step(
      "k3s-config",
      asRootCommand(k3sConfigScript(node, configYaml)),
      {},
      NORMAL_DIAL,
      joinAfter,
    );
    // The version and the config's hash as triggers: a new version or config re-runs the install
    // step (which upgrades, or restarts k3s to load the new config); nothing changed, nothing runs.
    const install = step("k3s-install", asRootCommand(k3sInstallScript(node, k3s)), {
      triggers: [k3s.version, configHash],
    });
    this.ready = step("k3s-ready", asRootCommand(k3sReadyScript(node)), {
      triggers: [k3s.version, configHash],
    });

    // Its own resource, never replaced (no triggers), so upgrades never run the uninstall.
    this.membership = new command.remote.Command(
      commandName(node.hostname, "uninstall"),
      {
        connection: sshConnection(node, args.privateKey),
        create: `echo "pi-cluster: ${node.hostname} is a member of the cluster"`,
        delete: asRootCommand(uninstallScript(node)),
        addPreviousOutputInEnv: false,
      },
      { parent: this, dependsOn: [install] },
    );

    this.registerOutputs({ bootId: this.bootId });
  }
}
