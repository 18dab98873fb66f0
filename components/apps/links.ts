/**
 * Link-only dashboard tiles (seed 003, the Homepage "Web" section): pages that live elsewhere,
 * such as the production site on Heroku and Cloudflare's dashboard. Each is a catalog entry with
 * no Ingress; one with `monitor: true` also gets a site monitor on the tile and an uptime monitor
 * in Uptime Kuma. Nothing is deployed for them.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { appKey } from "../../topology/apps";
import { CatalogLink } from "../../topology/catalog";
import { ConfigProblem, showValue } from "../../topology/errors";
import { defineAppModule } from "./app";

/**
 * The dashboard group links go in by default. Where it sits and how wide it is (seed 003: between
 * Monitoring and Media, three per row) is `apps.homepage.groups` in the stack file.
 */
export const WEB_GROUP = "Web";

/** One link as the stack file gives it. */
export const linkSchema = z.strictObject({
  /** Catalog name (unique in the stack; names the monitor file), e.g. `mtgibbs-xyz`. */
  name: z
    .string()
    .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, "is not a DNS label (a-z, 0-9, '-')"),
  /** The tile's title, e.g. `Personal Site (Heroku)`. */
  title: z.string(),
  /** Where the tile links: an http(s) URL. */
  href: z.string(),
  /** Homepage group. @default "Web" */
  group: z.string().default(WEB_GROUP),
  /** Homepage icon, e.g. `cloudflare.png` or `si-heroku`. */
  icon: z.string(),
  description: z.string(),
  /** An uptime monitor (and the tile's status dot) on `href`. @default false */
  monitor: z.boolean().default(false),
});
export type LinkConfig = z.infer<typeof linkSchema>;

/** `pi-cluster:apps.links`. */
export const linksConfigSchema = z.strictObject({
  /** The links, in dashboard order. @default [] */
  entries: z.array(linkSchema).default([]),
});
export type LinksConfig = z.infer<typeof linksConfigSchema>;

/** Why `href` (at config key `key`) is not a link a browser and a monitor can open, or undefined. */
export function linkHrefProblem(href: string, key: string): string | undefined {
  let url: URL | undefined;
  try {
    url = new URL(href);
  } catch {
    url = undefined;
  }
  if (!url || !["http:", "https:"].includes(url.protocol) || url.hostname === "") {
    return `${showValue(href, key)} is not an http(s) URL; use one like https://mtgibbs.xyz`;
  }
  return undefined;
}

/** Every href an http(s) URL, names unique. */
export function validateLinks(config: LinksConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const keyOf = (path: string) => appKey("links", path);
  const add = (path: string, message: string) => {
    const key = keyOf(path);
    problems.push({ key, message: `${key}: ${message}` });
  };
  const seen = new Map<string, number>();
  config.entries.forEach((link, i) => {
    const problem = linkHrefProblem(link.href, keyOf(`.entries[${i}].href`));
    if (problem) add(`.entries[${i}].href`, problem);
    if (seen.has(link.name)) {
      add(
        `.entries[${i}].name`,
        `${showValue(link.name, keyOf(`.entries[${i}].name`))} is already used by entries[${seen.get(link.name)}]; names must be unique`,
      );
    } else seen.set(link.name, i);
  });
  return problems;
}

/** A link's catalog entry: no Ingress, a tile, and an HTTP monitor on `href` when asked. */
export function linkEntry(link: LinkConfig): CatalogLink {
  return {
    name: link.name,
    title: link.title,
    href: link.href,
    dashboard: { group: link.group, icon: link.icon, description: link.description },
    monitor: link.monitor ? { kind: "http", path: "/" } : false,
  };
}

/** The app module: `pi-cluster:apps.links`. */
export const links = defineAppModule<LinksConfig>({
  name: "links",
  schema: linksConfigSchema,
  validate: validateLinks,
  workloads: () => [],
  endpoints: (config) => config.entries.map(linkEntry),
  // Nothing to deploy: the entries reach Homepage and AutoKuma through the catalog.
  deploy: (_config, _context, opts) => new Links("links", {}, opts),
});

/** An empty component, so every app has one node in `pulumi preview` named after it. */
export class Links extends pulumi.ComponentResource {
  constructor(name: string, _args: Record<string, never>, opts?: pulumi.ComponentResourceOptions) {
    super("pi-cluster:apps:Links", name, {}, opts);
    this.registerOutputs({});
  }
}
