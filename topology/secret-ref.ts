/**
 * 1Password secret references. Config never holds a secret value, only where to find it, in
 * 1Password's own `op://<vault>/<item>/<field>` syntax (the same string `op read` accepts).
 */
import { SecretRef } from "./types";

const OP_REF = /^op:\/\/([^/]+)\/([^/]+)\/([^/]+)$/;

/** Parses `op://vault/item/field`; returns undefined when the string is not such a reference. */
export function parseSecretRef(uri: string): SecretRef | undefined {
  const match = OP_REF.exec(uri);
  if (!match) return undefined;
  const [, vault, item, field] = match;
  if ([vault, item, field].some((part) => part.trim() !== part || part === "")) return undefined;
  return { vault, item, field, uri };
}

/** Builds a reference from its parts (used by components that know their item and field). */
export function secretRef(vault: string, item: string, field: string): SecretRef {
  return { vault, item, field, uri: `op://${vault}/${item}/${field}` };
}
