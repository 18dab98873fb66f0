/** Every script the builders produce for one fixture node, keyed by step. */
import {
  cgroupScript,
  drainScript,
  hostnameScript,
  k3sConfigScript,
  k3sConfigYaml,
  k3sInstallScript,
  k3sReadyScript,
  k3sTokenScript,
  reachableScript,
  readKubeconfigScript,
  readTokenScript,
  rebootScript,
  staticDnsScript,
  packagesScript,
  swapScript,
  uninstallScript,
  verifyCgroupsScript,
  waitForBootScript,
  type StepId,
} from "../../provisioning";
import type { PlannedNode } from "../../topology/types";
import { k3sFor, network } from "./fixtures";

/** All scripts for `node`, one per step in STEPS. */
export function allScripts(node: PlannedNode): Record<StepId, string> {
  const k3s = k3sFor(node);
  return {
    reachable: reachableScript(node),
    hostname: hostnameScript(node),
    cgroups: cgroupScript(node),
    swap: swapScript(node),
    "static-dns": staticDnsScript(node, network),
    packages: packagesScript(node),
    reboot: rebootScript(node),
    "wait-for-boot": waitForBootScript(node),
    "verify-cgroups": verifyCgroupsScript(node),
    "k3s-token": k3sTokenScript(node),
    "k3s-config": k3sConfigScript(node, k3sConfigYaml(node, k3s)),
    "k3s-install": k3sInstallScript(node, k3s),
    "k3s-ready": k3sReadyScript(node),
    "read-token": readTokenScript(node),
    "read-kubeconfig": readKubeconfigScript(node),
    drain: drainScript(node.hostname),
    uninstall: uninstallScript(node),
  };
}
