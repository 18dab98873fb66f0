/**
 * What commands print in the offline plan, where later resources read it: boot ids, and the
 * secrets a server holds (the k3s token and kubeconfig), which come back as canaries.
 */
import { parseCommandName } from "../provisioning/script";
import { canary } from "./mocks";

/** A kubeconfig shaped like k3s's own, with canaries where the credentials are. */
function fakeKubeconfig(server: string): string {
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "- cluster:",
    `    certificate-authority-data: ${canary(`k3s-ca:${server}`)}`,
    "    server: https://127.0.0.1:6443",
    "  name: default",
    "contexts:",
    "- context:",
    "    cluster: default",
    "    user: default",
    "  name: default",
    "current-context: default",
    "users:",
    "- name: default",
    "  user:",
    `    client-certificate-data: ${canary(`k3s-admin-cert:${server}`)}`,
    `    client-key-data: ${canary(`k3s-admin-key:${server}`)}`,
    "",
  ].join("\n");
}

/** Default command outputs, chosen by the step in a command's name (`<hostname>/<step>`). */
export function fakeCommandStdout(name: string): string | undefined {
  const parsed = parseCommandName(name);
  if (!parsed) return undefined;
  const host = parsed.hostname;
  switch (parsed.step) {
    case "reachable":
      return `boot-id=00000000-0000-4000-8000-${host.length.toString().padStart(12, "0")}\n`;
    case "reboot":
      return "reboot=not-needed\n";
    case "read-token":
      return canary(`k3s-token:${host}`);
    case "read-kubeconfig":
      return fakeKubeconfig(host);
    default:
      return undefined;
  }
}
