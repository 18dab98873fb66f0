/**
 * Node provisioning scripts: pure builders that return the text of idempotent bash scripts run as
 * root on each Raspberry Pi, in the order given by {@link STEPS}.
 */
export * from "./script";
export * from "./checks";
export * from "./reachable";
export * from "./hostname";
export * from "./cgroups";
export * from "./swap";
export * from "./static-dns";
export * from "./packages";
export * from "./reboot";
export * from "./k3s-common";
export * from "./k3s-config";
export * from "./k3s-token";
export * from "./k3s-install";
export * from "./k3s-ready";
export * from "./kubeconfig";
export * from "./k3s-remove";
