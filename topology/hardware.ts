/** What the program assumes about Raspberry Pi hardware when config does not say otherwise. */
import { PiModel } from "./types";

/** RAM sizes each board was sold with, in GB. */
export const MEMORY_SIZES_GB: Readonly<Record<PiModel, readonly number[]>> = {
  pi3: [1],
  pi4: [1, 2, 4, 8],
  pi5: [1, 2, 4, 8, 16],
};

/**
 * Allocatable memory the kubelet reports for each RAM size, in MiB: total memory less the
 * firmware's share and the kubelet's 100Mi hard-eviction threshold. The Pi 3 figure is the one
 * the user's `kubectl top nodes` shows (910Mi, seed 002). Override per node with
 * `allocatableMemory` when a real node reports otherwise.
 */
export const ALLOCATABLE_MI_BY_RAM_GB: Readonly<Record<number, number>> = {
  1: 910,
  2: 1840,
  4: 3690,
  8: 7760,
  16: 15800,
};

/**
 * Memory k3s itself uses outside any pod, in MiB (seed 004: "k3s server + etcd (~700MB)",
 * "k3s agent 200MB"; a server on SQLite/kine sits between the two).
 */
export const K3S_OVERHEAD_MI = { serverWithEtcd: 700, server: 500, agent: 200 } as const;

/** Servers run the API server, controllers and (with HA) etcd: not on a 1 GB board. */
export const MIN_SERVER_MEMORY_GB = 2;

/** What k3s does not deploy unless config says otherwise: its Traefik (the program brings its own ingress). */
export const DEFAULT_K3S_DISABLE: readonly string[] = ["traefik"];

/** Components k3s can be told not to deploy (`disable:`). */
export const K3S_PACKAGED_COMPONENTS = [
  "coredns",
  "servicelb",
  "traefik",
  "local-storage",
  "metrics-server",
  "runtimes",
] as const;

/** k3s's default pod network (`cluster-cidr`); the stack files do not change it. */
export const K3S_POD_CIDR = "10.42.0.0/16";

/**
 * The StorageClass for local volumes whose data outlives their claim (created by the platform's
 * Storage component): k3s's own `local-path` deletes the data with the claim.
 */
export const RETAIN_STORAGE_CLASS = "local-path-retain";
