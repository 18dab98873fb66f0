/**
 * The one place deploy-time secrets come from: a 1Password reference (`op://vault/item/field`)
 * becomes a Pulumi secret Output, read through the 1Password provider. The provider takes its
 * service-account token from `onepassword:serviceAccountToken` or `OP_SERVICE_ACCOUNT_TOKEN`, and
 * needs the `op` CLI on the machine running Pulumi.
 * @see https://github.com/1Password/pulumi-onepassword
 */
import * as onepassword from "@1password/pulumi-onepassword";
import * as pulumi from "@pulumi/pulumi";
import { SecretRef } from "../../topology/types";

/** Built-in item fields and the getItem result property that holds each. */
export const BUILT_IN_FIELDS: Readonly<Record<string, keyof onepassword.GetItemResult>> = {
  password: "password",
  credential: "credential",
  username: "username",
  "private key": "privateKey",
  "public key": "publicKey",
  hostname: "hostname",
  url: "url",
};

/** Picks one field out of an item: a built-in field, or a custom field found by its label. */
export function fieldValue(item: onepassword.GetItemResult, field: string): string | undefined {
  const builtIn = BUILT_IN_FIELDS[field];
  const direct = builtIn ? item[builtIn] : undefined;
  if (typeof direct === "string" && direct !== "") return direct;
  const custom = (item.sections ?? [])
    .flatMap((s) => s.fields ?? [])
    .find((f) => f.label === field);
  return custom?.value;
}

/** Reads 1Password items once each and hands out their fields as secrets. */
export class OnePasswordSecrets {
  private readonly items = new Map<string, pulumi.Output<onepassword.GetItemResult>>();

  constructor(private readonly opts: pulumi.InvokeOptions = {}) {}

  /** The field's value as a secret Output; fails the deployment, naming the reference, if absent. */
  get(ref: SecretRef): pulumi.Output<string> {
    const key = `${ref.vault}/${ref.item}`;
    let item = this.items.get(key);
    if (!item) {
      // A vault name works as well as its UUID: service-account mode resolves it through `op`.
      item = onepassword.getItemOutput({ vault: ref.vault, title: ref.item }, this.opts);
      this.items.set(key, item);
    }
    // getItem's results are not marked secret by the provider: mark them here, before any use.
    return pulumi.secret(
      item.apply((found) => {
        const value = fieldValue(found, ref.field);
        if (value === undefined) {
          // Only knowable at deploy time; the message names what to create in 1Password.
          throw new Error(
            `1Password item "${ref.item}" in vault "${ref.vault}" has no field "${ref.field}" (${ref.uri}); ` +
              `add the field or fix the reference in Pulumi.<stack>.yaml`,
          );
        }
        return value;
      }),
    );
  }
}
