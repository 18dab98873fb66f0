import type { PlannedNode } from "../topology/types";
import { readSecretFileScript } from "./script";

/** The kubeconfig k3s writes on every server; it holds an admin client key. */
export const KUBECONFIG_PATH = "/etc/rancher/k3s/k3s.yaml";

/**
 * Prints the admin kubeconfig of a server and nothing else on stdout, so the caller can capture
 * it as a secret. No report line; fails if the file is absent.
 *
 * @param node The server it runs on; only names it in messages.
 * @default "k3s-server" as the name in messages
 */
export function readKubeconfigScript(node?: Pick<PlannedNode, "hostname">): string {
  return readSecretFileScript(node, "read-kubeconfig", KUBECONFIG_PATH, "the admin kubeconfig");
}

/**
 * Points a k3s kubeconfig at `serverUrl` (e.g. `https://192.168.1.55:6443`): k3s writes
 * `server: https://127.0.0.1:6443`, which works only on the server itself. Pure; text without
 * such a line is returned unchanged (safe inside `apply`).
 */
export function rewriteKubeconfigServer(kubeconfigText: string, serverUrl: string): string {
  return kubeconfigText.replace(
    /^([ \t]*server:[ \t]*)["']?https:\/\/(?:127\.0\.0\.1|localhost|\[::1\]):6443["']?[ \t]*$/gm,
    (_line, prefix: string) => `${prefix}${serverUrl}`,
  );
}
