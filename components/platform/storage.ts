/**
 * Storage the apps build on. k3s's default `local-path` class deletes a volume's data when its
 * claim goes away; data that must survive uses `local-path-retain` instead, and Synology-backed
 * NFS volumes are static PersistentVolumes with the Retain policy. Pulumi leaves both volumes and
 * claims in place on delete (`retainOnDelete`), so a refactor can never remove data.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import { RETAIN_STORAGE_CLASS } from "../../topology/hardware";

/** StorageClass for local volumes whose data outlives their claim. */
export { RETAIN_STORAGE_CLASS };

/** The local-path provisioner k3s ships (its `local-storage` component). */
export const LOCAL_PATH_PROVISIONER = "rancher.io/local-path";

/** The `local-path-retain` StorageClass as a plain object (one node's disk, kept on release). */
export function retainStorageClassSpec(): k8s.types.input.storage.v1.StorageClass {
  return {
    metadata: {
      name: RETAIN_STORAGE_CLASS,
      labels: { "app.kubernetes.io/managed-by": "pulumi" },
    },
    provisioner: LOCAL_PATH_PROVISIONER,
    reclaimPolicy: "Retain",
    // Bind where the pod lands: a local volume is tied to the node that created it.
    volumeBindingMode: "WaitForFirstConsumer",
    allowVolumeExpansion: false,
  };
}

/** An NFS export on the NAS mounted as a PersistentVolume and claimed in one namespace. */
export interface NfsVolumeArgs {
  /** NAS address, e.g. 192.168.1.60. */
  readonly server: string;
  /** Exported path, e.g. /volume1/video. */
  readonly path: string;
  /** Size recorded on the volume and claim (NFS does not enforce it). */
  readonly size: string;
  /** Namespace of the claim. */
  readonly namespace: string;
  /** Claim name the workload mounts. */
  readonly claimName: string;
  /** @default ["ReadWriteMany"] */
  readonly accessModes?: string[];
  /**
   * Mount options. Synology exports are mounted with NFSv3, as the user's cluster does (seed 001,
   * decision 15: NFSv4 mounts failed against the Synology).
   * @default ["nfsvers=3", "hard"]
   */
  readonly mountOptions?: string[];
  readonly readOnly?: boolean;
}

/** The PersistentVolume and claim of an NFS export, as plain objects. */
export function nfsVolumeSpecs(name: string, args: NfsVolumeArgs) {
  const accessModes = args.accessModes ?? ["ReadWriteMany"];
  const labels = { "app.kubernetes.io/managed-by": "pulumi", "pi-cluster/volume": name };
  const volume: k8s.types.input.core.v1.PersistentVolume = {
    metadata: { name, labels },
    spec: {
      capacity: { storage: args.size },
      accessModes,
      persistentVolumeReclaimPolicy: "Retain",
      // An empty class keeps the default StorageClass from provisioning a volume for the claim.
      storageClassName: "",
      mountOptions: args.mountOptions ?? ["nfsvers=3", "hard"],
      nfs: { server: args.server, path: args.path, ...(args.readOnly ? { readOnly: true } : {}) },
      // Only the claim below may bind this volume.
      claimRef: { namespace: args.namespace, name: args.claimName },
    },
  };
  const claim: k8s.types.input.core.v1.PersistentVolumeClaim = {
    metadata: { name: args.claimName, namespace: args.namespace, labels },
    spec: {
      accessModes,
      storageClassName: "",
      volumeName: name,
      resources: { requests: { storage: args.size } },
    },
  };
  return { volume, claim };
}

/**
 * Declares an NFS volume and its claim, both kept on delete, the claim protected. Returns the
 * claim (what a workload mounts).
 */
export function nfsVolume(
  name: string,
  args: NfsVolumeArgs,
  opts: pulumi.CustomResourceOptions,
): { volume: k8s.core.v1.PersistentVolume; claim: k8s.core.v1.PersistentVolumeClaim } {
  const specs = nfsVolumeSpecs(name, args);
  const volume = new k8s.core.v1.PersistentVolume(`${name}-pv`, specs.volume, {
    ...opts,
    retainOnDelete: true,
  });
  const claim = new k8s.core.v1.PersistentVolumeClaim(`${name}-pvc`, specs.claim, {
    ...opts,
    // A removed claim is a workload that can no longer mount its data: refuse it outright.
    protect: true,
    retainOnDelete: true,
    dependsOn: [volume],
  });
  return { volume, claim };
}

export interface StorageArgs {
  readonly provider: k8s.Provider;
}

/** The cluster's storage classes beyond k3s's default. */
export class Storage extends pulumi.ComponentResource {
  public readonly retainClass: k8s.storage.v1.StorageClass;

  constructor(name: string, args: StorageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pi-cluster:platform:Storage", name, {}, opts);
    this.retainClass = new k8s.storage.v1.StorageClass(
      RETAIN_STORAGE_CLASS,
      retainStorageClassSpec(),
      {
        parent: this,
        provider: args.provider,
        // Volumes of this class keep their data; the class itself is harmless to keep too.
        retainOnDelete: true,
      },
    );
    this.registerOutputs({});
  }
}
