/**
 * Cloudflare: the provider (its token read from 1Password), the zone looked up by name, and the
 * wildcard record that sends `*.<domain>` to the ingress, proxy off (the address is on the LAN).
 * @see https://www.pulumi.com/registry/packages/cloudflare/api-docs/dnsrecord/
 */
import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import { Topology } from "../../topology/types";
import { OnePasswordSecrets } from "../secrets/onepassword";

/** The wildcard record's arguments (a plain value, tested without Pulumi). */
export function wildcardRecordArgs(
  topology: Topology,
  zoneId: pulumi.Input<string>,
): cloudflare.DnsRecordArgs {
  return {
    zoneId,
    // Full name, no trailing dot (the provider's own form; anything else shows a diff forever).
    name: `*.${topology.domain}`,
    type: "A",
    content: topology.platform.ingress.address,
    // 1 = automatic.
    ttl: 1,
    // A LAN address: Cloudflare's proxy could not reach it anyway.
    proxied: false,
    comment: `pi-cluster ${topology.stack}: ingress (managed by Pulumi)`,
  };
}

export interface CloudflareDnsArgs {
  readonly topology: Topology;
  /** Reads the provider's API token from 1Password. */
  readonly secrets: OnePasswordSecrets;
}

/** The Cloudflare side of the stack: provider, zone and wildcard record. */
export class CloudflareDns extends pulumi.ComponentResource {
  public readonly provider: cloudflare.Provider;
  public readonly zoneId: pulumi.Output<string>;
  public readonly wildcard: cloudflare.DnsRecord;

  constructor(name: string, args: CloudflareDnsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pi-cluster:platform:CloudflareDns", name, {}, opts);
    const { topology } = args;
    this.provider = new cloudflare.Provider(
      "cloudflare",
      { apiToken: args.secrets.get(topology.platform.secrets.cloudflareApiToken) },
      { parent: this },
    );
    // zoneId, not id: with a filter the data source leaves id empty.
    this.zoneId = cloudflare.getZoneOutput(
      { filter: { name: topology.platform.certificates.dnsZone } },
      { parent: this, provider: this.provider },
    ).zoneId;
    this.wildcard = new cloudflare.DnsRecord(
      `wildcard-${topology.domain}`,
      wildcardRecordArgs(topology, this.zoneId),
      { parent: this, provider: this.provider },
    );
    this.registerOutputs({ zoneId: this.zoneId });
  }
}
