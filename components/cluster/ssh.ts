/** How the program reaches each Pi over SSH (remote.Command connections). */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { PlannedNode } from "../../topology/types";

/** Dial behaviour of one kind of step. */
export interface DialPolicy {
  /** Failed dials before giving up (-1: never). */
  readonly dialErrorLimit: number;
  /** Seconds per dial attempt. */
  readonly perDialTimeout: number;
}

/** Ordinary steps: a Pi that is up answers at once; 10 tries cover a slow Wi-Fi association. */
export const NORMAL_DIAL: DialPolicy = { dialErrorLimit: 10, perDialTimeout: 15 };

/**
 * After a reboot: the Pi refuses logins (/run/nologin), goes down and boots again, which takes a
 * Pi 3 up to about two minutes. 60 tries of 10 s each wait up to ten minutes.
 */
export const REBOOT_DIAL: DialPolicy = { dialErrorLimit: 60, perDialTimeout: 10 };

/**
 * The connection to a node: its address, the configured user (remote.Command defaults to root,
 * so it is always set), the private key as a secret, and the pinned host key when configured.
 */
export function sshConnection(
  node: PlannedNode,
  privateKey: pulumi.Input<string>,
  dial: DialPolicy = NORMAL_DIAL,
): command.types.input.remote.ConnectionArgs {
  return {
    host: node.ip,
    port: node.ssh.port,
    user: node.ssh.user,
    privateKey: pulumi.secret(privateKey),
    ...(node.ssh.hostKey ? { hostKey: node.ssh.hostKey } : {}),
    dialErrorLimit: dial.dialErrorLimit,
    perDialTimeout: dial.perDialTimeout,
  };
}
